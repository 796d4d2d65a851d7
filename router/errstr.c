/* SPDX-License-Identifier: Apache-2.0 */
/* errstr: fill a caller's error buffer (see errstr.h). */
#include <stdarg.h>
#include <stdio.h>

#include "errstr.h"

void errstr_set(char *errstr, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (!errstr || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errstr, size, fmt, ap);
    va_end(ap);
}
