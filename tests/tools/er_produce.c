/* SPDX-License-Identifier: Apache-2.0 */
/*
 * er_produce - produce realistic seed-domain events to Kafka.
 *
 * The demo, the integration tests and the benchmark use this to put a known
 * set of events into Kafka and to write down which of them the router must
 * republish to JetStream. Envelopes follow the seed architecture (camelCase:
 * eventId, eventType, version, timestamp, aggregateId, aggregateType,
 * correlationId, causationId, data{...}). Critical events are the command
 * events ending in "Requested"; their expected subject is
 * commands.{kebab(aggregateType)}.{action}.
 *
 *   er_produce --brokers 127.0.0.1:19092 --topics officer-events,incident-events \
 *              --count 20000 --critical-ratio 0.5 --size 200 \
 *              --ids-out crit.tsv --run-id it42
 *
 * Topics are used round-robin (or by weight: --topics a:3,b:1). A topic
 * whose name contains "officer" (officer-events, it-officer-events-42) gets
 * only Officer events, one containing "incident" only Incident events; any
 * other topic gets events of both domains.
 *
 * The ids files are written from delivery reports, so they list exactly the
 * events Kafka acknowledged (acks=all, idempotent producer), one per line:
 *   eventId \t subject ("-" if not critical) \t topic \t partition \t offset \t eventType
 * --ids-out holds critical events only, --all-ids-out every event.
 *
 * Prints one JSON summary line on stdout. Exit: 0 all delivered, 1 some
 * delivery failed, 2 usage, 3 setup error, 130 interrupted (after flushing).
 *
 * Not for: consuming, or anything the router links against.
 */
#include "tool_common.h"
#include "tool_kafka.h"

#include <unistd.h>

/* ---- the event catalogue ---- */

enum domain { DOM_OFFICER, DOM_INCIDENT, DOM__COUNT };

typedef struct {
    const char *type;    /* eventType */
    enum domain domain;  /* aggregateType */
    const char *subject; /* expected JetStream subject, NULL if not critical */
} event_kind;

static const char *const domain_aggregate[DOM__COUNT] = {
    [DOM_OFFICER] = "Officer",
    [DOM_INCIDENT] = "Incident",
};
static const char *const domain_key[DOM__COUNT] = {
    [DOM_OFFICER] = "officer",
    [DOM_INCIDENT] = "incident",
};

/* Critical (…Requested) kinds per domain, then non-critical ones. */
static const event_kind critical_kinds[DOM__COUNT][3] = {
    [DOM_OFFICER] = {{"RegisterOfficerRequested", DOM_OFFICER, "commands.officer.register"},
                     {"ChangeOfficerStatusRequested", DOM_OFFICER,
                      "commands.officer.change-status"},
                     {"UpdateOfficerContactRequested", DOM_OFFICER,
                      "commands.officer.update-contact"}},
    [DOM_INCIDENT] = {{"ReportIncidentRequested", DOM_INCIDENT, "commands.incident.report"},
                      {"DispatchIncidentRequested", DOM_INCIDENT, "commands.incident.dispatch"},
                      {"CloseIncidentRequested", DOM_INCIDENT, "commands.incident.close"}},
};
static const event_kind plain_kinds[DOM__COUNT][3] = {
    [DOM_OFFICER] = {{"OfficerRegistered", DOM_OFFICER, NULL},
                     {"OfficerStatusChanged", DOM_OFFICER, NULL},
                     {"OfficerRegistered", DOM_OFFICER, NULL}},
    [DOM_INCIDENT] = {{"IncidentReported", DOM_INCIDENT, NULL},
                      {"IncidentDispatched", DOM_INCIDENT, NULL},
                      {"IncidentUpdated", DOM_INCIDENT, NULL}},
};

/* Aggregates per domain (default; --aggregates): keys repeat, as real
 * aggregates do, so per-key ordering is exercised. */
#define N_AGGREGATES 997

/* ---- options and state ---- */

#define MAX_TOPICS 16

typedef struct {
    char *name;
    unsigned weight;
    int domain; /* -1: any domain */
} topic_spec;

