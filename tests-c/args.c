/*
 * vault_parts_open's argument rules: the maximum lengths, hosts no URL can reach, and other
 * spellings of a usable origin. open does no I/O, so no server is needed.
 *
 * usage: args
 * prints "args: N failed checks"; exits 0 when every check held.
 */
#include "common.h"

#define SID "SID-args-3f9c1e"
#define UPLOAD "98f46c04fa7a65ff2e5eaf90fdf613ab"

/* Opens; checks the code, that errmsg holds `needle` (unless NULL), and that it repeats no
 * run of 16 copies of `fill` (the padding of a long argument). */
static void expect_open(const char *url, const char *sid, const char *upload, int code, const char *needle,
                        char fill) {
    vault_parts_iter *it = NULL;
    char run[17];
    memset(run, fill, 16);
    run[16] = '\0';
    CHECK_CODE(vault_parts_open(&it, url, sid, upload), code);
    CHECK(it != NULL);
    CHECK_CODE(vault_parts_errcode(it), code);
    if (needle) CHECK_CONTAINS(vault_parts_errmsg(it), needle);
    if (code == VAULT_PARTS_OK) CHECK(strcmp(vault_parts_errmsg(it), "") == 0);
    CHECK(strstr(vault_parts_errmsg(it), run) == NULL);
    if (code != VAULT_PARTS_OK) {
        vault_part p;
        CHECK_CODE(vault_parts_next(it, &p), code);
    }
    vault_parts_free(it);
}

