/*
 * vault-parts: the command-line face of libvault_parts, written over its public C API only.
 *
 *   VAULT_URL=https://myvault.veevavault.com VAULT_SESSION_ID=... vault-parts list [options] UPLOAD_SESSION_ID
 *   VAULT_URL=... VAULT_SESSION_ID=... vault-parts verify [options] UPLOAD_SESSION_ID FILE
 *   VAULT_URL=... VAULT_SESSION_ID=... vault-parts upload [options] FILE STAGING_PATH
 *   VAULT_URL=... VAULT_SESSION_ID=... vault-parts resume [options] UPLOAD_SESSION_ID FILE
 *   VAULT_URL=... VAULT_SESSION_ID=... vault-parts abort [options] UPLOAD_SESSION_ID
 *   VAULT_URL=... VAULT_SESSION_ID=... vault-parts sessions [options]
 *
 * Commands are dispatched from one table: a command is a row and a function.
 * Exit status: 0 success (verify: commit-ready); verify's answers 1 resumable, 2 mismatches
 * found, 3 not resumable; 64 usage error (including a value the library refuses before any
 * request); otherwise 10 + the library's error code (11 bad argument ... 25 integrity).
 * See docs/vault-parts.1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "vault_parts.h"

#define PROG "vault-parts"
#define EXIT_USAGE 64
/* Standard output could not be written (sysexits' EX_IOERR, as 64 is EX_USAGE). */
#define EXIT_OUTPUT 74
/* verify's answers: what uploading would take to complete the session. */
#define EXIT_COMMIT_READY 0
#define EXIT_RESUMABLE 1
#define EXIT_MISMATCHES 2
#define EXIT_NOT_RESUMABLE 3
/* The part sizes vault_parts_upload_open takes (its doc in vault_parts.h: 5 MiB to 50 MiB);
 * upload and resume refuse others as usage errors before opening anything. */
#define MIN_PART_SIZE 5242880ULL
#define MAX_PART_SIZE 52428800ULL

/* The usage text, printed by print_usage: the commands and options. */
static const char usage_text[] =
    "usage: " PROG " COMMAND [options] ARGUMENTS\n"
    "       " PROG " --help | --version\n\n"
    "Commands:\n"
    "  list UPLOAD_SESSION_ID          print the parts uploaded to a Vault resumable upload session\n"
    "  verify UPLOAD_SESSION_ID FILE   check FILE against those parts: which to (re)upload, and\n"
    "                                  whether the session can still be completed\n"
    "  upload FILE STAGING_PATH        upload FILE to a new upload session, then commit it to\n"
    "                                  STAGING_PATH on file staging (/u/alice/big.bin)\n"
    "  resume UPLOAD_SESSION_ID FILE   upload the parts of FILE the session lacks or holds\n"
    "                                  damaged, then commit\n"
    "  abort UPLOAD_SESSION_ID         abort the upload session: Vault purges its parts\n"
    "  sessions                        print your upload sessions, one tab-separated line each:\n"
    "                                  id, path, size, uploaded parts, uploaded bytes,\n"
    "                                  created date, expiration date\n\n"
    "The Vault comes from VAULT_URL, the session ID from VAULT_SESSION_ID (never a flag, so it\n"
    "stays out of the process list). VAULT_URL is https://HOST[:PORT]; a bare HOST means https;\n"
    "http:// is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost). A user name or\n"
    "password in the URL is refused.\n\n"
    "Options of every command (--opt VALUE and --opt=VALUE both work):\n"
    "  --limit N           list, verify, resume: parts per page, 1 to 1000 (default: Vault's,\n"
    "                      1000)\n"
    "  --json              one JSON object per line instead of a table\n"
    "  --timeout SECONDS   how long one HTTP attempt may go without progress (no body byte\n"
    "                      sent or received), like 30 or 0.5 (default 60)\n"
    "  --max-attempts N    attempts per request, at least 1 (default 3)\n"
    "  --api-version V     Vault API version, like v25.3 (default v25.3)\n"
    "  --client-id ID      X-VaultAPI-ClientID to send (default libvault_parts-VERSION)\n"
    "  --ca-file PEM       trust only the certificates in PEM (a private CA)\n"
    "  --add-ca-file PEM   trust the built-in roots and the certificates in PEM (a TLS proxy)\n"
    "  --system-roots      trust the system's store (SSL_CERT_FILE, SSL_CERT_DIR honoured)\n"
    "  --verbose           log requests, retries and pages to stderr (verify: print every part;\n"
    "                      upload, resume: print every part event)\n"
    "  --help              this text\n\n"
    "Options of verify, upload and resume:\n"
    "  --part-size N       bytes in every part but the last: a number of bytes, or with a binary\n"
    "                      unit K/KiB (1024), M/MiB (1048576), G/GiB, like 8M or 8MiB; upload\n"
    "                      and resume take 5MiB to 50MiB (default: read off the listing, or\n"
    "                      the library's choice for a new session)\n"
    "Options of verify:\n"
    "  --threads N         hashing threads, 1 to 16 (default: one per core)\n"
    "Options of upload and resume:\n"
    "  --no-commit         stop once every part is on Vault (no commit)\n"
    "  --no-wait           commit, but do not wait for the commit's job to end\n"
    "  --poll SECONDS      how often to ask for the commit's job, 0.1 to 600 (default 10)\n"
    "  --overwrite         upload only: let the commit replace a file at STAGING_PATH\n\n"
    "verify prints one line per part that is not OK (every part with --verbose) and a summary\n"
    "naming the parts to upload (\"upload 3 parts: 3, 6-7\").\n"
    "upload and resume print the upload session ID first (\"upload session: ID\"), one line per\n"
    "part with --verbose, then a summary. list, verify, upload and resume keep a progress line\n"
    "on stderr when it is a terminal.\n"
    "With --json, upload and resume print JSON lines, and a failure as {\"error\":{...}}\n"
    "(with the HTTP status and Retry-After); so do abort and sessions.\n"
    "SIGINT or SIGTERM stops an upload (status 23); resume it with its ID.\n\n";

/* The rest of the usage text (one literal would pass the 4095 bytes C99 promises). */
static const char usage_status_text[] =
    "Exit status: 0 done (verify: commit-ready, every part uploaded intact; upload, resume:\n"
    "every part on Vault, and committed unless --no-commit); verify: 1 resumable\n"
    "(only MISSING parts to upload), 2 mismatches found (uploaded parts differ: upload them\n"
    "again), 3 not resumable (Vault lists parts past the file's end); 64 usage error; otherwise\n"
    "10 + the library's error code (11 bad argument, 12 session rejected, 13 access denied,\n"
    "14 rate limited, 15 Vault error, 16 HTTP status, 17 network, 18 timeout, 19 TLS,\n"
    "20 protocol, 21 internal, 22 local file, 23 cancelled, 24 conflict: the file cannot\n"
    "complete the session, 25 integrity: Vault stored other bytes); 74 standard output could\n"
    "not be written (a full disk, a closed pipe). See vault-parts(1).\n";

