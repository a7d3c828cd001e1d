/*
 * The contract that needs no particular server answer: NULL handles and arguments, argument
 * rules, setter validation, setters after the first next, sticky errors, codes and version.
 *
 * usage: api URL SESSION_ID UPLOAD_SESSION_ID   (an upload session with at least 2 parts)
 */
#define _POSIX_C_SOURCE 200809L /* setenv, strdup */
#include "common.h"

static const char *URL, *SID, *UPLOAD;

/* Opens with the given arguments and checks the outcome and message. */
static void expect_open(const char *url, const char *sid, const char *upload, int code, const char *needle) {
    vault_parts_iter *it = NULL;
    CHECK_CODE(vault_parts_open(&it, url, sid, upload), code);
    CHECK(it != NULL);
    CHECK_CODE(vault_parts_errcode(it), code);
    if (needle) CHECK_CONTAINS(vault_parts_errmsg(it), needle);
    if (code != VAULT_PARTS_OK) {
        vault_part p;
        /* The handle stays in the error state: next and setters repeat the code. */
        CHECK_CODE(vault_parts_next(it, &p), code);
        CHECK_CODE(vault_parts_set_limit(it, 5), code);
        CHECK(strcmp(vault_parts_error_type(it), "") == 0);
    }
    vault_parts_free(it);
}

static vault_parts_iter *fresh(void) {
    vault_parts_iter *it = NULL;
    CHECK_CODE(vault_parts_open(&it, URL, SID, UPLOAD), VAULT_PARTS_OK);
    return it;
}

/* A setter's rejected value fails the handle for good, with this message. */
static void expect_setter_rejects(vault_parts_iter *it, int rc, const char *needle) {
    vault_part p;
    CHECK_CODE(rc, VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), needle);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), needle);
    vault_parts_free(it);
}

