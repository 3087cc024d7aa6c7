/*
 * tally.c — the `tally` command line tool: list, get, add to, reset and
 * watch the counters of a libtally region. See tally(1).
 *
 * Only `add` may create a region, as an application would. Every other
 * command attaches with TALLY_OPEN_NOCREATE: looking at a region must never
 * bring one into being, or a typo in --region would leave a stray empty
 * region behind and report it as having no counters. The commands that
 * only look (list, get, watch) attach read-only when read-write is not
 * allowed, so a monitoring user needs only read access.
 *
 * Options may come before or after the command, but a word that looks like
 * a negative number is an operand, never an option: `tally add x -5` must
 * subtract 5, not complain about an option called -5.
 */
#include "tool.h"

#include "perm/perm.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_REGION "tally"
#define MAX_INTERVAL 86400.0 /* seconds; anything longer is surely a typo */

/* Options a command may accept, as bits of command.accepts. */
enum {
    OPT_JSON = 1u << 0,
    OPT_INTERVAL = 1u << 1,
    OPT_COUNT = 1u << 2,
    OPT_CAPACITY = 1u << 3,
    OPT_GROUP = 1u << 4,
    OPT_MODE = 1u << 5,
};
#define OPT_LAST OPT_MODE

/* How a command attaches to its region. */
enum attach {
    ATTACH_READ,   /* read-write if allowed, else read-only; never creates */
    ATTACH_WRITE,  /* read-write; never creates */
    ATTACH_CREATE, /* read-write, creating a missing region */
};

struct tool_opts {
    const char *region;
    unsigned given; /* OPT_* bits of the options on the command line */
    double interval;
    long long count;
    uint32_t capacity;
    gid_t group; /* with OPT_GROUP */
    mode_t mode; /* with OPT_MODE */
};

struct command {
    const char *name;
    int min_args, max_args;
    unsigned accepts; /* OPT_* bits */
    int (*run)(const struct tool_opts *o, char **args);
};

static const char usage_text[] =
    "usage: tally [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  list [PREFIX]    counters sorted by name, with the region's path, capacity,\n"
    "                   used slots and overflow count\n"
    "  get NAME         print a counter's value\n"
    "  add NAME [N]     add N (default 1, may be negative); registers a new name and\n"
    "                   creates a missing region\n"
    "  reset NAME       set a counter to 0 and print the value it had\n"
    "  watch [PREFIX]   live values and per-second rates, refreshed in place\n"
    "\n"
    "Options:\n"
    "  -r, --region R     region: a POSIX shared memory name, or a file path if R\n"
    "                     contains '/' (default: $TALLY_REGION, else \"tally\")\n"
    "  -j, --json         list, get: print JSON\n"
    "  -i, --interval S   watch: seconds between refreshes (default 1; fractions ok)\n"
    "  -n, --count N      watch: stop after N refreshes (default: at SIGINT)\n"
    "  -c, --capacity N   add: counters in a region that add creates (default 4096)\n"
    "  -g, --group G      add: the group (name or number) of a region add creates\n"
    "  -m, --mode M       add: the octal mode of a region add creates, whatever the\n"
    "                     umask (default 0660; o+w is refused)\n"
    "  -h, --help         print this help and exit\n"
    "\n"
    "Exit status: 0 success, 1 no such counter, 2 usage or region error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tally: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see 'tally --help')\n", stderr);
    va_end(ap);
    return TOOL_FAIL;
}

/* strtoll accepts leading blanks and stops at the first bad character; a
 * number on a command line must be all digits and fit. */
static int parse_int64(const char *what, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || isspace((unsigned char)s[0]))
        return usage_error("%s '%s': not an integer", what, s);
    if (errno == ERANGE || v < lo || v > hi)
        return usage_error("%s '%s': out of range %" PRId64 "..%" PRId64, what, s, lo, hi);
    *out = v;
    return 0;
}

static int parse_interval(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || isspace((unsigned char)s[0]) || !isfinite(v))
        return usage_error("interval '%s': not a number of seconds", s);
    if (errno == ERANGE || v <= 0 || v > MAX_INTERVAL)
        return usage_error("interval '%s': out of range: more than 0, at most %g seconds", s,
                           MAX_INTERVAL);
    *out = v;
    return 0;
}

/* Refused for who owns the region or who may use it: the message shows
 * its owner, group and mode as ls -l would, and what to do. */
static int region_fail(const struct tool_opts *o, int rc)
{
    if (rc != TALLY_EOWNER && rc != TALLY_EMODE && rc != -EACCES && rc != -EPERM)
        return tool_fail(rc, "region '%s'", o->region);
    char desc[700];
    perm_region_describe(o->region, desc, sizeof(desc));
    if (rc == TALLY_EOWNER || rc == TALLY_EMODE)
        return tool_fail(rc, "region '%s' (%s)", o->region, desc);
    return tool_fail(rc, "region '%s' (%s; " PERM_REGION_ACCESS_HINT ")", o->region, desc);
}

