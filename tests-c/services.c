/*
 * Long-lived services: vault_parts_interrupt from another thread, vault_parts_set_deadline_ms,
 * one vault_parts_client shared by many listings, and the details a program reads without
 * parsing text (http_status, retry_after_ms, stats). Prints "KEY value" lines that
 * tests/services.rs checks; exits non-zero when a check made here fails.
 *
 * usage: services cancel  URL SID UPLOAD [options]   interrupt after interrupt_after=MS
 *        services race    URL SID UPLOAD N           N fresh handles, each interrupted at once
 *        services run     URL SID UPLOAD [options]   one listing, then its details
 *        services client  URL SID UPLOAD COUNT [options]  COUNT listings on one client
 *        services two     URL SID1 UP1 SID2 UP2 [options] two listings interleaved on one client
 *        services verify_cancel URL SID UPLOAD FILE [options]  a verifier, interrupted
 * options: ca=PEM timeout=MS attempts=N backoff=INITIAL,MAX deadline=MS interrupt_after=MS
 *          threads=T (client: T threads share COUNT listings) free_first=1 (client: free the
 *          client before listing) idle=N (client: idle connections kept)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "common.h"

struct options {
    const char *ca;
    uint32_t timeout, attempts, backoff_initial, backoff_max, threads, idle;
    uint64_t deadline;
    long interrupt_after;
    int free_first;
};

static struct options parse_options(int argc, char **argv) {
    struct options o;
    int i;
    memset(&o, 0, sizeof o);
    o.interrupt_after = -1;
    o.threads = 1;
    o.idle = 8;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "ca=", 3) == 0) o.ca = a + 3;
        else if (strncmp(a, "timeout=", 8) == 0) o.timeout = (uint32_t)strtoul(a + 8, NULL, 10);
        else if (strncmp(a, "attempts=", 9) == 0) o.attempts = (uint32_t)strtoul(a + 9, NULL, 10);
        else if (strncmp(a, "deadline=", 9) == 0) o.deadline = strtoull(a + 9, NULL, 10);
        else if (strncmp(a, "interrupt_after=", 16) == 0) o.interrupt_after = strtol(a + 16, NULL, 10);
        else if (strncmp(a, "threads=", 8) == 0) o.threads = (uint32_t)strtoul(a + 8, NULL, 10);
        else if (strncmp(a, "idle=", 5) == 0) o.idle = (uint32_t)strtoul(a + 5, NULL, 10);
        else if (strncmp(a, "free_first=", 11) == 0) o.free_first = atoi(a + 11);
        else if (strncmp(a, "backoff=", 8) == 0) {
            char *end = NULL;
            o.backoff_initial = (uint32_t)strtoul(a + 8, &end, 10);
            o.backoff_max = (uint32_t)strtoul(end + 1, NULL, 10);
        } else {
            fprintf(stderr, "unknown option %s\n", a);
            exit(2);
        }
    }
    return o;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* Applies the listing's own options; the trust file only for a handle without a client. */
static int configure(vault_parts_iter *it, const struct options *o, int own_trust) {
    int rc = VAULT_PARTS_OK;
    if (rc == VAULT_PARTS_OK && o->ca && own_trust) rc = vault_parts_set_ca_file(it, o->ca);
    if (rc == VAULT_PARTS_OK && o->timeout) rc = vault_parts_set_timeout_ms(it, o->timeout);
    if (rc == VAULT_PARTS_OK && o->attempts) rc = vault_parts_set_max_attempts(it, o->attempts);
    if (rc == VAULT_PARTS_OK && o->backoff_max) rc = vault_parts_set_backoff_ms(it, o->backoff_initial, o->backoff_max);
    if (rc == VAULT_PARTS_OK && o->deadline) rc = vault_parts_set_deadline_ms(it, o->deadline);
    return rc;
}

/* Lists to the end; returns the last code and counts the parts. */
static int drain(vault_parts_iter *it, unsigned long *parts) {
    vault_part p;
    int rc;
    while ((rc = vault_parts_next(it, &p)) == VAULT_PARTS_ROW) (*parts)++;
    return rc;
}

static void print_details(vault_parts_iter *it) {
    vault_parts_statistics s;
    CHECK_CODE(vault_parts_stats(it, &s), VAULT_PARTS_OK);
    printf("http_status %d\n", vault_parts_http_status(it));
    printf("retry_after_ms %lld\n", (long long)vault_parts_retry_after_ms(it));
    printf("requests %llu\nretries %llu\npages %llu\n", (unsigned long long)s.requests,
           (unsigned long long)s.retries, (unsigned long long)s.pages);
    printf("bytes_received %llu\nconnections %llu\nstats_elapsed_ms %llu\n", (unsigned long long)s.bytes_received,
           (unsigned long long)s.connections, (unsigned long long)s.elapsed_ms);
    printf("errmsg %s\n", vault_parts_errmsg(it));
}

