/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reload: keeps the rule set in force and swaps in a new one between two
 * records when the file changes. It watches the directory, not the file:
 * editors and Kubernetes ConfigMaps replace files by rename, which a watch
 * on the file itself would miss.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "reload.h"

#define DEBOUNCE_NS 200000000 /* several events per save: let the writer finish */

struct reload {
    rules_t *rules;
    char *path;
    int ino;
    int64_t due_ns;
    metrics_series_t *ok, *fail;
    char info_labels[600];
};

static void set_info(reload_t *rl)
{
    char esc[400];
    const char *path = rules_path(rl->rules);
    if (rl->info_labels[0])
        metrics_remove("er_rules_info", rl->info_labels);
    metrics_label_escape(esc, sizeof(esc), path, strlen(path));
    snprintf(rl->info_labels, sizeof(rl->info_labels), "path=\"%s\",hash=\"%s\"", esc,
             rules_hash(rl->rules));
    metrics_set(
        metrics_gauge("er_rules_info", "The loaded rule set (value is always 1).", rl->info_labels),
        1);
}

static void watch(reload_t *rl)
{
    char *copy = strdup(rl->path);
    rl->ino = copy ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
    if (rl->ino >= 0 &&
        inotify_add_watch(rl->ino, dirname(copy),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
        LOG_WARN("RUL-0004", "cannot watch the rules directory; reload with SIGHUP",
                 LKV_S("path", rl->path), LKV_I("errno", errno));
        close(rl->ino);
        rl->ino = -1;
    }
    free(copy);
}

int reload_new(const char *path, rules_t *rules, reload_t **out)
{
    reload_t *rl = calloc(1, sizeof(*rl));
    if (!rl || !(rl->path = strdup(path))) {
        free(rl);
        rules_unref(rules);
        return -1;
    }
    rl->rules = rules;
    rl->ok =
        metrics_counter("er_rules_reloads_total", "Rule reloads by result.", "result=\"success\"");
    rl->fail = metrics_counter("er_rules_reloads_total", NULL, "result=\"failure\"");
    set_info(rl);
    watch(rl);
    *out = rl;
    return 0;
}

void reload_destroy(reload_t *rl)
{
    if (!rl)
        return;
    if (rl->ino >= 0)
        close(rl->ino);
    rules_unref(rl->rules);
    free(rl->path);
    free(rl);
}

rules_t *reload_rules(const reload_t *rl)
{
    return rl->rules;
}

int reload_fd(const reload_t *rl)
{
    return rl->ino;
}

int64_t reload_due_ns(const reload_t *rl)
{
    return rl->due_ns;
}

/* Compile the file again; swap it in when valid and different. */
static int reload(reload_t *rl, const char *trigger)
{
    rules_t *nr = NULL;
    rules_diags_t d = {0};
    char buf[1024];
    int changed = 0;

    if (rules_load_file(rl->path, &nr, &d) != 0) {
        for (size_t i = 0; i < d.count; i++)
            if (!d.items[i].warning) {
                const char *line = rules_diag_format(&d.items[i], buf, sizeof(buf));
                LOG_ERROR("RUL-0002", "rule reload failed; keeping the rules in force",
                          LKV_S("trigger", trigger), LKV_S("error", line));
            }
        metrics_add(rl->fail, 1);
    } else if (!strcmp(rules_hash(nr), rules_hash(rl->rules))) {
        LOG_DEBUG("RUL-0003", "rule file unchanged; nothing to reload", LKV_S("trigger", trigger));
        rules_unref(nr);
    } else {
        LOG_INFO("RUL-0001", "rules reloaded", LKV_S("trigger", trigger),
                 LKV_U("routes", rules_route_count(nr)), LKV_S("old_hash", rules_hash(rl->rules)),
                 LKV_S("new_hash", rules_hash(nr)));
        rules_unref(rl->rules);
        rl->rules = nr;
        metrics_add(rl->ok, 1);
        set_info(rl);
        changed = 1;
    }
    rules_diags_clear(&d);
    return changed;
}

int reload_check(reload_t *rl, int fd_ready, int sighup, int64_t now_ns)
{
    char buf[4096];
    int changed = 0;
    if (fd_ready && rl->ino >= 0) {
        while (read(rl->ino, buf, sizeof(buf)) > 0)
            ;
        rl->due_ns = now_ns + DEBOUNCE_NS;
    }
    if (sighup)
        changed |= reload(rl, "sighup");
    if (rl->due_ns && now_ns >= rl->due_ns) {
        rl->due_ns = 0;
        changed |= reload(rl, "file_change");
    }
    return changed;
}
