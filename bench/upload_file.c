/*
 * The libvault_parts upload contender of the U scenarios: a new upload of PATH to STAGING_PATH
 * (create, send every part, commit) or the resume of upload session UPLOAD_ID (list, keep the
 * parts that match, send the rest, commit). Commit mode VAULT_PARTS_COMMIT: the job is not
 * waited for, so a job's run time is not measured. Release build, no log callback.
 *
 * usage: upload_file URL SESSION_ID PATH PART_SIZE new STAGING_PATH
 *        upload_file URL SESSION_ID PATH PART_SIZE resume UPLOAD_ID
 * prints: "parts N kept N sent N bytes_sent N bytes_hashed N committed N maxrss_kib N"
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vault_parts.h"
#include "peak_rss.h"

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_parts_upload *u = NULL;
    vault_part_upload event;
    vault_parts_upload_totals t;
    int rc;
    if (argc != 7 || (strcmp(argv[5], "new") != 0 && strcmp(argv[5], "resume") != 0)) {
        fprintf(stderr, "usage: upload_file URL SESSION_ID PATH PART_SIZE (new STAGING_PATH | resume UPLOAD_ID)\n");
        return 2;
    }
    if (strcmp(argv[5], "new") == 0)
        vault_parts_open_new(&it, argv[1], argv[2], argv[6], 1);
    else
        vault_parts_open(&it, argv[1], argv[2], argv[6]);
    /* Takes `it` over, failed or not: from here only u is freed. */
    rc = vault_parts_upload_open(&u, it, argv[3], strtoull(argv[4], NULL, 10));
    if (rc == VAULT_PARTS_OK) rc = vault_parts_upload_set_commit(u, VAULT_PARTS_COMMIT);
    if (rc == VAULT_PARTS_OK)
        while ((rc = vault_parts_upload_next(u, &event)) == VAULT_PARTS_ROW) {
        }
    if (rc != VAULT_PARTS_DONE) {
        fprintf(stderr, "upload_file: %s: %s\n", vault_parts_errstr(rc), vault_parts_upload_errmsg(u));
        vault_parts_upload_free(u);
        return 1;
    }
    vault_parts_upload_summary(u, &t);
    vault_parts_upload_free(u);
    printf("parts %u kept %u sent %u bytes_sent %llu bytes_hashed %llu committed %d maxrss_kib %ld\n", t.parts, t.kept,
           t.sent, (unsigned long long)t.bytes_sent, (unsigned long long)t.bytes_hashed, t.committed, peak_rss_kib());
    return 0;
}
