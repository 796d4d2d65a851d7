/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for naming.c: word splitting and kebab-casing (case variants,
 * acronyms, digits, separators), domain lookup, and the subject-token
 * safety test. Table-driven: one loop test per table row.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "naming.h"

static const struct {
    const char *in;
    naming_err_t err;
    const char *kebab;
} kebab_cases[] = {
    {"RegisterOfficer", NAMING_OK, "register-officer"},
    {"registerOfficer", NAMING_OK, "register-officer"},
    {"ChangeOfficerStatus", NAMING_OK, "change-officer-status"},
    {"AssignGPSUnit", NAMING_OK, "assign-gps-unit"},
    {"GPS", NAMING_OK, "gps"},
    {"HTTPServer", NAMING_OK, "http-server"},
    {"getHTTPResponseCode", NAMING_OK, "get-http-response-code"},
    {"Ipv6Address", NAMING_OK, "ipv6-address"},
    {"Assign2Units", NAMING_OK, "assign2-units"},
    {"V2Upgrade", NAMING_OK, "v2-upgrade"},
    {"ABC123Def", NAMING_OK, "abc123-def"},
    {"Route66", NAMING_OK, "route66"},
    {"2FactorEnabled", NAMING_OK, "2-factor-enabled"},
    {"snake_case_name", NAMING_OK, "snake-case-name"},
    {"Already-Kebab", NAMING_OK, "already-kebab"},
    {"__Lead__Trail__", NAMING_OK, "lead-trail"},
    {"X", NAMING_OK, "x"},
    {"", NAMING_E_EMPTY, ""},
    {"_-_", NAMING_E_EMPTY, ""},
    {"Has.Dot", NAMING_E_CHAR, ""},
    {"Star*", NAMING_E_CHAR, ""},
    {"Gt>", NAMING_E_CHAR, ""},
    {"With Space", NAMING_E_CHAR, ""},
    {"Ctl\x01", NAMING_E_CHAR, ""},
    {"Tab\tX", NAMING_E_CHAR, ""},
    {"\xc3\x9cnicode", NAMING_E_CHAR, ""},
    {"Slash/Name", NAMING_E_CHAR, ""},
};

START_TEST(kebab_case_is_predictable)
{
    char buf[NAMING_MAX_LEN + 1];
    size_t n = 99;
    naming_err_t e =
        naming_kebab(kebab_cases[_i].in, strlen(kebab_cases[_i].in), buf, sizeof(buf), &n);

    ck_assert_msg(e == kebab_cases[_i].err, "'%s': got %s, want %s", kebab_cases[_i].in,
                  naming_strerror(e), naming_strerror(kebab_cases[_i].err));
    if (e == NAMING_OK) {
        ck_assert_str_eq(buf, kebab_cases[_i].kebab);
        ck_assert_uint_eq(n, strlen(kebab_cases[_i].kebab));
    }
}
END_TEST

START_TEST(name_longer_than_limit_is_rejected)
{
    char in[NAMING_MAX_LEN + 2], buf[16];

    memset(in, 'a', sizeof(in));
    ck_assert_int_eq(naming_kebab(in, NAMING_MAX_LEN + 1, buf, sizeof(buf), NULL),
                     NAMING_E_TOO_LONG);
    ck_assert_int_eq(naming_kebab(in, NAMING_MAX_LEN, buf, sizeof(buf), NULL), NAMING_E_NO_ROOM);
}
END_TEST

START_TEST(too_many_words_is_rejected)
{
    char in[2 * (NAMING_MAX_WORDS + 1) + 1];
    naming_words_t w;

    for (int i = 0; i < NAMING_MAX_WORDS + 1; i++) {
        in[2 * i] = 'A';
        in[2 * i + 1] = 'b';
    }
    ck_assert_int_eq(naming_split(in, 2 * NAMING_MAX_WORDS, &w), NAMING_OK);
    ck_assert_uint_eq(w.n, NAMING_MAX_WORDS);
    ck_assert_int_eq(naming_split(in, 2 * (NAMING_MAX_WORDS + 1), &w), NAMING_E_TOO_MANY);
}
END_TEST

static const char *const test_domains[] = {"officer", "incident", "unit", "patrol-unit"};
static const size_t test_domain_lens[] = {7, 8, 4, 11};

