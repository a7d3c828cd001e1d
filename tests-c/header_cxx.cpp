// The header compiles as C++11 with every warning an error, and links from C++.
#include "vault_parts.h"
#include <cstdio>
#include <cstring>

int main() {
    vault_parts_iter *it = nullptr;
    int rc = vault_parts_open(&it, "https://myvault.veevavault.com", "sid-0123456789", "upload1");
    vault_parts_log_fn log = nullptr;
    bool ok = rc == VAULT_PARTS_OK && it != nullptr && vault_parts_set_log(it, log, nullptr) == VAULT_PARTS_OK &&
              std::strcmp(vault_parts_version(), VAULT_PARTS_VERSION_STRING) == 0 &&
              sizeof(vault_part{}.part_content_md5) == 33;
    vault_parts_free(it);
    std::printf("header_cxx: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
