/*
 * Verifies a local file against one upload session and prints every verdict, for the cargo
 * harness to compare with what it put in the file and in vault-sim. Checks the verifier's
 * contract on the way (order, field formats, summary counts, sticky outcome).
 *
 * usage: verify URL SESSION_ID UPLOAD_SESSION_ID PATH PART_SIZE [limit=N] [threads=N]
 *               [free_after=K] [rewrite_after=K] [log=1] [hash_all=1]
 * prints: "verdict N STATUS OFFSET LOCAL_SIZE REMOTE_SIZE LOCAL_MD5 REMOTE_MD5" per part ("-"
 *         for an empty MD5), then "result CODE", "code N" (its number), "errmsg ...", "error_type ...",
 *         "summary OK MISSING SIZE MD5 UNVERIFIED EXTRA BYTES_HASHED FIRST RESUMABLE";
 *         with free_after=K it frees the verifier after K verdicts and prints "result FREED".
 *         rewrite_after=K rewrites the file's first byte (same size) after K verdicts.
 * exit:   0 when the contract held (whatever the result), 1 otherwise, 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>
#include "common.h"

static const char *name(int code) {
    return code == VAULT_PARTS_E_IO ? "E_IO" : code_name(code);
}

static const char *status_name(int s) {
    static const char *names[] = {"OK", "MISSING", "SIZE_MISMATCH", "MD5_MISMATCH", "UNVERIFIED", "EXTRA"};
    return s >= 0 && s < 6 ? names[s] : "BAD_STATUS";
}

static int hex_or_empty(const char *s, size_t cap) {
    const char *nul = (const char *)memchr(s, '\0', cap);
    size_t i, n;
    if (nul == NULL) return 0;
    n = (size_t)(nul - s);
    if (n != 0 && n != 32) return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static void print_log(void *userdata, int level, const char *message) {
    (void)userdata;
    printf("log %d %s\n", level, message);
}

/* Flips the file's first byte in place: same size, new content and modification time. */
static void rewrite(const char *path) {
    FILE *f = fopen(path, "r+b");
    int c;
    CHECK(f != NULL);
    if (!f) return;
    c = fgetc(f);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    CHECK(fputc(c ^ 0xff, f) != EOF);
    CHECK(fclose(f) == 0);
}

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_parts_verify *v = NULL;
    vault_part_verdict verdict, sentinel;
    vault_parts_verify_totals totals;
    unsigned long long part_size;
    long free_after = -1, rewrite_after = -1, rows = 0;
    uint32_t counted[6] = {0, 0, 0, 0, 0, 0};
    int i, rc = VAULT_PARTS_OK, again;
    char first_msg[1024];

    if (argc < 6) {
        fprintf(stderr, "usage: verify URL SESSION_ID UPLOAD_SESSION_ID PATH PART_SIZE [option=value ...]\n");
        return 2;
    }
    part_size = strtoull(argv[5], NULL, 10);
    CHECK_CODE(vault_parts_open(&it, argv[1], argv[2], argv[3]), VAULT_PARTS_OK);
    for (i = 6; i < argc; i++) {
        if (strncmp(argv[i], "limit=", 6) == 0) CHECK_CODE(vault_parts_set_limit(it, (uint32_t)atol(argv[i] + 6)), 0);
        else if (strcmp(argv[i], "log=1") == 0) CHECK_CODE(vault_parts_set_log(it, print_log, NULL), 0);
    }
    CHECK_CODE(vault_parts_verify_open(&v, it, argv[4], part_size), VAULT_PARTS_OK);
    CHECK(v != NULL);
    for (i = 6; i < argc; i++) {
        if (strncmp(argv[i], "threads=", 8) == 0) rc = vault_parts_verify_set_threads(v, (uint32_t)atol(argv[i] + 8));
        else if (strcmp(argv[i], "hash_all=1") == 0) CHECK_CODE(vault_parts_verify_set_hash_all(v, 1), VAULT_PARTS_OK);
        else if (strncmp(argv[i], "free_after=", 11) == 0) free_after = atol(argv[i] + 11);
        else if (strncmp(argv[i], "rewrite_after=", 14) == 0) rewrite_after = atol(argv[i] + 14);
    }

    memset(&sentinel, 0x5a, sizeof sentinel);
    verdict = sentinel;
    while (rc == VAULT_PARTS_OK || rc == VAULT_PARTS_ROW) {
        if (rows == free_after) {
            vault_parts_verify_free(v);
            printf("result FREED\n");
            return test_failures ? 1 : 0;
        }
        if (rows == rewrite_after) rewrite(argv[4]);
        rc = vault_parts_verify_next(v, &verdict);
        if (rc != VAULT_PARTS_ROW) break;
        rows++;
        CHECK(verdict.part_number == (uint32_t)rows);
        CHECK(verdict.status >= 0 && verdict.status < 6);
        CHECK(hex_or_empty(verdict.local_md5, sizeof verdict.local_md5));
        CHECK(hex_or_empty(verdict.remote_md5, sizeof verdict.remote_md5));
        CHECK(verdict.offset == (unsigned long long)(rows - 1) * part_size || part_size == 0);
        if (verdict.status >= 0 && verdict.status < 6) counted[verdict.status]++;
        printf("verdict %u %s %llu %llu %llu %s %s\n", verdict.part_number, status_name(verdict.status),
               (unsigned long long)verdict.offset, (unsigned long long)verdict.local_size,
               (unsigned long long)verdict.remote_size, verdict.local_md5[0] ? verdict.local_md5 : "-",
               verdict.remote_md5[0] ? verdict.remote_md5 : "-");
        verdict = sentinel;
    }
    /* *out is written only on ROW. */
    CHECK(memcmp(&verdict, &sentinel, sizeof verdict) == 0);
    CHECK_CODE(vault_parts_verify_summary(v, &totals), VAULT_PARTS_OK);
    printf("result %s\n", name(rc));
    printf("code %d\n", rc);
    printf("errmsg %s\n", vault_parts_verify_errmsg(v));
    printf("error_type %s\n", vault_parts_verify_error_type(v));
    printf("summary %u %u %u %u %u %u %llu %u %d\n", totals.count[0], totals.count[1], totals.count[2],
           totals.count[3], totals.count[4], totals.count[5], (unsigned long long)totals.bytes_hashed,
           totals.first_to_upload, totals.resumable);
    fflush(stdout);
    for (i = 0; i < 6; i++) CHECK(totals.count[i] == counted[i]);
    if (rc != VAULT_PARTS_DONE) CHECK(totals.resumable == 0);

    /* The outcome is sticky: DONE stays DONE, an error keeps its code and message. */
    snprintf(first_msg, sizeof first_msg, "%s", vault_parts_verify_errmsg(v));
    CHECK_CODE(vault_parts_verify_errcode(v), rc == VAULT_PARTS_DONE ? VAULT_PARTS_OK : rc);
    CHECK((rc == VAULT_PARTS_DONE) == (first_msg[0] == '\0'));
    again = vault_parts_verify_next(v, &verdict);
    CHECK_CODE(again, rc);
    CHECK(strcmp(first_msg, vault_parts_verify_errmsg(v)) == 0);
    vault_parts_verify_free(v);
    return test_failures ? 1 : 0;
}
