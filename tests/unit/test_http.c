/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for http.c: the server starts on 127.0.0.1:0 and a tiny
 * blocking socket client (no curl) checks status codes, headers and bodies
 * of /metrics, /healthz, /readyz, 404, 405 and HEAD, plus bad listen
 * addresses and a port that is already taken. One test holds 40 idle
 * half-sent requests open from 127.0.0.2 (the whole of 127/8 is loopback)
 * and asks /healthz from 127.0.0.1: a probe must not wait behind them;
 * another sees a half-sent request closed after the 5 s idle timeout.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"

typedef struct probes {
    atomic_int live;
    atomic_int ready;
} probes_t;

static int live_probe(void *opaque, char *why, size_t size)
{
    probes_t *p = opaque;
    if (atomic_load(&p->live))
        return 1;
    snprintf(why, size, "event loop stalled for 61s");
    return 0;
}

static int ready_probe(void *opaque, char *why, size_t size)
{
    probes_t *p = opaque;
    if (atomic_load(&p->ready))
        return 1;
    snprintf(why, size, "kafka: no partitions assigned\nnats: disconnected\n");
    return 0;
}

typedef struct response {
    int status;
    char head[2048];
    char body[8192];
} response_t;

/* One request over a fresh connection; the server closes after replying.
 * A read that waits longer than timeout_s seconds fails the test. */