typedef struct {
    const char *brokers;
    topic_spec topics[MAX_TOPICS];
    int ntopics;
    long long count; /* -1: use duration */
    int count_set;
    double duration_s; /* 0: use count */
    double critical_ratio;
    long size;
    double rate;
    const char *ids_out;
    const char *all_ids_out;
    int header_type;
    uint64_t seed;
    int seed_set;
    char run_id[64];
    int use_key;
    long aggregates;
    int quiet;
    const char *extra_conf[64];
    int nextra;
} options;

/* Delivery bookkeeping: touched only from the main thread, because delivery
 * reports are served by rd_kafka_poll()/rd_kafka_flush() called there. */
typedef struct {
    long long delivered, delivered_critical, failed, unconfirmed;
    int errors_printed;
    FILE *ids, *all_ids;
} dr_state;

/* Per-message record carried through librdkafka as msg_opaque; allocated
 * only when an ids file is wanted. Ownership: created by produce_one(),
 * freed by on_delivery() (or by produce_one() if produce fails). */
typedef struct {
    const event_kind *kind;
    char event_id[128];
} msg_rec;

static void usage(FILE *f)
{
    fprintf(f, "usage: er_produce [options]\n"
               "Produce realistic seed-domain events (JSON envelopes) to Kafka.\n\n"
               "  --brokers LIST        bootstrap servers (default $ER_KAFKA_BOOTSTRAP)\n"
               "  --topics T[:W],...    topics, optional weights (default "
               "officer-events,incident-events)\n"
               "  --count N             events to produce (default 1000)\n"
               "  --duration-s S        produce for S seconds instead of --count\n"
               "  --critical-ratio R    fraction of critical (...Requested) events (default 0.5)\n"
               "  --size BYTES          approximate value size, e.g. 200 or 1024 (default 200);\n"
               "                        the complete envelope has a floor of ~330 B\n"
               "  --rate EPS            paced rate, events/s (default 0 = as fast as possible)\n"
               "  --ids-out FILE        write delivered CRITICAL events, one per line\n"
               "  --all-ids-out FILE    write every delivered event\n"
               "                        columns: eventId subject topic partition offset eventType\n"
               "  --header-type         also put eventType and eventId into Kafka headers\n"
               "  --seed S              deterministic content (default: time-based)\n"
               "  --run-id ID           event-ID prefix (default: random 8 hex chars)\n"
               "  --no-key              do not key messages by aggregateId (default: keyed)\n"
               "  --aggregates N        aggregates (keys) per domain (default 997)\n"
               "  -X key=value          extra librdkafka producer property (repeatable)\n"
               "  --quiet               no progress on stderr\n"
               "  --help\n"
               "Prints a JSON summary line. Exit 0 ok, 1 delivery failures, 2 usage, 3 setup,\n"
               "130 interrupted.\n");
}

static void set_topics(void *ctx, const char *arg)
{
    options *o = ctx;
    char *dup = strdup(arg);
    char *save = NULL;
    for (int t = 0; t < o->ntopics; t++) /* replacing the defaults */
        free(o->topics[t].name);
    o->ntopics = 0;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->ntopics == MAX_TOPICS)
            tc_die(TC_EXIT_USAGE, "--topics: at most %d topics", MAX_TOPICS);
        topic_spec *t = &o->topics[o->ntopics++];
        char *colon = strchr(tok, ':');
        t->weight = 1;
        if (colon) {
            *colon = '\0';
            t->weight = (unsigned)tc_parse_ll("--topics weight", colon + 1, 1, 1000000);
        }
        if (!*tok)
            tc_die(TC_EXIT_USAGE, "--topics: empty topic name in '%s'", arg);
        t->name = strdup(tok);
        /* "officer-events", "it-officer-events-1234", ...: a topic whose name
         * names one domain carries only that domain's events. */
        t->domain = -1;
        for (int d = 0; d < DOM__COUNT; d++)
            if (strstr(tok, domain_key[d]))
                t->domain = t->domain == -1 ? d : -2;
        if (t->domain == -2)
            t->domain = -1;
    }
    free(dup);
    if (o->ntopics == 0)
        tc_die(TC_EXIT_USAGE, "--topics: no topics in '%s'", arg);
}

static void set_count(void *ctx, const char *arg)
{
    options *o = ctx;
    o->count = tc_parse_ll("--count", arg, 0, INT64_MAX / 2);
    o->count_set = 1;
}

