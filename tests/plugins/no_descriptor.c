/*
 * no_descriptor.c — a shared object in the plugin dir that is not a tally
 * plugin (no tally_plugin_descriptor symbol): the agent must refuse it,
 * naming the file and the symbol it looked for.
 */
__attribute__((visibility("default"))) int no_descriptor_here(void);

int no_descriptor_here(void)
{
    return 42;
}
