/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.c: one bounded whole-file reader for the config and secret
 * loaders. It refuses what is not a regular file (a FIFO or a device would
 * block or never end) and anything over the caller's bound before it
 * allocates, and it wipes a partial read on error because the caller may
 * be reading a password.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fileio_read(const char *path, size_t max, char **out, size_t *len, char *errstr,
                size_t errstr_size)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd;

    if (!errstr)
        errstr_size = 0; /* snprintf(NULL, 0, ...) is defined */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(errstr, errstr_size, "%s: not a regular file", path);
        goto err;
    }
    if ((size_t)st.st_size > max) {
        snprintf(errstr, errstr_size, "%s: larger than %zu bytes", path, max);
        goto err;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto err;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(errstr, errstr_size, "%s: read error: %s", path, strerror(errno));
            goto err;
        }
        if (n == 0)
            break; /* shrank under us: take what is there */
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    *out = buf;
    *len = got;
    return 0;
err:
    if (buf)
        explicit_bzero(buf, got);
    free(buf);
    close(fd);
    return -1;
}