static const struct {
    const char *name;
    int domain; /* index into test_domains, -1: none */
    const char *action;
} domain_cases[] = {
    {"ChangeOfficerStatus", 0, "change-status"},
    {"RegisterOfficer", 0, "register"},
    {"DispatchIncident", 1, "dispatch"},
    {"registerOfficer", 0, "register"},
    {"AssignPatrolUnit", 3, "assign"},       /* longest domain at the first position */
    {"OfficerAssignUnit", 0, "assign-unit"}, /* first position wins */
    {"AssignGPSUnit", 2, "assign-gps"},
    {"register_officer", 0, "register"},
    {"ApproveLeave", -1, ""},
    {"Officers", -1, ""}, /* whole words only */
    {"Officer", 0, ""},   /* nothing left for the action */
};

START_TEST(domain_is_first_declared_word)
{
    naming_words_t w;
    size_t at = 0, nw = 0, alen;
    char action[64];
    const char *name = domain_cases[_i].name;
    int d;

    ck_assert_int_eq(naming_split(name, strlen(name), &w), NAMING_OK);
    d = naming_find_domain(name, &w, test_domains, test_domain_lens, 4, &at, &nw);
    ck_assert_msg(d == domain_cases[_i].domain, "'%s': domain %d, want %d", name, d,
                  domain_cases[_i].domain);
    if (d < 0)
        return;
    naming_err_t e = naming_kebab_words(name, &w, 0, w.n, at, nw, action, sizeof(action), &alen);
    if (!*domain_cases[_i].action) {
        ck_assert_int_eq(e, NAMING_E_EMPTY);
        return;
    }
    ck_assert_int_eq(e, NAMING_OK);
    ck_assert_str_eq(action, domain_cases[_i].action);
}
END_TEST

START_TEST(aggregate_words_found_case_insensitively)
{
    naming_words_t w;
    size_t at = 9, nw = 9;
    const char *name = "AssignPATROLUnitToShift";

    ck_assert_int_eq(naming_split(name, strlen(name), &w), NAMING_OK);
    ck_assert_int_eq(naming_find_words(name, &w, "patrol-unit", 11, &at, &nw), 1);
    ck_assert_uint_eq(at, 1);
    ck_assert_uint_eq(nw, 2);
    ck_assert_int_eq(naming_find_words(name, &w, "vehicle", 7, &at, &nw), 0);
    ck_assert_int_eq(naming_find_words(name, &w, "", 0, &at, &nw), 0);
}
END_TEST

static const struct {
    const char *s;
    int safe;
} token_cases[] = {
    {"officer", 1}, {"change-status", 1}, {"A_b-9", 1},
    {"", 0},        {"a.b", 0},           {"a*", 0},
    {">", 0},       {"a b", 0},           {"a\tb", 0},
    {"a\r\n", 0},   {"caf\xc3\xa9", 0},   {"a/b", 0},
    {"a$", 0},
};

START_TEST(only_safe_tokens_pass)
{
    ck_assert_msg(naming_token_safe(token_cases[_i].s, strlen(token_cases[_i].s)) ==
                      token_cases[_i].safe,
                  "'%s'", token_cases[_i].s);
}
END_TEST

START_TEST(error_strings_cover_every_code)
{
    for (int e = 0; e < NAMING_E__COUNT; e++)
        ck_assert_ptr_nonnull(naming_strerror((naming_err_t)e));
    ck_assert_str_eq(naming_strerror(NAMING_E__COUNT), "unknown naming error");
}
END_TEST

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *naming_suite(void)
{
    Suite *s = suite_create("naming");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, kebab_case_is_predictable, 0, NROWS(kebab_cases));
    tcase_add_test(tc, name_longer_than_limit_is_rejected);
    tcase_add_test(tc, too_many_words_is_rejected);
    tcase_add_loop_test(tc, domain_is_first_declared_word, 0, NROWS(domain_cases));
    tcase_add_test(tc, aggregate_words_found_case_insensitively);
    tcase_add_loop_test(tc, only_safe_tokens_pass, 0, NROWS(token_cases));
    tcase_add_test(tc, error_strings_cover_every_code);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(naming_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