static void print_usage(void) {
    fputs(usage_text, stdout);
    fputs(usage_status_text, stdout);
}

/* What a command was asked to do, from its arguments. */
enum command { CMD_LIST, CMD_VERIFY, CMD_UPLOAD, CMD_RESUME, CMD_ABORT, CMD_SESSIONS };

struct opts {
    /* Which command: verify takes a FILE and two more options; upload a FILE and a STAGING_PATH;
     * resume an upload session ID and a FILE. */
    enum command cmd;
    int verify;
    const char *upload, *file, *staging, *api_version, *client_id, *ca_file, *add_ca_file;
    unsigned long limit, timeout_ms, max_attempts, threads, poll_ms;
    unsigned long long part_size;
    int json, verbose, system_roots, overwrite, no_commit, no_wait;
};

/* Each "[redacted]" (10 bytes) replaces at least VAULT_PARTS_MIN_SESSION_ID_LEN bytes, so a
 * redacted argument is never longer than the argument. */
typedef char redacted_never_grows[VAULT_PARTS_MIN_SESSION_ID_LEN >= sizeof "[redacted]" - 1 ? 1 : -1];

/* Whether `sid` starts with the "bearer " scheme, in any letter case. */
static int has_bearer_scheme(const char *sid) {
    const char *scheme = "bearer ";
    size_t i;
    for (i = 0; scheme[i] != '\0'; i++)
        if (sid[i] == '\0' || (sid[i] | 0x20) != scheme[i]) return 0;
    return 1;
}

/* `arg` with every occurrence of VAULT_SESSION_ID, and of the token after a "bearer " scheme in
 * any letter case, replaced by "[redacted]" (an argument may be the session ID pasted in the
 * wrong place); the caller frees it. NULL when out of memory, or when the session ID or its
 * token is too short to redact (the library refuses such an ID): then nothing is quoted. */
