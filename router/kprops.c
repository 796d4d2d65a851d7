/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kprops: librdkafka's property table (kprops.h). librdkafka prints it as a
 * Markdown table (CONFIGURATION.md is made the same way); each row is
 * "name | C/P | range | default | importance | description", where C/P is
 * C (consumer), P (producer) or * (both). That text is the only public
 * form of the table, so it is parsed once, from an in-memory stream.
 */
#include "kprops.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "diag.h"

#define KPROPS_MAX 512

static struct {
    const char *names[KPROPS_MAX];
    unsigned char scope[KPROPS_MAX];
    size_t count;
    char *text; /* the printed table; names point into it */
} table;

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* One row: "name<spaces>| C/P |...". Cuts the name in place. */
static void parse_row(char *line)
{
    char *bar = strchr(line, '|'), *end;
    unsigned scope = 0;

    if (!bar || table.count == KPROPS_MAX || line[0] < 'a' || line[0] > 'z')
        return;
    for (end = bar; end > line && end[-1] == ' '; end--)
        ;
    *end = '\0';
    for (const char *p = bar + 1; *p && *p != '|'; p++) {
        if (*p == 'C')
            scope |= KPROPS_CONSUMER;
        else if (*p == 'P')
            scope |= KPROPS_PRODUCER;
        else if (*p == '*')
            scope |= KPROPS_CONSUMER | KPROPS_PRODUCER;
    }
    if (!scope || strchr(line, ' '))
        return;
    table.names[table.count] = line;
    table.scope[table.count++] = (unsigned char)scope;
}

static void load_table(void)
{
    size_t size = 0;
    FILE *fp = open_memstream(&table.text, &size);
    char *line, *save = NULL;

    if (!fp)
        return;
    rd_kafka_conf_properties_show(fp);
    if (fclose(fp) != 0 || !table.text) {
        free(table.text);
        table.text = NULL;
        return;
    }
    for (line = strtok_r(table.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        parse_row(line);
}

unsigned kprops_scope(const char *name, size_t len)
{
    unsigned scope = 0;

    pthread_once(&table_once, load_table);
    for (size_t i = 0; i < table.count; i++)
        if (strlen(table.names[i]) == len && !strncmp(table.names[i], name, len))
            scope |= table.scope[i]; /* a name may be both global and topic-level */
    return scope;
}

int kprops_for_producer(const char *prop)
{
    unsigned scope = kprops_scope(prop, strcspn(prop, "="));
    return !scope || (scope & KPROPS_PRODUCER);
}

const char *kprops_suggest(const char *name)
{
    pthread_once(&table_once, load_table);
    return diag_suggest(name, table.names, table.count);
}

size_t kprops_count(void)
{
    pthread_once(&table_once, load_table);
    return table.count;
}