static void set_seed(void *ctx, const char *arg)
{
    options *o = ctx;
    o->seed = (uint64_t)tc_parse_ll("--seed", arg, 0, INT64_MAX);
    o->seed_set = 1;
}

static void set_run_id(void *ctx, const char *arg)
{
    options *o = ctx;
    if (!*arg || strlen(arg) >= 40 || strpbrk(arg, " \t\r\n\"\\"))
        tc_die(TC_EXIT_USAGE, "--run-id: 1..39 characters, no whitespace, quotes or backslashes");
    snprintf(o->run_id, sizeof(o->run_id), "%s", arg);
}

static void add_extra_conf(void *ctx, const char *arg)
{
    options *o = ctx;
    tc_append_kv("-X", arg, o->extra_conf, &o->nextra, 64);
}

static void parse_args(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->count = 1000;
    o->critical_ratio = 0.5;
    o->size = 200;
    o->use_key = 1;
    o->aggregates = N_AGGREGATES;
    set_topics(o, "officer-events,incident-events");
    const tc_option opts[] = {
        TC_OPT_STR("brokers", &o->brokers),
        TC_OPT_CALL("topics", set_topics, o),
        TC_OPT_CALL("count", set_count, o),
        TC_OPT_DOUBLE("duration-s", &o->duration_s, 0.001, 1e7),
        TC_OPT_DOUBLE("critical-ratio", &o->critical_ratio, 0.0, 1.0),
        TC_OPT_LONG("size", &o->size, 0, 1 << 20),
        TC_OPT_DOUBLE("rate", &o->rate, 0.0, 1e8),
        TC_OPT_STR("ids-out", &o->ids_out),
        TC_OPT_STR("all-ids-out", &o->all_ids_out),
        TC_OPT_TRUE("header-type", &o->header_type),
        TC_OPT_CALL("seed", set_seed, o),
        TC_OPT_CALL("run-id", set_run_id, o),
        TC_OPT_TRUE("key", &o->use_key),
        TC_OPT_FALSE("no-key", &o->use_key),
        TC_OPT_LONG("aggregates", &o->aggregates, 1, 100000000),
        TC_OPT_TRUE("quiet", &o->quiet),
        TC_OPT_SHORT_CALL('X', add_extra_conf, o),
    };
    tc_parse_options(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), usage, NULL);
    if (o->duration_s > 0 && o->count_set)
        tc_die(TC_EXIT_USAGE, "--count and --duration-s are mutually exclusive");
    if (o->duration_s > 0)
        o->count = -1;
    o->brokers = tc_opt_or_env_required(o->brokers, "ER_KAFKA_BOOTSTRAP", "brokers", "--brokers");
    if (!o->seed_set)
        o->seed = (uint64_t)tc_wall_ns() ^ ((uint64_t)getpid() << 32);
    if (!o->run_id[0]) {
        /* Random even with --seed, so two seeded runs stay distinguishable
         * unless the caller pins --run-id too. */
        tc_random_tag(o->run_id, sizeof(o->run_id), "",
                      (uint64_t)tc_wall_ns() ^ ((uint64_t)getpid() << 20));
    }
}

/* ---- envelope generation ---- */

static const char *const first_names[] = {"Alex",  "Maria",  "John", "Aisha", "Chen",  "Olga",
                                          "Pedro", "Fatima", "Liam", "Sofia", "Kenji", "Nora"};
static const char *const last_names[] = {"Smith",  "Garcia", "Okafor", "Nguyen", "Kowalski",
                                         "Haddad", "Jensen", "Rossi",  "Tanaka", "Murphy"};
static const char *const ranks[] = {"Officer", "Corporal", "Sergeant", "Lieutenant", "Captain"};
static const char *const statuses[] = {"Active", "OnDuty", "OffDuty", "Suspended", "OnLeave"};
static const char *const incident_types[] = {
    "Burglary", "TrafficAccident", "Assault", "Disturbance", "Theft", "Vandalism", "MissingPerson"};
static const char *const priorities[] = {"Low", "Medium", "High", "Critical"};
static const char *const streets[] = {"Main St", "Oak Ave",    "Harbor Rd",  "5th Ave",
                                      "Elm St",  "Station Sq", "Ridge Blvd", "Mill Ln"};
