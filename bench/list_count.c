/*
 * The libvault_parts contender: lists every part of one upload session and prints how many,
 * their total size, and the process's peak RSS. No log callback, release build.
 *
 * usage: list_count URL SESSION_ID UPLOAD_SESSION_ID [LIMIT]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vault_parts.h"
#include "peak_rss.h"

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_part p;
    unsigned long long parts = 0, bytes = 0;
    int rc;
    if (argc < 4) {
        fprintf(stderr, "usage: list_count URL SESSION_ID UPLOAD_SESSION_ID [LIMIT]\n");
        return 2;
    }
    rc = vault_parts_open(&it, argv[1], argv[2], argv[3]);
    if (rc == VAULT_PARTS_OK && argc > 4) rc = vault_parts_set_limit(it, (uint32_t)strtoul(argv[4], NULL, 10));
    if (rc == VAULT_PARTS_OK) {
        while ((rc = vault_parts_next(it, &p)) == VAULT_PARTS_ROW) {
            parts++;
            bytes += p.size;
        }
    }
    if (rc != VAULT_PARTS_DONE) {
        fprintf(stderr, "list_count: %s\n", vault_parts_errmsg(it));
        vault_parts_free(it);
        return 1;
    }
    vault_parts_free(it);
    printf("parts %llu bytes %llu maxrss_kib %ld\n", parts, bytes, peak_rss_kib());
    return 0;
}
