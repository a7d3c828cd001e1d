/*
 * Several verifiers at once, one application thread each (each with its own hashing threads):
 * every file must come out with the verdict counts expected.
 *
 * usage: verify_threads URL SESSION_ID PART_SIZE UPLOAD_ID:PATH:OK:MISMATCHED ...
 * exit:  0 when every check held, 1 otherwise, 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include "common.h"

struct job {
    const char *url, *sid;
    uint64_t part_size;
    char upload[128], path[512];
    unsigned ok, mismatched, seen_ok, seen_mismatched, rows;
    int rc;
};

static void *run(void *arg) {
    struct job *j = (struct job *)arg;
    vault_parts_iter *it = NULL;
    vault_parts_verify *v = NULL;
    vault_part_verdict verdict;
    j->rc = vault_parts_open(&it, j->url, j->sid, j->upload);
    if (j->rc == VAULT_PARTS_OK) j->rc = vault_parts_set_limit(it, 3);
    if (vault_parts_verify_open(&v, it, j->path, j->part_size) == VAULT_PARTS_OK && j->rc == VAULT_PARTS_OK) {
        j->rc = vault_parts_verify_set_threads(v, 2);
        while (j->rc == VAULT_PARTS_OK || j->rc == VAULT_PARTS_ROW) {
            j->rc = vault_parts_verify_next(v, &verdict);
            if (j->rc != VAULT_PARTS_ROW) break;
            j->rows++;
            if (verdict.status == VAULT_PARTS_PART_OK) j->seen_ok++;
            if (verdict.status == VAULT_PARTS_PART_MD5_MISMATCH) j->seen_mismatched++;
        }
    }
    if (j->rc != VAULT_PARTS_DONE) fprintf(stderr, "%s: %s\n", j->upload, vault_parts_verify_errmsg(v));
    vault_parts_verify_free(v);
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc - 4, i;
    struct job *jobs;
    pthread_t *tids;
    if (argc < 5) {
        fprintf(stderr, "usage: verify_threads URL SESSION_ID PART_SIZE UPLOAD_ID:PATH:OK:MISMATCHED ...\n");
        return 2;
    }
    jobs = (struct job *)calloc((size_t)n, sizeof *jobs);
    tids = (pthread_t *)calloc((size_t)n, sizeof *tids);
    CHECK(jobs != NULL && tids != NULL);
    if (!jobs || !tids) return 1;
    for (i = 0; i < n; i++) {
        jobs[i].url = argv[1];
        jobs[i].sid = argv[2];
        jobs[i].part_size = strtoull(argv[3], NULL, 10);
        if (sscanf(argv[i + 4], "%127[^:]:%511[^:]:%u:%u", jobs[i].upload, jobs[i].path, &jobs[i].ok,
                   &jobs[i].mismatched) != 4) {
            fprintf(stderr, "bad job %s\n", argv[i + 4]);
            return 2;
        }
    }
    for (i = 0; i < n; i++) CHECK(pthread_create(&tids[i], NULL, run, &jobs[i]) == 0);
    for (i = 0; i < n; i++) CHECK(pthread_join(tids[i], NULL) == 0);
    for (i = 0; i < n; i++) {
        CHECK_CODE(jobs[i].rc, VAULT_PARTS_DONE);
        CHECK(jobs[i].seen_ok == jobs[i].ok);
        CHECK(jobs[i].seen_mismatched == jobs[i].mismatched);
        printf("thread %d %s %u verdicts %u ok %u mismatched %s\n", i, jobs[i].upload, jobs[i].rows, jobs[i].seen_ok,
               jobs[i].seen_mismatched, code_name(jobs[i].rc));
    }
    free(jobs);
    free(tids);
    printf("verify_threads: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
