/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit_fake_nats.h - a fake NATS server on a thread, for the unit suites
 * that need a connected sink without a real server: it completes the
 * handshake (INFO, then PONG for every PING) and never answers anything
 * else, so every JetStream publish times out after nats.ack_timeout_ms.
 * One connection at a time. Header-only: each suite is its own executable.
 */
#ifndef ER_UNIT_FAKE_NATS_H
#define ER_UNIT_FAKE_NATS_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fake_nats {
    int lfd;
    pthread_t thread;
    char url[64]; /* nats://127.0.0.1:PORT */
} fake_nats_t;

static inline void *fake_nats_serve(void *arg)
{
    static const char info[] = "INFO {\"server_id\":\"fake\",\"version\":\"2.9.0\",\"proto\":1,"
                               "\"headers\":true,\"max_payload\":1048576}\r\n";
    fake_nats_t *f = arg;
    char buf[65536];
    ssize_t n;
    int fd;

    while ((fd = accept(f->lfd, NULL, NULL)) >= 0) {
        if (write(fd, info, sizeof(info) - 1) < 0) {
            close(fd);
            continue;
        }
        while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
            buf[n] = '\0';
            for (char *p = buf; (p = strstr(p, "PING\r\n")); p += 6)
                if (write(fd, "PONG\r\n", 6) < 0)
                    break;
        }
        close(fd);
    }
    return NULL;
}

static inline void fake_nats_start(fake_nats_t *f)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(f->lfd, 0);
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(f->lfd, 4), 0);
    ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    snprintf(f->url, sizeof(f->url), "nats://127.0.0.1:%d", ntohs(a.sin_port));
    ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_nats_serve, f), 0);
}

/* Call after the client closed its connection (or the thread stays in read). */
static inline void fake_nats_stop(fake_nats_t *f)
{
    shutdown(f->lfd, SHUT_RDWR);
    close(f->lfd);
    pthread_join(f->thread, NULL);
}

#endif /* ER_UNIT_FAKE_NATS_H */
