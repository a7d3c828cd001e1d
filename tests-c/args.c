/*
 * vault_parts_open's argument rules: the maximum lengths, the shortest session ID, hosts no URL
 * can reach, other spellings of a usable origin, swapped arguments; and the trust-store setters'
 * file reads (regular files only, never blocking, at most VAULT_PARTS_MAX_CA_FILE_SIZE bytes).
 * open does no I/O, so no server is needed.
 *
 * usage: args DIR
 *   DIR holds the files the CA checks read: "fifo" (a FIFO), "big.pem" (one byte over the cap),
 *   "exact.pem" (a certificate padded to the cap exactly).
 * prints "args: N failed checks"; exits 0 when every check held.
 */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>
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

/* Opens and expects E_ARG with `needle` in errmsg and `secret` nowhere in it. */
static void expect_refused(const char *url, const char *sid, const char *needle, const char *secret) {
    vault_parts_iter *it = NULL;
    vault_part p;
    CHECK_CODE(vault_parts_open(&it, url, sid, UPLOAD), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), needle);
    if (strstr(vault_parts_errmsg(it), secret) != NULL)
        fprintf(stderr, "args.c: errmsg repeats \"%s\": %s\n", secret, vault_parts_errmsg(it));
    CHECK(strstr(vault_parts_errmsg(it), secret) == NULL);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_E_ARG);
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

/* Session IDs too short to redact safely are refused, with a message the redactor did not
 * mangle (a 1-character ID used to turn every "s" or "1" of errmsg into "[redacted]"); so are
 * IDs with surrounding spaces (a server may echo them trimmed), in a message that does not
 * quote them. */