/* A string of `len` copies of `c`; the caller owns it and must pass it to free. */
static char *repeated(char c, size_t len) {
    char *s = (char *)malloc(len + 1);
    if (s == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(s, c, len);
    s[len] = '\0';
    return s;
}

/* `name` (session_id or upload_session_id) of `max` bytes opens; one byte more, or far more,
 * gives E_ARG naming the length and the limit, without repeating the value. */
static void expect_limit(const char *name, size_t max) {
    size_t lens[3], i;
    lens[0] = max;
    lens[1] = max + 1;
    lens[2] = 300000;
    for (i = 0; i < 3; i++) {
        char needle[128];
        char *s = repeated('Q', lens[i]);
        int is_session = strcmp(name, "session_id") == 0;
        snprintf(needle, sizeof needle, "%s is %lu bytes long; at most %lu are accepted", name,
                 (unsigned long)lens[i], (unsigned long)max);
        expect_open("https://v.example", is_session ? s : SID, is_session ? UPLOAD : s,
                    i == 0 ? VAULT_PARTS_OK : VAULT_PARTS_E_ARG, i == 0 ? NULL : needle, 'Q');
        free(s);
    }
}

static void lengths(void) {
    char *s;
    /* The header's limits are the ones open enforces. */
    CHECK(VAULT_PARTS_MAX_VAULT_URL_LEN == 512);
    CHECK(VAULT_PARTS_MAX_SESSION_ID_LEN == 8000);
    CHECK(VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN == 256);
    expect_limit("session_id", VAULT_PARTS_MAX_SESSION_ID_LEN);
    expect_limit("upload_session_id", VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN);

    s = repeated('w', VAULT_PARTS_MAX_VAULT_URL_LEN);
    memcpy(s, "https://", 8);
    expect_open(s, SID, UPLOAD, VAULT_PARTS_E_ARG, "longer than 253", 'Q'); /* within the cap: the host rule speaks */
    free(s);
    s = repeated('w', 600);
    memcpy(s, "https://", 8);
    expect_open(s, SID, UPLOAD, VAULT_PARTS_E_ARG, "vault_url is 600 bytes long; at most 512", 'w');
    free(s);
}

static void hosts(void) {
    static const char *bad[] = {
        "https://..",        "https://-",           "https://.",          "https://[:::]",
        "https://[]",        "https://[::1]x",      "https://[fe80::1%25eth0]", "https://v..example",
        "https://.v.example", "https://v.example.", "https://-v.example", "https://v-.example",
        "https://v_x.example", "https://127.1",     "https://0x7f.0.0.1", "https://1.2.3.256",
        "http://[::2]:80",   "http://127.1:80",     "https://h:1:2",      "https://[127.0.0.1]",
    };
    size_t i;
    char label[80], host[400];
    for (i = 0; i < sizeof bad / sizeof *bad; i++) expect_open(bad[i], SID, UPLOAD, VAULT_PARTS_E_ARG, "vault_url", 'Q');

    /* RFC 1123: labels of at most 63 characters, names of at most 253. */
    memset(label, 'a', 64);
    label[64] = '\0';
    snprintf(host, sizeof host, "https://%s.example", label);
    expect_open(host, SID, UPLOAD, VAULT_PARTS_E_ARG, "longer than 63", 'Q');
    label[63] = '\0';
    snprintf(host, sizeof host, "https://%s.example", label);
    expect_open(host, SID, UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    snprintf(host, sizeof host, "https://%s.%s.%s.%.61s", label, label, label, label);
    expect_open(host, SID, UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    snprintf(host, sizeof host, "https://%s.%s.%s.%.62s", label, label, label, label);
    expect_open(host, SID, UPLOAD, VAULT_PARTS_E_ARG, "longer than 253", 'Q');
}

static void spellings(void) {
    static const char *good[] = {
        "https://h:/", "https://h:", "http://[0:0:0:0:0:0:0:1]:8080", "http://[0000::0001]",
        "http://[::FFFF:127.0.0.1]:1", "HTTPS://MyVault.VeevaVault.com:443/", "https://v.example:08443",
        "http://127.0.0.1:", "https://[2001:DB8::1]",
    };
    size_t i;
    for (i = 0; i < sizeof good / sizeof *good; i++) expect_open(good[i], SID, UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
}

/* vault_url and session_id swapped: refused before any I/O, naming neither value (the session
 * ID used to pass as a bare https host, so the first next sent it to a DNS resolver and
 * errmsg quoted it as the host). */
static void swapped(void) {
    static const char *urls[] = {"https://myvault.veevavault.com", "HTTP://127.0.0.1:8080", "https://"};
    size_t i;
    for (i = 0; i < sizeof urls / sizeof *urls; i++) {
        vault_parts_iter *it = NULL;
        vault_part p;
        CHECK_CODE(vault_parts_open(&it, "S3cr3tSessionID0123456789abcdef", urls[i], UPLOAD), VAULT_PARTS_E_ARG);
        CHECK_CONTAINS(vault_parts_errmsg(it), "vault_url and session_id look swapped");
        CHECK(strstr(vault_parts_errmsg(it), "S3cr3t") == NULL);
        CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_E_ARG);
        vault_parts_free(it);
    }
    /* A session ID too long for a host label as vault_url: the session_id check runs first, so
     * the vault_url message (which would quote it) is never made. */
    {
        char sid[129];
        vault_parts_iter *it = NULL;
        memset(sid, 'a', 128);
        memcpy(sid, "S3cr3t", 6);
        sid[128] = '\0';
        CHECK_CODE(vault_parts_open(&it, sid, urls[0], UPLOAD), VAULT_PARTS_E_ARG);
        CHECK_CONTAINS(vault_parts_errmsg(it), "vault_url and session_id look swapped");
        CHECK(strstr(vault_parts_errmsg(it), "S3cr3t") == NULL);
        CHECK(strstr(vault_parts_errmsg(it), "aaaaaaaaaaaa") == NULL);
        vault_parts_free(it);
    }
    /* Other session IDs that merely contain "http" still open. */
    expect_open("https://v.example", "Bearer http-token", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    expect_open("https://v.example", "httpx://", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
}

int main(void) {
    swapped();
    lengths();
    hosts();
    spellings();
    printf("args: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
