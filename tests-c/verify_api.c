/*
 * The verifier's argument and lifecycle rules: NULLs, taking over the iterator in every case,
 * an iterator that already started or failed, calls at the wrong time, early frees.
 *
 * usage: verify_api URL SESSION_ID UPLOAD_SESSION_ID PATH PART_SIZE UNAVAILABLE_UPLOAD_SESSION_ID
 * UPLOAD_SESSION_ID lists PATH's 3 parts, intact; UNAVAILABLE_UPLOAD_SESSION_ID is a session of
 * PATH whose every listing page is answered 503 with Retry-After: 2.
 * exit:  0 when every check held, 1 otherwise, 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <unistd.h>
#include "common.h"

/* Debug builds only, not in the header: the next call on `v` (any but the interrupt and free)
 * panics inside the library's boundary. */
int vault_parts_test_panic_verify(vault_parts_verify *v);

static vault_parts_iter *iter(char **argv) {
    vault_parts_iter *it = NULL;
    CHECK_CODE(vault_parts_open(&it, argv[1], argv[2], argv[3]), VAULT_PARTS_OK);
    return it;
}

/* What the log callback saw: how many lines, the last one's level and text, and whether every
 * line came on the thread that set the log up. */
struct seen_log {
    int lines, level, on_caller;
    pthread_t caller;
    char message[512];
};

static void record_log(void *userdata, int level, const char *message) {
    struct seen_log *s = (struct seen_log *)userdata;
    s->lines++;
    s->level = level;
    s->on_caller = s->on_caller && pthread_equal(pthread_self(), s->caller);
    snprintf(s->message, sizeof s->message, "%s", message);
}

/* The header: the log callback is called on the thread that calls vault_parts_verify_set_threads,
 * to log the error of an out-of-range value; once, as a VAULT_PARTS_LOG_ERROR line, the errmsg. */
static void out_of_range_threads_are_logged(char **argv, uint64_t part_size) {
    vault_parts_iter *it = iter(argv);
    vault_parts_verify *v = NULL;
    struct seen_log seen;
    memset(&seen, 0, sizeof seen);
    seen.on_caller = 1;
    seen.caller = pthread_self();
    CHECK_CODE(vault_parts_set_log(it, record_log, &seen), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_open(&v, it, argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_set_threads(v, 17), VAULT_PARTS_E_ARG);
    if (seen.lines != 1 || seen.level != VAULT_PARTS_LOG_ERROR || !seen.on_caller ||
        strcmp(seen.message, vault_parts_verify_errmsg(v)) != 0) {
        fprintf(stderr, "%s:%d: set_threads(17) logged %d lines, last level %d, on the caller's thread %d: \"%s\" "
                "(want 1 line, level %d, on the caller, the errmsg \"%s\")\n", __FILE__, __LINE__, seen.lines,
                seen.level, seen.on_caller, seen.message, VAULT_PARTS_LOG_ERROR, vault_parts_verify_errmsg(v));
        test_failures++;
    }
    CHECK(strcmp(vault_parts_verify_errmsg(v), "threads is 17: at most 16") == 0);
    /* The final error is logged once: the next call, refused with it, logs nothing more. */
    CHECK_CODE(vault_parts_verify_next(v, NULL), VAULT_PARTS_E_ARG);
    CHECK(seen.lines == 1);
    vault_parts_verify_free(v);
}

/* A verifier about to panic in its next call. */
static vault_parts_verify *armed(char **argv, uint64_t part_size) {
    vault_parts_verify *v = NULL;
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_test_panic_verify(v), VAULT_PARTS_OK);
    return v;
}

/* The panic was kept as the verifier's error, with the panic's own message, and the verifier
 * works on as a failed handle does. */