/* A region's mode: octal, no set-id or sticky bits, and not o+w, which
 * would make a region libtally refuses to attach (anyone could truncate
 * it). */
static int parse_mode(const char *s, mode_t *out)
{
    if (perm_mode_parse(s, 0777, out) != 0)
        return usage_error("mode '%s': not a file mode; give octal digits from 0000 to 0777, "
                           "e.g. 0660",
                           s);
    if (*out & S_IWOTH)
        return usage_error("mode '%s': gives every user write access, and libtally attaches no "
                           "such region (anyone could truncate it); use 0660 with --group",
                           s);
    if (*out == 0)
        return usage_error("mode '%s': nobody could read the region; e.g. 0660", s);
    return 0;
}

static int region_open(const struct tool_opts *o, enum attach how, tally_region **out)
{
    tally_open_opts opts = {
        .capacity = o->capacity,
        .mode = o->mode,
        .flags = how == ATTACH_CREATE ? 0 : TALLY_OPEN_NOCREATE,
        .group = o->group,
    };
    if (o->given & OPT_GROUP)
        opts.flags |= TALLY_OPEN_GROUP;
    int rc = tally_open(out, o->region, &opts);
    if (rc == -EACCES && how == ATTACH_READ) {
        opts.flags |= TALLY_OPEN_RDONLY;
        rc = tally_open(out, o->region, &opts);
    }
    return rc == 0 ? 0 : region_fail(o, rc);
}

/* Find a counter without registering it. */
static int counter_find(const struct tool_opts *o, tally_region *r, const char *name,
                        tally_counter **out)
{
    int rc = tally_counter_find(r, name, out);
    if (rc != 0)
        return tool_fail(rc, "counter '%s' in region '%s'", name, o->region);
    return 0;
}

/* jansson refuses strings that are not UTF-8, and a region path may be any
 * bytes: report that rather than print JSON no parser would take. */
static int json_put(json_t *obj, const char *key, json_t *val)
{
    if (val == NULL || json_object_set_new(obj, key, val) != 0)
        return -EILSEQ;
    return 0;
}

static json_int_t json_int_of_u64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

/* {"region": ..., [info keys,] ["skipped": n,] "counters": {...}}; info
 * may be NULL; skipped is there only when records were. */
static int json_print(const struct tool_opts *o, const tally_info *info,
                      const struct tool_counter *v, size_t n, uint32_t skipped)
{
    json_t *root = json_object();
    json_t *counters = json_object();
    int rc = root != NULL && counters != NULL ? 0 : -ENOMEM;
    if (rc == 0)
        rc = json_put(root, "region", json_string(o->region));
    if (rc == 0 && info != NULL) {
        rc = json_put(root, "path", json_string(info->path));
        if (rc == 0)
            rc = json_put(root, "capacity", json_integer(info->capacity));
        if (rc == 0)
            rc = json_put(root, "used", json_integer(info->used));
        if (rc == 0)
            rc = json_put(root, "overflow", json_integer(json_int_of_u64(info->overflow)));
    }
    if (rc == 0 && skipped > 0)
        rc = json_put(root, "skipped", json_integer(skipped));
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = json_put(counters, v[i].name, json_integer(v[i].value));
    if (rc == 0) {
        rc = json_put(root, "counters", counters);
        counters = NULL; /* owned by root now, even when that failed */
    }
    if (rc == 0 && (json_dumpf(root, stdout, 0) != 0 || fputc('\n', stdout) == EOF))
        rc = -EIO;
    json_decref(counters);
    json_decref(root);
    return rc == 0 ? 0 : tool_fail(rc, "JSON for region '%s'", o->region);
}

static void list_text(const tally_info *info, const struct snapshot *s)
{
    int name_w = 0, value_w = 0;
    char buf[32];
    for (size_t i = 0; i < s->n; i++) {
        int len = (int)strlen(s->v[i].name);
        int vlen = snprintf(buf, sizeof(buf), "%" PRId64, s->v[i].value);
        name_w = len > name_w ? len : name_w;
        value_w = vlen > value_w ? vlen : value_w;
    }
    printf("# region %s: capacity %" PRIu32 ", used %" PRIu32 ", overflow %" PRIu64 "\n",
           info->path, info->capacity, info->used, info->overflow);
    for (size_t i = 0; i < s->n; i++)
        printf("%-*s  %*" PRId64 "\n", name_w, s->v[i].name, value_w, s->v[i].value);
}

/* One command's work on an open region; the snapshot is here, not in the
 * command, so that it is freed even when the guard cuts the work short. */
