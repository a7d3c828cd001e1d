/*
 * A panic inside the library must not cross the C boundary: the call returns
 * VAULT_PARTS_E_INTERNAL, the handle keeps that error, and the process goes on.
 * vault_parts_test_panic exists only in debug builds and is not in the public header.
 *
 * usage: panic URL SESSION_ID UPLOAD_SESSION_ID
 */
#include "common.h"

int vault_parts_test_panic(vault_parts_iter *it);

int main(int argc, char **argv) {
    vault_parts_iter *it = NULL;
    vault_part p;
    if (argc != 4) return 2;
    CHECK_CODE(vault_parts_open(&it, argv[1], argv[2], argv[3]), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_test_panic(it), VAULT_PARTS_E_INTERNAL);
    CHECK_CONTAINS(vault_parts_errmsg(it), "internal error");
    CHECK_CONTAINS(vault_parts_errmsg(it), "forced by vault_parts_test_panic");
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_E_INTERNAL);
    CHECK_CODE(vault_parts_errcode(it), VAULT_PARTS_E_INTERNAL);
    CHECK_CODE(vault_parts_test_panic(NULL), VAULT_PARTS_E_ARG);
    vault_parts_free(it);

    /* Other handles are unaffected. */
    it = NULL;
    CHECK_CODE(vault_parts_open(&it, argv[1], argv[2], argv[3]), VAULT_PARTS_OK);
    CHECK_CODE(vault_parts_next(it, &p), VAULT_PARTS_ROW);
    vault_parts_free(it);
    printf("panic: survived, %d failed checks\n", test_failures);
    return test_failures ? 1 : 0;
}