static void kept_the_panic(vault_parts_verify *v) {
    vault_part_verdict verdict;
    vault_parts_verify_totals totals;
    CHECK_CODE(vault_parts_verify_errcode(v), VAULT_PARTS_E_INTERNAL);
    CHECK_CONTAINS(vault_parts_verify_errmsg(v), "internal error (a bug in libvault_parts)");
    CHECK_CONTAINS(vault_parts_verify_errmsg(v), "forced by vault_parts_test_panic_verify");
    CHECK(strcmp(vault_parts_verify_error_type(v), "") == 0);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_INTERNAL);
    CHECK_CODE(vault_parts_verify_summary(v, &totals), VAULT_PARTS_OK);
    CHECK(totals.resumable == 0);
    vault_parts_verify_free(v);
}

/* Every call on a verifier runs inside the panic boundary, the accessors too (issue 15: they ran
 * outside it, so a panic there aborted the host; and a panic in next lost its message). A call
 * that returns a code returns E_INTERNAL; one that returns a value returns its NULL-handle value. */
static void panics_stay_inside(char **argv, uint64_t part_size) {
    vault_parts_verify *v;
    vault_part_verdict verdict;
    vault_parts_verify_totals totals;

    v = armed(argv, part_size);
    memset(&totals, 0x5a, sizeof totals);
    CHECK_CODE(vault_parts_verify_summary(v, &totals), VAULT_PARTS_E_INTERNAL);
    CHECK(totals.bytes_hashed == 0x5a5a5a5a5a5a5a5aULL); /* not written */
    kept_the_panic(v);

    v = armed(argv, part_size);
    CHECK(strcmp(vault_parts_verify_errmsg(v), "") == 0);
    kept_the_panic(v);

    v = armed(argv, part_size);
    CHECK(strcmp(vault_parts_verify_error_type(v), "") == 0);
    kept_the_panic(v);

    v = armed(argv, part_size);
    CHECK_CODE(vault_parts_verify_errcode(v), VAULT_PARTS_E_INTERNAL);
    kept_the_panic(v);

    v = armed(argv, part_size);
    CHECK_CODE(vault_parts_verify_set_threads(v, 1), VAULT_PARTS_E_INTERNAL);
    kept_the_panic(v);

    /* The status, Retry-After and statistics accessors too: their NULL-handle values, or E_INTERNAL. */
    v = armed(argv, part_size);
    CHECK(vault_parts_verify_http_status(v) == 0);
    kept_the_panic(v);

    v = armed(argv, part_size);
    CHECK(vault_parts_verify_retry_after_ms(v) == -1);
    kept_the_panic(v);

    v = armed(argv, part_size);
    {
        vault_parts_statistics st;
        memset(&st, 0x5a, sizeof st);
        CHECK_CODE(vault_parts_verify_stats(v, &st), VAULT_PARTS_E_INTERNAL);
        CHECK(st.requests == 0x5a5a5a5a5a5a5a5aULL); /* not written */
    }
    kept_the_panic(v);

    /* Mid-way, with the hashing threads running: free still joins them. */
    v = NULL;
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_ROW);
    CHECK_CODE(vault_parts_test_panic_verify(v), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_INTERNAL);
    kept_the_panic(v);

    CHECK_CODE(vault_parts_test_panic_verify(NULL), VAULT_PARTS_E_ARG);
}

/* The verifier's interrupt (here raised before the first next, on this thread) is sticky, and
 * its message names no function the caller did not call: it said "interrupted by
 * vault_parts_interrupt", a function of the iterator the verifier took over. */
static void an_interrupt_names_no_other_function(char **argv, uint64_t part_size) {
    vault_parts_verify *v = NULL;
    vault_part_verdict verdict;
    const char *msg;
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_interrupt(v), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_interrupt(v), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_CANCELLED);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_CANCELLED);
    CHECK_CODE(vault_parts_verify_errcode(v), VAULT_PARTS_E_CANCELLED);
    msg = vault_parts_verify_errmsg(v);
    CHECK_CONTAINS(msg, "interrupted");
    CHECK(strstr(msg, "vault_parts_interrupt") == NULL);
    vault_parts_verify_free(v);
}

