/*
 * The upload C API (vault_parts_open_new, vault_parts_upload_*) against vault-sim: one upload
 * driven from the command line and reported line by line for tests/upload.rs ("run"), or the
 * argument and lifecycle rules checked here ("api").
 *
 * usage: upload run URL SESSION_ID PATH PART_SIZE [OPTION...]
 *   new=STAGING_PATH   a new session (vault_parts_open_new), else
 *   resume=ID          an existing one (vault_parts_open)
 *   overwrite=0|1      for new= (default 0)
 *   client=1           open through a vault_parts_client (the _with_client opens)
 *   commit=0|1|2       vault_parts_upload_set_commit (default: not called)
 *   poll=MS            vault_parts_upload_set_poll_ms (default: not called)
 *   backoff=MS[,MAX]   vault_parts_set_backoff_ms(it, MS, MAX) (default 10,2000)
 *   attempts=N         vault_parts_set_max_attempts
 *   start=1            vault_parts_upload_start first, twice (it is idempotent)
 *   interrupt_ms=MS    after the first event, a thread interrupts the upload MS ms later;
 *                      prints "latency_ms N" (interrupt raised -> next returned)
 *   truncate_after=K,LEN  after the Kth event the file is truncated to LEN bytes
 * prints: "id ID" (after an explicit start), "event N VERDICT ACTION OFFSET SIZE MD5 ATTEMPTS"
 *   per part, then "result CODE", "errmsg MSG", "error_type TYPE",
 *   "summary PARTS KEPT SENT BYTES_SENT BYTES_HASHED JOB_ID COMMITTED", "final_id ID|-".
 *
 * usage: upload api URL SESSION_ID PATH RESUME_ID
 *   PATH has 3 parts of 5 MiB or fewer; RESUME_ID is a session listing PATH's parts.
 *   Uploads of its own go to /u/alice/api-*.bin; prints "upload_api: N failed checks".
 *
 * exit:  0 when every check held, 1 otherwise, 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

/* Debug builds only, not in the header: the next call on `u` (any but interrupt and free)
 * panics inside the library's boundary. */
int vault_parts_test_panic_upload(vault_parts_upload *u);

static const char *verdict_name(int v) {
    switch (v) {
    case VAULT_PARTS_PART_OK: return "OK";
    case VAULT_PARTS_PART_MISSING: return "MISSING";
    case VAULT_PARTS_PART_SIZE_MISMATCH: return "SIZE_MISMATCH";
    case VAULT_PARTS_PART_MD5_MISMATCH: return "MD5_MISMATCH";
    case VAULT_PARTS_PART_UNVERIFIED: return "UNVERIFIED";
    case VAULT_PARTS_PART_EXTRA: return "EXTRA";
    default: return "BAD_VERDICT";
    }
}

