/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rules: any bytes as a rule file. Loading must either fail with at
 * least one diagnostic or yield a rule set that routes a few events and
 * runs its own tests: entries without crashing, leaking or reading out of
 * bounds. Not a test of what the decisions are.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "route.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rules_diags_t d = {0};
    rules_t *r = NULL;
    static route_result_t out;
    char line[2048];
    int rc = rules_load_buffer("fuzz.yaml", (const char *)data, size, &r, &d);

    if (rc != 0 && d.count == 0)
        abort(); /* an error must always be explained */
    if ((rc == 0) != (r != NULL))
        abort();
    for (size_t i = 0; i < d.count; i++)
        rules_diag_format(&d.items[i], line, sizeof(line));
    if (r) {
        route_header_t h[] = {{"eventType", "RegisterOfficerRequested", 24}, {"eventId", "e-1", 3}};
        route_event_t ev = {.topic = "t",
                            .value = "{\"aggregateType\":\"Officer\"}",
                            .value_len = 27,
                            .headers = h,
                            .header_count = 2};
        route_decide(r, &ev, &out);
        for (size_t i = 0; i < rules_route_count(r); i++) {
            (void)rules_route_name(r, i);
            (void)rules_route_subject_prefix(r, i);
        }
        for (size_t i = 0; i < rules_test_count(r) && i < 16; i++) {
            probe_t p;
            char err[300];
            if (!probe_build(&p, r, rules_test_get(r, i), err, sizeof(err)))
                route_decide(r, &p.ev, &out);
            probe_fini(&p);
        }
        rules_unref(r);
    }
    rules_diags_clear(&d);
    return 0;
}
