/* SPDX-License-Identifier: Apache-2.0 */
/*
 * glob: the rule file's '*' / '?' matcher, below both the rule compiler and
 * the evaluator. Backtracks only to the last '*', so it never recurses and
 * its work is bounded by the product of the two lengths.
 */
#include "glob.h"

int glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

    while (si < slen) {
        if (pi < plen && (p[pi] == '?' || p[pi] == s[si])) {
            pi++;
            si++;
        } else if (pi < plen && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}
