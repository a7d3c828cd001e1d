/* Links libvault_parts.a and a second Rust static library into one program and uses both.
 * usage: two_rust URL SESSION_ID UPLOAD_SESSION_ID; prints "two_rust: N parts, sum S". */
#include <stdint.h>
#include <stdio.h>
#include "vault_parts.h"

uint64_t other_rust_sum(uint32_t n);

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_part p;
    unsigned long n = 0;
    int rc;
    if (argc != 4) return 64;
    rc = vault_parts_open(&it, argv[1], argv[2], argv[3]);
    while (rc == VAULT_PARTS_OK || rc == VAULT_PARTS_ROW) {
        rc = vault_parts_next(it, &p);
        if (rc == VAULT_PARTS_ROW) n++;
    }
    if (rc != VAULT_PARTS_DONE) fprintf(stderr, "two_rust: %s\n", vault_parts_errmsg(it));
    vault_parts_free(it);
    printf("two_rust: %lu parts, sum %llu\n", n, (unsigned long long)other_rust_sum(10));
    return rc == VAULT_PARTS_DONE ? 0 : 1;
}
