/*
 * sqlite-style misuse: a call made at the wrong time returns VAULT_PARTS_E_ARG and changes
 * nothing (the listing goes on, DONE stays DONE, errcode and errmsg keep what they said); a bad
 * value given before the first next sticks; errmsg and error_type pointers are never freed
 * under the caller while the error does not change.
 *
 * usage: misuse URL SESSION_ID UPLOAD_SESSION_ID   (an upload session with exactly 3 parts)
 */
#include "common.h"

static const char *URL, *SID, *UPLOAD;

static vault_parts_iter *fresh(void) {
    vault_parts_iter *it = NULL;
    CHECK_CODE(vault_parts_open(&it, URL, SID, UPLOAD), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_limit(it, 1), VAULT_PARTS_OK);
    return it;
}

/* Every setter and a NULL out: refused with E_ARG, nothing changes. */
static void refused_without_change(vault_parts_iter *it, int code) {
    const char *msg = vault_parts_errmsg(it);
    const char *type = vault_parts_error_type(it);
    CHECK_CODE(vault_parts_set_limit(it, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_api_version(it, "v24.1"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_timeout_ms(it, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_max_attempts(it, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_backoff_ms(it, 1, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_client_id(it, "x"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_ca_file(it, "/nonexistent.pem"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_deadline_ms(it, 5), VAULT_PARTS_E_ARG);
    /* 0, a bad value kept before the first next, is only misuse after it: refused, not kept. */
    CHECK_CODE(vault_parts_set_deadline_ms(it, 0), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_add_ca_file(it, "/nonexistent.pem"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_use_system_roots(it), VAULT_PARTS_E_ARG);
    /* A NULL value at the wrong time is misuse too, not a value to keep. */
    CHECK_CODE(vault_parts_set_api_version(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_client_id(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_ca_file(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_add_ca_file(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_next(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), code);
    CHECK(vault_parts_errmsg(it) == msg && vault_parts_error_type(it) == type);
    CHECK(strcmp(msg, "") == 0 && strcmp(type, "") == 0);
}

static void listing_goes_on(void) {
    vault_part p;
    int rc, rows = 0;
    vault_parts_iter *it = fresh();
    CHECK_CODE(vault_parts_next(it, NULL), VAULT_PARTS_E_ARG); /* before the first page too */
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_ROW);
    rows++;
    refused_without_change(it, VAULT_PARTS_OK);
    while ((rc = vault_parts_next(it, &p)) == VAULT_PARTS_ROW) {
        rows++;
        CHECK(p.part_number == (uint32_t)rows);
    }
    CHECK_CODE(rc, VAULT_PARTS_DONE);
    CHECK(rows == 3);
    refused_without_change(it, VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_DONE);
    CHECK_CODE(vault_parts_set_log(it, NULL, NULL), VAULT_PARTS_OK);
    vault_parts_free(it);
}

static void bad_values_stick_and_pointers_stay_valid(void) {
    vault_part p;
    const char *none, *msg;
    vault_parts_iter *it = fresh();
    none = vault_parts_errmsg(it); /* fetched before the failing call, as printf args may be */
    CHECK_CODE(vault_parts_set_max_attempts(it, 0), VAULT_PARTS_E_ARG);
    CHECK(strcmp(none, "") == 0); /* still readable: a static "" */
    msg = vault_parts_errmsg(it);
    CHECK_CONTAINS(msg, "max_attempts");
    CHECK_CODE(vault_parts_set_limit(it, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_next(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(msg, "max_attempts"); /* not freed by the calls since */
    CHECK(vault_parts_errmsg(it) == msg);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_E_ARG);
    vault_parts_free(it);
}

/* On a listing opened with a client, trust and client ID are the client's: the listing's own
 * setters for them are misuse (refused, nothing changed), whatever the value, NULL included. */
static void client_listing_refuses_connection_setters(void) {
    vault_parts_client *c = NULL;
    vault_parts_iter *it = NULL;
    CHECK_CODE(vault_parts_client_new(&c), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_client_set_proxy_from_env(c, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_open_with_client(&it, c, URL, SID, UPLOAD), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_ca_file(it, "/nonexistent.pem"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_ca_file(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_add_ca_file(it, "/nonexistent.pem"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_add_ca_file(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_use_system_roots(it), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_client_id(it, "acme"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_client_id(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    CHECK(strcmp(vault_parts_errmsg(it), "") == 0);
    /* Not failed: the listing's own settings still work (no request made: the row's count holds). */
    CHECK_CODE(vault_parts_set_limit(it, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    vault_parts_free(it);
    vault_parts_client_free(c);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: misuse URL SESSION_ID UPLOAD_SESSION_ID\n");
        return 2;
    }
    URL = argv[1];
    SID = argv[2];
    UPLOAD = argv[3];
    listing_goes_on();
    bad_values_stick_and_pointers_stay_valid();
    client_listing_refuses_connection_setters();
    printf("misuse: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
