/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c: the admin endpoint on libmicrohttpd 0.9.75.
 *
 * Three read-only routes: GET /metrics (metrics_render(), Prometheus text
 * 0.0.4), GET /healthz (liveness probe) and GET /readyz (readiness probe).
 * HEAD is answered like GET without a body; other methods get 405 with an
 * Allow header, other paths 404. The server binds exactly the host:port it
 * is given, built into a sockaddr_in and passed as MHD_OPTION_SOCK_ADDR, so
 * "127.0.0.1:9180" never becomes "every interface". IPv4 only: the host
 * must be a dotted quad or "localhost" (taken as 127.0.0.1); config.c
 * validates the same rule (listenaddr.c).
 *
 * Threads: libmicrohttpd runs one internal polling thread
 * (MHD_USE_INTERNAL_POLLING_THREAD); the request handler, the probes and
 * the libmicrohttpd logger all run there. The handler touches only the
 * immutable http_t fields and the thread-safe metrics registry.
 *
 * Starvation: the probes are what keep the pod alive, so no client may
 * hold them off. The polling thread is event driven (epoll on Linux via
 * MHD_USE_AUTO) and reads without blocking, so a slow client costs one
 * idle socket, never the thread; the handler answers from memory. What a
 * client can exhaust are connection slots: one address gets at most
 * HTTP_PER_IP_LIMIT of the HTTP_CONN_LIMIT (more are closed at accept),
 * and a connection that sends nothing for HTTP_IDLE_TIMEOUT_S seconds is
 * closed. Forty half-sent requests from one address thus leave /healthz
 * from another answering at once (test_http.c). Many addresses together
 * can still fill the table: that is the NetworkPolicy's job
 * (deploy/k8s/networkpolicy.yaml).
 *
 * Not for: anything that changes the router's state (no admin actions),
 * TLS, or authentication; keep it on loopback or behind a proxy.
 */
#include "errstr.h"
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "listenaddr.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"

#define HTTP_WHY_MAX 1024

/* Prometheus, kubelet and an operator's curl need a handful each. */
#define HTTP_CONN_LIMIT   64u
#define HTTP_PER_IP_LIMIT 8u
/* kubelet's probe timeout defaults to 1 s; a live client is never idle this long. */
#define HTTP_IDLE_TIMEOUT_S 5u
/* libmicrohttpd reports every refused connection; a peer must not be able
 * to turn that into a log flood. One HTTP-0002 line per interval at most,
 * carrying how many messages were left out since the previous one. */
#define HTTP_LOG_INTERVAL_NS 10000000000LL

struct http {
    struct MHD_Daemon *daemon;
    http_probe_fn live;
    http_probe_fn ready;
    void *opaque;
    int port;
    atomic_int starting; /* while MHD_start_daemon runs: capture its errors */
    char start_err[256]; /* first libmicrohttpd message during start */
    /* HTTP-0002 rate limit; touched only by the polling thread (mhd_logger). */
    int64_t log_next_ns;     /* no line before this */
    unsigned log_suppressed; /* messages dropped since the last line */
};

/* libmicrohttpd's own diagnostics; any thread. */
static void mhd_logger(void *cls, const char *fm, va_list ap)
{
    http_t *h = cls;
    char msg[256];

    vsnprintf(msg, sizeof(msg), fm, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (atomic_load(&h->starting) && !h->start_err[0]) {
        snprintf(h->start_err, sizeof(h->start_err), "%s", msg);
        return;
    }
    int64_t now = monotime_ns();
    if (now < h->log_next_ns) {
        h->log_suppressed++;
        return;
    }
    h->log_next_ns = now + HTTP_LOG_INTERVAL_NS;
    LOG_WARN("HTTP-0002", "libmicrohttpd", LKV_S("detail", msg),
             LKV_U("suppressed", h->log_suppressed));
    h->log_suppressed = 0;
}

/* Queue a response; body is copied unless take_ownership (then freed by MHD). */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                             char *body, size_t len, int take_ownership)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body, take_ownership ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (!resp) {
        if (take_ownership)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    /* MUST_COPY: text may live on the handler's stack. */
    return reply(conn, status, "text/plain; charset=utf-8", (char *)(uintptr_t)text, strlen(text),
                 0);
}

static enum MHD_Result serve_probe(struct MHD_Connection *conn, http_probe_fn probe, void *opaque,
                                   const char *ok_body)
{
    char why[HTTP_WHY_MAX];
    size_t n;

    why[0] = '\0';
    if (!probe || probe(opaque, why, sizeof(why) - 1))
        return reply_text(conn, MHD_HTTP_OK, ok_body);
    why[sizeof(why) - 2] = '\0';
    n = strlen(why);
    if (n == 0) {
        snprintf(why, sizeof(why), "unavailable\n");
    } else if (why[n - 1] != '\n') {
        why[n] = '\n';
        why[n + 1] = '\0';
    }
    return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, why);
}

/* MHD access handler; runs on the MHD thread. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    http_t *h = cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;

    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        *upload_data_size = 0; /* any body is ignored */
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if (!strcmp(url, "/metrics")) {
        char *text = NULL;
        size_t len = 0;
        if (metrics_render(&text, &len) != 0)
            return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len, 1);
    }
    if (!strcmp(url, "/healthz"))
        return serve_probe(conn, h->live, h->opaque, "ok\n");
    if (!strcmp(url, "/readyz"))
        return serve_probe(conn, h->ready, h->opaque, "ready\n");
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

int http_start(const char *listen, http_probe_fn live, http_probe_fn ready, void *opaque,
               http_t **out, char *errstr, size_t errstr_size)
{
    struct sockaddr_in sa;
    struct sockaddr_in bound;
    socklen_t blen = sizeof(bound);
    const union MHD_DaemonInfo *info;
    http_t *h = NULL;

    *out = NULL;
    if (listenaddr_parse(listen, &sa, errstr, errstr_size))
        goto err;
    h = calloc(1, sizeof(*h));
    if (!h) {
        errstr_set(errstr, errstr_size, "http: out of memory");
        goto err;
    }
    h->live = live;
    h->ready = ready;
    h->opaque = opaque;
    atomic_init(&h->starting, 1);
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: its "1" adds SO_REUSEPORT, which
     * would let a second router share the port silently. MHD's default
     * (SO_REUSEADDR) already allows a quick restart. */
    h->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, ntohs(sa.sin_port),
        NULL, NULL, handle, h,
        /* the logger must come first or MHD prints early messages itself */
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, HTTP_CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        HTTP_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!h->daemon) {
        errstr_set(errstr, errstr_size, "http: cannot listen on %s: %s", listen,
                   h->start_err[0] ? h->start_err : "libmicrohttpd failed to start");
        goto err;
    }
    /* From here on the logger reports through log.h. start_err is written
     * only while starting is set, i.e. before the MHD thread serves. */
    atomic_store(&h->starting, 0);
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (info && getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
        h->port = ntohs(bound.sin_port);
    else
        h->port = ntohs(sa.sin_port);
    LOG_INFO("HTTP-0001", "admin endpoint listening", LKV_S("listen", listen),
             LKV_I("port", h->port));
    *out = h;
    return 0;

err:
    free(h);
    return -1;
}

int http_port(const http_t *h)
{
    return h ? h->port : 0;
}

void http_stop(http_t *h)
{
    if (!h)
        return;
    /* Joins the MHD thread: no probe runs after this returns. */
    MHD_stop_daemon(h->daemon);
    free(h);
}