static void null_handles(void) {
    vault_part p;
    CHECK_CODE(vault_parts_next(NULL, &p), VAULT_PARTS_E_ARG);
    vault_parts_free(NULL);
    CHECK(strcmp(vault_parts_errmsg(NULL), "") == 0);
    CHECK(strcmp(vault_parts_error_type(NULL), "") == 0);
    CHECK_CODE(vault_parts_errcode(NULL), VAULT_PARTS_E_ARG);
    CHECK(vault_parts_burst_remaining(NULL) == -1);
    CHECK_CODE(vault_parts_set_limit(NULL, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_api_version(NULL, "v25.3"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_timeout_ms(NULL, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_max_attempts(NULL, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_backoff_ms(NULL, 1, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_client_id(NULL, "x"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_ca_file(NULL, "/x"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_add_ca_file(NULL, "/x"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_use_system_roots(NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_deadline_ms(NULL, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_log(NULL, NULL, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_interrupt(NULL), VAULT_PARTS_E_ARG);
    CHECK(vault_parts_http_status(NULL) == 0);
    CHECK(vault_parts_retry_after_ms(NULL) == -1);
    {
        vault_parts_statistics s;
        vault_parts_iter *it = fresh();
        memset(&s, 0x5a, sizeof s);
        CHECK_CODE(vault_parts_stats(NULL, &s), VAULT_PARTS_E_ARG);
        CHECK(s.requests == 0x5a5a5a5a5a5a5a5aULL); /* not written */
        CHECK_CODE(vault_parts_stats(it, NULL), VAULT_PARTS_E_ARG);
        CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK); /* nothing changed */
        vault_parts_free(it);
    }
    CHECK_CODE(vault_parts_open(NULL, URL, SID, UPLOAD), VAULT_PARTS_E_ARG);
}

static void open_arguments(void) {
    static const char *bad_urls[] = {"", "ftp://v.example", "https://", "https://v.example/api/v25.3",
                                     "https://u:p@v.example", "https://v.example:0", "https://v.example:99999",
                                     "https://v example", "http://[::1"};
    static const char *bad_uploads[] = {"", ".", "..", "a/b", "a?b", "a#b", "a%2Fb", "a b", "a\tb", "a\nb"};
    size_t i;
    expect_open(NULL, SID, UPLOAD, VAULT_PARTS_E_ARG, "vault_url is NULL");
    expect_open(URL, NULL, UPLOAD, VAULT_PARTS_E_ARG, "session_id is NULL");
    expect_open(URL, SID, NULL, VAULT_PARTS_E_ARG, "upload_session_id is NULL");
    expect_open("\xff\xfe", SID, UPLOAD, VAULT_PARTS_E_ARG, "not valid UTF-8");
    for (i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++)
        expect_open(bad_urls[i], SID, UPLOAD, VAULT_PARTS_E_ARG, "vault_url");
    expect_open("http://v.example", SID, UPLOAD, VAULT_PARTS_E_ARG, "only for loopback");
    for (i = 0; i < sizeof bad_uploads / sizeof *bad_uploads; i++)
        expect_open(URL, SID, bad_uploads[i], VAULT_PARTS_E_ARG, "upload_session_id");
    expect_open(URL, "", UPLOAD, VAULT_PARTS_E_ARG, "session_id is empty");
    expect_open(URL, "sec\nret", UPLOAD, VAULT_PARTS_E_ARG, "control character");
    expect_open(URL, "s\xc3\xa9ssion", UPLOAD, VAULT_PARTS_E_ARG, "printable ASCII");
    /* Accepted forms do no I/O, so any host will do. */
    expect_open("https://myvault.veevavault.com", SID, UPLOAD, VAULT_PARTS_OK, "");
    expect_open("myvault.veevavault.com", SID, UPLOAD, VAULT_PARTS_OK, "");
    expect_open("https://myvault.veevavault.com:8443/", SID, UPLOAD, VAULT_PARTS_OK, "");
    expect_open("http://localhost:1", SID, UPLOAD, VAULT_PARTS_OK, "");
    expect_open("http://[::1]:1", SID, UPLOAD, VAULT_PARTS_OK, "");
}

/* Points the system trust store at nothing, so vault_parts_use_system_roots has no certificate. */
static char *saved_cert_file, *saved_cert_dir;
static char *copy_env(const char *name) {
    const char *value = getenv(name);
    return value ? strdup(value) : NULL;
}
static void without_system_roots(void) {
    saved_cert_file = copy_env("SSL_CERT_FILE");
    saved_cert_dir = copy_env("SSL_CERT_DIR");
    CHECK(setenv("SSL_CERT_FILE", "/nonexistent/vp-api-roots.pem", 1) == 0);
    CHECK(setenv("SSL_CERT_DIR", "/nonexistent/vp-api-roots", 1) == 0);
}
static void restore_system_roots(void) {
    if (saved_cert_file) CHECK(setenv("SSL_CERT_FILE", saved_cert_file, 1) == 0);
    else CHECK(unsetenv("SSL_CERT_FILE") == 0);
    if (saved_cert_dir) CHECK(setenv("SSL_CERT_DIR", saved_cert_dir, 1) == 0);
    else CHECK(unsetenv("SSL_CERT_DIR") == 0);
    free(saved_cert_file);
    free(saved_cert_dir);
}

/* Runs `call` (which uses `it`) on a fresh handle and expects it rejected with `needle`. */
#define REJECTS(call, needle)                    \
    do {                                         \
        vault_parts_iter *it = fresh();          \
        expect_setter_rejects(it, (call), needle); \
    } while (0)

static void setters(void) {
    char long_id[102];
    vault_parts_iter *it;
    memset(long_id, 'a', 101);
    long_id[101] = '\0';

    REJECTS(vault_parts_set_limit(it, 0), "limit 0");
    REJECTS(vault_parts_set_limit(it, 1001), "1 to 1000");
    REJECTS(vault_parts_set_api_version(it, "25.3"), "v25.3");
    REJECTS(vault_parts_set_api_version(it, NULL), "version is NULL");
    REJECTS(vault_parts_set_timeout_ms(it, 0), "timeout");
    REJECTS(vault_parts_set_max_attempts(it, 0), "max_attempts");
    REJECTS(vault_parts_set_backoff_ms(it, 10, 5), "backoff");
    REJECTS(vault_parts_set_client_id(it, "has space"), "client_id");
    REJECTS(vault_parts_set_client_id(it, long_id), "1 to 100");
    REJECTS(vault_parts_set_client_id(it, ""), "client_id");
    REJECTS(vault_parts_set_ca_file(it, "/nonexistent/ca.pem"), "cannot be read");
    REJECTS(vault_parts_set_ca_file(it, NULL), "pem_path is NULL");
    /* NULL is a bad value like any other: kept, so one check after the loop sees it (issue 15:
     * add_ca_file(it, NULL) returned E_ARG but left the handle OK, listing with the built-in roots). */
    REJECTS(vault_parts_add_ca_file(it, "/nonexistent/ca.pem"), "cannot be read");
    REJECTS(vault_parts_add_ca_file(it, NULL), "pem_path is NULL");
    REJECTS(vault_parts_set_deadline_ms(it, 0), "deadline");
    without_system_roots();
    REJECTS(vault_parts_use_system_roots(it), "trust store is empty or unreadable");
    restore_system_roots();

    /* The first failure is the one kept. */
    it = fresh();
    CHECK_CODE(vault_parts_set_limit(it, 0), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_set_api_version(it, "bad"), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), "limit 0");
    vault_parts_free(it);

    /* Valid values are accepted and the listing still works with them. */
    it = fresh();
    CHECK_CODE(vault_parts_set_limit(it, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_limit(it, 1000), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_api_version(it, "v21.1"), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_timeout_ms(it, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_timeout_ms(it, 30000), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_max_attempts(it, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_backoff_ms(it, 0, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_client_id(it, "acme.uploader_2-x"), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_log(it, NULL, NULL), VAULT_PARTS_OK);
    CHECK(strcmp(vault_parts_errmsg(it), "") == 0);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    {
        vault_part p;
        CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_ROW);
        CHECK(p.part_number == 1);
    }
    vault_parts_free(it);
}

/* A client setter's bad value, NULL included, is kept as the client's error: the client refuses
 * every later setter with it, and every listing opened on it fails with it. */
static void expect_client_rejects(vault_parts_client *c, int rc, const char *needle) {
    vault_parts_iter *it = NULL;
    vault_part p;
    CHECK_CODE(rc, VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_client_set_max_idle(c, 1), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_open_with_client(&it, c, URL, SID, UPLOAD), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), needle);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_E_ARG);
    vault_parts_free(it);
    vault_parts_client_free(c);
}

#define CLIENT_REJECTS(call, needle)                                 \
    do {                                                             \
        vault_parts_client *c = NULL;                                \
        CHECK_CODE(vault_parts_client_new(&c), VAULT_PARTS_OK);      \
        expect_client_rejects(c, (call), needle);                    \
    } while (0)

static void client_setters(void) {
    CHECK_CODE(vault_parts_client_new(NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_client_set_ca_file(NULL, "/x"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_client_add_ca_file(NULL, "/x"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_client_use_system_roots(NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_client_set_client_id(NULL, "x"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_client_set_max_idle(NULL, 1), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_client_set_proxy_from_env(NULL, 0), VAULT_PARTS_E_ARG);
    vault_parts_client_free(NULL);

    CLIENT_REJECTS(vault_parts_client_set_ca_file(c, NULL), "pem_path is NULL");
    CLIENT_REJECTS(vault_parts_client_set_ca_file(c, "/nonexistent/ca.pem"), "cannot be read");
    CLIENT_REJECTS(vault_parts_client_add_ca_file(c, NULL), "pem_path is NULL");
    CLIENT_REJECTS(vault_parts_client_add_ca_file(c, "/nonexistent/ca.pem"), "cannot be read");
    CLIENT_REJECTS(vault_parts_client_set_client_id(c, NULL), "client_id is NULL");
    CLIENT_REJECTS(vault_parts_client_set_client_id(c, "has space"), "client_id");
    CLIENT_REJECTS(vault_parts_client_set_proxy_from_env(c, 2), "use_environment must be 0 or 1");
    without_system_roots();
    CLIENT_REJECTS(vault_parts_client_use_system_roots(c), "trust store is empty or unreadable");
    restore_system_roots();
}

static void after_first_next(void) {
    vault_part p;
    vault_parts_iter *it = fresh();
    CHECK(vault_parts_burst_remaining(it) == -1);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_ROW);
    CHECK(p.part_number == 1);
    CHECK(vault_parts_burst_remaining(it) >= 0);
    /* Setters now are misuse; tests-c/misuse.c checks that they change nothing. */
    CHECK_CODE(vault_parts_set_limit(it, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_ROW);
    vault_parts_free(it);
}

static void codes_and_version(void) {
    int codes[] = {VAULT_PARTS_OK, VAULT_PARTS_ROW, VAULT_PARTS_DONE, VAULT_PARTS_E_ARG, VAULT_PARTS_E_AUTH,
                   VAULT_PARTS_E_ACCESS, VAULT_PARTS_E_RATE_LIMIT, VAULT_PARTS_E_VAULT, VAULT_PARTS_E_HTTP,
                   VAULT_PARTS_E_NETWORK, VAULT_PARTS_E_TIMEOUT, VAULT_PARTS_E_TLS, VAULT_PARTS_E_PROTOCOL,
                   VAULT_PARTS_E_INTERNAL, VAULT_PARTS_E_IO, VAULT_PARTS_E_CANCELLED, VAULT_PARTS_E_CONFLICT,
                   VAULT_PARTS_E_INTEGRITY};
    size_t i, j, n = sizeof codes / sizeof *codes;
    char expect[64];
    /* The values are the contract. */
    CHECK(VAULT_PARTS_OK == 0 && VAULT_PARTS_ROW == 100 && VAULT_PARTS_DONE == 101);
    CHECK(VAULT_PARTS_E_ARG == 1 && VAULT_PARTS_E_AUTH == 2 && VAULT_PARTS_E_ACCESS == 3);
    CHECK(VAULT_PARTS_E_RATE_LIMIT == 4 && VAULT_PARTS_E_VAULT == 5 && VAULT_PARTS_E_HTTP == 6);
    CHECK(VAULT_PARTS_E_NETWORK == 7 && VAULT_PARTS_E_TIMEOUT == 8 && VAULT_PARTS_E_TLS == 9);
    CHECK(VAULT_PARTS_E_PROTOCOL == 10 && VAULT_PARTS_E_INTERNAL == 11);
    for (i = 0; i < n; i++) {
        const char *s = vault_parts_errstr(codes[i]);
        CHECK(s != NULL && strcmp(s, "") != 0 && strcmp(s, "unknown code") != 0);
        for (j = 0; j < i; j++) CHECK(strcmp(s, vault_parts_errstr(codes[j])) != 0);
    }
    CHECK(strcmp(vault_parts_errstr(-1), "unknown code") == 0);
    CHECK(VAULT_PARTS_E_IO == 12 && strcmp(vault_parts_errstr(VAULT_PARTS_E_IO), "local file error") == 0);
    CHECK(VAULT_PARTS_E_CANCELLED == 13 && strcmp(vault_parts_errstr(VAULT_PARTS_E_CANCELLED), "interrupted") == 0);
    CHECK(VAULT_PARTS_E_CONFLICT == 14 &&
          strcmp(vault_parts_errstr(VAULT_PARTS_E_CONFLICT), "file and session conflict") == 0);
    CHECK(VAULT_PARTS_E_INTEGRITY == 15 &&
          strcmp(vault_parts_errstr(VAULT_PARTS_E_INTEGRITY), "part stored with other content") == 0);
    CHECK(strcmp(vault_parts_errstr(16), "unknown code") == 0);
    CHECK(strcmp(vault_parts_errstr(VAULT_PARTS_E_AUTH), "session ID rejected") == 0);

    snprintf(expect, sizeof expect, "%d.%d.%d", VAULT_PARTS_VERSION_MAJOR, VAULT_PARTS_VERSION_MINOR,
             VAULT_PARTS_VERSION_PATCH);
    CHECK(strcmp(vault_parts_version(), expect) == 0);
    CHECK(strcmp(vault_parts_version(), VAULT_PARTS_VERSION_STRING) == 0);
    CHECK(VAULT_PARTS_VERSION_NUMBER == VAULT_PARTS_VERSION_MAJOR * 1000000 + VAULT_PARTS_VERSION_MINOR * 1000 +
                                           VAULT_PARTS_VERSION_PATCH);
    CHECK(vault_parts_version_number() == VAULT_PARTS_VERSION_NUMBER);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: api URL SESSION_ID UPLOAD_SESSION_ID\n");
        return 2;
    }
    URL = argv[1];
    SID = argv[2];
    UPLOAD = argv[3];
    null_handles();
    open_arguments();
    setters();
    client_setters();
    after_first_next();
    codes_and_version();
    printf("api: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