/* The verifier's own HTTP status, Retry-After and statistics (issue 11: only the iterator had
 * them, and the verifier's listing is not the caller's to ask). */
static void status_retry_after_and_stats(char **argv, uint64_t part_size) {
    vault_parts_verify *v = NULL;
    vault_parts_iter *it = NULL;
    vault_part_verdict verdict;
    vault_parts_statistics st, again;
    unsigned verdicts = 0;
    int rc;

    /* NULL handles: 0, -1, E_ARG. */
    memset(&st, 0x5a, sizeof st);
    CHECK(vault_parts_verify_http_status(NULL) == 0);
    CHECK(vault_parts_verify_retry_after_ms(NULL) == -1);
    CHECK_CODE(vault_parts_verify_stats(NULL, &st), VAULT_PARTS_E_ARG);
    CHECK(st.requests == 0x5a5a5a5a5a5a5a5aULL); /* not written */

    /* A verify that succeeds, 2 parts a page: the details request, then 2 pages. */
    it = iter(argv);
    CHECK_CODE(vault_parts_set_limit(it, 2), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_open(&v, it, argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_stats(v, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_errcode(v), VAULT_PARTS_OK);
    memset(&st, 0x5a, sizeof st);
    CHECK_CODE(vault_parts_verify_stats(v, &st), VAULT_PARTS_OK);
    CHECK(st.requests == 0 && st.retries == 0 && st.pages == 0 && st.bytes_received == 0 && st.connections == 0 &&
          st.elapsed_ms == 0);
    CHECK(vault_parts_verify_http_status(v) == 0);
    CHECK(vault_parts_verify_retry_after_ms(v) == -1);
    while ((rc = vault_parts_verify_next(v, &verdict)) == VAULT_PARTS_ROW) {
        CHECK(verdict.status == VAULT_PARTS_PART_OK);
        verdicts++;
    }
    CHECK_CODE(rc, VAULT_PARTS_DONE);
    CHECK(verdicts == 3);
    CHECK_CODE(vault_parts_verify_stats(v, &st), VAULT_PARTS_OK);
    CHECK(st.requests == 3);
    CHECK(st.pages == 2);
    CHECK(st.retries == 0);
    CHECK(st.connections == 1);
    CHECK(st.bytes_received > 0);
    CHECK(vault_parts_verify_http_status(v) == 200);
    CHECK(vault_parts_verify_retry_after_ms(v) == -1);
    /* Ended: the counts, the elapsed time included, no longer change. */
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_DONE);
    CHECK_CODE(vault_parts_verify_stats(v, &again), VAULT_PARTS_OK);
    CHECK(memcmp(&st, &again, sizeof st) == 0);
    vault_parts_verify_free(v);

    /* Every listing page answered 503 with Retry-After: 2, one attempt: E_HTTP, and the status,
     * the wait and the counts of the failed verifier are readable. */
    v = NULL;
    it = NULL;
    CHECK_CODE(vault_parts_open(&it, argv[1], argv[2], argv[6]), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_max_attempts(it, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_open(&v, it, argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_HTTP);
    CHECK_CONTAINS(vault_parts_verify_errmsg(v), "503");
    CHECK(vault_parts_verify_http_status(v) == 503);
    CHECK(vault_parts_verify_retry_after_ms(v) == 2000);
    memset(&st, 0x5a, sizeof st);
    CHECK_CODE(vault_parts_verify_stats(v, &st), VAULT_PARTS_OK);
    CHECK(st.requests == 2); /* the details, then the first page */
    CHECK(st.pages == 0);
    CHECK(st.retries == 0);
    CHECK(st.connections == 1);
    CHECK(st.bytes_received > 0);
    /* Sticky, and a later call changes none of it. */
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_HTTP);
    CHECK(vault_parts_verify_http_status(v) == 503);
    CHECK(vault_parts_verify_retry_after_ms(v) == 2000);
    CHECK_CODE(vault_parts_verify_stats(v, &again), VAULT_PARTS_OK);
    CHECK(memcmp(&st, &again, sizeof st) == 0);
    vault_parts_verify_free(v);

    /* A verifier that failed without a request: nothing seen, counts of 0. */
    v = NULL;
    CHECK_CODE(vault_parts_verify_open(&v, NULL, argv[4], part_size), VAULT_PARTS_E_ARG);
    memset(&st, 0x5a, sizeof st);
    CHECK_CODE(vault_parts_verify_stats(v, &st), VAULT_PARTS_OK);
    CHECK(st.requests == 0 && st.pages == 0 && st.elapsed_ms == 0);
    CHECK(vault_parts_verify_http_status(v) == 0);
    CHECK(vault_parts_verify_retry_after_ms(v) == -1);
    vault_parts_verify_free(v);
}

int main(int argc, char **argv) {
    vault_parts_verify *v = NULL;
    vault_parts_iter *it;
    vault_part part;
    vault_part_verdict verdict;
    vault_parts_verify_totals totals;
    uint64_t part_size;
    int rc;

    if (argc != 7) {
        fprintf(stderr, "usage: verify_api URL SESSION_ID UPLOAD_SESSION_ID PATH PART_SIZE "
                        "UNAVAILABLE_UPLOAD_SESSION_ID\n");
        return 2;
    }
    part_size = strtoull(argv[5], NULL, 10);

    /* NULL handles never crash. */
    CHECK_CODE(vault_parts_verify_next(NULL, &verdict), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_set_threads(NULL, 1), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_set_hash_all(NULL, 1), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_summary(NULL, &totals), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_errcode(NULL), VAULT_PARTS_E_ARG);
    CHECK(strcmp(vault_parts_verify_errmsg(NULL), "") == 0);
    CHECK(strcmp(vault_parts_verify_error_type(NULL), "") == 0);
    vault_parts_verify_free(NULL);
    CHECK(strcmp(vault_parts_errstr(VAULT_PARTS_E_IO), "local file error") == 0);

    /* out == NULL: no handle, and the iterator is freed all the same (valgrind sees no leak). */
    CHECK_CODE(vault_parts_verify_open(NULL, iter(argv), argv[4], part_size), VAULT_PARTS_E_ARG);

    /* NULL iterator or path: a handle in the error state. */
    CHECK_CODE(vault_parts_verify_open(&v, NULL, argv[4], part_size), VAULT_PARTS_E_ARG);
    CHECK(v != NULL);
    CHECK_CONTAINS(vault_parts_verify_errmsg(v), "it is NULL");
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_ARG);
    vault_parts_verify_free(v);
    v = NULL;
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), NULL, part_size), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_verify_errmsg(v), "path is NULL");
    vault_parts_verify_free(v);

    /* A failed iterator's error carries over, code and message. */
    it = NULL;
    CHECK_CODE(vault_parts_open(&it, "ftp://example.com", argv[2], argv[3]), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_open(&v, it, argv[4], part_size), VAULT_PARTS_E_ARG);
    CHECK(strcmp(vault_parts_verify_errmsg(v), "") != 0);
    CHECK_CODE(vault_parts_verify_errcode(v), VAULT_PARTS_E_ARG);
    vault_parts_verify_free(v);

    /* An iterator whose first next has run is refused (and still taken over). */
    it = iter(argv);
    CHECK_CODE(vault_parts_next(it, &part), VAULT_PARTS_ROW);
    CHECK_CODE(vault_parts_verify_open(&v, it, argv[4], part_size), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_verify_errmsg(v), "already started");
    vault_parts_verify_free(v);

    /* The error strings stay valid across later calls (sticky: made once), so a message
     * fetched before another call, as gcc's right-to-left argument evaluation does in
     * printf("%d %s", call(v), errmsg(v)), is never freed under the caller (ASan, valgrind). */
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), "/nonexistent/vp-verify-api", part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_IO);
    {
        const char *msg = vault_parts_verify_errmsg(v), *type = vault_parts_verify_error_type(v);
        CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_IO);
        CHECK_CODE(vault_parts_verify_set_threads(v, 2), VAULT_PARTS_E_IO);
        CHECK(strcmp(msg, "/nonexistent/vp-verify-api: cannot open: No such file or directory (os error 2)") == 0);
        CHECK(strcmp(type, "") == 0);
        CHECK(msg == vault_parts_verify_errmsg(v));
    }
    vault_parts_verify_free(v);

    /* A path need not be UTF-8: POSIX names are bytes (it used to be E_ARG "not valid UTF-8").
     * Messages show the bytes that are not UTF-8 as U+FFFD. */
    {
        char name[4096];
        CHECK(strlen(argv[4]) < sizeof name - 8);
        snprintf(name, sizeof name, "%s-\xff\xfe", argv[4]);
        CHECK(link(argv[4], name) == 0);
        CHECK_CODE(vault_parts_verify_open(&v, iter(argv), name, part_size), VAULT_PARTS_OK);
        CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_ROW);
        CHECK(verdict.part_number == 1 && verdict.status == VAULT_PARTS_PART_OK);
        vault_parts_verify_free(v);
        CHECK(unlink(name) == 0);
        CHECK_CODE(vault_parts_verify_open(&v, iter(argv), name, part_size), VAULT_PARTS_OK);
        CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_IO);
        CHECK_CONTAINS(vault_parts_verify_errmsg(v), "-\xef\xbf\xbd\xef\xbf\xbd: cannot open: No such file");
        vault_parts_verify_free(v);
    }

    /* Threads: out of range before the first next is sticky. */
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_set_threads(v, 17), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_verify_errmsg(v), "at most 16");
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_ARG);
    vault_parts_verify_free(v);

    /* hash_all: 0 or 1; another value before the first next is sticky. */
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_set_hash_all(v, 2), VAULT_PARTS_E_ARG);
    CHECK(strcmp(vault_parts_verify_errmsg(v), "hash_all is 2: 0 or 1") == 0);
    CHECK_CODE(vault_parts_verify_set_hash_all(v, 1), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_E_ARG);
    vault_parts_verify_free(v);

    /* Calls at the wrong time return E_ARG and change nothing. */
    CHECK_CODE(vault_parts_verify_open(&v, iter(argv), argv[4], part_size), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_set_threads(v, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_set_threads(v, 2), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_summary(v, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_summary(v, &totals), VAULT_PARTS_OK);
    CHECK(totals.count[0] == 0 && totals.bytes_hashed == 0 && totals.first_to_upload == 0 && totals.resumable == 0);
    CHECK_CODE(vault_parts_verify_next(v, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_errcode(v), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_next(v, &verdict), VAULT_PARTS_ROW);
    CHECK(verdict.part_number == 1);
    CHECK_CODE(vault_parts_verify_set_threads(v, 1), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_set_hash_all(v, 1), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_set_hash_all(v, 7), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_verify_errcode(v), VAULT_PARTS_OK);
    CHECK(strcmp(vault_parts_verify_errmsg(v), "") == 0);
    rc = vault_parts_verify_next(v, &verdict);
    CHECK(rc == VAULT_PARTS_ROW || rc == VAULT_PARTS_DONE);
    /* Freed mid-way: the hashing threads are joined before this returns. */
    vault_parts_verify_free(v);

    panics_stay_inside(argv, part_size);
    out_of_range_threads_are_logged(argv, part_size);
    an_interrupt_names_no_other_function(argv, part_size);
    status_retry_after_and_stats(argv, part_size);

    printf("verify_api: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