struct region_job {
    const struct tool_opts *o;
    tally_region *r;
    char **args;
    int64_t value; /* add: the amount */
    int (*body)(struct region_job *j);
    struct snapshot snap;
    int status;
};

static int region_job_run(void *arg)
{
    struct region_job *j = arg;
    j->status = j->body(j);
    return 0;
}

/* Open the region, do body's work on it under libtally's SIGBUS guard (a
 * region file truncated under us must not kill the tool), close it. */
static int with_region(const struct tool_opts *o, enum attach how, char **args,
                       int (*body)(struct region_job *j), int64_t value)
{
    struct region_job j = {.o = o, .args = args, .value = value, .body = body};
    int status = region_open(o, how, &j.r);
    if (status != 0)
        return status;
    int rc = tally_guarded(j.r, region_job_run, &j);
    status = rc == 0 ? j.status : tool_fail(rc, "region '%s'", o->region);
    snapshot_free(&j.snap);
    tally_close(j.r);
    return status;
}

static int list_body(struct region_job *j)
{
    const struct tool_opts *o = j->o;
    tally_info info;
    int status = 0;
    int rc = tally_info_get(j->r, &info);
    if (rc == 0)
        rc = snapshot_take(&j->snap, j->r, j->args[0]);
    if (rc != 0)
        status = tool_fail(rc, "reading region '%s'", o->region);
    else if (o->given & OPT_JSON)
        status = json_print(o, &info, j->snap.v, j->snap.n, j->snap.skipped);
    else
        list_text(&info, &j->snap);
    if (rc == 0)
        snapshot_warn_skipped(&j->snap, o->region);
    return status;
}

static int cmd_list(const struct tool_opts *o, char **args)
{
    return with_region(o, ATTACH_READ, args, list_body, 0);
}

static int get_body(struct region_job *j)
{
    tally_counter *c;
    int status = counter_find(j->o, j->r, j->args[0], &c);
    if (status == 0) {
        struct tool_counter one = {.value = tally_value(c)};
        snprintf(one.name, sizeof(one.name), "%s", j->args[0]);
        if (j->o->given & OPT_JSON)
            status = json_print(j->o, NULL, &one, 1, 0);
        else
            printf("%" PRId64 "\n", one.value);
    }
    return status;
}

static int cmd_get(const struct tool_opts *o, char **args)
{
    return with_region(o, ATTACH_READ, args, get_body, 0);
}

static int add_body(struct region_job *j)
{
    int rc = tally_add_name(j->r, j->args[0], j->value);
    if (rc != 0)
        return tool_fail(rc, "adding to counter '%s' in region '%s'", j->args[0], j->o->region);
    return 0;
}

static int cmd_add(const struct tool_opts *o, char **args)
{
    int64_t n = 1;
    int status = 0;
    if (args[1] != NULL)
        status = parse_int64("value", args[1], INT64_MIN, INT64_MAX, &n);
    if (status != 0)
        return status;
    /* Check the name before opening: a bad name must not create a region. */
    int rc = tally_name_valid(args[0]);
    if (rc != 0)
        return tool_fail(rc, "counter '%s'", args[0]);
    return with_region(o, ATTACH_CREATE, args, add_body, n);
}

static int reset_body(struct region_job *j)
{
    tally_counter *c;
    int status = counter_find(j->o, j->r, j->args[0], &c);
    if (status == 0)
        printf("%" PRId64 "\n", tally_reset(c));
    return status;
}

static int cmd_reset(const struct tool_opts *o, char **args)
{
    return with_region(o, ATTACH_WRITE, args, reset_body, 0);
}

static int watch_body(struct region_job *j)
{
    struct watch_opts w = {
        .region = j->r,
        .region_name = j->o->region,
        .prefix = j->args[0],
        .interval = j->o->interval,
        .count = j->o->count,
    };
    return watch_run(&w);
}

static int cmd_watch(const struct tool_opts *o, char **args)
{
    return with_region(o, ATTACH_READ, args, watch_body, 0);
}

static const struct command commands[] = {
    {"list", 0, 1, OPT_JSON, cmd_list},
    {"get", 1, 1, OPT_JSON, cmd_get},
    {"add", 1, 2, OPT_CAPACITY | OPT_GROUP | OPT_MODE, cmd_add},
    {"reset", 1, 1, 0, cmd_reset},
    {"watch", 0, 1, OPT_INTERVAL | OPT_COUNT, cmd_watch},
};

