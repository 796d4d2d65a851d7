/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file reload.h
 * \brief The rule set in force, and its hot reload: on SIGHUP, or when the
 *        rules file's directory changes (inotify, debounced 200 ms), the
 *        file is compiled again and swapped in if it is valid and differs.
 *        An invalid file changes nothing and is logged (RUL-0002).
 *
 * Events in flight keep the rule set that routed them (rules_ref()), so
 * nothing is re-routed halfway through.
 *
 * Owns: one reference to the rule set in force, the inotify descriptor, the
 * er_rules_info and er_rules_reloads_total series.
 * Threads: the router's thread.
 */
#ifndef ER_RELOAD_H
#define ER_RELOAD_H

#include <stdint.h>

#include "rules.h"

typedef struct reload reload_t;

/**
 * \brief Start with \p rules in force (the reference passes to the reloader)
 *        and watch \p path's directory. A directory that cannot be watched
 *        leaves SIGHUP (RUL-0004).
 * \return 0, or -1 when out of memory (\p rules is released).
 */
int reload_new(const char *path, rules_t *rules, reload_t **out);

/** \brief Free, with the reference to the rule set in force. NULL is a no-op. */
void reload_destroy(reload_t *rl);

/** \brief The rule set in force (borrowed: take a reference to keep it). */
rules_t *reload_rules(const reload_t *rl);

/** \brief The descriptor to poll for file changes, or -1. */
int reload_fd(const reload_t *rl);

/** \brief When a debounced reload is due, or 0. */
int64_t reload_due_ns(const reload_t *rl);

/**
 * \brief Act on a file change (\p fd_ready) or a SIGHUP (\p sighup).
 * \return 1 when a new rule set came into force, else 0.
 */
int reload_check(reload_t *rl, int fd_ready, int sighup, int64_t now_ns);

#endif /* ER_RELOAD_H */