static void request_within(int port, const char *method, const char *path, response_t *r,
                           int timeout_s)
{
    char req[256], buf[16384];
    size_t got = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = timeout_s};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s\r\n", method,
                     path, strcmp(method, "POST") ? "" : "Content-Length: 0\r\n");
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    for (;;) {
        ssize_t k = read(fd, buf + got, sizeof(buf) - 1 - got);
        ck_assert_msg(k >= 0, "%s %s: no answer within %d s (%s)", method, path, timeout_s,
                      strerror(errno));
        if (k == 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    buf[got] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    ck_assert_ptr_nonnull(sep);
    *sep = '\0';
    ck_assert_uint_lt(strlen(buf), sizeof(r->head));
    ck_assert_uint_lt(strlen(sep + 4), sizeof(r->body));
    memcpy(r->head, buf, strlen(buf) + 1);
    memcpy(r->body, sep + 4, strlen(sep + 4) + 1);
    ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %d", &r->status), 1);
}

static void request(int port, const char *method, const char *path, response_t *r)
{
    request_within(port, method, path, r, 5);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static probes_t probes;
static http_t *srv;

static void setup(void)
{
    char err[256] = "";
    atomic_store(&probes.live, 1);
    atomic_store(&probes.ready, 1);
    ck_assert_msg(
        http_start("127.0.0.1:0", live_probe, ready_probe, &probes, &srv, err, sizeof(err)) == 0,
        "%s", err);
}

static void teardown(void)
{
    http_stop(srv);
    srv = NULL;
    metrics_shutdown();
}

START_TEST(port_zero_binds_a_real_port_and_reports_it)
{
    ck_assert_int_gt(http_port(srv), 0);
    ck_assert_int_lt(http_port(srv), 65536);
}
END_TEST

START_TEST(metrics_route_serves_the_registry_as_prometheus_text)
{
    response_t r;
    metrics_add(metrics_counter("er_test_total", "Test.", "k=\"v\""), 3);
    request(http_port(srv), "GET", "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.head, "\r\nContent-Type: text/plain; version=0.0.4") != NULL, "%s",
                  r.head);
    ck_assert_str_eq(r.body, "# HELP er_test_total Test.\n# TYPE er_test_total counter\n"
                             "er_test_total{k=\"v\"} 3\n");
}
END_TEST

START_TEST(healthz_is_200_ok_when_live_and_503_with_reason_when_not)
{
    response_t r;
    request(http_port(srv), "GET", "/healthz", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok\n");
    atomic_store(&probes.live, 0);
    request(http_port(srv), "GET", "/healthz", &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "event loop stalled for 61s\n");
}
END_TEST

START_TEST(readyz_is_200_ready_when_ready_and_503_with_reasons_when_not)
{
    response_t r;
    request(http_port(srv), "GET", "/readyz", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ready\n");
    atomic_store(&probes.ready, 0);
    request(http_port(srv), "GET", "/readyz", &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "kafka: no partitions assigned\nnats: disconnected\n");
}
END_TEST

START_TEST(unknown_path_is_404)
{
    response_t r;
    request(http_port(srv), "GET", "/admin/shutdown", &r);
    ck_assert_int_eq(r.status, 404);
    request(http_port(srv), "GET", "/metricsx", &r);
    ck_assert_int_eq(r.status, 404);
}
END_TEST

START_TEST(non_get_is_405_with_allow_header)
{
    response_t r;
    request(http_port(srv), "POST", "/metrics", &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_msg(strstr(r.head, "\r\nAllow: GET, HEAD") != NULL, "%s", r.head);
    request(http_port(srv), "DELETE", "/healthz", &r);
    ck_assert_int_eq(r.status, 405);
}
END_TEST

START_TEST(head_is_answered_without_a_body)
{
    response_t r;
    request(http_port(srv), "HEAD", "/healthz", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "");
}
END_TEST

START_TEST(query_string_does_not_change_the_route)
{
    response_t r;
    request(http_port(srv), "GET", "/healthz?verbose=1", &r);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

static const struct {
    const char *listen;
    const char *want;
} bad_listen[] = {
    {"9180", "http: listen address '9180' is not host:port"},
    {"example.com:80", "http: listen host 'example.com' is not an IPv4 address (IPv6 is not "
                       "supported)"},
    {"127.0.0.1:99999", "http: listen port '99999' is not 0..65535"},
    {"127.0.0.1:", "http: listen port '' is not 0..65535"},
    {"", "http: listen address '' is not host:port"},
};

START_TEST(bad_listen_address_is_rejected_with_reason)
{
    char err[256] = "";
    http_t *h = (http_t *)1;
    ck_assert_int_eq(http_start(bad_listen[_i].listen, NULL, NULL, NULL, &h, err, sizeof(err)), -1);
    ck_assert_ptr_null(h);
    ck_assert_str_eq(err, bad_listen[_i].want);
}
END_TEST

START_TEST(port_in_use_fails_with_the_address_in_the_error)
{
    char listen[64], err[256] = "", want[96];
    http_t *h = NULL;
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", http_port(srv));
    ck_assert_int_eq(http_start(listen, NULL, NULL, NULL, &h, err, sizeof(err)), -1);
    ck_assert_ptr_null(h);
    snprintf(want, sizeof(want), "http: cannot listen on %s: ", listen);
    ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
    ck_assert_msg(strstr(err, "Address already in use") != NULL, "%s", err);
}
END_TEST

/* The slowloris of issue 13 item 3: one peer opens many connections and
 * sends half a request on each. Sources are bound to 127.0.0.2 so that the
 * probe from 127.0.0.1 is a different address, as kubelet is to an attacker. */
START_TEST(healthz_answers_within_1s_while_40_half_requests_from_one_address_are_held)
{
    enum { IDLE = 40 };
    int fds[IDLE], opened = 0;
    struct sockaddr_in src = {.sin_family = AF_INET};
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port(srv))};
    static const char half[] = "GET /healthz HTTP/1.1\r\nHost: loc";
    response_t r;
    double t0, took;

    inet_pton(AF_INET, "127.0.0.2", &src.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    for (int i = 0; i < IDLE; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
        /* connect() succeeds once the kernel queues the connection, whether
         * or not the server ever accepts it: the attacker holds it all. */
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
        ck_assert_int_eq(write(fd, half, sizeof(half) - 1), (ssize_t)(sizeof(half) - 1));
        fds[opened++] = fd;
    }
    usleep(200 * 1000); /* let the server accept (or refuse) them all */
    t0 = now_s();
    request_within(http_port(srv), "GET", "/healthz", &r, 1);
    took = now_s() - t0;
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok\n");
    ck_assert_msg(took < 1.0, "/healthz took %.3f s", took);
    for (int i = 0; i < opened; i++)
        close(fds[i]);
}
END_TEST

/* Held connections also cost no log volume: libmicrohttpd reports every
 * connection it refuses, and a remote peer must not be able to turn that
 * into a flood of HTTP-0002 lines. 40 refused-or-held connections give at
 * most one line per interval. */
START_TEST(refused_connections_do_not_flood_the_log)
{
    enum { IDLE = 40 };
    int fds[IDLE], saved = dup(2), lines = 0;
    struct sockaddr_in src = {.sin_family = AF_INET};
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port(srv))};
    char path[] = "/tmp/test_http_log_XXXXXX", line[1024];
    int logfd = mkstemp(path);
    FILE *fp;

    ck_assert_int_ge(logfd, 0);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(logfd, 2), 2);
    inet_pton(AF_INET, "127.0.0.3", &src.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    for (int i = 0; i < IDLE; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fds[i], 0);
        ck_assert_int_eq(bind(fds[i], (struct sockaddr *)&src, sizeof(src)), 0);
        ck_assert_int_eq(connect(fds[i], (struct sockaddr *)&dst, sizeof(dst)), 0);
    }
    usleep(300 * 1000);
    for (int i = 0; i < IDLE; i++)
        close(fds[i]);
    dup2(saved, 2);
    close(saved);
    fp = fdopen(logfd, "r");
    ck_assert_ptr_nonnull(fp);
    rewind(fp);
    while (fgets(line, sizeof(line), fp))
        lines += strstr(line, "HTTP-0002") != NULL;
    fclose(fp);
    unlink(path);
    ck_assert_msg(lines >= 1 && lines <= 1, "%d HTTP-0002 lines for %d refused connections, want 1",
                  lines, IDLE - 8);
}
END_TEST

/* The other half of the slowloris defence: a connection that stops sending
 * is closed after the idle timeout (5 s), not held for the attacker. */
START_TEST(half_sent_request_is_closed_after_the_idle_timeout)
{
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port(srv))};
    static const char half[] = "GET /healthz HTTP/1.1\r\nHost: loc";
    struct timeval tv = {.tv_sec = 8};
    char buf[256];
    ssize_t k;
    double t0, took;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
    ck_assert_int_eq(write(fd, half, sizeof(half) - 1), (ssize_t)(sizeof(half) - 1));
    t0 = now_s();
    k = read(fd, buf, sizeof(buf));
    took = now_s() - t0;
    close(fd);
    ck_assert_msg(k == 0, "no close within %ld s (read returned %zd: %s)", (long)tv.tv_sec, k,
                  k < 0 ? strerror(errno) : "data");
    ck_assert_msg(took >= 4.0 && took < 7.0, "closed after %.2f s, want about 5", took);
}
END_TEST