static const char *action_name(int a) {
    switch (a) {
    case VAULT_PARTS_KEPT: return "KEPT";
    case VAULT_PARTS_SENT: return "SENT";
    default: return "BAD_ACTION";
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* The md5 is 32 lowercase hex digits and a NUL. */
static int event_md5_well_formed(const vault_part_upload *e) {
    int i;
    if (e->md5[32] != '\0') return 0;
    for (i = 0; i < 32; i++) {
        char c = e->md5[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

static const char *opt(int argc, char **argv, int from, const char *key) {
    size_t n = strlen(key);
    int i;
    for (i = from; i < argc; i++)
        if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
    return NULL;
}

struct interrupter {
    vault_parts_upload *u;
    unsigned delay_ms;
    double raised_at;
};

static void *interrupt_later(void *arg) {
    struct interrupter *in = (struct interrupter *)arg;
    sleep_ms(in->delay_ms);
    in->raised_at = now_ms();
    CHECK_CODE(vault_parts_upload_interrupt(in->u), VAULT_PARTS_OK);
    return NULL;
}

static int run_one(int argc, char **argv) {
    const char *url = argv[2], *sid = argv[3], *path = argv[4];
    uint64_t part_size = strtoull(argv[5], NULL, 10);
    const char *new_path = opt(argc, argv, 6, "new"), *resume = opt(argc, argv, 6, "resume");
    const char *o_overwrite = opt(argc, argv, 6, "overwrite"), *o_client = opt(argc, argv, 6, "client");
    const char *o_commit = opt(argc, argv, 6, "commit"), *o_poll = opt(argc, argv, 6, "poll");
    const char *o_backoff = opt(argc, argv, 6, "backoff"), *o_attempts = opt(argc, argv, 6, "attempts");
    const char *o_start = opt(argc, argv, 6, "start"), *o_interrupt = opt(argc, argv, 6, "interrupt_ms");
    const char *o_truncate = opt(argc, argv, 6, "truncate_after");
    vault_parts_client *client = NULL;
    vault_parts_iter *it = NULL;
    vault_parts_upload *u = NULL;
    vault_part_upload e;
    vault_parts_upload_totals t;
    struct interrupter in;
    pthread_t tid;
    int rc, events = 0, threaded = 0, trunc_k = -1;
    unsigned long long trunc_len = 0;
    uint64_t next_offset = 0;
    uint32_t next_number = 1;
    double returned_at = 0;

    if ((new_path == NULL) == (resume == NULL)) {
        fprintf(stderr, "upload run: one of new= or resume=\n");
        return 2;
    }
    if (o_truncate && sscanf(o_truncate, "%d,%llu", &trunc_k, &trunc_len) != 2) return 2;
    if (o_client) CHECK_CODE(vault_parts_client_new(&client), VAULT_PARTS_OK);
    if (new_path) {
        int overwrite = o_overwrite ? atoi(o_overwrite) : 0;
        if (client)
            CHECK_CODE(vault_parts_open_new_with_client(&it, client, url, sid, new_path, overwrite), VAULT_PARTS_OK);
        else
            CHECK_CODE(vault_parts_open_new(&it, url, sid, new_path, overwrite), VAULT_PARTS_OK);
    } else if (client) {
        CHECK_CODE(vault_parts_open_with_client(&it, client, url, sid, resume), VAULT_PARTS_OK);
    } else {
        CHECK_CODE(vault_parts_open(&it, url, sid, resume), VAULT_PARTS_OK);
    }
    /* The upload holds the client alive: freed here, before the upload even opens. */
    vault_parts_client_free(client);
    {
        unsigned initial = 10, max = 2000;
        if (o_backoff && sscanf(o_backoff, "%u,%u", &initial, &max) < 1) return 2;
        CHECK_CODE(vault_parts_set_backoff_ms(it, initial, max), VAULT_PARTS_OK);
    }
    if (o_attempts) CHECK_CODE(vault_parts_set_max_attempts(it, (uint32_t)atoi(o_attempts)), VAULT_PARTS_OK);

    rc = vault_parts_upload_open(&u, it, path, part_size);
    printf("open %s\n", code_name(rc));
    CHECK(u != NULL);
    if (new_path) CHECK(vault_parts_upload_id(u) == NULL);
    if (resume && rc == VAULT_PARTS_OK) CHECK(vault_parts_upload_id(u) && strcmp(vault_parts_upload_id(u), resume) == 0);
    if (o_commit) printf("set_commit %s\n", code_name(vault_parts_upload_set_commit(u, atoi(o_commit))));
    if (o_poll) printf("set_poll %s\n", code_name(vault_parts_upload_set_poll_ms(u, (uint32_t)atoi(o_poll))));
    if (o_start) {
        int again;
        rc = vault_parts_upload_start(u);
        printf("start %s\n", code_name(rc));
        if (rc == VAULT_PARTS_OK) {
            const char *id = vault_parts_upload_id(u);
            CHECK(id != NULL);
            printf("id %s\n", id ? id : "-");
            /* Nothing sent yet. */
            CHECK_CODE(vault_parts_upload_summary(u, &t), VAULT_PARTS_OK);
            CHECK(t.sent == 0 && t.kept == 0 && t.bytes_sent == 0 && t.committed == 0);
        }
        again = vault_parts_upload_start(u);
        CHECK_CODE(again, rc);
        if (rc == VAULT_PARTS_OK) CHECK(vault_parts_upload_id(u) && strcmp(vault_parts_upload_id(u), "") != 0);
    }

    for (;;) {
        memset(&e, 0x5a, sizeof e);
        rc = vault_parts_upload_next(u, &e);
        if (threaded) returned_at = now_ms(); /* the last: the call that ended the loop */
        if (rc != VAULT_PARTS_ROW) break;
        events++;
        printf("event %u %s %s %llu %llu %.32s %u\n", (unsigned)e.part_number, verdict_name(e.verdict),
               action_name(e.action), (unsigned long long)e.offset, (unsigned long long)e.size, e.md5,
               (unsigned)e.attempts);
        /* Parts come in order, back to back. */
        CHECK(e.part_number == next_number);
        CHECK(e.offset == next_offset);
        CHECK(e.size > 0);
        CHECK(event_md5_well_formed(&e));
        CHECK(e.verdict != VAULT_PARTS_PART_EXTRA);
        CHECK((e.action == VAULT_PARTS_KEPT) == (e.attempts == 0));
        CHECK(e.action != VAULT_PARTS_KEPT || e.verdict == VAULT_PARTS_PART_OK);
        CHECK(e.action == VAULT_PARTS_KEPT || e.action == VAULT_PARTS_SENT);
        next_number++;
        next_offset += e.size;
        if (events == trunc_k) {
            CHECK(truncate(path, (off_t)trunc_len) == 0);
            printf("truncated %llu\n", trunc_len);
        }
        if (o_interrupt && events == 1) {
            in.u = u;
            in.delay_ms = (unsigned)atoi(o_interrupt);
            in.raised_at = 0;
            CHECK(pthread_create(&tid, NULL, interrupt_later, &in) == 0);
            threaded = 1;
        }
    }
    if (threaded) {
        CHECK(pthread_join(tid, NULL) == 0);
        printf("latency_ms %.1f\n", returned_at - in.raised_at);
    }
    printf("result %s\n", code_name(rc));
    printf("errmsg %s\n", vault_parts_upload_errmsg(u));
    printf("error_type %s\n", vault_parts_upload_error_type(u));
    CHECK(strstr(vault_parts_upload_errmsg(u), sid) == NULL);
    if (rc == VAULT_PARTS_DONE) {
        CHECK_CODE(vault_parts_upload_errcode(u), VAULT_PARTS_OK);
        CHECK(strcmp(vault_parts_upload_errmsg(u), "") == 0);
    } else {
        CHECK_CODE(vault_parts_upload_errcode(u), rc);
        CHECK(strcmp(vault_parts_upload_errmsg(u), "") != 0);
    }
    /* The result is sticky, and *out is written only on a row. */
    memset(&e, 0x5a, sizeof e);
    CHECK_CODE(vault_parts_upload_next(u, &e), rc);
    CHECK(e.part_number == 0x5a5a5a5aU);
    CHECK_CODE(vault_parts_upload_start(u), rc == VAULT_PARTS_DONE ? VAULT_PARTS_OK : rc);
    /* An interrupt after the end keeps the result. */
    CHECK_CODE(vault_parts_upload_interrupt(u), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_next(u, &e), rc);
    CHECK_CODE(vault_parts_upload_summary(u, &t), VAULT_PARTS_OK);
    printf("summary %u %u %u %llu %llu %llu %d\n", (unsigned)t.parts, (unsigned)t.kept, (unsigned)t.sent,
           (unsigned long long)t.bytes_sent, (unsigned long long)t.bytes_hashed, (unsigned long long)t.job_id,
           t.committed);
    CHECK(t.kept + t.sent == (uint32_t)events);
    if (rc == VAULT_PARTS_DONE) CHECK(t.parts == (uint32_t)events);
    printf("final_id %s\n", vault_parts_upload_id(u) ? vault_parts_upload_id(u) : "-");
    vault_parts_upload_free(u);
    printf("upload: %d events, %d failed checks\n", events, test_failures);
    return test_failures ? 1 : 0;
}

/* ---- api ---- */

static vault_parts_iter *new_iter(const char *url, const char *sid, const char *staging) {
    vault_parts_iter *it = NULL;
    CHECK_CODE(vault_parts_open_new(&it, url, sid, staging, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_backoff_ms(it, 10, 1000), VAULT_PARTS_OK);
    return it;
}

static vault_parts_iter *resume_iter(const char *url, const char *sid, const char *id) {
    vault_parts_iter *it = NULL;
    CHECK_CODE(vault_parts_open(&it, url, sid, id), VAULT_PARTS_OK);
    return it;
}

/* Runs `u` to its end: the final code. */
static int drain(vault_parts_upload *u) {
    vault_part_upload e;
    int rc;
    while ((rc = vault_parts_upload_next(u, &e)) == VAULT_PARTS_ROW) {
    }
    return rc;
}

static void null_handles(void) {
    vault_part_upload e;
    vault_parts_upload_totals t;
    CHECK_CODE(vault_parts_upload_next(NULL, &e), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_next(NULL, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_set_commit(NULL, VAULT_PARTS_COMMIT), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_set_poll_ms(NULL, 1000), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_start(NULL), VAULT_PARTS_E_ARG);
    CHECK(vault_parts_upload_id(NULL) == NULL);
    CHECK_CODE(vault_parts_upload_summary(NULL, &t), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_summary(NULL, NULL), VAULT_PARTS_E_ARG);
    CHECK(vault_parts_upload_errmsg(NULL) != NULL && strcmp(vault_parts_upload_errmsg(NULL), "") == 0);
    CHECK(vault_parts_upload_error_type(NULL) != NULL && strcmp(vault_parts_upload_error_type(NULL), "") == 0);
    CHECK_CODE(vault_parts_upload_errcode(NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_interrupt(NULL), VAULT_PARTS_E_ARG);
    vault_parts_upload_free(NULL);
    CHECK_CODE(vault_parts_open_new(NULL, "http://127.0.0.1:1", "SID-upload-api-0123", "/u/a.bin", 0),
               VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_open_new_with_client(NULL, NULL, "http://127.0.0.1:1", "SID-upload-api-0123", "/u/a.bin", 0),
               VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_test_panic_upload(NULL), VAULT_PARTS_E_ARG);
}

/* open_new's bad arguments: a handle in the error state, whose error an upload takes over. */
static void bad_new_arguments(const char *url, const char *sid, const char *path) {
    struct {
        const char *url, *sid, *staging;
        int overwrite;
        const char *says;
    } cases[] = {
        {NULL, NULL, "/u/alice/x.bin", 0, "vault_url is NULL"},
        {NULL, NULL, NULL, 0, "staging_path is NULL"},
        {NULL, "", "/u/alice/x.bin", 0, "session_id is NULL"},
        {NULL, NULL, "/u/alice/x.bin", 2, "overwrite is 2: 0 or 1"},
        {NULL, "short-sid", "/u/alice/x.bin", 0, ""},
        {NULL, NULL, "relative/x.bin", 0, ""},
        {"ftp://example.com", NULL, "/u/alice/x.bin", 0, ""},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vault_parts_iter *it = NULL;
        vault_parts_upload *u = NULL;
        vault_part_upload e;
        const char *c_url = cases[i].url ? cases[i].url : url;
        const char *c_sid = cases[i].sid ? (cases[i].sid[0] ? cases[i].sid : NULL) : sid;
        int rc;
        char msg[2048];
        if (i == 0) c_url = NULL;
        rc = vault_parts_open_new(&it, c_url, c_sid, cases[i].staging, cases[i].overwrite);
        if (rc != VAULT_PARTS_E_ARG) fprintf(stderr, "bad_new_arguments case %u\n", (unsigned)i);
        CHECK_CODE(rc, VAULT_PARTS_E_ARG);
        CHECK(it != NULL);
        CHECK_CONTAINS(vault_parts_errmsg(it), cases[i].says);
        CHECK(strcmp(vault_parts_errmsg(it), "") != 0);
        snprintf(msg, sizeof msg, "%s", vault_parts_errmsg(it));
        /* The upload carries the iterator's error over, code and message. */
        CHECK_CODE(vault_parts_upload_open(&u, it, path, 0), VAULT_PARTS_E_ARG);
        CHECK(strcmp(vault_parts_upload_errmsg(u), msg) == 0);
        CHECK_CODE(vault_parts_upload_errcode(u), VAULT_PARTS_E_ARG);
        CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_E_ARG);
        CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_ARG);
        CHECK(vault_parts_upload_id(u) == NULL);
        vault_parts_upload_free(u);
    }
    /* A NULL client: an iterator in the error state. */
    {
        vault_parts_iter *it = NULL;
        CHECK_CODE(vault_parts_open_new_with_client(&it, NULL, url, sid, "/u/alice/x.bin", 0), VAULT_PARTS_E_ARG);
        CHECK(it != NULL);
        CHECK(strcmp(vault_parts_errmsg(it), "") != 0);
        vault_parts_free(it);
    }
}

static void open_rules(const char *url, const char *sid, const char *path, const char *resume_id) {
    vault_parts_upload *u = NULL;
    vault_parts_iter *it;
    vault_part part;
    vault_part_upload e;
    vault_parts_upload_totals t;

    /* out == NULL: no handle, the iterator is freed all the same (the leak checkers see). */
    CHECK_CODE(vault_parts_upload_open(NULL, new_iter(url, sid, "/u/alice/api-null.bin"), path, 0), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_open(NULL, NULL, path, 0), VAULT_PARTS_E_ARG);

    /* NULL iterator, NULL path. */
    CHECK_CODE(vault_parts_upload_open(&u, NULL, path, 0), VAULT_PARTS_E_ARG);
    CHECK(u != NULL);
    CHECK_CONTAINS(vault_parts_upload_errmsg(u), "it is NULL");
    CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_summary(u, &t), VAULT_PARTS_OK);
    CHECK(t.parts == 0 && t.sent == 0 && t.committed == 0);
    vault_parts_upload_free(u);
    u = NULL;
    CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-nopath.bin"), NULL, 0), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_upload_errmsg(u), "path is NULL");
    CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_E_ARG);
    vault_parts_upload_free(u);

    /* vault_parts_next on a new-session iterator is misuse: refused, nothing changes, and the
     * upload still takes it. */
    it = new_iter(url, sid, "/u/alice/api-next.bin");
    CHECK_CODE(vault_parts_next(it, &part), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    CHECK(strcmp(vault_parts_errmsg(it), "") == 0);
    CHECK_CODE(vault_parts_next(it, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_open(&u, it, path, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_set_commit(u, VAULT_PARTS_COMMIT_NONE), VAULT_PARTS_OK);
    CHECK_CODE(drain(u), VAULT_PARTS_DONE);
    vault_parts_upload_free(u);

    /* A resume iterator whose first next has run is refused (and taken over). */
    it = resume_iter(url, sid, resume_id);
    CHECK_CODE(vault_parts_next(it, &part), VAULT_PARTS_ROW);
    CHECK_CODE(vault_parts_upload_open(&u, it, path, 0), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_upload_errmsg(u), "already started");
    CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_ARG);
    vault_parts_upload_free(u);

    /* A missing file: E_IO at the start, sticky. */
    CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-missing.bin"), "/nonexistent/vp-upload-api", 0),
               VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_E_IO);
    {
        const char *msg = vault_parts_upload_errmsg(u);
        CHECK_CONTAINS(msg, "/nonexistent/vp-upload-api: cannot open: No such file or directory");
        CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_IO);
        CHECK(msg == vault_parts_upload_errmsg(u)); /* the string stays put */
    }
    CHECK(vault_parts_upload_id(u) == NULL);
    vault_parts_upload_free(u);
}

static void setter_rules(const char *url, const char *sid, const char *path, const char *resume_id) {
    vault_parts_upload *u = NULL;
    vault_part_upload e;
    vault_parts_upload_totals t;
    uint64_t bad_sizes[] = {5242879, 52428801, 1};
    size_t i;

    /* Out of range before the start: kept as the handle's error. */
    CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-mode.bin"), path, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_set_commit(u, 3), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_upload_errmsg(u), "commit mode 3");
    CHECK_CODE(vault_parts_upload_set_commit(u, VAULT_PARTS_COMMIT), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_ARG);
    vault_parts_upload_free(u);

    CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-poll.bin"), path, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_set_poll_ms(u, 100), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_set_poll_ms(u, 600000), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_set_poll_ms(u, 99), VAULT_PARTS_E_ARG);
    CHECK(strcmp(vault_parts_upload_errmsg(u), "") != 0);
    CHECK_CODE(vault_parts_upload_errcode(u), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_ARG);
    vault_parts_upload_free(u);
    CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-poll2.bin"), path, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_set_poll_ms(u, 600001), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_E_ARG);
    vault_parts_upload_free(u);

    /* A part size outside [5 MiB, 50 MiB]: E_ARG before any request (the Rust side counts). */
    for (i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        int rc;
        CHECK(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-size.bin"), path, bad_sizes[i]) !=
              VAULT_PARTS_E_INTERNAL);
        rc = vault_parts_upload_start(u);
        CHECK_CODE(rc, VAULT_PARTS_E_ARG);
        CHECK(strcmp(vault_parts_upload_errmsg(u), "") != 0);
        CHECK(vault_parts_upload_id(u) == NULL);
        vault_parts_upload_free(u);
    }

    /* After the start: E_ARG, nothing changes. COMMIT_NONE stays: no commit (the Rust side
     * checks /u/alice/api-none.bin's session is still open), DONE, not committed. */
    CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-none.bin"), path, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_set_commit(u, VAULT_PARTS_COMMIT_NONE), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_summary(u, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_next(u, NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_errcode(u), VAULT_PARTS_OK);
    CHECK(vault_parts_upload_id(u) == NULL); /* next(u, NULL) started nothing */
    CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_OK);
    CHECK(vault_parts_upload_id(u) != NULL);
    CHECK_CODE(vault_parts_upload_set_commit(u, VAULT_PARTS_COMMIT_WAIT), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_set_commit(u, 9), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_set_poll_ms(u, 1000), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_set_poll_ms(u, 5), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_upload_errcode(u), VAULT_PARTS_OK);
    CHECK(strcmp(vault_parts_upload_errmsg(u), "") == 0);
    CHECK_CODE(drain(u), VAULT_PARTS_DONE);
    CHECK_CODE(vault_parts_upload_summary(u, &t), VAULT_PARTS_OK);
    CHECK(t.committed == 0 && t.job_id == 0 && t.sent == t.parts && t.parts > 0);
    if (vault_parts_upload_id(u)) printf("none_id %s\n", vault_parts_upload_id(u));
    vault_parts_upload_free(u);

    /* A resume: the ID is known before the start; freed mid-way after one event. */
    CHECK_CODE(vault_parts_upload_open(&u, resume_iter(url, sid, resume_id), path, 0), VAULT_PARTS_OK);
    CHECK(vault_parts_upload_id(u) != NULL && strcmp(vault_parts_upload_id(u), resume_id) == 0);
    CHECK_CODE(vault_parts_upload_set_commit(u, VAULT_PARTS_COMMIT_NONE), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_ROW);
    CHECK(e.part_number == 1);
    vault_parts_upload_free(u);
}

/* An interrupt before the start: sticky, nothing sent, a message naming no other function. */
static void interrupt_rules(const char *url, const char *sid, const char *path) {
    vault_parts_upload *u = NULL;
    vault_part_upload e;
    const char *msg;
    CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-int.bin"), path, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_interrupt(u), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_interrupt(u), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_CANCELLED);
    CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_CANCELLED);
    CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_E_CANCELLED);
    CHECK_CODE(vault_parts_upload_errcode(u), VAULT_PARTS_E_CANCELLED);
    msg = vault_parts_upload_errmsg(u);
    CHECK_CONTAINS(msg, "interrupted");
    CHECK(strstr(msg, "vault_parts_interrupt") == NULL);
    vault_parts_upload_free(u);
}

/* Every call runs inside the panic boundary: the panic becomes the handle's E_INTERNAL. */
static void panics_stay_inside(const char *url, const char *sid, const char *path) {
    vault_parts_upload *u = NULL;
    vault_part_upload e;
    vault_parts_upload_totals t;
    int which;
    for (which = 0; which < 4; which++) {
        CHECK_CODE(vault_parts_upload_open(&u, new_iter(url, sid, "/u/alice/api-panic.bin"), path, 0), VAULT_PARTS_OK);
        CHECK_CODE(vault_parts_test_panic_upload(u), VAULT_PARTS_OK);
        switch (which) {
        case 0: CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_INTERNAL); break;
        case 1: CHECK_CODE(vault_parts_upload_start(u), VAULT_PARTS_E_INTERNAL); break;
        case 2: CHECK_CODE(vault_parts_upload_set_commit(u, VAULT_PARTS_COMMIT), VAULT_PARTS_E_INTERNAL); break;
        default: CHECK_CODE(vault_parts_upload_summary(u, &t), VAULT_PARTS_E_INTERNAL); break;
        }
        CHECK_CODE(vault_parts_upload_errcode(u), VAULT_PARTS_E_INTERNAL);
        CHECK_CONTAINS(vault_parts_upload_errmsg(u), "forced by vault_parts_test_panic_upload");
        CHECK_CODE(vault_parts_upload_next(u, &e), VAULT_PARTS_E_INTERNAL);
        vault_parts_upload_free(u);
        u = NULL;
    }
}

static int api(int argc, char **argv) {
    const char *url, *sid, *path, *resume_id;
    if (argc != 6) {
        fprintf(stderr, "usage: upload api URL SESSION_ID PATH RESUME_ID\n");
        return 2;
    }
    url = argv[2];
    sid = argv[3];
    path = argv[4];
    resume_id = argv[5];
    null_handles();
    bad_new_arguments(url, sid, path);
    open_rules(url, sid, path, resume_id);
    setter_rules(url, sid, path, resume_id);
    interrupt_rules(url, sid, path);
    panics_stay_inside(url, sid, path);
    printf("upload_api: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && strcmp(argv[1], "run") == 0) return run_one(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "api") == 0) return api(argc, argv);
    fprintf(stderr, "usage: upload run URL SESSION_ID PATH PART_SIZE [OPTION...] | upload api URL SESSION_ID PATH RESUME_ID\n");
    return 2;
}