struct interrupter {
    vault_parts_iter *it;
    long after_ms;
    double at;
    int rc1, rc2;
};

static void *interrupt_later(void *arg) {
    struct interrupter *x = (struct interrupter *)arg;
    if (x->after_ms > 0) sleep_ms(x->after_ms);
    x->at = now_ms();
    x->rc1 = vault_parts_interrupt(x->it);
    x->rc2 = vault_parts_interrupt(x->it); /* repeatable */
    return NULL;
}

static int cancel(int argc, char **argv) {
    struct options o = parse_options(argc - 3, argv + 3);
    struct interrupter x;
    pthread_t tid;
    vault_parts_iter *it = NULL;
    unsigned long parts = 0;
    vault_part p;
    int rc;
    double returned;
    CHECK_CODE(vault_parts_open(&it, argv[0], argv[1], argv[2]), VAULT_PARTS_OK);
    CHECK_CODE(configure(it, &o, 1), VAULT_PARTS_OK);
    x.it = it;
    x.after_ms = o.interrupt_after;
    CHECK(pthread_create(&tid, NULL, interrupt_later, &x) == 0);
    rc = drain(it, &parts);
    returned = now_ms();
    CHECK(pthread_join(tid, NULL) == 0);
    CHECK_CODE(x.rc1, VAULT_PARTS_OK);
    CHECK_CODE(x.rc2, VAULT_PARTS_OK);
    printf("result %s\n", code_name(rc));
    printf("parts %lu\n", parts);
    printf("latency_ms %.1f\n", returned - x.at);
    /* Sticky: every later call says the same, and interrupting again changes nothing. */
    CHECK_CODE(vault_parts_interrupt(it), VAULT_PARTS_OK);
    printf("again %s\n", code_name(vault_parts_next(it, &p)));
    printf("errcode %s\n", code_name(vault_parts_errcode(it)));
    print_details(it);
    vault_parts_free(it);
    CHECK_CODE(vault_parts_interrupt(NULL), VAULT_PARTS_E_ARG);
    return test_failures ? 1 : 0;
}

struct racer {
    vault_parts_iter *it;
    int rc;
};

static void *race_next(void *arg) {
    struct racer *r = (struct racer *)arg;
    unsigned long parts = 0;
    r->rc = drain(r->it, &parts);
    return NULL;
}

static int race(char **argv) {
    unsigned long n = strtoul(argv[3], NULL, 10), i, cancelled = 0, done = 0, other = 0;
    for (i = 0; i < n; i++) {
        struct racer r;
        pthread_t tid;
        vault_part p;
        int again;
        r.it = NULL;
        CHECK_CODE(vault_parts_open(&r.it, argv[0], argv[1], argv[2]), VAULT_PARTS_OK);
        CHECK(pthread_create(&tid, NULL, race_next, &r) == 0);
        /* Land the interrupt at every point of next: before it starts, mid-connect, mid-body. */
        if (i % 4) {
            struct timespec ts = {0, (long)(i % 97) * 20000L};
            nanosleep(&ts, NULL);
        }
        CHECK_CODE(vault_parts_interrupt(r.it), VAULT_PARTS_OK);
        CHECK(pthread_join(tid, NULL) == 0);
        again = vault_parts_next(r.it, &p);
        if (r.rc == VAULT_PARTS_E_CANCELLED && again == VAULT_PARTS_E_CANCELLED) cancelled++;
        else if (r.rc == VAULT_PARTS_DONE && again == VAULT_PARTS_DONE) done++;
        else {
            fprintf(stderr, "round %lu: next returned %s, then %s\n", i, code_name(r.rc), code_name(again));
            other++;
        }
        vault_parts_free(r.it);
    }
    printf("cancelled %lu\ndone %lu\nother %lu\n", cancelled, done, other);
    return test_failures || other ? 1 : 0;
}

static int run(int argc, char **argv) {
    struct options o = parse_options(argc - 3, argv + 3);
    vault_parts_iter *it = NULL;
    unsigned long parts = 0;
    double started;
    int rc;
    CHECK_CODE(vault_parts_open(&it, argv[0], argv[1], argv[2]), VAULT_PARTS_OK);
    CHECK_CODE(configure(it, &o, 1), VAULT_PARTS_OK);
    printf("http_status_before %d\n", vault_parts_http_status(it));
    started = now_ms();
    rc = drain(it, &parts);
    printf("result %s\n", code_name(rc));
    printf("parts %lu\n", parts);
    printf("elapsed_ms %.0f\n", now_ms() - started);
    print_details(it);
    vault_parts_free(it);
    return test_failures ? 1 : 0;
}

