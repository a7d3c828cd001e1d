/*
 * list_parts: print the parts uploaded to a Vault resumable upload session.
 *
 *   VAULT_URL=https://myvault.veevavault.com VAULT_SESSION_ID=... \
 *       list_parts [--limit N] [--json] [--client-id ID] [--ca-file PEM] [--verbose] UPLOAD_SESSION_ID
 *
 * Exit status: 0 all parts listed; 64 usage error; otherwise 10 + the library's error code
 * (11 bad argument, 12 session rejected, 13 access denied, 14 rate limited, 15 Vault error,
 * 16 HTTP status, 17 network, 18 timeout, 19 TLS, 20 protocol, 21 internal).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vault_parts.h"

#define EXIT_USAGE 64

static const char usage[] =
    "usage: list_parts [options] UPLOAD_SESSION_ID\n"
    "Lists the parts uploaded to a Vault resumable upload session.\n"
    "Reads the Vault address from VAULT_URL (https://myvault.veevavault.com) and the\n"
    "session ID from VAULT_SESSION_ID.\n\n"
    "  --limit N       parts per page, 1 to 1000 (default: Vault's, 1000)\n"
    "  --json          one JSON object per part instead of columns\n"
    "  --client-id ID  X-VaultAPI-ClientID to send (default: libvault_parts-VERSION)\n"
    "  --ca-file PEM   trust only the certificates in PEM\n"
    "  --verbose       log requests, retries and pages to stderr\n"
    "  --help          this text\n\n"
    "Exit status: 0 listed; 64 usage; 10 + library error code otherwise.\n";

static void log_to_stderr(void *userdata, int level, const char *message) {
    static const char *names[] = {"?", "error", "warn", "info", "debug"};
    (void)userdata;
    fprintf(stderr, "list_parts: %s: %s\n", names[level >= 1 && level <= 4 ? level : 0], message);
}

static int fail_usage(const char *why) {
    fprintf(stderr, "list_parts: %s\n\n%s", why, usage);
    return EXIT_USAGE;
}

int main(int argc, char **argv) {
    const char *url = getenv("VAULT_URL"), *sid = getenv("VAULT_SESSION_ID");
    const char *upload = NULL, *client_id = NULL, *ca_file = NULL;
    long limit = 0;
    int json = 0, verbose = 0, i, rc;
    unsigned long count = 0;
    unsigned long long total = 0;
    vault_parts_iter *it = NULL;
    vault_part p;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose = 1;
        } else if (strcmp(a, "--limit") == 0 || strcmp(a, "--client-id") == 0 || strcmp(a, "--ca-file") == 0) {
            if (i + 1 >= argc) return fail_usage("an option needs a value");
            if (a[2] == 'l') {
                char *end;
                limit = strtol(argv[++i], &end, 10);
                if (*end != '\0' || limit < 1 || limit > 1000) return fail_usage("--limit takes a number from 1 to 1000");
            } else if (a[2] == 'c' && a[3] == 'l') {
                client_id = argv[++i];
            } else {
                ca_file = argv[++i];
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return fail_usage("unknown option");
        } else if (upload == NULL) {
            upload = a;
        } else {
            return fail_usage("only one upload session ID may be given");
        }
    }
    if (upload == NULL) return fail_usage("the upload session ID is missing");
    if (url == NULL || *url == '\0') return fail_usage("VAULT_URL is not set");
    if (sid == NULL || *sid == '\0') return fail_usage("VAULT_SESSION_ID is not set");

    rc = vault_parts_open(&it, url, sid, upload);
    if (rc == VAULT_PARTS_OK && limit) rc = vault_parts_set_limit(it, (uint32_t)limit);
    if (rc == VAULT_PARTS_OK && client_id) rc = vault_parts_set_client_id(it, client_id);
    if (rc == VAULT_PARTS_OK && ca_file) rc = vault_parts_set_ca_file(it, ca_file);
    if (rc == VAULT_PARTS_OK && verbose) {
        /* Line-buffered, so parts and log lines interleave in the order they happen. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        rc = vault_parts_set_log(it, log_to_stderr, NULL);
    }

    if (rc == VAULT_PARTS_OK) {
        if (!json) printf("%8s %14s  %s\n", "part", "size", "md5");
        while ((rc = vault_parts_next(it, &p)) == VAULT_PARTS_ROW) {
            count++;
            total += p.size;
            if (json)
                printf("{\"part_number\":%u,\"size\":%llu,\"part_content_md5\":\"%s\"}\n", p.part_number,
                       (unsigned long long)p.size, p.part_content_md5);
            else
                printf("%8u %14llu  %s\n", p.part_number, (unsigned long long)p.size,
                       p.part_content_md5[0] ? p.part_content_md5 : "-");
        }
    }
    if (rc != VAULT_PARTS_DONE) {
        fprintf(stderr, "list_parts: %s: %s\n", vault_parts_errstr(rc), vault_parts_errmsg(it));
        vault_parts_free(it);
        return 10 + rc;
    }
    if (!json) printf("%lu parts, %llu bytes\n", count, total);
    vault_parts_free(it);
    return 0;
}
