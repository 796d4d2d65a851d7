/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file alloc.h
 * \brief The allocation-failure policy, stated once for every module.
 *
 * Nothing outside main.c exits or aborts, out of memory included. A
 * malloc/calloc/realloc/strdup that fails is an error returned to the
 * caller, like any other failure, with whatever was half built freed:
 *
 *  - On the event path (source -> route -> sink -> offsets) the event that
 *    needed the memory is retried later (a dead-letter reference, a map
 *    entry), or, when its NATS message cannot be built, dead-lettered with
 *    the reason internal_error (RTR-0104): never dropped, and its offset is
 *    never committed until JetStream or the dead-letter topic has it.
 *  - A newly assigned partition that cannot be tracked stops the router
 *    (RTR-0901, exit 1 after the drain): its records would otherwise be
 *    read and never committed. The restart resumes from the commits.
 *  - At start-up (config, rules, connections) it is a start-up error: the
 *    loader fills its errstr ("out of memory") and main.c exits 1.
 *  - On a reload it is a failed reload: the old rules stay live (RUL-0002).
 *  - Metrics registration that fails degrades to a shared no-op series that
 *    works but is never rendered, logged once (MET-0002, metrics.c): a
 *    metric is never worth stopping the router for.
 *  - A buf_t (buf.h) that cannot grow becomes failed and keeps what it had;
 *    its user checks once and returns the error.
 *  - Logging never allocates (log.c builds each line on the stack), so a
 *    log line can always be written about the failure.
 *
 * This header holds no code; it is included where the policy is applied
 * so that the reader of such a module finds the rule next to its use.
 */
#ifndef ER_ALLOC_H
#define ER_ALLOC_H
#endif /* ER_ALLOC_H */
