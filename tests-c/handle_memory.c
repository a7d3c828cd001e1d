/*
 * What an open handle holds after its first page: opens N handles on one upload session, lets
 * each fetch its first page (one part), and reports the growth of the resident set per handle.
 *
 * usage: handle_memory URL SESSION_ID UPLOAD_SESSION_ID N
 * prints: "per_handle_kib K"; exit 0 when every handle returned a row.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"
#include "peak_rss.h"

static long rss_kib(void) { return proc_status_kib("VmRSS:"); }

static vault_parts_iter *first_page(const char *url, const char *sid, const char *upload) {
    vault_parts_iter *it = NULL;
    vault_part p;
    CHECK_CODE(vault_parts_open(&it, url, sid, upload), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_set_limit(it, 1), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_ROW);
    return it;
}

int main(int argc, char **argv) {
    vault_parts_iter **its;
    long before, after, i, n;
    if (argc != 5 || (n = strtol(argv[4], NULL, 10)) <= 0) {
        fprintf(stderr, "usage: handle_memory URL SESSION_ID UPLOAD_SESSION_ID N\n");
        return 2;
    }
    its = (vault_parts_iter **)calloc((size_t)n, sizeof *its);
    /* One handle first, so one-time costs (TLS roots, resolver, allocator arenas) are not counted. */
    vault_parts_free(first_page(argv[1], argv[2], argv[3]));
    before = rss_kib();
    for (i = 0; i < n; i++) its[i] = first_page(argv[1], argv[2], argv[3]);
    after = rss_kib();
    printf("per_handle_kib %ld\n", (after - before) / n);
    for (i = 0; i < n; i++) vault_parts_free(its[i]);
    free(its);
    return test_failures ? 1 : 0;
}