static const struct option long_options[] = {
    {"region", required_argument, NULL, 'r'},
    {"json", no_argument, NULL, 'j'},
    {"interval", required_argument, NULL, 'i'},
    {"count", required_argument, NULL, 'n'},
    {"capacity", required_argument, NULL, 'c'},
    {"group", required_argument, NULL, 'g'},
    {"mode", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *option_name(unsigned bit)
{
    switch (bit) {
    case OPT_JSON:
        return "--json";
    case OPT_INTERVAL:
        return "--interval";
    case OPT_COUNT:
        return "--count";
    case OPT_GROUP:
        return "--group";
    case OPT_MODE:
        return "--mode";
    default:
        return "--capacity";
    }
}

/* Set one option from getopt's answer c. Returns 0, TOOL_FAIL, or -1 for
 * --help. */
static int option_set(struct tool_opts *o, int c, char **argv)
{
    int64_t v;
    int status = 0;
    switch (c) {
    case 'r':
        o->region = optarg;
        return 0;
    case 'j':
        o->given |= OPT_JSON;
        return 0;
    case 'i':
        o->given |= OPT_INTERVAL;
        return parse_interval(optarg, &o->interval);
    case 'n':
        o->given |= OPT_COUNT;
        status = parse_int64("count", optarg, 1, INT64_MAX, &v);
        if (status == 0)
            o->count = v;
        return status;
    case 'c':
        o->given |= OPT_CAPACITY;
        status = parse_int64("capacity", optarg, 1, TALLY_MAX_CAPACITY, &v);
        if (status == 0)
            o->capacity = (uint32_t)v;
        return status;
    case 'g':
        o->given |= OPT_GROUP;
        if (perm_group_parse(optarg, &o->group) != 0)
            return usage_error("group '%s': no such group; give a group name or number", optarg);
        return 0;
    case 'm':
        o->given |= OPT_MODE;
        return parse_mode(optarg, &o->mode);
    case 'h':
        return -1;
    case ':':
        return usage_error("option '%s' needs a value", argv[optind - 1]);
    default:
        if (optopt != 0)
            return usage_error("unknown option '-%c'", optopt);
        return usage_error("unknown option '%s'", argv[optind - 1]);
    }
}

/* An operand, not an option: "-", "-5", or anything not starting with '-'. */
static int is_operand(const char *a)
{
    return a[0] != '-' || a[1] == '\0' || isdigit((unsigned char)a[1]);
}

/* Parse argv into o and the operands (command first) into ops, which has
 * room for argc entries and ends with NULL. */
static int args_parse(struct tool_opts *o, int argc, char **argv, char **ops, int *nops)
{
    int n = 0;
    opterr = 0;
    while (optind < argc) {
        if (is_operand(argv[optind])) {
            ops[n++] = argv[optind++];
            continue;
        }
        if (strcmp(argv[optind], "--") == 0) {
            for (optind++; optind < argc; optind++)
                ops[n++] = argv[optind];
            break;
        }
        /* '+': stop at operands, which the loop above takes in turn. */
        int c = getopt_long(argc, argv, "+:r:ji:n:c:g:m:h", long_options, NULL);
        if (c == -1)
            break;
        int status = option_set(o, c, argv);
        if (status != 0)
            return status;
    }
    ops[n] = NULL;
    *nops = n;
    return 0;
}

static int command_check(const struct command *cmd, const struct tool_opts *o, int nargs)
{
    if (nargs < cmd->min_args)
        return usage_error("%s: missing NAME", cmd->name);
    if (nargs > cmd->max_args)
        return usage_error("%s: too many arguments", cmd->name);
    for (unsigned bit = OPT_JSON; bit <= OPT_LAST; bit <<= 1)
        if ((o->given & bit) && !(cmd->accepts & bit))
            return usage_error("option '%s' does not apply to '%s'", option_name(bit), cmd->name);
    return 0;
}

static const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int run(int argc, char **argv, char **ops)
{
    const char *env = getenv("TALLY_REGION");
    struct tool_opts o = {
        .region = env != NULL && env[0] != '\0' ? env : DEFAULT_REGION,
        .interval = 1.0,
    };
    int nops;
    int status = args_parse(&o, argc, argv, ops, &nops);
    if (status == -1) {
        fputs(usage_text, stdout);
        return TOOL_OK;
    }
    if (status != 0)
        return status;
    if (nops == 0)
        return usage_error("no command given");
    const struct command *cmd = command_find(ops[0]);
    if (cmd == NULL)
        return usage_error("unknown command '%s'", ops[0]);
    status = command_check(cmd, &o, nops - 1);
    if (status != 0)
        return status;
    return cmd->run(&o, ops + 1);
}

int main(int argc, char **argv)
{
    char **ops = calloc((size_t)argc + 1, sizeof(*ops));
    if (ops == NULL)
        return tool_fail(-ENOMEM, "starting");
    int guard = tally_guard_install();
    if (guard != 0)
        return tool_fail(guard, "installing the SIGBUS guard");
    int status = run(argc, argv, ops);
    free(ops);
    /* Output that did not reach its file is a failure, not a success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int rc = errno != 0 ? -errno : -EIO;
        status = tool_fail(rc, "writing output");
    }
    return status;
}