static const char *const words[] = {
    "suspect",       "vehicle",    "observed",  "near",    "intersection",
    "witness",       "reported",   "loud",      "noise",   "at",
    "approximately", "units",      "requested", "backup",  "scene",
    "secured",       "no",         "injuries",  "license", "plate",
    "partial",       "northbound", "caller",    "advised", "the"};

#define PICK(r, arr) (arr[tc_rng_below((r), sizeof(arr) / sizeof(arr[0]))])

/* Appends with bounds; `len` may exceed `cap` (then the result is truncated
 * and the caller sees len >= cap). */
typedef struct {
    char *buf;
    size_t cap, len;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    int n = vsnprintf(b->buf + (b->len < b->cap ? b->len : b->cap), room, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n;
}

static void format_uuid(tc_rng *r, char *out, size_t size)
{
    uint64_t a = tc_rng_next(r), b = tc_rng_next(r);
    snprintf(out, size, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
             a >> 32, (a >> 16) & 0xffff, a & 0xfff, (b >> 48 & 0x3fff) | 0x8000,
             b & (uint64_t)0xffffffffffff);
}

static void domain_data(sbuf *b, tc_rng *r, enum domain d, uint64_t agg, int minimal)
{
    if (minimal) {
        /* Small --size: keep the envelope complete, shrink only data. */
        if (d == DOM_OFFICER)
            sb_printf(b, "\"badgeNumber\":\"B%05" PRIu64 "\",\"status\":\"%s\"", agg,
                      PICK(r, statuses));
        else
            sb_printf(b, "\"incidentNumber\":\"INC-%07" PRIu64 "\",\"priority\":\"%s\"", agg,
                      PICK(r, priorities));
        return;
    }
    if (d == DOM_OFFICER) {
        const char *fn = PICK(r, first_names), *ln = PICK(r, last_names);
        sb_printf(b,
                  "\"badgeNumber\":\"B%05" PRIu64 "\",\"firstName\":\"%s\",\"lastName\":\"%s\","
                  "\"rank\":\"%s\",\"status\":\"%s\",\"email\":\"%c.%s@police.example\","
                  "\"phone\":\"+1-555-%04u\",\"stationId\":\"ST-%02u\"",
                  agg, fn, ln, PICK(r, ranks), PICK(r, statuses), fn[0], ln,
                  (unsigned)tc_rng_below(r, 10000), (unsigned)tc_rng_below(r, 40));
    } else {
        sb_printf(b,
                  "\"incidentNumber\":\"INC-%07" PRIu64 "\",\"incidentType\":\"%s\","
                  "\"priority\":\"%s\",\"location\":{\"address\":\"%u %s\","
                  "\"latitude\":%.5f,\"longitude\":%.5f},\"reportedBy\":\"B%05u\"",
                  agg, PICK(r, incident_types), PICK(r, priorities),
                  (unsigned)tc_rng_below(r, 9000) + 1, PICK(r, streets), 40.0 + tc_rng_unit(r),
                  -74.0 + tc_rng_unit(r), (unsigned)tc_rng_below(r, 997));
    }
}

/**
 * Build one envelope into `b` (reset by the caller), padding `data.notes`
 * with words so the whole value is about `target` bytes.
 */
static void build_envelope(sbuf *b, tc_rng *r, const options *o, const event_kind *k,
                           const char *event_id, uint64_t agg)
{
    char ts[40], corr[40], cause[40];
    tc_iso8601(tc_wall_ns(), ts, sizeof(ts));
    format_uuid(r, corr, sizeof(corr));
    format_uuid(r, cause, sizeof(cause));
    sb_printf(b,
              "{\"eventId\":\"%s\",\"eventType\":\"%s\",\"version\":1,\"timestamp\":\"%s\","
              "\"aggregateId\":\"%s-%06" PRIu64 "\",\"aggregateType\":\"%s\","
              "\"correlationId\":\"%s\",\"causationId\":\"%s\",\"data\":{",
              event_id, k->type, ts, k->domain == DOM_OFFICER ? "off" : "inc", agg,
              domain_aggregate[k->domain], corr, cause);
    /* The full data object brings an envelope to ~480 B; below that only
     * the key fields are kept. The metadata alone is ~330 B, the floor. */
    domain_data(b, r, k->domain, agg, o->size < 520);
    /* 14 = strlen(",\"notes\":\"\"}}") + 1 */
    if ((long)b->len + 14 < o->size) {
        size_t want = (size_t)o->size - b->len - 14;
        sb_printf(b, ",\"notes\":\"");
        size_t start = b->len;
        while (b->len - start < want) {
            const char *w = PICK(r, words);
            size_t left = want - (b->len - start);
            if (strlen(w) + 1 > left) {
                sb_printf(b, "%.*s", (int)left, "..............................");
                break;
            }
            sb_printf(b, "%s%s", b->len == start ? "" : " ", w);
        }
        sb_printf(b, "\"");
    }
    sb_printf(b, "}}");
}

/* ---- Kafka ---- */

/* Count one delivery report, printing the first failures. \return 1 if the
 * message was delivered. */
static int count_delivery(dr_state *st, const rd_kafka_message_t *m)
{
    if (m->err) {
        st->failed++;
        if (st->errors_printed++ < 10)
            tc_warn("delivery failed (%s [%d]): %s", rd_kafka_topic_name(m->rkt), m->partition,
                    rd_kafka_err2str(m->err));
        return 0;
    }
    if (m->offset < 0) {
        /* librdkafka 2.0.2 reports a DUPLICATE_SEQUENCE_NUMBER answer as a
         * success without an offset; once such a record was not in the topic.
         * Not confirmed, so not counted (and not in the ids files). */
        st->failed++;
        st->unconfirmed++;
        if (st->errors_printed++ < 10)
            tc_warn("delivery acknowledged without an offset (%s [%d]): not confirmed in Kafka",
                    rd_kafka_topic_name(m->rkt), m->partition);
        return 0;
    }
    st->delivered++;
    return 1;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    dr_state *st = opaque;
    msg_rec *rec = m->_private;
    if (count_delivery(st, m) && rec) {
        if (rec->kind->subject)
            st->delivered_critical++;
        FILE *fs[2] = {rec->kind->subject ? st->ids : NULL, st->all_ids};
        for (int i = 0; i < 2; i++) {
            if (fs[i])
                fprintf(fs[i], "%s\t%s\t%s\t%d\t%" PRId64 "\t%s\n", rec->event_id,
                        rec->kind->subject ? rec->kind->subject : "-", rd_kafka_topic_name(m->rkt),
                        m->partition, m->offset, rec->kind->type);
        }
    }
    free(rec);
}

/* Without ids files we still count critical deliveries: the opaque is then a
 * tagged non-pointer (1 = critical, 2 = plain) rather than a msg_rec. */
#define TAG_CRITICAL ((void *)(uintptr_t)1)
#define TAG_PLAIN    ((void *)(uintptr_t)2)

static void on_delivery_tagged(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    dr_state *st = opaque;
    if (count_delivery(st, m) && m->_private == TAG_CRITICAL)
        st->delivered_critical++;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    /* Transient broker errors are retried by librdkafka; fatal ones (e.g. an
     * idempotence violation) end the run. */
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        tc_warn("FATAL producer error %s: %s", rd_kafka_err2name(orig), buf);
        tc_stop_requested = 1;
    } else if (err != RD_KAFKA_RESP_ERR__TRANSPORT && err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        tc_warn("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    }
}

static rd_kafka_t *make_producer(const options *o, dr_state *st, int with_recs)
{
    rd_kafka_conf_t *conf = tk_conf_new(o->brokers, "er_produce");
    tk_conf_set(conf, "acks", "all");
    tk_conf_set(conf, "enable.idempotence", "true");
    tk_conf_set(conf, "linger.ms", "5");
    tk_conf_set(conf, "queue.buffering.max.messages", "500000");
    tk_conf_set(conf, "message.timeout.ms", "120000");
    tk_conf_set_kvs(conf, o->extra_conf, o->nextra);
    rd_kafka_conf_set_dr_msg_cb(conf, with_recs ? on_delivery : on_delivery_tagged);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, st);
    return tk_new(RD_KAFKA_PRODUCER, conf, "producer"); /* conf is now owned by rk */
}

/* Pick the topic for event i: round-robin, or weighted if any weight != 1. */
static int pick_topic(const options *o, tc_rng *r, long long i, unsigned total_weight)
{
    if (total_weight == (unsigned)o->ntopics)
        return (int)(i % o->ntopics);
    uint64_t x = tc_rng_below(r, total_weight);
    for (int t = 0; t < o->ntopics; t++) {
        if (x < o->topics[t].weight)
            return t;
        x -= o->topics[t].weight;
    }
    return o->ntopics - 1;
}

int main(int argc, char **argv)
{
    tc_prog = "er_produce";
    options o;
    parse_args(&o, argc, argv);
    tc_install_signals();

    dr_state st = {0};
    st.ids = tc_open_output(o.ids_out);
    st.all_ids = tc_open_output(o.all_ids_out);
    int with_recs = st.ids || st.all_ids;
    rd_kafka_t *rk = make_producer(&o, &st, with_recs);

    /* Fail fast on a wrong bootstrap or a missing topic rather than letting
     * every message time out two minutes later. */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    if (merr)
        tc_die(TC_EXIT_ENV, "cannot reach brokers %s: %s", o.brokers, rd_kafka_err2str(merr));
    for (int t = 0; t < o.ntopics; t++) {
        int found = 0;
        for (int i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, o.topics[t].name) == 0 && !md->topics[i].err)
                found = 1;
        if (!found)
            tc_die(TC_EXIT_ENV, "topic '%s' does not exist (create it with er_admin create-topic)",
                   o.topics[t].name);
    }
    rd_kafka_metadata_destroy(md);

    rd_kafka_topic_t *rkts[MAX_TOPICS];
    unsigned total_weight = 0;
    for (int t = 0; t < o.ntopics; t++) {
        rkts[t] = rd_kafka_topic_new(rk, o.topics[t].name, NULL);
        total_weight += o.topics[t].weight;
    }

    tc_rng rng;
    tc_rng_seed(&rng, o.seed);
    size_t cap = (size_t)(o.size > 0 ? o.size : 0) + 2048;
    sbuf b = {.buf = malloc(cap), .cap = cap, .len = 0};

    const int64_t t0 = tc_mono_ns();
    const int64_t deadline = o.duration_s > 0 ? t0 + (int64_t)(o.duration_s * 1e9) : INT64_MAX;
    const double interval_ns = o.rate > 0 ? 1e9 / o.rate : 0;
    int64_t max_late_ns = 0;
    long long attempted = 0, produce_errors = 0, value_bytes = 0;

    for (long long i = 0; o.count < 0 || i < o.count; i++) {
        if (tc_stop_requested)
            break;
        if (interval_ns > 0) {
            int64_t due = t0 + (int64_t)((double)i * interval_ns);
            int64_t now = tc_mono_ns();
            if (now < due) {
                /* Serve delivery reports while we wait, then sleep the rest. */
                rd_kafka_poll(rk, 0);
                tc_sleep_until_ns(due);
            } else if (now - due > max_late_ns) {
                max_late_ns = now - due;
            }
            if (due >= deadline)
                break;
        } else if ((i & 1023) == 0 && tc_mono_ns() >= deadline) {
            break;
        }

        int ti = pick_topic(&o, &rng, i, total_weight);
        int dom =
            o.topics[ti].domain >= 0 ? o.topics[ti].domain : (int)tc_rng_below(&rng, DOM__COUNT);
        int critical = tc_rng_unit(&rng) < o.critical_ratio;
        const event_kind *k = critical ? &critical_kinds[dom][tc_rng_below(&rng, 3)]
                                       : &plain_kinds[dom][tc_rng_below(&rng, 3)];
        uint64_t agg = tc_rng_below(&rng, (uint64_t)o.aggregates);

        char uuid[40], event_id[128], key[32];
        format_uuid(&rng, uuid, sizeof(uuid));
        /* Replace the UUID's last group with the sequence number: unique by
         * construction within a run, and readable when debugging a gap. */
        snprintf(event_id, sizeof(event_id), "%s-%.24s%012llx", o.run_id, uuid,
                 (unsigned long long)i);
        snprintf(key, sizeof(key), "%s-%06" PRIu64, k->domain == DOM_OFFICER ? "off" : "inc", agg);

        b.len = 0;
        build_envelope(&b, &rng, &o, k, event_id, agg);
        if (b.len >= b.cap)
            tc_die(TC_EXIT_ENV, "internal: envelope larger than buffer");
        value_bytes += (long long)b.len;

        void *opaque = critical ? TAG_CRITICAL : TAG_PLAIN;
        msg_rec *rec = NULL;
        if (with_recs) {
            rec = malloc(sizeof(*rec));
            rec->kind = k;
            snprintf(rec->event_id, sizeof(rec->event_id), "%s", event_id);
            opaque = rec;
        }

        rd_kafka_headers_t *hdrs = NULL;
        if (o.header_type) {
            hdrs = rd_kafka_headers_new(2);
            rd_kafka_header_add(hdrs, "eventType", -1, k->type, -1);
            rd_kafka_header_add(hdrs, "eventId", -1, event_id, -1);
        }
        static int unknown_topic_waits; /* 300 x 100 ms over the whole run */
        char *kptr = o.use_key ? key : NULL;
        size_t klen = o.use_key ? strlen(key) : 0;
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_RKT(rkts[ti]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(b.buf, b.len), RD_KAFKA_V_KEY(kptr, klen),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
            if (!err) {
                hdrs = NULL; /* now owned by librdkafka */
                attempted++;
                break;
            }
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !tc_stop_requested) {
                rd_kafka_poll(rk, 50);
                continue;
            }
            /* A topic created a moment ago may not be in every broker's
             * metadata yet: wait for it (bounded) instead of failing. */
            if (err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC && unknown_topic_waits++ < 300 &&
                !tc_stop_requested) {
                rd_kafka_poll(rk, 100);
                continue;
            }
            produce_errors++;
            tc_warn("produce to %s failed: %s", o.topics[ti].name, rd_kafka_err2str(err));
            free(rec);
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            break;
        }
        rd_kafka_poll(rk, 0);
        if (!o.quiet && (i + 1) % 100000 == 0)
            fprintf(stderr, "er_produce: %lld queued, %lld delivered\n", i + 1, st.delivered);
    }
    const int64_t t_sent = tc_mono_ns();

    /* Wait for every delivery report: each message ends delivered or failed
     * within message.timeout.ms, so this loop terminates. A second signal
     * does not abandon the wait: the ids files must match Kafka. */
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_flush(rk, 1000);
    const int64_t t_end = tc_mono_ns();

    double elapsed = (double)(t_end - t0) / 1e9;
    double send_s = (double)(t_sent - t0) / 1e9;
    printf("{\"produced\":%lld,\"critical\":%lld,\"failed\":%lld,\"unconfirmed\":%lld,"
           "\"attempted\":%lld,"
           "\"elapsed_s\":%.3f,\"eps\":%.1f,\"send_s\":%.3f,\"send_eps\":%.1f,"
           "\"target_eps\":%.1f,\"max_late_ms\":%.3f,\"size\":%ld,\"avg_value_bytes\":%.0f,"
           "\"run_id\":\"%s\","
           "\"seed\":%" PRIu64 "}\n",
           st.delivered, st.delivered_critical, st.failed + produce_errors, st.unconfirmed,
           attempted, elapsed, elapsed > 0 ? (double)st.delivered / elapsed : 0.0, send_s,
           send_s > 0 ? (double)attempted / send_s : 0.0, o.rate, (double)max_late_ns / 1e6, o.size,
           attempted ? (double)value_bytes / (double)attempted : 0.0, o.run_id, o.seed);
    fflush(stdout);

    int rc = TC_EXIT_OK;
    if (st.failed || produce_errors)
        rc = TC_EXIT_FAIL;
    else if (tc_stop_requested)
        rc = TC_EXIT_INTR;
    for (int t = 0; t < o.ntopics; t++) {
        rd_kafka_topic_destroy(rkts[t]);
        free(o.topics[t].name);
    }
    rd_kafka_destroy(rk);
    FILE *fs[2] = {st.ids, st.all_ids};
    for (int i = 0; i < 2; i++)
        if (fs[i] && fclose(fs[i]) != 0) {
            tc_warn("writing ids file: %s", strerror(errno));
            rc = TC_EXIT_ENV;
        }
    free(b.buf);
    return rc;
}
