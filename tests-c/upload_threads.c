/*
 * Several uploads at once on one vault_parts_client, one application thread each: every
 * upload is a new session (vault_parts_open_new_with_client) committed and waited for.
 *
 * usage: upload_threads URL SESSION_ID PART_SIZE POLL_MS STAGING_PATH:LOCAL_PATH ...
 * prints: "thread I STAGING_PATH ID EVENTS SENT BYTES_SENT CODE" per upload.
 * exit:  0 when every check held, 1 otherwise, 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include "common.h"

struct job {
    vault_parts_client *client;
    const char *url, *sid;
    uint64_t part_size;
    uint32_t poll_ms;
    char staging[256], path[768], id[128];
    unsigned events;
    vault_parts_upload_totals totals;
    int rc;
};

static void *run(void *arg) {
    struct job *j = (struct job *)arg;
    vault_parts_iter *it = NULL;
    vault_parts_upload *u = NULL;
    vault_part_upload e;
    j->rc = vault_parts_open_new_with_client(&it, j->client, j->url, j->sid, j->staging, 0);
    if (j->rc == VAULT_PARTS_OK) j->rc = vault_parts_set_backoff_ms(it, 10, 1000);
    if (vault_parts_upload_open(&u, it, j->path, j->part_size) == VAULT_PARTS_OK && j->rc == VAULT_PARTS_OK) {
        j->rc = vault_parts_upload_set_poll_ms(u, j->poll_ms);
        if (j->rc == VAULT_PARTS_OK) j->rc = vault_parts_upload_start(u);
        if (j->rc == VAULT_PARTS_OK && vault_parts_upload_id(u))
            snprintf(j->id, sizeof j->id, "%s", vault_parts_upload_id(u));
        while (j->rc == VAULT_PARTS_OK || j->rc == VAULT_PARTS_ROW) {
            j->rc = vault_parts_upload_next(u, &e);
            if (j->rc != VAULT_PARTS_ROW) break;
            j->events++;
            if (e.action != VAULT_PARTS_SENT || e.attempts != 1 || e.part_number != j->events) j->rc = -1;
        }
    }
    if (j->rc != VAULT_PARTS_DONE) fprintf(stderr, "%s: %d %s\n", j->staging, j->rc, vault_parts_upload_errmsg(u));
    vault_parts_upload_summary(u, &j->totals);
    vault_parts_upload_free(u);
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc - 5, i;
    struct job *jobs;
    pthread_t *tids;
    vault_parts_client *client = NULL;
    if (argc < 6) {
        fprintf(stderr, "usage: upload_threads URL SESSION_ID PART_SIZE POLL_MS STAGING_PATH:LOCAL_PATH ...\n");
        return 2;
    }
    CHECK_CODE(vault_parts_client_new(&client), VAULT_PARTS_OK);
    jobs = (struct job *)calloc((size_t)n, sizeof *jobs);
    tids = (pthread_t *)calloc((size_t)n, sizeof *tids);
    CHECK(jobs != NULL && tids != NULL);
    if (!jobs || !tids) return 1;
    for (i = 0; i < n; i++) {
        jobs[i].client = client;
        jobs[i].url = argv[1];
        jobs[i].sid = argv[2];
        jobs[i].part_size = strtoull(argv[3], NULL, 10);
        jobs[i].poll_ms = (uint32_t)strtoul(argv[4], NULL, 10);
        if (sscanf(argv[i + 5], "%255[^:]:%767s", jobs[i].staging, jobs[i].path) != 2) {
            fprintf(stderr, "bad job %s\n", argv[i + 5]);
            return 2;
        }
    }
    for (i = 0; i < n; i++) CHECK(pthread_create(&tids[i], NULL, run, &jobs[i]) == 0);
    for (i = 0; i < n; i++) CHECK(pthread_join(tids[i], NULL) == 0);
    vault_parts_client_free(client);
    for (i = 0; i < n; i++) {
        CHECK_CODE(jobs[i].rc, VAULT_PARTS_DONE);
        CHECK(jobs[i].totals.committed == 1);
        CHECK(jobs[i].totals.sent == jobs[i].events && jobs[i].totals.parts == jobs[i].events);
        printf("thread %d %s %s %u %u %llu %s\n", i, jobs[i].staging, jobs[i].id[0] ? jobs[i].id : "-",
               jobs[i].events, (unsigned)jobs[i].totals.sent, (unsigned long long)jobs[i].totals.bytes_sent,
               code_name(jobs[i].rc));
    }
    free(jobs);
    free(tids);
    printf("upload_threads: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