static vault_parts_client *new_client(const struct options *o) {
    vault_parts_client *c = NULL;
    CHECK_CODE(vault_parts_client_new(&c), VAULT_PARTS_OK);
    if (o->ca) CHECK_CODE(vault_parts_client_set_ca_file(c, o->ca), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_client_set_max_idle(c, o->idle), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_client_set_proxy_from_env(c, 0), VAULT_PARTS_OK);
    return c;
}

struct worker {
    vault_parts_client *client;
    vault_parts_iter **handles; /* opened ahead of time (free_first), or NULL */
    const char *url, *sid, *upload;
    const struct options *o;
    unsigned long first, count, parts, ok;
    unsigned long long connections;
};

static void *list_many(void *arg) {
    struct worker *w = (struct worker *)arg;
    unsigned long i;
    for (i = w->first; i < w->first + w->count; i++) {
        vault_parts_iter *it = NULL;
        vault_parts_statistics s;
        int rc;
        if (w->handles) {
            it = w->handles[i];
        } else {
            CHECK_CODE(vault_parts_open_with_client(&it, w->client, w->url, w->sid, w->upload), VAULT_PARTS_OK);
            CHECK_CODE(configure(it, w->o, 0), VAULT_PARTS_OK);
        }
        rc = drain(it, &w->parts);
        if (rc == VAULT_PARTS_DONE) w->ok++;
        else fprintf(stderr, "listing %lu: %s: %s\n", i, code_name(rc), vault_parts_errmsg(it));
        CHECK_CODE(vault_parts_stats(it, &s), VAULT_PARTS_OK);
        w->connections += s.connections;
        if (i == 0) printf("first_connections %llu\n", (unsigned long long)s.connections);
        vault_parts_free(it);
    }
    return NULL;
}

static int client(int argc, char **argv) {
    struct options o = parse_options(argc - 4, argv + 4);
    unsigned long count = strtoul(argv[3], NULL, 10), i, ok = 0, parts = 0;
    unsigned long long connections = 0;
    vault_parts_client *c = new_client(&o);
    vault_parts_iter **handles = NULL;
    struct worker *workers = (struct worker *)calloc(o.threads, sizeof *workers);
    pthread_t *tids = (pthread_t *)calloc(o.threads, sizeof *tids);
    if (!workers || !tids) return 1;
    if (o.free_first) {
        /* Every listing made, then the client released: the listings keep it alive. */
        handles = (vault_parts_iter **)calloc(count, sizeof *handles);
        if (!handles) return 1;
        for (i = 0; i < count; i++) {
            CHECK_CODE(vault_parts_open_with_client(&handles[i], c, argv[0], argv[1], argv[2]), VAULT_PARTS_OK);
            CHECK_CODE(configure(handles[i], &o, 0), VAULT_PARTS_OK);
        }
        vault_parts_client_free(c);
        c = NULL;
    }
    for (i = 0; i < o.threads; i++) {
        workers[i].client = c;
        workers[i].handles = handles;
        workers[i].url = argv[0];
        workers[i].sid = argv[1];
        workers[i].upload = argv[2];
        workers[i].o = &o;
        workers[i].first = i * (count / o.threads);
        workers[i].count = count / o.threads;
        CHECK(pthread_create(&tids[i], NULL, list_many, &workers[i]) == 0);
    }
    for (i = 0; i < o.threads; i++) {
        CHECK(pthread_join(tids[i], NULL) == 0);
        ok += workers[i].ok;
        parts += workers[i].parts;
        connections += workers[i].connections;
    }
    /* Settings are fixed once the client was used. */
    if (c) CHECK_CODE(vault_parts_client_set_max_idle(c, 1), VAULT_PARTS_E_ARG);
    vault_parts_client_free(c);
    printf("listings_done %lu\nparts %lu\nconnections %llu\n", ok, parts, connections);
    free(workers);
    free(tids);
    free(handles);
    return test_failures ? 1 : 0;
}

