// The C++ wrapper's verify: range-for over verdicts, the listing (and its log function) taken
// over, moves, summary, and exceptions carrying the code, Vault's error type and the message.
//
// usage: cxx_wrapper_verify URL SESSION_ID UPLOAD_SESSION_ID FILE OTHER_USERS_SESSION_ID MISSING_FILE
// Prints "verdict N STATUS LOCAL_SIZE REMOTE_SIZE" per part, then the summary and the check count.
#include "vault_parts.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common.h"  // CHECK, test_failures

int main(int argc, char **argv) {
    if (argc != 7) return 2;
    const std::string url = argv[1], sid = argv[2], upload = argv[3], file = argv[4], other = argv[5],
                      missing = argv[6];

    // The listing, with its log function, is gone before the verdicts are iterated: the verifier
    // owns both.
    std::vector<std::string> log;
    std::optional<vault_parts::verify> made;
    {
        vault_parts::listing parts(url, sid, upload);
        parts.limit(2).log([&log](int level, const char *message) { log.push_back(std::to_string(level) + message); });
        made.emplace(std::move(parts), file);
        CHECK(parts.native_handle() == nullptr);
    }
    made->threads(2);
    vault_parts::verify check = std::move(*made);
    CHECK(made->native_handle() == nullptr);
    std::uint32_t expected = 0;
    for (const vault_part_verdict &v : check) {
        CHECK(v.part_number == ++expected);
        std::printf("verdict %u %d %llu %llu\n", v.part_number, v.status, (unsigned long long)v.local_size,
                    (unsigned long long)v.remote_size);
    }
    CHECK(!check.next().has_value());  // DONE stays DONE
    CHECK(!log.empty());
    vault_parts_verify_totals t = check.summary();
    std::printf("summary %u %u %u %u %u %u %llu %u %d\n", t.count[0], t.count[1], t.count[2], t.count[3], t.count[4],
                t.count[5], (unsigned long long)t.bytes_hashed, t.first_to_upload, t.resumable);
    // The thread count is refused once iteration began.
    try {
        check.threads(1);
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ARG);
    }
    // Out of range before it: thrown, and kept by the handle.
    try {
        vault_parts::verify v(vault_parts::listing(url, sid, upload), file);
        v.threads(17);
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ARG);
        CHECK(std::string(e.what()).find("17") != std::string::npos);
    }
    // A listing that already failed: the constructor throws its error, and takes it over all the same.
    {
        vault_parts::listing failed(url, sid, upload);
        try {
            failed.limit(0);
        } catch (const vault_parts::error &) {
        }
        try {
            vault_parts::verify v(std::move(failed), file);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
            CHECK(std::string(e.what()).find("limit") != std::string::npos);
        }
        CHECK(failed.native_handle() == nullptr);
    }
    // A listing already iterated is refused.
    {
        vault_parts::listing started(url, sid, upload);
        CHECK(started.next().has_value());
        try {
            vault_parts::verify v(std::move(started), file);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
        }
    }
    // The local file's failure throws E_IO naming the path.
    try {
        vault_parts::verify v(vault_parts::listing(url, sid, upload), missing);
        for (const vault_part_verdict &d : v) (void)d;
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_IO);
        CHECK(std::string(e.what()).find(missing) != std::string::npos);
    }
    // Vault's refusal throws with its error type, and the session ID stays out of the message.
    try {
        vault_parts::verify v(vault_parts::listing(url, other, upload), file);
        for (const vault_part_verdict &d : v) (void)d;
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ACCESS);
        CHECK(e.vault_type() == "INSUFFICIENT_ACCESS");
        CHECK(std::string(e.what()).find(other) == std::string::npos);
    }
    // Stopping early frees the verifier mid-way (threads joined).
    {
        vault_parts::verify v(vault_parts::listing(url, sid, upload), file);
        for (const vault_part_verdict &d : v) {
            CHECK(d.part_number == 1);
            break;
        }
    }
    std::printf("cxx_wrapper_verify: %u verdicts, %d failed checks\n", expected, test_failures);
    return test_failures ? 1 : 0;
}
