/*
 * Several handles listing at once, one thread each: every part of every session must arrive,
 * numbered 1..N in order, with the sizes and count expected.
 *
 * usage: threads URL LIMIT SESSION_ID:UPLOAD_SESSION_ID:PARTS ...
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include "common.h"

struct job {
    const char *url;
    char sid[128], upload[128];
    unsigned long expected, seen;
    uint32_t limit;
    int rc, in_order;
};

static void *run(void *arg) {
    struct job *j = (struct job *)arg;
    vault_parts_iter *it = NULL;
    vault_part p;
    j->in_order = 1;
    j->rc = vault_parts_open(&it, j->url, j->sid, j->upload);
    if (j->rc == VAULT_PARTS_OK) j->rc = vault_parts_set_limit(it, j->limit);
    if (j->rc == VAULT_PARTS_OK) {
        while ((j->rc = vault_parts_next(it, &p)) == VAULT_PARTS_ROW) {
            j->seen++;
            if (p.part_number != j->seen || !md5_well_formed(&p) || strlen(p.part_content_md5) != 32) j->in_order = 0;
        }
    }
    if (j->rc != VAULT_PARTS_DONE) fprintf(stderr, "%s: %s\n", j->upload, vault_parts_errmsg(it));
    vault_parts_free(it);
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc - 3, i;
    struct job *jobs;
    pthread_t *tids;
    if (argc < 4) {
        fprintf(stderr, "usage: threads URL LIMIT SESSION_ID:UPLOAD_SESSION_ID:PARTS ...\n");
        return 2;
    }
    jobs = (struct job *)calloc((size_t)n, sizeof *jobs);
    tids = (pthread_t *)calloc((size_t)n, sizeof *tids);
    CHECK(jobs != NULL && tids != NULL);
    if (!jobs || !tids) return 1;
    for (i = 0; i < n; i++) {
        jobs[i].url = argv[1];
        jobs[i].limit = (uint32_t)strtoul(argv[2], NULL, 10);
        if (sscanf(argv[i + 3], "%127[^:]:%127[^:]:%lu", jobs[i].sid, jobs[i].upload, &jobs[i].expected) != 3) {
            fprintf(stderr, "bad job %s\n", argv[i + 3]);
            return 2;
        }
    }
    for (i = 0; i < n; i++) CHECK(pthread_create(&tids[i], NULL, run, &jobs[i]) == 0);
    for (i = 0; i < n; i++) CHECK(pthread_join(tids[i], NULL) == 0);
    for (i = 0; i < n; i++) {
        CHECK_CODE(jobs[i].rc, VAULT_PARTS_DONE);
        CHECK(jobs[i].seen == jobs[i].expected);
        CHECK(jobs[i].in_order);
        printf("thread %d %s %lu parts %s\n", i, jobs[i].upload, jobs[i].seen, code_name(jobs[i].rc));
    }
    free(jobs);
    free(tids);
    printf("threads: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