static int two(int argc, char **argv) {
    struct options o = parse_options(argc - 5, argv + 5);
    vault_parts_client *c = new_client(&o);
    vault_parts_iter *a = NULL, *b = NULL;
    vault_part p;
    unsigned long na = 0, nb = 0;
    int ra = VAULT_PARTS_ROW, rb = VAULT_PARTS_ROW;
    {
        /* A rejected client setting is kept: listings opened on that client fail with it. */
        vault_parts_client *bad = NULL;
        vault_parts_iter *refused = NULL;
        CHECK_CODE(vault_parts_client_new(&bad), VAULT_PARTS_OK);
        CHECK_CODE(vault_parts_client_set_ca_file(bad, "/nonexistent/ca.pem"), VAULT_PARTS_E_ARG);
        CHECK_CODE(vault_parts_client_set_max_idle(bad, 1), VAULT_PARTS_E_ARG);
        CHECK_CODE(vault_parts_open_with_client(&refused, bad, argv[0], argv[1], argv[2]), VAULT_PARTS_E_ARG);
        CHECK_CONTAINS(vault_parts_errmsg(refused), "cannot be read");
        vault_parts_free(refused);
        vault_parts_client_free(bad);
        CHECK_CODE(vault_parts_open_with_client(&refused, NULL, argv[0], argv[1], argv[2]), VAULT_PARTS_E_ARG);
        CHECK_CONTAINS(vault_parts_errmsg(refused), "client is NULL");
        vault_parts_free(refused);
        CHECK_CODE(vault_parts_client_new(NULL), VAULT_PARTS_E_ARG);
        vault_parts_client_free(NULL);
    }
    CHECK_CODE(vault_parts_open_with_client(&a, c, argv[0], argv[1], argv[2]), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_open_with_client(&b, c, argv[0], argv[3], argv[4]), VAULT_PARTS_OK);
    /* The client's settings are not a listing's to change. */
    CHECK_CODE(vault_parts_set_client_id(a, "other-id"), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(a), VAULT_PARTS_OK);
    CHECK_CODE(configure(a, &o, 0), VAULT_PARTS_OK);
    CHECK_CODE(configure(b, &o, 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_limit(a, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_limit(b, 1), VAULT_PARTS_OK);
    vault_parts_client_free(c);
    while (ra == VAULT_PARTS_ROW || rb == VAULT_PARTS_ROW) {
        if (ra == VAULT_PARTS_ROW && (ra = vault_parts_next(a, &p)) == VAULT_PARTS_ROW) na++;
        if (rb == VAULT_PARTS_ROW && (rb = vault_parts_next(b, &p)) == VAULT_PARTS_ROW) nb++;
    }
    printf("result_a %s\nresult_b %s\nparts_a %lu\nparts_b %lu\n", code_name(ra), code_name(rb), na, nb);
    vault_parts_free(a);
    vault_parts_free(b);
    return test_failures ? 1 : 0;
}

struct verify_interrupter {
    vault_parts_verify *v;
    long after_ms;
    double at;
    int rc;
};

static void *verify_interrupt_later(void *arg) {
    struct verify_interrupter *x = (struct verify_interrupter *)arg;
    sleep_ms(x->after_ms);
    x->at = now_ms();
    x->rc = vault_parts_verify_interrupt(x->v);
    return NULL;
}

static int verify_cancel(int argc, char **argv) {
    struct options o = parse_options(argc - 4, argv + 4);
    struct verify_interrupter x;
    vault_parts_iter *it = NULL;
    vault_parts_verify *v = NULL;
    vault_part_verdict verdict;
    pthread_t tid;
    int rc;
    double returned;
    CHECK_CODE(vault_parts_open(&it, argv[0], argv[1], argv[2]), VAULT_PARTS_OK);
    CHECK_CODE(configure(it, &o, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_verify_open(&v, it, argv[3], 0), VAULT_PARTS_OK);
    x.v = v;
    x.after_ms = o.interrupt_after;
    CHECK(pthread_create(&tid, NULL, verify_interrupt_later, &x) == 0);
    while ((rc = vault_parts_verify_next(v, &verdict)) == VAULT_PARTS_ROW) {
    }
    returned = now_ms();
    CHECK(pthread_join(tid, NULL) == 0);
    CHECK_CODE(x.rc, VAULT_PARTS_OK);
    printf("result %s\n", code_name(rc));
    printf("latency_ms %.1f\n", returned - x.at);
    printf("again %s\n", code_name(vault_parts_verify_next(v, &verdict)));
    printf("errmsg %s\n", vault_parts_verify_errmsg(v));
    vault_parts_verify_free(v);
    CHECK_CODE(vault_parts_verify_interrupt(NULL), VAULT_PARTS_E_ARG);
    return test_failures ? 1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 5 && strcmp(argv[1], "cancel") == 0) return cancel(argc - 2, argv + 2);
    if (argc == 6 && strcmp(argv[1], "race") == 0) return race(argv + 2);
    if (argc >= 5 && strcmp(argv[1], "run") == 0) return run(argc - 2, argv + 2);
    if (argc >= 6 && strcmp(argv[1], "client") == 0) return client(argc - 2, argv + 2);
    if (argc >= 7 && strcmp(argv[1], "two") == 0) return two(argc - 2, argv + 2);
    if (argc >= 6 && strcmp(argv[1], "verify_cancel") == 0) return verify_cancel(argc - 2, argv + 2);
    fprintf(stderr, "usage: see the comment at the top of services.c\n");
    return 2;
}
