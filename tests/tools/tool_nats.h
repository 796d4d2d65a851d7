/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_nats.h - header-only NATS connection helper for er_js and
 * er_js_publish. Include after tool_common.h.
 *
 * Connects to a comma-separated URL list (the --nats option, default
 * $ER_NATS_URL) with bounded reconnects, so a tool never hangs forever on a
 * dead cluster, and returns a JetStream context.
 *
 * Secured servers (the security tests): TLS and credentials come from the
 * environment, so every tool and script gets them the same way:
 * ER_NATS_TLS_CA (CA file; turns TLS on), ER_NATS_TLS_CERT + ER_NATS_TLS_KEY
 * (client certificate), and one of ER_NATS_USER + ER_NATS_PASSWORD,
 * ER_NATS_TOKEN or ER_NATS_CREDS (a creds file).
 */
#ifndef ER_TOOL_NATS_H
#define ER_TOOL_NATS_H

#include <nats/nats.h>

/** Last cnats error as text: the status name plus the thread's detail. */
static inline const char *tn_err(natsStatus s)
{
    const char *detail = nats_GetLastError(NULL);
    static __thread char buf[512];
    snprintf(buf, sizeof(buf), "%s%s%s", natsStatus_GetText(s), detail && *detail ? ": " : "",
             detail && *detail ? detail : "");
    return buf;
}

/**
 * Connect and create a JetStream context; exits TC_EXIT_ENV on failure.
 * \param urls comma-separated nats:// URLs. \param api_wait_ms JetStream API
 * request timeout. \param jsopts_out optional: the jsOptions used (for
 * callers that add publish-async settings, pass one pre-filled and it is
 * used as is; NULL for defaults).
 */
static inline void tn_connect(const char *urls, const char *name, int64_t api_wait_ms,
                              jsOptions *jso, natsConnection **nc_out, jsCtx **js_out)
{
    natsOptions *opts = NULL;
    char *dup = strdup(urls), *save = NULL;
    const char *servers[16];
    int n = 0;
    for (char *t = strtok_r(dup, ",", &save); t && n < 16; t = strtok_r(NULL, ",", &save))
        servers[n++] = t;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetServers(opts, servers, n);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, name);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, 5000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, 120);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 500);
    if (s == NATS_OK)
        s = natsOptions_SetMaxPendingMsgs(opts, 1000000);
    const char *ca = getenv("ER_NATS_TLS_CA"), *cert = getenv("ER_NATS_TLS_CERT"),
               *key = getenv("ER_NATS_TLS_KEY"), *user = getenv("ER_NATS_USER"),
               *token = getenv("ER_NATS_TOKEN"), *creds = getenv("ER_NATS_CREDS");
    if (s == NATS_OK && ca && *ca) {
        s = natsOptions_SetSecure(opts, true);
        if (s == NATS_OK)
            s = natsOptions_LoadCATrustedCertificates(opts, ca);
        if (s == NATS_OK && cert && *cert)
            s = natsOptions_LoadCertificatesChain(opts, cert, key);
    }
    if (s == NATS_OK && user && *user)
        s = natsOptions_SetUserInfo(opts, user, getenv("ER_NATS_PASSWORD"));
    if (s == NATS_OK && token && *token)
        s = natsOptions_SetToken(opts, token);
    if (s == NATS_OK && creds && *creds)
        s = natsOptions_SetUserCredentialsFromFiles(opts, creds, NULL);
    if (s != NATS_OK)
        tc_die(TC_EXIT_USAGE, "nats options (%s): %s", urls, tn_err(s));
    s = natsConnection_Connect(nc_out, opts);
    natsOptions_Destroy(opts);
    free(dup);
    if (s != NATS_OK)
        tc_die(TC_EXIT_ENV, "cannot connect to NATS %s: %s", urls, tn_err(s));
    jsOptions local;
    if (!jso) {
        jsOptions_Init(&local);
        jso = &local;
    }
    jso->Wait = api_wait_ms;
    s = natsConnection_JetStream(js_out, *nc_out, jso);
    if (s != NATS_OK)
        tc_die(TC_EXIT_ENV, "JetStream context: %s", tn_err(s));
}

static inline void tn_close(natsConnection *nc, jsCtx *js)
{
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
}

#endif /* ER_TOOL_NATS_H */
