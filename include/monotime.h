/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file monotime.h
 * \brief The one monotonic clock every module measures intervals with
 *        (timeouts, ages, rates): CLOCK_MONOTONIC in nanoseconds.
 *
 * Not for: timestamps that leave the process (log lines, headers); those
 * are wall-clock time.
 *
 * Threads: any.
 */
#ifndef ER_MONOTIME_H
#define ER_MONOTIME_H

#include <stdint.h>
#include <time.h>

/** \brief CLOCK_MONOTONIC now, in nanoseconds. */
static inline int64_t monotime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif /* ER_MONOTIME_H */