static char *redacted(const char *arg) {
    const char *sid = getenv("VAULT_SESSION_ID"), *secrets[2], *p;
    size_t lens[2], n = 0, i;
    char *out, *w;
    if (sid != NULL && *sid != '\0') {
        secrets[n] = sid;
        lens[n++] = strlen(sid);
        if (has_bearer_scheme(sid)) {
            for (p = sid + 7; *p == ' '; p++) {}
            secrets[n] = p;
            lens[n++] = strlen(p);
        }
    }
    for (i = 0; i < n; i++)
        if (lens[i] < VAULT_PARTS_MIN_SESSION_ID_LEN) return NULL;
    out = malloc(strlen(arg) + 1);
    if (out == NULL) return NULL;
    for (w = out, p = arg; *p != '\0';) {
        for (i = 0; i < n && strncmp(p, secrets[i], lens[i]) != 0; i++) {}
        if (i < n) {
            memcpy(w, "[redacted]", 10);
            w += 10;
            p += lens[i];
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

/* Prints the problem (`fmt` with `arg`, redacted, for its one %s, or `fmt` alone when arg is
 * NULL). */
static int usage_error(const char *fmt, const char *arg) {
    fputs(PROG ": ", stderr);
    if (arg != NULL) {
        char *shown = redacted(arg);
        fprintf(stderr, fmt, shown != NULL ? shown : "[argument]");
        free(shown);
    } else {
        fputs(fmt, stderr);
    }
    fputs("\nTry '" PROG " --help'.\n", stderr);
    return EXIT_USAGE;
}

/* An unsigned decimal in [min, max], the whole string. */
static int parse_count(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
    char *end;
    unsigned long v;
    if (*s < '0' || *s > '9') return 0;
    v = strtoul(s, &end, 10);
    if (*end != '\0' || v < min || v > max) return 0;
    *out = v;
    return 1;
}

/* A byte count from 1 to UINT64_MAX, the whole string: plain bytes, or a number with a binary
 * unit K/KiB (1024), M/MiB (1048576), G/GiB (1073741824). */
static int parse_bytes(const char *s, unsigned long long *out) {
    static const struct {
        const char *suffix;
        unsigned long long scale;
    } units[] = {{"", 1},          {"K", 1ULL << 10}, {"KiB", 1ULL << 10}, {"M", 1ULL << 20},
                 {"MiB", 1ULL << 20}, {"G", 1ULL << 30}, {"GiB", 1ULL << 30}};
    char *end;
    unsigned long long v;
    size_t k;
    if (*s < '0' || *s > '9') return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno == ERANGE || v == 0) return 0;
    for (k = 0; k < sizeof units / sizeof *units; k++)
        if (strcmp(end, units[k].suffix) == 0) {
            if (v > ~0ULL / units[k].scale) return 0;
            *out = v * units[k].scale;
            return 1;
        }
    return 0;
}

/* Seconds (decimals allowed) to whole milliseconds, at least 1, at most UINT32_MAX. */
static int parse_seconds(const char *s, unsigned long *ms) {
    char *end;
    double v;
    if ((*s < '0' || *s > '9') && *s != '.') return 0;
    v = strtod(s, &end);
    if (*end != '\0' || !(v * 1000.0 >= 1.0) || v * 1000.0 > 4294967295.0) return 0;
    *ms = (unsigned long)(v * 1000.0);
    return 1;
}

/* The value of option `name` at argv[*i]: "--name=VALUE" or "--name VALUE". NULL when absent. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    *missing = 0;
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* "--json=..." and the like: a known flag given a value it does not take. */
static int is_flag_with_value(const char *a) {
    static const char *const flags[] = {"--json=",   "--verbose=",   "--system-roots=", "--help=",
                                        "--no-commit=", "--no-wait=", "--overwrite="};
    size_t k;
    for (k = 0; k < sizeof flags / sizeof *flags; k++)
        if (strncmp(a, flags[k], strlen(flags[k])) == 0) return 1;
    return 0;
}

/* The positional arguments: the upload session ID, then (verify, resume) the file; upload's
 * are the file and the staging path. */
static int take_argument(struct opts *o, const char *a) {
    if (o->cmd == CMD_SESSIONS) return usage_error("sessions takes no arguments ('%s' is extra)", a);
    if (o->cmd == CMD_UPLOAD) {
        if (o->file == NULL) {
            o->file = a;
        } else if (o->staging == NULL) {
            o->staging = a;
        } else {
            return usage_error("upload takes a file and a staging path ('%s' is extra)", a);
        }
    } else if (o->upload == NULL) {
        o->upload = a;
    } else if ((o->verify || o->cmd == CMD_RESUME) && o->file == NULL) {
        o->file = a;
    } else if (o->cmd == CMD_RESUME) {
        return usage_error("resume takes an upload session ID and a file ('%s' is extra)", a);
    } else {
        return usage_error(o->verify ? "verify takes an upload session ID and a file ('%s' is extra)"
                                     : "only one upload session ID may be given ('%s' is extra)",
                           a);
    }
    return 0;
}

/* Parses a command's arguments into *o (o->cmd and o->verify set); returns 0, or the exit
 * status of a usage error. */
static int parse_args(int argc, char **argv, struct opts *o) {
    /* verify's own options come last, so that list stops the search before them; upload and
     * resume take --part-size and --poll (see `allowed`). */
    static const char *const valued[] = {"--limit",     "--timeout",     "--max-attempts", "--api-version", "--client-id",
                                         "--ca-file",   "--add-ca-file", "--part-size",    "--threads",     "--poll"};
    const int n_valued = 10;
    const int uploading = o->cmd == CMD_UPLOAD || o->cmd == CMD_RESUME;
    int i, k, missing, status, only_args = 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (only_args || a[0] != '-' || a[1] == '\0') {
            if ((status = take_argument(o, a)) != 0) return status;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = 1;
            continue;
        }
        for (k = 0; k < n_valued; k++) {
            /* Options another command takes are unknown here. */
            if ((k == 0 && (o->cmd == CMD_ABORT || o->cmd == CMD_SESSIONS)) ||
                (k == 7 && (o->cmd == CMD_LIST || o->cmd == CMD_ABORT || o->cmd == CMD_SESSIONS)) ||
                (k == 8 && !o->verify) || (k == 9 && !uploading))
                continue;
            v = option_value(argc, argv, &i, valued[k], &missing);
            if (missing) return usage_error("option '%s' needs a value", valued[k]);
            if (v != NULL) break;
        }
        if (v != NULL) {
            switch (k) {
            case 0:
                if (!parse_count(v, 1, 1000, &o->limit)) return usage_error("--limit takes a number from 1 to 1000, not '%s'", v);
                break;
            case 1:
                if (!parse_seconds(v, &o->timeout_ms))
                    return usage_error("--timeout takes seconds from 0.001 to 4294967, not '%s'", v);
                break;
            case 2:
                if (!parse_count(v, 1, 4294967295UL, &o->max_attempts))
                    return usage_error("--max-attempts takes a number of at least 1, not '%s'", v);
                break;
            case 3: o->api_version = v; break;
            case 4: o->client_id = v; break;
            case 5: o->ca_file = v; break;
            case 6: o->add_ca_file = v; break;
            case 7:
                if (!parse_bytes(v, &o->part_size))
                    return usage_error("--part-size takes a number of bytes of at least 1, not '%s'", v);
                if (uploading && (o->part_size < MIN_PART_SIZE || o->part_size > MAX_PART_SIZE))
                    return usage_error("--part-size takes 5MiB to 50MiB (5242880 to 52428800 bytes) for upload "
                                       "and resume, not '%s'",
                                       v);
                break;
            case 8:
                if (!parse_count(v, 1, 16, &o->threads)) return usage_error("--threads takes a number from 1 to 16, not '%s'", v);
                break;
            default:
                /* 0 is refused here; the library checks the range (0.1 to 600 seconds). */
                if (!parse_seconds(v, &o->poll_ms))
                    return usage_error("--poll takes seconds from 0.1 to 600, like 10 or 0.5, not '%s'", v);
                break;
            }
        } else if (uploading && strcmp(a, "--no-commit") == 0) {
            o->no_commit = 1;
        } else if (uploading && strcmp(a, "--no-wait") == 0) {
            o->no_wait = 1;
        } else if (o->cmd == CMD_UPLOAD && strcmp(a, "--overwrite") == 0) {
            o->overwrite = 1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            o->verbose = 1;
        } else if (strcmp(a, "--system-roots") == 0) {
            o->system_roots = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_usage();
            exit(0);
        } else if (is_flag_with_value(a)) {
            return usage_error("option '%s' takes no value", a);
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (o->cmd == CMD_UPLOAD) {
        if (o->file == NULL || o->file[0] == '\0') return usage_error("the file to upload is missing", NULL);
        if (o->staging == NULL || o->staging[0] == '\0') return usage_error("the staging path is missing", NULL);
    } else if (o->cmd != CMD_SESSIONS && (o->upload == NULL || o->upload[0] == '\0')) {
        return usage_error("the upload session ID is missing", NULL);
    }
    if (o->verify && (o->file == NULL || o->file[0] == '\0')) return usage_error("the file to verify is missing", NULL);
    if (o->cmd == CMD_RESUME && (o->file == NULL || o->file[0] == '\0')) return usage_error("the file to upload is missing", NULL);
    if (o->no_commit && o->no_wait) return usage_error("choose one of --no-commit and --no-wait", NULL);
    if ((o->ca_file != NULL) + (o->add_ca_file != NULL) + o->system_roots > 1)
        return usage_error("choose one of --ca-file, --add-ca-file and --system-roots", NULL);
    return 0;
}

/* The authority of a URL ("host:port" after "scheme://", or the bare host) holds '@'. */
static int has_userinfo(const char *url) {
    const char *start = strstr(url, "://");
    size_t len;
    start = start ? start + 3 : url;
    len = strcspn(start, "/?#");
    return memchr(start, '@', len) != NULL;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `bytes` for a person: "12.0 MiB". */
static void human_bytes(char *buf, size_t len, double bytes) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t k = 0;
    while (bytes >= 1024.0 && k + 1 < sizeof units / sizeof *units) {
        bytes /= 1024.0;
        k++;
    }
    snprintf(buf, len, k == 0 ? "%.0f %s" : "%.1f %s", bytes, units[k]);
}

static void human_duration(char *buf, size_t len, double s) {
    unsigned long t = s > 0 && s < 3.6e7 ? (unsigned long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, len, "%luh%02lum", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
    else
        snprintf(buf, len, "%lus", t);
}

/* The progress line on a terminal's stderr (never on a file or pipe), rewritten in place with
 * \r, for list, verify, upload and resume: each command sets its text as it goes
 * (progress_set), which is drawn at most PROGRESS_HZ times a second; the last text is drawn
 * before the line ends, so the counts it is left with are the final ones. A retry wait the
 * library announces (a log line) is shown at once, until the next draw. One per process: the
 * log callback reaches it without a handle (it must not call into one). */
#define PROGRESS_HZ 10
static struct progress {
    int on, shown, pending, rows_on_tty;
    double started, drawn;
    unsigned long long file_size;
    char text[200];
} progress;

/* Turns the line on when stderr is a terminal. */
static void progress_start(void) {
    progress.on = isatty(fileno(stderr));
    progress.rows_on_tty = progress.on && isatty(fileno(stdout));
    progress.started = now_seconds();
}

static void progress_draw(const char *suffix) {
    fprintf(stderr, "\r%s%s\033[K", progress.text, suffix);
    fflush(stderr);
    progress.shown = 1;
    progress.pending = 0;
    progress.drawn = now_seconds();
}

/* Sets the line's text (printf's `fmt`); drawn now unless a draw was less than 1/PROGRESS_HZ s
 * ago (then by a later call, or by end_progress). */
static void progress_set(const char *fmt, ...) {
    va_list ap;
    if (!progress.on) return;
    va_start(ap, fmt);
    vsnprintf(progress.text, sizeof progress.text, fmt, ap);
    va_end(ap);
    if (progress.drawn > 0 && now_seconds() - progress.drawn < 1.0 / PROGRESS_HZ)
        progress.pending = 1;
    else
        progress_draw("");
}

/* Takes the line off the screen, so that a line of log takes its place; the next
 * progress_set (or end_progress) draws it again. */
static void progress_hide(void) {
    if (!progress.shown) return;
    fputs("\r\033[K", stderr);
    progress.shown = 0;
    progress.pending = 1;
}

/* Before a line of output: the same, when standard output is that terminal too. */
static void progress_before_row(void) {
    if (progress.rows_on_tty) progress_hide();
}

/* A retry wait of `ms` milliseconds begins: said at the end of the line. */
static void progress_wait(unsigned long ms) {
    char wait[32], suffix[64];
    if (!progress.on) return;
    if (ms < 10000)
        snprintf(wait, sizeof wait, "%.1fs", ms / 1000.0);
    else
        human_duration(wait, sizeof wait, ms / 1000.0);
    snprintf(suffix, sizeof suffix, "%sretrying in %s", progress.text[0] ? "; " : "", wait);
    progress_draw(suffix);
}

/* Ends the progress line, its last text drawn, so that what follows starts on a line of its
 * own. */
static void end_progress(void) {
    if (progress.pending && progress.text[0]) progress_draw("");
    if (progress.shown) fputc('\n', stderr);
    progress.shown = 0;
    progress.pending = 0;
    progress.text[0] = '\0';
}

/* The library's log (`userdata` the command's options): printed with --verbose; a retry wait
 * is also shown on the progress line. */
static void log_to_stderr(void *userdata, int level, const char *message) {
    static const char *const names[] = {"?", "error", "warn", "info", "debug"};
    const struct opts *o = userdata;
    const char *retry;
    unsigned long ms;
    /* The final error is printed once, by main, whether or not --verbose is on. */
    if (level == VAULT_PARTS_LOG_ERROR) return;
    if (o->verbose) {
        progress_hide();
        fprintf(stderr, PROG ": %s: %s\n", names[level >= 1 && level <= 4 ? level : 0], message);
    }
    /* "...; retrying in 2000 ms" (retry.rs). */
    if (level == VAULT_PARTS_LOG_WARN && (retry = strstr(message, "; retrying in ")) != NULL &&
        sscanf(retry, "; retrying in %lu ms", &ms) == 1)
        progress_wait(ms);
}

/* Applies the options to a freshly opened handle; the first failure sticks in the handle. */
static int configure(vault_parts_iter *it, const struct opts *o) {
    int rc = VAULT_PARTS_OK;
    if (rc == VAULT_PARTS_OK && o->limit) rc = vault_parts_set_limit(it, (uint32_t)o->limit);
    if (rc == VAULT_PARTS_OK && o->timeout_ms) rc = vault_parts_set_timeout_ms(it, (uint32_t)o->timeout_ms);
    if (rc == VAULT_PARTS_OK && o->max_attempts) rc = vault_parts_set_max_attempts(it, (uint32_t)o->max_attempts);
    if (rc == VAULT_PARTS_OK && o->api_version) rc = vault_parts_set_api_version(it, o->api_version);
    if (rc == VAULT_PARTS_OK && o->client_id) rc = vault_parts_set_client_id(it, o->client_id);
    if (rc == VAULT_PARTS_OK && o->ca_file) rc = vault_parts_set_ca_file(it, o->ca_file);
    if (rc == VAULT_PARTS_OK && o->add_ca_file) rc = vault_parts_add_ca_file(it, o->add_ca_file);
    if (rc == VAULT_PARTS_OK && o->system_roots) rc = vault_parts_use_system_roots(it);
    /* Line-buffered, so parts and log lines interleave in the order they happen. */
    if (o->verbose) setvbuf(stdout, NULL, _IOLBF, 0);
    /* The progress line wants the retry waits. */
    if (rc == VAULT_PARTS_OK && (o->verbose || progress.on)) rc = vault_parts_set_log(it, log_to_stderr, (void *)o);
    return rc;
}

/* The final error, once (`msg` from the handle that failed); a certificate the built-in roots
 * do not know, and a part size the listing cannot tell, get a hint. */
static int report_failure(const char *msg, int rc, int before_io) {
    end_progress();
    fprintf(stderr, PROG ": %s: %s\n", vault_parts_errstr(rc), msg);
    if (rc == VAULT_PARTS_E_TLS && (strstr(msg, "UnknownIssuer") || strstr(msg, "unknown issuer")))
        fprintf(stderr, PROG ": hint: the server's certificate is not signed by a trusted CA; "
                        "give its CA with --ca-file PEM (or --add-ca-file PEM behind a TLS-inspecting proxy, "
                        "--system-roots for the system's store)\n");
    if (rc == VAULT_PARTS_E_ARG && strstr(msg, "pass the part size"))
        fprintf(stderr, PROG ": hint: give the part size with --part-size N\n");
    return before_io && rc == VAULT_PARTS_E_ARG ? EXIT_USAGE : 10 + rc;
}

/* The C API's names of the error codes, indexed by code. */
static const char *const error_names[] = {
    "VAULT_PARTS_OK",        "VAULT_PARTS_E_ARG",      "VAULT_PARTS_E_AUTH",     "VAULT_PARTS_E_ACCESS",
    "VAULT_PARTS_E_RATE_LIMIT", "VAULT_PARTS_E_VAULT", "VAULT_PARTS_E_HTTP",     "VAULT_PARTS_E_NETWORK",
    "VAULT_PARTS_E_TIMEOUT", "VAULT_PARTS_E_TLS",      "VAULT_PARTS_E_PROTOCOL", "VAULT_PARTS_E_INTERNAL",
    "VAULT_PARTS_E_IO",      "VAULT_PARTS_E_CANCELLED", "VAULT_PARTS_E_CONFLICT", "VAULT_PARTS_E_INTEGRITY"};

static const char *error_name(int rc) {
    return rc >= 0 && (size_t)rc < sizeof error_names / sizeof *error_names ? error_names[rc] : "VAULT_PARTS_E_UNKNOWN";
}

/* The length of the well-formed UTF-8 sequence at `p` (no overlongs, surrogates or code points
 * past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p) {
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)) return 0;
        return 3;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)) return 0;
        return 4;
    }
    return 0;
}

/* `s` as a JSON string, quotes included: '"', '\\' and control characters escaped, a byte that
 * is not part of well-formed UTF-8 (a file name may hold any bytes) written as U+FFFD. */
static void json_string(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    putc('"', f);
    while (*p != '\0') {
        if (*p == '"' || *p == '\\') {
            putc('\\', f);
            putc(*p++, f);
        } else if (*p == '\n') {
            fputs("\\n", f), p++;
        } else if (*p == '\r') {
            fputs("\\r", f), p++;
        } else if (*p == '\t') {
            fputs("\\t", f), p++;
        } else if (*p < 0x20 || *p == 0x7F) {
            fprintf(f, "\\u%04x", *p++);
        } else if ((n = utf8_len(p)) == 0) {
            fputs("\\ufffd", f), p++;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
    }
    putc('"', f);
}

/* --json's failure object on stdout: the code, its name, the message, the HTTP status of the
 * last response (0 before any) and the Retry-After the failure carried in ms (-1 for none),
 * from the handle's accessors. */
static void print_json_error(int rc, const char *msg, int http_status, long long retry_after_ms) {
    printf("{\"error\":{\"code\":%d,\"name\":\"%s\",\"message\":", rc, error_name(rc));
    json_string(stdout, msg);
    printf(",\"http_status\":%d,\"retry_after_ms\":%lld}}\n", http_status, retry_after_ms);
    fflush(stdout);
}

/* An iterator's failure: with --json its object on stdout, then the message on stderr. */
static int iter_failure(vault_parts_iter *it, int rc, int before_io, int json) {
    const char *msg = vault_parts_errmsg(it);
    if (json) print_json_error(rc, msg, vault_parts_http_status(it), (long long)vault_parts_retry_after_ms(it));
    fflush(stdout);
    return report_failure(msg, rc, before_io);
}

/* Parses the arguments and opens a configured iterator into *it. Returns 0, or the exit
 * status of a failure already reported (and *it freed). */
static int open_listing(int argc, char **argv, struct opts *o, vault_parts_iter **it) {
    const char *url = getenv("VAULT_URL"), *sid = getenv("VAULT_SESSION_ID");
    int rc, status;
    *it = NULL;
    if ((status = parse_args(argc, argv, o)) != 0) return status;
    /* abort and sessions make one request and print as they go: no progress line. */
    if (o->cmd != CMD_ABORT && o->cmd != CMD_SESSIONS) progress_start();
    if (url == NULL || *url == '\0') return usage_error("VAULT_URL is not set", NULL);
    if (sid == NULL || *sid == '\0') return usage_error("VAULT_SESSION_ID is not set", NULL);
    if (has_userinfo(url))
        return usage_error("VAULT_URL must not hold a user name or password; the session ID goes in VAULT_SESSION_ID", NULL);
    if (o->cmd == CMD_UPLOAD)
        rc = vault_parts_open_new(it, url, sid, o->staging, o->overwrite);
    else if (o->cmd == CMD_SESSIONS)
        rc = vault_parts_open_sessions(it, url, sid);
    else
        rc = vault_parts_open(it, url, sid, o->upload);
    if (rc == VAULT_PARTS_OK) rc = configure(*it, o);
    if (rc == VAULT_PARTS_OK) return 0;
    /* list and verify print no JSON failure object (their output is rows only). */
    status = iter_failure(*it, rc, 1, o->json && o->cmd != CMD_LIST && o->cmd != CMD_VERIFY);
    vault_parts_free(*it);
    *it = NULL;
    return status;
}

static int cmd_list(int argc, char **argv) {
    struct opts o;
    vault_parts_iter *it;
    vault_part p;
    vault_parts_statistics stats;
    unsigned long count = 0;
    unsigned long long total = 0;
    int rc, status;

    memset(&o, 0, sizeof o);
    if ((status = open_listing(argc, argv, &o, &it)) != 0) return status;
    progress_set("0 parts, 0 pages");
    while ((rc = vault_parts_next(it, &p)) == VAULT_PARTS_ROW) {
        progress_before_row();
        if (o.json) {
            printf("{\"part_number\":%u,\"size\":%llu,\"part_content_md5\":\"%s\"}\n", p.part_number,
                   (unsigned long long)p.size, p.part_content_md5);
        } else {
            if (count == 0) printf("%8s %14s  %s\n", "part", "size", "md5");
            printf("%8u %14llu  %s\n", p.part_number, (unsigned long long)p.size,
                   p.part_content_md5[0] ? p.part_content_md5 : "-");
        }
        count++;
        total += p.size;
        if (progress.on && vault_parts_stats(it, &stats) == VAULT_PARTS_OK)
            progress_set("%lu part%s, %llu page%s", count, count == 1 ? "" : "s", (unsigned long long)stats.pages,
                         stats.pages == 1 ? "" : "s");
    }
    end_progress();
    if (rc != VAULT_PARTS_DONE) {
        fflush(stdout);
        status = report_failure(vault_parts_errmsg(it), rc, 0);
        vault_parts_free(it);
        return status;
    }
    if (!o.json) printf("%lu part%s, %llu byte%s\n", count, count == 1 ? "" : "s", total, total == 1 ? "" : "s");
    vault_parts_free(it);
    return 0;
}

/* Verdict names, indexed by VAULT_PARTS_PART_*: the C API's own names. */
static const char *const verdict_names[] = {"OK", "MISSING", "SIZE_MISMATCH", "MD5_MISMATCH", "UNVERIFIED", "EXTRA"};
#define N_VERDICTS (sizeof verdict_names / sizeof *verdict_names)

static const char *verdict_name(int status) {
    return status >= 0 && (size_t)status < N_VERDICTS ? verdict_names[status] : "?";
}

static void print_verdict(const vault_part_verdict *v, int json, int first) {
    if (json) {
        printf("{\"part_number\":%u,\"status\":\"%s\",\"offset\":%llu,\"local_size\":%llu,\"remote_size\":%llu,"
               "\"local_md5\":\"%s\",\"remote_md5\":\"%s\"}\n",
               v->part_number, verdict_name(v->status), (unsigned long long)v->offset,
               (unsigned long long)v->local_size, (unsigned long long)v->remote_size, v->local_md5, v->remote_md5);
        return;
    }
    if (first) printf("%8s  %-13s %14s %14s  %-32s  %s\n", "part", "verdict", "local size", "Vault size", "local md5", "Vault md5");
    printf("%8u  %-13s %14llu %14llu  %-32s  %s\n", v->part_number, verdict_name(v->status),
           (unsigned long long)v->local_size, (unsigned long long)v->remote_size, v->local_md5[0] ? v->local_md5 : "-",
           v->remote_md5[0] ? v->remote_md5 : "-");
}

/* The exit status the totals of a complete verification call for, and its one-word name. */
static int outcome(const vault_parts_verify_totals *t, const char **name) {
    if (!t->resumable) {
        *name = "not-resumable";
        return EXIT_NOT_RESUMABLE;
    }
    if (t->count[VAULT_PARTS_PART_SIZE_MISMATCH] + t->count[VAULT_PARTS_PART_MD5_MISMATCH] > 0) {
        *name = "mismatches";
        return EXIT_MISMATCHES;
    }
    if (t->count[VAULT_PARTS_PART_MISSING] > 0) {
        *name = "resumable";
        return EXIT_RESUMABLE;
    }
    *name = "commit-ready";
    return EXIT_COMMIT_READY;
}

/* The part numbers to upload, as ranges of consecutive numbers: the first MAX_SHOWN_RANGES
 * kept, the rest only counted, so the memory is the same for 100,000 parts (the library's cap)
 * as for one. Numbers come in ascending order (verdicts do). */
#define MAX_SHOWN_RANGES 20
struct ranges {
    unsigned long n;   /* ranges in all */
    uint32_t tail;     /* the last number added */
    uint32_t first[MAX_SHOWN_RANGES], last[MAX_SHOWN_RANGES];
};

static void ranges_add(struct ranges *r, uint32_t number) {
    if (r->n > 0 && number == r->tail + 1) {
        if (r->n <= MAX_SHOWN_RANGES) r->last[r->n - 1] = number;
    } else {
        if (r->n < MAX_SHOWN_RANGES) r->first[r->n] = r->last[r->n] = number;
        r->n++;
    }
    r->tail = number;
}

/* "7, 12, 21-39", then ", ... (N more ranges)" past MAX_SHOWN_RANGES. */
static void print_ranges(const struct ranges *r) {
    unsigned long k;
    for (k = 0; k < r->n && k < MAX_SHOWN_RANGES; k++) {
        printf("%s%u", k ? ", " : "", r->first[k]);
        if (r->last[k] != r->first[k]) printf("-%u", r->last[k]);
    }
    if (r->n > MAX_SHOWN_RANGES)
        printf(", ... (%lu more range%s)", r->n - MAX_SHOWN_RANGES, r->n - MAX_SHOWN_RANGES == 1 ? "" : "s");
}

/* The summary: one line of counts and what to do (`upload` the parts to send), or (--json)
 * one object. */
static void print_summary(const vault_parts_verify_totals *t, const struct ranges *upload_parts, int status,
                          const char *name, int json) {
    unsigned long parts = 0, upload;
    const char *sep;
    size_t k;
    for (k = 0; k < N_VERDICTS; k++) parts += t->count[k];
    upload = (unsigned long)t->count[VAULT_PARTS_PART_MISSING] + t->count[VAULT_PARTS_PART_SIZE_MISMATCH] +
             t->count[VAULT_PARTS_PART_MD5_MISMATCH];
    if (json) {
        printf("{\"outcome\":\"%s\",\"parts\":%lu,\"count\":{", name, parts);
        for (k = 0; k < N_VERDICTS; k++) printf("%s\"%s\":%u", k ? "," : "", verdict_names[k], t->count[k]);
        printf("},\"bytes_hashed\":%llu,\"first_to_upload\":%u,\"resumable\":%s}\n", (unsigned long long)t->bytes_hashed,
               t->first_to_upload, t->resumable ? "true" : "false");
        return;
    }
    printf("%lu part%s", parts, parts == 1 ? "" : "s");
    for (k = 0, sep = ": "; k < N_VERDICTS; k++)
        if (t->count[k]) {
            printf("%s%u %s", sep, t->count[k], verdict_names[k]);
            sep = ", ";
        }
    printf("; %llu bytes hashed; ", (unsigned long long)t->bytes_hashed);
    switch (status) {
    case EXIT_NOT_RESUMABLE:
        printf("not resumable: Vault lists %u part%s past the file's end\n", t->count[VAULT_PARTS_PART_EXTRA],
               t->count[VAULT_PARTS_PART_EXTRA] == 1 ? "" : "s");
        break;
    case EXIT_MISMATCHES:
        printf("mismatches found: upload %lu part%s: ", upload, upload == 1 ? "" : "s");
        print_ranges(upload_parts);
        printf(" (%u again)\n", t->count[VAULT_PARTS_PART_SIZE_MISMATCH] + t->count[VAULT_PARTS_PART_MD5_MISMATCH]);
        break;
    case EXIT_RESUMABLE:
        printf("resumable: upload %lu part%s: ", upload, upload == 1 ? "" : "s");
        print_ranges(upload_parts);
        putchar('\n');
        break;
    default:
        printf("commit-ready%s\n", t->count[VAULT_PARTS_PART_UNVERIFIED] ? " (UNVERIFIED parts: Vault sent no MD5)" : "");
    }
}

static int cmd_verify(int argc, char **argv) {
    struct opts o;
    vault_parts_iter *it;
    vault_parts_verify *v = NULL;
    vault_part_verdict verdict;
    vault_parts_verify_totals totals;
    struct ranges upload_parts;
    struct stat st;
    unsigned long shown = 0, done = 0, local_parts = 0;
    unsigned long long file_size = 0;
    const char *name;
    char hashed[32];
    int rc, status;

    memset(&o, 0, sizeof o);
    memset(&upload_parts, 0, sizeof upload_parts);
    o.cmd = CMD_VERIFY;
    o.verify = 1;
    if ((status = open_listing(argc, argv, &o, &it)) != 0) return status;
    /* The progress line's total: the file's parts, known from the start with --part-size,
     * else from part 1's verdict (a full part unless it is the whole file). Vault may list
     * more (EXTRA parts): then the count is its own total. */
    if (progress.on && stat(o.file, &st) == 0) file_size = (unsigned long long)st.st_size;
    if (file_size > 0 && o.part_size) local_parts = (unsigned long)((file_size - 1) / o.part_size + 1);
    /* Takes `it` over, even when it fails. */
    rc = vault_parts_verify_open(&v, it, o.file, o.part_size);
    if (rc == VAULT_PARTS_OK && o.threads) rc = vault_parts_verify_set_threads(v, (uint32_t)o.threads);
    if (rc == VAULT_PARTS_OK) {
        if (local_parts)
            progress_set("0/%lu parts verified", local_parts);
        else
            progress_set("0 parts verified");
        while ((rc = vault_parts_verify_next(v, &verdict)) == VAULT_PARTS_ROW) {
            if (verdict.status == VAULT_PARTS_PART_MISSING || verdict.status == VAULT_PARTS_PART_SIZE_MISMATCH ||
                verdict.status == VAULT_PARTS_PART_MD5_MISMATCH)
                ranges_add(&upload_parts, verdict.part_number);
            if (o.verbose || verdict.status != VAULT_PARTS_PART_OK) {
                progress_before_row();
                print_verdict(&verdict, o.json, shown++ == 0);
            }
            if (!progress.on) continue;
            done++;
            if (verdict.part_number == 1 && file_size > 0 && !local_parts)
                local_parts = verdict.local_size > 0 && verdict.local_size < file_size
                                  ? (unsigned long)((file_size - 1) / verdict.local_size + 1)
                                  : 1;
            vault_parts_verify_summary(v, &totals);
            human_bytes(hashed, sizeof hashed, (double)totals.bytes_hashed);
            if (local_parts >= done)
                progress_set("%lu/%lu parts verified, %s hashed", done, local_parts, hashed);
            else
                progress_set("%lu part%s verified, %s hashed", done, done == 1 ? "" : "s", hashed);
        }
    }
    end_progress();
    if (rc != VAULT_PARTS_DONE) {
        fflush(stdout);
        status = report_failure(vault_parts_verify_errmsg(v), rc, 0);
        vault_parts_verify_free(v);
        return status;
    }
    vault_parts_verify_summary(v, &totals);
    status = outcome(&totals, &name);
    print_summary(&totals, &upload_parts, status, name, o.json);
    vault_parts_verify_free(v);
    return status;
}

/* The upload a SIGINT or SIGTERM interrupts: set once it exists, cleared before it is freed.
 * vault_parts_upload_interrupt only raises an atomic flag, so the handler may call it. */
static vault_parts_upload *volatile signal_upload;
static volatile sig_atomic_t signal_upload_set;

static void on_signal(int sig) {
    (void)sig;
    if (signal_upload_set) vault_parts_upload_interrupt(signal_upload);
}

static void catch_signals(vault_parts_upload *u) {
    struct sigaction sa;
    signal_upload = u;
    signal_upload_set = 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* A second signal ends the process the default way, should the first not be enough. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void release_signals(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_upload_set = 0;
    signal_upload = NULL;
}

/* upload and resume's progress text: parts done of all, bytes, rate, time left. */
static void show_progress(const vault_parts_upload *u, unsigned long long done_bytes) {
    vault_parts_upload_totals t;
    char done[32], total[32], rate[32], left[32];
    double elapsed, bps;
    if (!progress.on) return;
    vault_parts_upload_summary(u, &t);
    elapsed = now_seconds() - progress.started;
    bps = elapsed > 0 ? (double)t.bytes_sent / elapsed : 0;
    human_bytes(done, sizeof done, (double)done_bytes);
    human_bytes(total, sizeof total, (double)progress.file_size);
    human_bytes(rate, sizeof rate, bps);
    if (bps > 0)
        human_duration(left, sizeof left, (double)(progress.file_size - done_bytes) / bps);
    else
        snprintf(left, sizeof left, "?");
    progress_set("%u/%u parts, %s of %s, %s/s, %s left", t.kept + t.sent, t.parts, done, total, rate, left);
}

static void print_part_event(const vault_part_upload *e, int json) {
    const char *action = e->action == VAULT_PARTS_KEPT ? "KEPT" : "SENT";
    if (json)
        printf("{\"part_number\":%u,\"action\":\"%s\",\"verdict\":\"%s\",\"offset\":%llu,\"size\":%llu,\"md5\":\"%s\","
               "\"attempts\":%u}\n",
               e->part_number, action, verdict_name(e->verdict), (unsigned long long)e->offset,
               (unsigned long long)e->size, e->md5, e->attempts);
    else
        printf("part %u %s %s offset %llu size %llu md5 %s attempts %u\n", e->part_number, action,
               verdict_name(e->verdict), (unsigned long long)e->offset, (unsigned long long)e->size, e->md5, e->attempts);
}

static void print_upload_summary(const vault_parts_upload *u, int json) {
    vault_parts_upload_totals t;
    const char *id = vault_parts_upload_id(u);
    vault_parts_upload_summary(u, &t);
    if (json) {
        fputs("{\"upload_session_id\":", stdout);
        json_string(stdout, id != NULL ? id : "");
        printf(",\"parts\":%u,\"kept\":%u,\"sent\":%u,\"bytes_sent\":%llu,\"bytes_hashed\":%llu,\"job_id\":%llu,"
               "\"committed\":%s}\n",
               t.parts, t.kept, t.sent, (unsigned long long)t.bytes_sent, (unsigned long long)t.bytes_hashed,
               (unsigned long long)t.job_id, t.committed ? "true" : "false");
        return;
    }
    printf("%u part%s: %u kept, %u sent; %llu bytes sent; job id %llu; committed %d\n", t.parts, t.parts == 1 ? "" : "s",
           t.kept, t.sent, (unsigned long long)t.bytes_sent, (unsigned long long)t.job_id, t.committed);
}

/* A failed upload: the JSON object (with --json), then the message on stderr. */
static int upload_failure(vault_parts_upload *u, int rc, int before_io, const struct opts *o) {
    const char *msg = vault_parts_upload_errmsg(u);
    if (o->json)
        print_json_error(rc, msg, vault_parts_upload_http_status(u), (long long)vault_parts_upload_retry_after_ms(u));
    fflush(stdout);
    return report_failure(msg, rc, before_io);
}

/* upload and resume: the iterator (new or existing session) taken over by an upload. */
static int run_upload(int argc, char **argv, enum command cmd) {
    struct opts o;
    vault_parts_iter *it;
    vault_parts_upload *u = NULL;
    vault_part_upload e;
    struct stat st;
    const char *id;
    int rc, status;

    memset(&o, 0, sizeof o);
    o.cmd = cmd;
    if ((status = open_listing(argc, argv, &o, &it)) != 0) return status;
    /* Takes `it` over, even when it fails. Refusals before any I/O (a part size or poll interval
     * out of range) are usage errors. */
    rc = vault_parts_upload_open(&u, it, o.file, o.part_size);
    if (rc == VAULT_PARTS_OK)
        rc = vault_parts_upload_set_commit(u, o.no_commit ? VAULT_PARTS_COMMIT_NONE
                                              : o.no_wait ? VAULT_PARTS_COMMIT
                                                          : VAULT_PARTS_COMMIT_WAIT);
    if (rc == VAULT_PARTS_OK && o.poll_ms) rc = vault_parts_upload_set_poll_ms(u, (uint32_t)o.poll_ms);
    if (rc != VAULT_PARTS_OK) {
        status = upload_failure(u, rc, 1, &o);
        vault_parts_upload_free(u);
        return status;
    }
    catch_signals(u);
    rc = vault_parts_upload_start(u);
    id = vault_parts_upload_id(u);
    /* The ID first, before any part is sent: a crash or a signal after it leaves a session the
     * user can resume. A new session's ID is printed even when the start failed after the
     * create; a resumed session's (the argument) only once the start succeeded. */
    if (id != NULL && (rc == VAULT_PARTS_OK || cmd == CMD_UPLOAD)) {
        progress_before_row();
        if (o.json) {
            fputs("{\"upload_session_id\":", stdout);
            json_string(stdout, id);
            fputs("}\n", stdout);
        } else {
            printf("upload session: %s\n", id);
        }
        fflush(stdout);
    }
    if (rc == VAULT_PARTS_OK) {
        progress.started = now_seconds();
        if (progress.on && stat(o.file, &st) == 0) progress.file_size = (unsigned long long)st.st_size;
        show_progress(u, 0);
        while ((rc = vault_parts_upload_next(u, &e)) == VAULT_PARTS_ROW) {
            if (o.verbose || o.json) {
                progress_before_row();
                print_part_event(&e, o.json);
                fflush(stdout);
            }
            show_progress(u, (unsigned long long)(e.offset + e.size));
        }
    }
    end_progress();
    release_signals();
    if (rc != VAULT_PARTS_DONE) {
        /* A --part-size outside 5 MiB to 50 MiB never gets here (parse_args refuses it); the
         * start's E_ARGs (an empty file, a file too large for Vault) are about the file: 11, as
         * verify's empty file. */
        status = upload_failure(u, rc, 0, &o);
        vault_parts_upload_free(u);
        return status;
    }
    print_upload_summary(u, o.json);
    vault_parts_upload_free(u);
    return 0;
}

static int cmd_upload(int argc, char **argv) {
    return run_upload(argc, argv, CMD_UPLOAD);
}

static int cmd_resume(int argc, char **argv) {
    return run_upload(argc, argv, CMD_RESUME);
}

/* abort: one DELETE; the session and its parts are gone once Vault confirmed it. */
static int cmd_abort(int argc, char **argv) {
    struct opts o;
    vault_parts_iter *it;
    char *shown;
    int rc, status;

    memset(&o, 0, sizeof o);
    o.cmd = CMD_ABORT;
    if ((status = open_listing(argc, argv, &o, &it)) != 0) return status;
    rc = vault_parts_abort(it);
    if (rc != VAULT_PARTS_OK) {
        status = iter_failure(it, rc, 0, o.json);
        vault_parts_free(it);
        return status;
    }
    /* The ID is an argument: shown redacted, as in a usage error (Vault accepted it, so it is
     * not the session ID, but the rule for arguments holds everywhere). */
    shown = redacted(o.upload);
    if (o.json) {
        fputs("{\"upload_session_id\":", stdout);
        json_string(stdout, shown != NULL ? shown : "[argument]");
        fputs(",\"aborted\":true}\n", stdout);
    } else {
        printf("aborted upload session %s\n", shown != NULL ? shown : "[argument]");
    }
    free(shown);
    vault_parts_free(it);
    return 0;
}

/* Whether the well-formed UTF-8 sequence of `n` bytes at `p` is a C1 control (U+0080..U+009F)
 * or a bidi control (U+200E, U+200F, U+061C, U+202A..U+202E, U+2066..U+2069): invisible
 * characters that would reorder or hide what a terminal shows of the line. */
static int is_hidden_control(const unsigned char *p, size_t n) {
    if (n == 2) return (p[0] == 0xC2 && p[1] <= 0x9F) || (p[0] == 0xD8 && p[1] == 0x9C);
    if (n != 3 || p[0] != 0xE2) return 0;
    if (p[1] == 0x80) return p[2] == 0x8E || p[2] == 0x8F || (p[2] >= 0xAA && p[2] <= 0xAE);
    return p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9;
}

/* A text field of a sessions line. An empty field is "-", and a field that is "-" itself
 * (or starts with a backslash) gets a backslash in front ("\-", "\\..."), so the two never
 * look alike. A C0 control or DEL (a tab or newline would break the line's fields), a C1
 * control or a bidi control becomes '?'; other bytes are written as they came. */
static void tsv_field(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    if (*p == '\0') {
        putchar('-');
        return;
    }
    if (strcmp(s, "-") == 0 || *p == '\\') putchar('\\');
    while (*p != '\0') {
        if (*p < 0x20 || *p == 0x7F) {
            putchar('?');
            p++;
        } else if ((n = utf8_len(p)) > 1 && is_hidden_control(p, n)) {
            putchar('?');
            p += n;
        } else {
            n = n ? n : 1;
            fwrite(p, 1, n, stdout);
            p += n;
        }
    }
}

static void print_session(const vault_parts_session *s, int json) {
    if (json) {
        fputs("{\"id\":", stdout);
        json_string(stdout, s->id);
        fputs(",\"path\":", stdout);
        json_string(stdout, s->path);
        printf(",\"size\":%llu,\"uploaded_parts\":%u,\"uploaded_bytes\":%llu,\"created_date\":",
               (unsigned long long)s->size, s->uploaded_parts, (unsigned long long)s->uploaded_bytes);
        json_string(stdout, s->created_date);
        fputs(",\"expiration_date\":", stdout);
        json_string(stdout, s->expiration_date);
        fputs("}\n", stdout);
        return;
    }
    tsv_field(s->id);
    putchar('\t');
    tsv_field(s->path);
    printf("\t%llu\t%u\t%llu\t", (unsigned long long)s->size, s->uploaded_parts, (unsigned long long)s->uploaded_bytes);
    tsv_field(s->created_date);
    putchar('\t');
    tsv_field(s->expiration_date);
    putchar('\n');
}

/* sessions: the user's upload sessions in Vault's order, one line (or object) each, nothing
 * else: no header, no summary. */
static int cmd_sessions(int argc, char **argv) {
    struct opts o;
    vault_parts_iter *it;
    vault_parts_session *s;
    int rc = VAULT_PARTS_DONE, status;

    memset(&o, 0, sizeof o);
    o.cmd = CMD_SESSIONS;
    if ((status = open_listing(argc, argv, &o, &it)) != 0) return status;
    /* About 4.7 KiB: on the heap. */
    s = malloc(sizeof *s);
    if (s == NULL) {
        vault_parts_free(it);
        fputs(PROG ": out of memory\n", stderr);
        return 10 + VAULT_PARTS_E_INTERNAL;
    }
    /* A line that cannot be written ends the listing: no further page is asked for, and
     * finish_output reports it. */
    while (!ferror(stdout) && (rc = vault_parts_sessions_next(it, s)) == VAULT_PARTS_ROW) print_session(s, o.json);
    free(s);
    if (ferror(stdout)) rc = VAULT_PARTS_DONE;
    status = rc == VAULT_PARTS_DONE ? 0 : iter_failure(it, rc, 0, o.json);
    vault_parts_free(it);
    return status;
}

/* Standard output's check, once a command is done: every write so far (stdio keeps the error),
 * the last flush and the close. A failure (a full disk, a closed pipe) is reported on stderr
 * and turns a status that says the work was reported (0, verify's 1 to 3) into EXIT_OUTPUT;
 * a failure status the command already has (64, 11 to 25) stays. */
static int finish_output(int status) {
    /* The reason is told only when the flush or the close gives it: errno from a write that
     * failed earlier may have been overwritten since. */
    int failed = ferror(stdout), err = 0;
    if (fflush(stdout) != 0) failed = 1, err = errno;
    if (fclose(stdout) != 0) {
        if (err == 0) err = errno;
        failed = 1;
    }
    if (!failed) return status;
    if (err != 0)
        fprintf(stderr, PROG ": cannot write standard output: %s\n", strerror(err));
    else
        fputs(PROG ": cannot write standard output\n", stderr);
    return status < 10 ? EXIT_OUTPUT : status;
}

/* One row per subcommand. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {{"list", cmd_list},     {"verify", cmd_verify}, {"upload", cmd_upload},
                {"resume", cmd_resume}, {"abort", cmd_abort},   {"sessions", cmd_sessions}};

int main(int argc, char **argv) {
    size_t k;
    if (argc < 2) return usage_error("a command is missing (list, verify, upload, resume, abort, sessions)", NULL);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage();
        return finish_output(0);
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf(PROG " %s (libvault_parts %s)\n", VAULT_PARTS_VERSION_STRING, vault_parts_version());
        return finish_output(0);
    }
    for (k = 0; k < sizeof commands / sizeof *commands; k++)
        if (strcmp(argv[1], commands[k].name) == 0) return finish_output(commands[k].run(argc - 2, argv + 2));
    if (argv[1][0] == '-') return usage_error("unknown option '%s' (options follow the command)", argv[1]);
    return usage_error("unknown command '%s' (commands: list, verify, upload, resume, abort, sessions)", argv[1]);
}
