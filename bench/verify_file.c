/*
 * The libvault_parts verifier contender (until the CLI's `vault-parts verify` exists): checks
 * a local file against one upload session and prints the verdict counts, bytes hashed and the
 * process's peak RSS. Release build, no log callback.
 *
 * usage: verify_file URL SESSION_ID UPLOAD_SESSION_ID PATH PART_SIZE [LIMIT [THREADS]]
 * prints: "parts N ok N missing N size N md5 N unverified N extra N bytes_hashed N
 *          first_to_upload N resumable N maxrss_kib N"
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include "vault_parts.h"
#include "peak_rss.h"

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_parts_verify *v = NULL;
    vault_part_verdict verdict;
    vault_parts_verify_totals t;
    unsigned long parts = 0;
    int rc;
    if (argc < 6) {
        fprintf(stderr, "usage: verify_file URL SESSION_ID UPLOAD_SESSION_ID PATH PART_SIZE [LIMIT [THREADS]]\n");
        return 2;
    }
    rc = vault_parts_open(&it, argv[1], argv[2], argv[3]);
    if (rc == VAULT_PARTS_OK && argc > 6) rc = vault_parts_set_limit(it, (uint32_t)strtoul(argv[6], NULL, 10));
    if (vault_parts_verify_open(&v, it, argv[4], strtoull(argv[5], NULL, 10)) != VAULT_PARTS_OK) rc = -1;
    if (rc == VAULT_PARTS_OK && argc > 7) rc = vault_parts_verify_set_threads(v, (uint32_t)strtoul(argv[7], NULL, 10));
    if (rc == VAULT_PARTS_OK) {
        while ((rc = vault_parts_verify_next(v, &verdict)) == VAULT_PARTS_ROW) parts++;
    }
    if (rc != VAULT_PARTS_DONE) {
        fprintf(stderr, "verify_file: %s\n", vault_parts_verify_errmsg(v));
        vault_parts_verify_free(v);
        return 1;
    }
    vault_parts_verify_summary(v, &t);
    vault_parts_verify_free(v);
    printf("parts %lu ok %u missing %u size %u md5 %u unverified %u extra %u bytes_hashed %llu first_to_upload %u "
           "resumable %d maxrss_kib %ld\n",
           parts, t.count[0], t.count[1], t.count[2], t.count[3], t.count[4], t.count[5],
           (unsigned long long)t.bytes_hashed, t.first_to_upload, t.resumable, peak_rss_kib());
    return 0;
}
