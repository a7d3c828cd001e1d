/*
 * Lists one upload session and prints what the library reported, for the cargo harness to
 * compare with what vault-sim holds and saw. Checks the iterator contract on the way.
 *
 * usage: list URL SESSION_ID UPLOAD_SESSION_ID [limit=N] [version=V] [timeout=MS]
 *             [attempts=N] [backoff=INITIAL,MAX] [client_id=S] [ca_file=PATH] [deadline=MS] [log=1]
 * prints: "part NUMBER SIZE MD5" per part, then "result CODE", "errmsg ...",
 *         "error_type ...", "burst N", "maxrss KIB"; with log=1 also "log LEVEL MESSAGE" lines.
 * exit:   0 when the contract held (whatever the result), 1 otherwise, 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"
#include "peak_rss.h"


static void print_log(void *userdata, int level, const char *message) {
    int *lines = (int *)userdata;
    (*lines)++;
    printf("log %d %s\n", level, message);
}

static int apply(vault_parts_iter *it, const char *opt, int *log_lines) {
    const char *eq = strchr(opt, '=');
    const char *v = eq ? eq + 1 : "";
    size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
    unsigned a = 0, b = 0;
    if (strncmp(opt, "limit", klen) == 0) return vault_parts_set_limit(it, (uint32_t)strtoul(v, NULL, 10));
    if (strncmp(opt, "version", klen) == 0) return vault_parts_set_api_version(it, v);
    if (strncmp(opt, "timeout", klen) == 0) return vault_parts_set_timeout_ms(it, (uint32_t)strtoul(v, NULL, 10));
    if (strncmp(opt, "attempts", klen) == 0) return vault_parts_set_max_attempts(it, (uint32_t)strtoul(v, NULL, 10));
    if (strncmp(opt, "client_id", klen) == 0) return vault_parts_set_client_id(it, v);
    if (strncmp(opt, "ca_file", klen) == 0) return vault_parts_set_ca_file(it, v);
    if (strncmp(opt, "deadline", klen) == 0) return vault_parts_set_deadline_ms(it, strtoull(v, NULL, 10));
    if (strncmp(opt, "log", klen) == 0) return vault_parts_set_log(it, print_log, log_lines);
    if (strncmp(opt, "backoff", klen) == 0 && sscanf(v, "%u,%u", &a, &b) == 2)
        return vault_parts_set_backoff_ms(it, a, b);
    fprintf(stderr, "list: unknown option %s\n", opt);
    exit(2);
}

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_part part;
    int i, rc, again, log_lines = 0;
    long rows = 0;
    char first_msg[1024];

    if (argc < 4) {
        fprintf(stderr, "usage: list URL SESSION_ID UPLOAD_SESSION_ID [option=value ...]\n");
        return 2;
    }
    rc = vault_parts_open(&it, argv[1], argv[2], argv[3]);
    CHECK(it != NULL);
    for (i = 4; i < argc && rc == VAULT_PARTS_OK; i++) rc = apply(it, argv[i], &log_lines);
    CHECK(vault_parts_burst_remaining(it) == -1);

    if (rc == VAULT_PARTS_OK) {
        while ((rc = vault_parts_next(it, &part)) == VAULT_PARTS_ROW) {
            CHECK(md5_well_formed(&part));
            printf("part %u %llu %s\n", part.part_number, (unsigned long long)part.size, part.part_content_md5);
            rows++;
        }
    }
    printf("result %s\n", code_name(rc));
    printf("errmsg %s\n", vault_parts_errmsg(it));
    printf("error_type %s\n", vault_parts_error_type(it));
    printf("burst %lld\n", (long long)vault_parts_burst_remaining(it));
    printf("maxrss %ld\n", peak_rss_kib());
    {
        vault_parts_statistics st;
        CHECK_CODE(vault_parts_stats(it, &st), VAULT_PARTS_OK);
        printf("stats requests %llu retries %llu pages %llu\n", (unsigned long long)st.requests,
               (unsigned long long)st.retries, (unsigned long long)st.pages);
    }
    fflush(stdout);

    /* The outcome is sticky: DONE stays DONE, an error stays the same error and message. */
    CHECK(vault_parts_errmsg(it) != NULL && vault_parts_error_type(it) != NULL);
    snprintf(first_msg, sizeof first_msg, "%s", vault_parts_errmsg(it));
    if (rc == VAULT_PARTS_DONE) {
        CHECK(strcmp(first_msg, "") == 0);
        CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    } else {
        CHECK(strcmp(first_msg, "") != 0);
        CHECK_CODE(vault_parts_errcode(it), rc);
    }
    again = vault_parts_next(it, &part);
    CHECK_CODE(again, rc);
    CHECK(strcmp(first_msg, vault_parts_errmsg(it)) == 0);
    if (rc != VAULT_PARTS_DONE) CHECK_CODE(vault_parts_set_limit(it, 10), rc);

    vault_parts_free(it);
    (void)rows;
    return test_failures ? 1 : 0;
}
