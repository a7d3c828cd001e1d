/* Shared helpers for the C test programs. Each program exits 0 when every check held. */
#ifndef VAULT_PARTS_TEST_COMMON_H
#define VAULT_PARTS_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vault_parts.h"

static int test_failures = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            test_failures++;                                                        \
        }                                                                           \
    } while (0)

#define CHECK_CODE(got, want)                                                               \
    do {                                                                                    \
        int got_ = (got), want_ = (want);                                                   \
        if (got_ != want_) {                                                                \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, #got, \
                    code_name(got_), code_name(want_));                                     \
            test_failures++;                                                                \
        }                                                                                   \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                          \
    do {                                                                                          \
        const char *h_ = (haystack);                                                              \
        if (h_ == NULL || strstr(h_, (needle)) == NULL) {                                         \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,         \
                    h_ ? h_ : "(null)", (needle));                                                \
            test_failures++;                                                                      \
        }                                                                                         \
    } while (0)

/* The macro name of a return code, for readable output. */
static inline const char *code_name(int code) {
    switch (code) {
    case VAULT_PARTS_OK: return "OK";
    case VAULT_PARTS_ROW: return "ROW";
    case VAULT_PARTS_DONE: return "DONE";
    case VAULT_PARTS_E_ARG: return "E_ARG";
    case VAULT_PARTS_E_AUTH: return "E_AUTH";
    case VAULT_PARTS_E_ACCESS: return "E_ACCESS";
    case VAULT_PARTS_E_RATE_LIMIT: return "E_RATE_LIMIT";
    case VAULT_PARTS_E_VAULT: return "E_VAULT";
    case VAULT_PARTS_E_HTTP: return "E_HTTP";
    case VAULT_PARTS_E_NETWORK: return "E_NETWORK";
    case VAULT_PARTS_E_TIMEOUT: return "E_TIMEOUT";
    case VAULT_PARTS_E_TLS: return "E_TLS";
    case VAULT_PARTS_E_PROTOCOL: return "E_PROTOCOL";
    case VAULT_PARTS_E_INTERNAL: return "E_INTERNAL";
    case VAULT_PARTS_E_IO: return "E_IO";
    case VAULT_PARTS_E_CANCELLED: return "E_CANCELLED";
    case VAULT_PARTS_E_CONFLICT: return "E_CONFLICT";
    case VAULT_PARTS_E_INTEGRITY: return "E_INTEGRITY";
    default: return "UNKNOWN";
    }
}

/* A part's md5 is "" or 32 lowercase hex digits, always NUL-terminated within the array. */
static inline int md5_well_formed(const vault_part *p) {
    const char *nul = (const char *)memchr(p->part_content_md5, '\0', sizeof p->part_content_md5);
    size_t n, i;
    if (nul == NULL) return 0;
    n = (size_t)(nul - p->part_content_md5);
    if (n != 0 && n != 32) return 0;
    for (i = 0; i < n; i++) {
        char c = p->part_content_md5[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

#endif