START_TEST(stop_null_is_a_no_op)
{
    http_stop(NULL);
    ck_assert_int_eq(http_port(NULL), 0);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, port_zero_binds_a_real_port_and_reports_it);
    tcase_add_test(tc, metrics_route_serves_the_registry_as_prometheus_text);
    tcase_add_test(tc, healthz_is_200_ok_when_live_and_503_with_reason_when_not);
    tcase_add_test(tc, readyz_is_200_ready_when_ready_and_503_with_reasons_when_not);
    tcase_add_test(tc, unknown_path_is_404);
    tcase_add_test(tc, non_get_is_405_with_allow_header);
    tcase_add_test(tc, head_is_answered_without_a_body);
    tcase_add_test(tc, query_string_does_not_change_the_route);
    tcase_add_test(tc, port_in_use_fails_with_the_address_in_the_error);
    suite_add_tcase(s, tc);
    /* Connection limits: the idle-timeout test waits about 5 s. */
    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, healthz_answers_within_1s_while_40_half_requests_from_one_address_are_held);
    tcase_add_test(tc, half_sent_request_is_closed_after_the_idle_timeout);
    tcase_add_test(tc, refused_connections_do_not_flood_the_log);
    suite_add_tcase(s, tc);
    tc = tcase_create("start");
    tcase_add_loop_test(tc, bad_listen_address_is_rejected_with_reason, 0,
                        (int)(sizeof(bad_listen) / sizeof(bad_listen[0])));
    tcase_add_test(tc, stop_null_is_a_no_op);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