static void short_and_padded_session_ids(void) {
    static const char *short_ids[] = {"1", "s", "e", "[", "abcdefghijk", "Bearer abcdefghijk", "bearer 1",
                                      "BEARER    abcdefghijk"};
    static const char *padded[] = {" SID-args-3f9c1e", "SID-args-3f9c1e ", "  SID-args-3f9c1e  ",
                                   "Bearer SID-args-3f9c1e "};
    size_t i;
    CHECK(VAULT_PARTS_MIN_SESSION_ID_LEN == 12);
    for (i = 0; i < sizeof short_ids / sizeof *short_ids; i++) {
        vault_parts_iter *it = NULL;
        CHECK_CODE(vault_parts_open(&it, "https://v.example", short_ids[i], UPLOAD), VAULT_PARTS_E_ARG);
        CHECK_CONTAINS(vault_parts_errmsg(it), "at least 12 characters");
        CHECK(strstr(vault_parts_errmsg(it), "[redacted]") == NULL);
        vault_parts_free(it);
    }
    expect_open("https://v.example", "abcdefghijkl", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    expect_open("https://v.example", "Bearer abcdefghijkl", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    expect_open("https://v.example", "bEaReR abcdefghijkl", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    /* Inner spaces are the ID's own: a server has no reason to change them. */
    expect_open("https://v.example", "SID args 3f9c1e", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    /* The session ID passed as the upload session's ID is refused, quoting neither. */
    expect_refused("https://v.example", UPLOAD, "upload_session_id is the session ID", UPLOAD);
    expect_refused("https://v.example", "Bearer " UPLOAD, "upload_session_id is the session ID", UPLOAD);
    expect_refused("https://v.example", "bEaReR  " UPLOAD, "upload_session_id is the session ID", UPLOAD);
    for (i = 0; i < sizeof padded / sizeof *padded; i++)
        expect_refused("https://v.example", padded[i], "surrounding spaces", "SID-args");
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
        "http://127.0.0.1:", "https://[2001:DB8::1]", "myvault.veevavault.com", "localhost:8443",
        "127.0.0.1:8443", "[::1]:8443",
    };
    size_t i;
    for (i = 0; i < sizeof good / sizeof *good; i++) expect_open(good[i], SID, UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
}

/* vault_url and session_id swapped: refused before any I/O, naming neither value (the session
 * ID used to pass as a bare https host, so the first next sent it to a DNS resolver and
 * errmsg quoted it as the host). */
static void swapped(void) {
    static const char *urls[] = {"https://myvault.veevavault.com", "HTTP://127.0.0.1:8080", "https://",
                                 /* the bare forms the header allows for vault_url */
                                 "myvault.veevavault.com", "MyVault.VeevaVault.com:443", "127.0.0.1:8080",
                                 "[::1]:8080", "localhost:8443"};
    static const char *hex32 = "0123456789abcdef0123456789abcdef";
    size_t i;
    char long_hex[129];
    for (i = 0; i < 128; i++) long_hex[i] = "0123456789ABCDEF"[i % 16];
    long_hex[128] = '\0';
    for (i = 0; i < sizeof urls / sizeof *urls; i++) {
        expect_refused("S3cr3tSessionID0123456789abcdef", urls[i], "vault_url and session_id look swapped", "S3cr3t");
        /* A long hex session ID used to be parsed as the host and quoted by the host rule. */
        expect_refused(long_hex, urls[i], "vault_url and session_id look swapped", "0123456789AB");
        /* A 32-digit one used to pass as a host and go to the resolver at the first next. */
        expect_refused(hex32, urls[i], "vault_url and session_id look swapped", "0123456789ab");
    }
    /* A session ID too long for a host label as vault_url: the session_id check runs first, so
     * the vault_url message (which would quote it) is never made. */
    {
        char sid[129];
        memset(sid, 'a', 128);
        memcpy(sid, "S3cr3t", 6);
        sid[128] = '\0';
        expect_refused(sid, urls[0], "vault_url and session_id look swapped", "S3cr3t");
        expect_refused(sid, urls[0], "vault_url and session_id look swapped", "aaaaaaaaaaaa");
    }
    /* Other session IDs that merely contain "http", a dot or a colon still open. */
    expect_open("https://v.example", "Bearer http-token-0123", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    expect_open("https://v.example", "httpx://not-a-url", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
    expect_open("https://v.example", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", UPLOAD,
                VAULT_PARTS_OK, NULL, 'Q');
    expect_open("https://v.example", "sid:0123456789abcdef", UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
}

/* A bare vault_url (no scheme) may be the session ID passed in the wrong place: a message
 * about it never quotes it, and one that is a single DNS label (as a session ID is) is refused
 * before it can reach a resolver. With a scheme, the value is a URL and is quoted. */
static void bare_vault_urls(void) {
    static const char *hex32 = "0123456789abcdef0123456789abcdef";
    char long_hex[129];
    size_t i;
    for (i = 0; i < 128; i++) long_hex[i] = "0123456789abcdef"[i % 16];
    long_hex[128] = '\0';
    expect_refused(hex32, SID, "a bare vault_url must be a host name with a dot", "0123456789ab");
    expect_refused("vaulthost", SID, "a bare vault_url must be a host name with a dot", "vaulthost");
    expect_refused(long_hex, SID, "longer than 63", "0123456789ab");
    expect_refused("bad_host.example", SID, "vault_url (not quoted", "bad_host");
    expect_refused("ftp.example/x", SID, "without a path", "ftp.example");
    expect_open("https://bad_host.example", SID, UPLOAD, VAULT_PARTS_E_ARG, "\"https://bad_host.example\"", 'Q');
    expect_open("https://vaulthost", SID, UPLOAD, VAULT_PARTS_OK, NULL, 'Q');
}

/* One trust-store setter, on a listing or on a client, applied to `path`. */
typedef int (*ca_setter)(const char *path, char *msg, size_t msg_size);

static int listing_set(const char *path, char *msg, size_t size, int add) {
    vault_parts_iter *it = NULL;
    int rc;
    CHECK_CODE(vault_parts_open(&it, "https://v.example", SID, UPLOAD), VAULT_PARTS_OK);
    rc = add ? vault_parts_add_ca_file(it, path) : vault_parts_set_ca_file(it, path);
    CHECK_CODE(vault_parts_errcode(it), rc);
    snprintf(msg, size, "%s", vault_parts_errmsg(it));
    vault_parts_free(it);
    return rc;
}

static int client_set(const char *path, char *msg, size_t size, int add) {
    vault_parts_client *c = NULL;
    vault_parts_iter *it = NULL;
    int rc, opened;
    CHECK_CODE(vault_parts_client_new(&c), VAULT_PARTS_OK);
    rc = add ? vault_parts_client_add_ca_file(c, path) : vault_parts_client_set_ca_file(c, path);
    /* The client keeps its error; a listing opened on it reports it. */
    opened = vault_parts_open_with_client(&it, c, "https://v.example", SID, UPLOAD);
    CHECK_CODE(opened, rc);
    snprintf(msg, size, "%s", vault_parts_errmsg(it));
    vault_parts_free(it);
    vault_parts_client_free(c);
    return rc;
}

static int set_listing(const char *p, char *m, size_t n) { return listing_set(p, m, n, 0); }
static int add_listing(const char *p, char *m, size_t n) { return listing_set(p, m, n, 1); }
static int set_client(const char *p, char *m, size_t n) { return client_set(p, m, n, 0); }
static int add_client(const char *p, char *m, size_t n) { return client_set(p, m, n, 1); }

/* CA files are read with bounds: a FIFO used to block the setter forever (no interrupt
 * reaches a setter) and /dev/zero was read until memory ran out. Each refusal is E_ARG with a
 * message naming what is wrong; the file at the cap exactly is accepted. */
static void ca_files(const char *dir) {
    static const ca_setter setters[] = {set_listing, add_listing, set_client, add_client};
    struct {
        const char *name, *needle;
        int code;
    } cases[] = {
        {"fifo", "is not a regular file", VAULT_PARTS_E_ARG},
        {"/dev/zero", "is not a regular file", VAULT_PARTS_E_ARG},
        {"", "is a directory", VAULT_PARTS_E_ARG},
        {"big.pem", "is larger than 1048576 bytes", VAULT_PARTS_E_ARG},
        {"missing.pem", "cannot be read", VAULT_PARTS_E_ARG},
        {"exact.pem", NULL, VAULT_PARTS_OK},
    };
    size_t s, i;
    CHECK(VAULT_PARTS_MAX_CA_FILE_SIZE == 1048576);
    /* A setter that blocks on the FIFO is killed here, and the harness sees no report line. */
    alarm(120);
    for (s = 0; s < sizeof setters / sizeof *setters; s++) {
        for (i = 0; i < sizeof cases / sizeof *cases; i++) {
            char path[4096], msg[2048];
            if (cases[i].name[0] == '/')
                snprintf(path, sizeof path, "%s", cases[i].name);
            else
                snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
            CHECK_CODE(setters[s](path, msg, sizeof msg), cases[i].code);
            if (cases[i].needle != NULL) {
                CHECK_CONTAINS(msg, cases[i].needle);
                CHECK_CONTAINS(msg, "ca_file");
            } else {
                CHECK(strcmp(msg, "") == 0);
            }
        }
    }
    alarm(0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: args DIR\n");
        return 2;
    }
    swapped();
    bare_vault_urls();
    short_and_padded_session_ids();
    lengths();
    hosts();
    spellings();
    ca_files(argv[1]);
    printf("args: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
