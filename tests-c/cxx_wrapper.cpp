// The C++ wrapper: range-for over every part, chained setters, moves, exceptions that carry
// the code, Vault's error type, the message, the HTTP status and the server's Retry-After, a
// shared client, and interrupt().
//
// usage: cxx_wrapper URL SESSION_ID UPLOAD_SESSION_ID EXPECTED_PARTS OTHER_USERS_SESSION_ID
#include "vault_parts.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static int failures = 0;
#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                            \
        }                                                                          \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 6) return 2;
    const std::string url = argv[1], sid = argv[2], upload = argv[3], other = argv[5];
    const unsigned long expected = std::strtoul(argv[4], nullptr, 10);

    // Range-for with chained setters and a log function.
    std::vector<std::string> log;
    vault_parts::listing parts(url, sid, upload);
    parts.limit(3).api_version("v25.3").timeout(std::chrono::seconds(5)).max_attempts(2).client_id("cxx-test")
        .log([&log](int level, const char *message) { log.push_back(std::to_string(level) + " " + message); });
    vault_parts::listing moved = std::move(parts);  // the handle and the log function move along
    CHECK(parts.native_handle() == nullptr);
    unsigned long n = 0;
    for (const vault_part &p : moved) {
        CHECK(p.part_number == ++n);
        CHECK(std::strlen(p.part_content_md5) == 32);
    }
    CHECK(n == expected);
    CHECK(moved.burst_remaining() >= 0);
    CHECK(!log.empty());
    CHECK(!moved.next().has_value());  // DONE stays DONE

    // Bad arguments throw from the constructor.
    try {
        vault_parts::listing bad("ftp://nowhere", sid, upload);
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ARG);
        CHECK(std::string(e.what()).find("vault_url") != std::string::npos);
    }
    // A rejected setter throws.
    try {
        vault_parts::listing l(url, sid, upload);
        l.limit(0);
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ARG);
        CHECK(std::string(e.what()).find("limit") != std::string::npos);
    }
    // A setter refused for its timing changes nothing, so the handle has no message: the
    // exception names the member instead of being empty, and the listing goes on.
    {
        vault_parts::listing l(url, sid, upload);
        CHECK(l.next().has_value());
        try {
            l.limit(5);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
            CHECK(std::string(e.what()) == "vault_parts::listing::limit: bad argument or call");
            CHECK(e.vault_type().empty());
        }
        CHECK(vault_parts_errcode(l.native_handle()) == VAULT_PARTS_OK);
        CHECK(l.next().has_value());
    }
    // Durations the C API cannot take throw E_ARG instead of wrapping, and leave the handle usable.
    for (std::chrono::milliseconds bad : {std::chrono::milliseconds(-1), std::chrono::milliseconds(4294967296LL),
                                          std::chrono::milliseconds(std::chrono::hours(24 * 50))}) {
        vault_parts::listing l(url, sid, upload);
        try {
            l.timeout(bad);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
            CHECK(std::string(e.what()).find("out of range") != std::string::npos);
        }
        CHECK(vault_parts_errcode(l.native_handle()) == VAULT_PARTS_OK);
        try {
            l.backoff(std::chrono::milliseconds(1), bad);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
        }
    }
    {
        vault_parts::listing l(url, sid, upload);
        l.timeout(std::chrono::milliseconds(4294967295LL));  // the largest the C API takes
        CHECK(vault_parts_errcode(l.native_handle()) == VAULT_PARTS_OK);
    }
    // Vault's refusal throws with its error type, and the session ID stays out of the message.
    try {
        vault_parts::listing l(url, other, upload);
        for (const vault_part &p : l) (void)p;
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ACCESS);
        CHECK(e.vault_type() == "INSUFFICIENT_ACCESS");
        CHECK(std::string(e.what()).find(other) == std::string::npos);
    }
    // Services: a client whose copies share one client (and its connection), interrupt(), and
    // the details on the exception.
    {
        vault_parts::client shared;
        shared.max_idle(2).proxy_from_environment(false);
        vault_parts::client copy = shared;
        unsigned long listed = 0;
        vault_parts::listing first(shared, url, sid, upload);
        for (const vault_part &p : first) listed += p.part_number > 0;
        vault_parts::listing second(copy, url, sid, upload);
        for (const vault_part &p : second) listed += p.part_number > 0;
        CHECK(listed == 2 * expected);
        CHECK(first.stats().connections == 1 && second.stats().connections == 0);
        CHECK(second.stats().pages == 1 && second.http_status() == 200);
        try {
            copy.max_idle(3);  // settings are fixed once a listing was made
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
        }
        vault_parts::listing stopped(copy, url, sid, upload);
        stopped.interrupt();
        try {
            for (const vault_part &p : stopped) (void)p;
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_CANCELLED);
            CHECK(e.http_status() == 0 && e.retry_after_ms() == -1);
        }
    }
    try {
        vault_parts::listing l(url, other, upload);
        for (const vault_part &p : l) (void)p;
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ACCESS);
        CHECK(e.http_status() == 200);  // Vault says FAILURE in an HTTP 200 answer
        CHECK(e.retry_after_ms() == -1);
    }
    std::printf("cxx_wrapper: %lu parts, %d failed checks\n", n, failures);
    return failures ? 1 : 0;
}
