/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listenaddr: "host:port" to sockaddr_in for the admin endpoint, shared by
 * the config check (config.c) and the server (http.c). The error texts keep
 * the "http: " prefix the user has always seen for this key.
 */
#include "errstr.h"
#include "listenaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int listenaddr_parse(const char *listen, struct sockaddr_in *sa, char *errstr, size_t errstr_size)
{
    const char *colon;
    char host[64];
    char *end;
    long port;

    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host)) {
        errstr_set(errstr, errstr_size, "http: listen address '%s' is not host:port",
                   listen ? listen : "(null)");
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        errstr_set(errstr, errstr_size,
                   "http: listen host '%s' is not an IPv4 address (IPv6 is not supported)", host);
        return -1;
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end != '\0' || errno || port < 0 || port > 65535) {
        errstr_set(errstr, errstr_size, "http: listen port '%s' is not 0..65535", colon + 1);
        return -1;
    }
    sa->sin_port = htons((uint16_t)port);
    return 0;
}
