/*
 * Bench S4: COUNT listings of one upload session, one after another, either on one shared
 * vault_parts_client or each on its own handle (its own connection and TLS handshake). Prints
 * the wall time of the COUNT listings, measured inside the process.
 *
 * usage: many_listings URL SESSION_ID UPLOAD_SESSION_ID CA_FILE COUNT client|separate
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vault_parts.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    vault_parts_client *client = NULL;
    unsigned long count, i, parts = 0;
    int shared, rc = VAULT_PARTS_OK;
    double started;
    if (argc != 7) {
        fprintf(stderr, "usage: many_listings URL SESSION_ID UPLOAD_SESSION_ID CA_FILE COUNT client|separate\n");
        return 2;
    }
    count = strtoul(argv[5], NULL, 10);
    shared = strcmp(argv[6], "client") == 0;
    started = now_ms();
    if (shared) {
        rc = vault_parts_client_new(&client);
        if (rc == VAULT_PARTS_OK) rc = vault_parts_client_set_ca_file(client, argv[4]);
    }
    for (i = 0; i < count && rc == VAULT_PARTS_OK; i++) {
        vault_parts_iter *it = NULL;
        vault_part p;
        rc = shared ? vault_parts_open_with_client(&it, client, argv[1], argv[2], argv[3])
                    : vault_parts_open(&it, argv[1], argv[2], argv[3]);
        if (rc == VAULT_PARTS_OK && !shared) rc = vault_parts_set_ca_file(it, argv[4]);
        if (rc == VAULT_PARTS_OK) {
            while ((rc = vault_parts_next(it, &p)) == VAULT_PARTS_ROW) parts++;
            if (rc == VAULT_PARTS_DONE) rc = VAULT_PARTS_OK;
        }
        if (rc != VAULT_PARTS_OK) fprintf(stderr, "many_listings: %s\n", vault_parts_errmsg(it));
        vault_parts_free(it);
    }
    vault_parts_client_free(client);
    if (rc != VAULT_PARTS_OK) return 1;
    printf("parts %lu elapsed_ms %.3f\n", parts, now_ms() - started);
    return 0;
}
