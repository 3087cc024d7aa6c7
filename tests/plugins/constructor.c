/*
 * constructor.c — a shared object whose constructor appends a line to the
 * file named by TALLY_TEST_MARKER: a test that finds no line knows that
 * tallyd never dlopen'd it (a plugin refused for who may write it must be
 * refused before any of its code runs). Not a tally plugin: no descriptor.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void mark(void)
{
    const char *path = getenv("TALLY_TEST_MARKER");
    if (path == NULL)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, "ran\n", 4) != 4)
        abort();
    close(fd);
}
