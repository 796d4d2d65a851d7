/* SPDX-License-Identifier: Apache-2.0 */
/*
 * natsopts: config -> natsOptions, once for every command (see natsopts.h).
 * Before this existed `streams` built its own options with servers only and
 * could not reach a cluster that requires TLS or credentials. Not for:
 * connection callbacks or connecting (the callers do both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "natsopts.h"
#include "nkey.h"
#include "secret.h"

#define TRY(call, what)                                                                            \
    do {                                                                                           \
        if ((call) != NATS_OK) {                                                                   \
            snprintf(errstr, errstr_size, "nats: %s: %s", what, nats_GetLastError(NULL));          \
            natsopts_scrub(cfg, errstr, errstr_size);                                              \
            goto err;                                                                              \
        }                                                                                          \
    } while (0)

static int apply_auth(const config_t *cfg, natsOptions *o, char *errstr, size_t errstr_size)
{
    char *secret = NULL;

    if (cfg->nats.user) {
        secret = secret_from(cfg->nats.password_env, cfg->nats.password_file, errstr, errstr_size);
        if (!secret && errstr[0])
            return -1;
        TRY(natsOptions_SetUserInfo(o, cfg->nats.user, secret), "user/password");
        secret_free(secret);
        secret = NULL;
    }
    if (cfg->nats.token_env) {
        secret = secret_from(cfg->nats.token_env, NULL, errstr, errstr_size);
        if (!secret) {
            if (!errstr[0])
                snprintf(errstr, errstr_size, "nats.token_env: environment variable %s is not set",
                         cfg->nats.token_env);
            return -1;
        }
        TRY(natsOptions_SetToken(o, secret), "token");
        secret_free(secret);
        secret = NULL;
    }
    if (cfg->nats.creds_file) {
        secret_check_file_mode(cfg->nats.creds_file); /* cnats reads it itself */
        TRY(natsOptions_SetUserCredentialsFromFiles(o, cfg->nats.creds_file, NULL),
            "nats.creds_file");
    }
    if (cfg->nats.nkey_seed_file) {
        /* cnats wants the public key too; it is a function of the seed, so
         * derive it rather than ask for it. cnats reads the seed file again
         * for each signature. */
        char pub[NKEY_PUBLIC_LEN + 1], nerr[300];
        if (nkey_public_from_seed_file(cfg->nats.nkey_seed_file, pub, sizeof(pub), nerr,
                                       sizeof(nerr)) != 0) {
            snprintf(errstr, errstr_size, "nats.nkey_seed_file: %s", nerr);
            return -1;
        }
        TRY(natsOptions_SetNKeyFromSeed(o, pub, cfg->nats.nkey_seed_file), "nats.nkey_seed_file");
        LOG_INFO("SNK-0011", "NATS nkey authentication", LKV_S("public_key", pub));
    }
    if (cfg->nats.tls_ca_file || cfg->nats.tls_cert_file) {
        TRY(natsOptions_SetSecure(o, true), "tls");
        if (cfg->nats.tls_ca_file)
            TRY(natsOptions_LoadCATrustedCertificates(o, cfg->nats.tls_ca_file),
                "nats.tls_ca_file");
        if (cfg->nats.tls_cert_file) {
            secret_check_file_mode(cfg->nats.tls_key_file);
            TRY(natsOptions_LoadCertificatesChain(o, cfg->nats.tls_cert_file,
                                                  cfg->nats.tls_key_file),
                "nats.tls_cert_file/tls_key_file");
        }
    }
    return 0;
err:
    secret_free(secret);
    return -1;
}

int natsopts_new(const config_t *cfg, natsOptions **out, char *errstr, size_t errstr_size)
{
    natsOptions *o = NULL;
    const char **servers = NULL;

    *out = NULL;
    errstr[0] = '\0';
    TRY(natsOptions_Create(&o), "options");
    servers = calloc(cfg->nats.servers_count ? cfg->nats.servers_count : 1, sizeof(*servers));
    if (!servers) {
        snprintf(errstr, errstr_size, "out of memory");
        goto err;
    }
    for (unsigned i = 0; i < cfg->nats.servers_count; i++)
        servers[i] = cfg->nats.servers[i];
    TRY(natsOptions_SetServers(o, servers, (int)cfg->nats.servers_count), "nats.servers");
    TRY(natsOptions_SetName(o, cfg->nats.name), "nats.name");
    TRY(natsOptions_SetMaxReconnect(o, cfg->nats.max_reconnects), "nats.max_reconnects");
    TRY(natsOptions_SetReconnectWait(o, cfg->nats.reconnect_wait_ms), "nats.reconnect_wait_ms");
    TRY(natsOptions_SetReconnectBufSize(o, (int)cfg->nats.reconnect_buffer_bytes),
        "nats.reconnect_buffer_bytes");
    if (apply_auth(cfg, o, errstr, errstr_size) != 0)
        goto err;
    free(servers);
    *out = o;
    return 0;
err:
    free(servers);
    natsOptions_Destroy(o);
    return -1;
}

void natsopts_js(const config_t *cfg, jsOptions *jo)
{
    jsOptions_Init(jo);
    jo->Prefix = cfg->nats.api_prefix;
    jo->Domain = cfg->nats.domain;
    jo->Wait = cfg->nats.ack_timeout_ms;
}

const char *natsopts_servers_text(const config_t *cfg, char *buf, size_t size)
{
    size_t o = 0;
    if (size)
        buf[0] = '\0';
    for (unsigned i = 0; i < cfg->nats.servers_count && o + 1 < size; i++) {
        if (i)
            buf[o++] = ',';
        secret_redact_url(cfg->nats.servers[i], buf + o, size - o);
        o += strlen(buf + o);
    }
    return buf;
}

void natsopts_scrub(const config_t *cfg, char *text, size_t size)
{
    for (unsigned i = 0; i < cfg->nats.servers_count; i++) {
        const char *u = cfg->nats.servers[i], *s = strstr(u, "://"), *at;
        s = s ? s + 3 : u;
        if (!(at = strrchr(s, '@')))
            continue;
        /* The whole userinfo and its secret part alone: cnats may quote either. */
        char ui[512];
        const char *colon = memchr(s, ':', (size_t)(at - s));
        snprintf(ui, sizeof(ui), "%.*s", (int)(at - s), s);
        secret_scrub(text, size, ui);
        if (colon) {
            snprintf(ui, sizeof(ui), "%.*s", (int)(at - colon - 1), colon + 1);
            secret_scrub(text, size, ui);
        }
        explicit_bzero(ui, sizeof(ui));
    }
}
