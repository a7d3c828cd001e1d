/*
 * Listing the user's upload sessions and aborting one, through the C ABI, with the misuse
 * rules: calls on the wrong kind of iterator, at the wrong time, and NULLs.
 *
 * usage: sessions URL SESSION_ID ABORT_ID OTHER_ID
 *   vault-sim holds exactly two sessions of the user, ABORT_ID and OTHER_ID.
 * exit:  0 when every check held, 1 otherwise, 2 on usage errors.
 */
#include "common.h"

/* The user's sessions: prints each, returns how many, 1 in *seen_abort when ABORT_ID is one. */
static int list_sessions(const char *url, const char *sid, const char *abort_id, int *seen_abort) {
    vault_parts_iter *it = NULL;
    vault_parts_session s;
    vault_part part;
    int rc, n = 0;
    *seen_abort = 0;
    CHECK_CODE(vault_parts_open_sessions(&it, url, sid), VAULT_PARTS_OK);
    /* Listing parts, or uploading, is misuse on it: refused, nothing changes. */
    CHECK_CODE(vault_parts_next(it, &part), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_abort(it), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_sessions_next(it, NULL), VAULT_PARTS_E_ARG);
    while ((rc = vault_parts_sessions_next(it, &s)) == VAULT_PARTS_ROW) {
        printf("session %s path=%s size=%llu parts=%u\n", s.id, s.path, (unsigned long long)s.size,
               (unsigned)s.uploaded_parts);
        if (strcmp(s.id, abort_id) == 0) *seen_abort = 1;
        n++;
    }
    CHECK_CODE(rc, VAULT_PARTS_DONE);
    CHECK_CODE(vault_parts_sessions_next(it, &s), VAULT_PARTS_DONE);
    vault_parts_free(it);
    return n;
}

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_parts_session s;
    vault_part part;
    vault_parts_upload *u = NULL;
    int seen = 0;
    if (argc != 5) return 2;

    CHECK(list_sessions(argv[1], argv[2], argv[3], &seen) == 2);
    CHECK(seen == 1);

    /* Abort: once, then misuse; listing the aborted session's parts is misuse too. */
    CHECK_CODE(vault_parts_open(&it, argv[1], argv[2], argv[3]), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_sessions_next(it, &s), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_abort(it), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_abort(it), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), "");
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_next(it, &part), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    vault_parts_free(it);

    CHECK(list_sessions(argv[1], argv[2], argv[3], &seen) == 1);
    CHECK(seen == 0);

    /* Aborting it again: Vault no longer knows the session; the error is the iterator's. */
    CHECK_CODE(vault_parts_open(&it, argv[1], argv[2], argv[3]), VAULT_PARTS_OK);
    {
        int rc = vault_parts_abort(it);
        CHECK(rc != VAULT_PARTS_OK && rc != VAULT_PARTS_E_ARG);
        CHECK_CODE(vault_parts_errcode(it), rc);
        CHECK(strlen(vault_parts_errmsg(it)) > 0);
        CHECK(strstr(vault_parts_errmsg(it), argv[2]) == NULL);
        printf("second abort: %s: %s\n", code_name(rc), vault_parts_errmsg(it));
    }
    vault_parts_free(it);

    /* A sessions iterator is not an upload's. */
    CHECK_CODE(vault_parts_open_sessions(&it, argv[1], argv[2]), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_upload_open(&u, it, "/nonexistent", 0), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_upload_errmsg(u), "lists upload sessions");
    vault_parts_upload_free(u);

    /* An iterator for a new session has no parts to list and nothing to abort. */
    CHECK_CODE(vault_parts_open_new(&it, argv[1], argv[2], "/u/alice/new.bin", 0), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_next(it, &part), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_abort(it), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_sessions_next(it, &s), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_OK);
    vault_parts_free(it);
    CHECK_CODE(vault_parts_open_new(&it, argv[1], argv[2], "relative.bin", 0), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), "must be absolute");
    vault_parts_free(it);
    CHECK_CODE(vault_parts_open_new(&it, argv[1], argv[2], "/u/a.bin", 2), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), "overwrite is 2");
    vault_parts_free(it);

    /* NULLs. */
    CHECK_CODE(vault_parts_abort(NULL), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_sessions_next(NULL, &s), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_open_sessions(NULL, argv[1], argv[2]), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_open_sessions(&it, NULL, argv[2]), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), "vault_url is NULL");
    CHECK_CODE(vault_parts_sessions_next(it, &s), VAULT_PARTS_E_ARG);
    vault_parts_free(it);
    CHECK_CODE(vault_parts_open_sessions_with_client(&it, NULL, argv[1], argv[2]), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), "client is NULL");
    vault_parts_free(it);
    CHECK_CODE(vault_parts_open_new(NULL, argv[1], argv[2], "/u/a.bin", 0), VAULT_PARTS_E_ARG);
    CHECK_CODE(vault_parts_open_new(&it, argv[1], argv[2], NULL, 0), VAULT_PARTS_E_ARG);
    CHECK_CONTAINS(vault_parts_errmsg(it), "staging_path is NULL");
    vault_parts_free(it);

    /* Two clients' worth: the shared-client form lists the same sessions. */
    {
        vault_parts_client *c = NULL;
        int n = 0, rc;
        CHECK_CODE(vault_parts_client_new(&c), VAULT_PARTS_OK);
        CHECK_CODE(vault_parts_open_sessions_with_client(&it, c, argv[1], argv[2]), VAULT_PARTS_OK);
        while ((rc = vault_parts_sessions_next(it, &s)) == VAULT_PARTS_ROW) {
            CHECK(strcmp(s.id, argv[4]) == 0);
            n++;
        }
        CHECK_CODE(rc, VAULT_PARTS_DONE);
        CHECK(n == 1);
        vault_parts_free(it);
        vault_parts_client_free(c);
    }

    printf("sessions: %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
