// The C++ wrapper's verify: range-for over verdicts (typed as part_status), the listing (and its
// log function) taken over, moves, summary, stats(), interrupt() from another thread, setters
// chained on temporaries, string_view arguments, and exceptions carrying the code, Vault's
// error type, the message, the HTTP status and the server's Retry-After.
//
// usage: cxx_wrapper_verify URL SESSION_ID UPLOAD_SESSION_ID FILE OTHER_USERS_SESSION_ID MISSING_FILE
//                           UNAVAILABLE_UPLOAD_SESSION_ID
// UPLOAD_SESSION_ID lists 2 parts of FILE's 3; UNAVAILABLE_UPLOAD_SESSION_ID is a session of FILE
// whose every listing page is answered 503 with Retry-After: 2.
// Prints "verdict N STATUS NAME LOCAL_SIZE REMOTE_SIZE" per part, then the summary and the
// check count.
#include "vault_parts.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "common.h"  // CHECK, test_failures

// Setters chain on a named object (a reference to it) and on a temporary (the temporary moved
// into a value, so nothing dangles), for the listing, verify and upload alike.
template <class T, class R>
constexpr bool returns_v = std::is_same_v<T, R>;
static_assert(returns_v<decltype(std::declval<vault_parts::listing &>().limit(1)), vault_parts::listing &>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().limit(1)), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().api_version("v25.3")), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().timeout(std::chrono::seconds(1))),
                        vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().max_attempts(1)), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().backoff(std::chrono::milliseconds(1),
                                                                             std::chrono::milliseconds(2))),
                        vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().client_id("x")), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().ca_file("x")), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().add_ca_file("x")), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().system_roots()), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().deadline(std::chrono::seconds(1))),
                        vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::listing>().log(nullptr)), vault_parts::listing>);
static_assert(returns_v<decltype(std::declval<vault_parts::verify &>().threads(1)), vault_parts::verify &>);
static_assert(returns_v<decltype(std::declval<vault_parts::verify>().threads(1)), vault_parts::verify>);
static_assert(returns_v<decltype(std::declval<vault_parts::upload &>().commit_mode(0)), vault_parts::upload &>);
static_assert(returns_v<decltype(std::declval<vault_parts::upload>().commit_mode(0)), vault_parts::upload>);
static_assert(returns_v<decltype(std::declval<vault_parts::upload>().poll_interval(std::chrono::seconds(1))),
                        vault_parts::upload>);
static_assert(returns_v<decltype(std::declval<vault_parts::upload>().start()), vault_parts::upload>);
// A verdict is the C struct with its status typed.
static_assert(std::is_base_of_v<vault_part_verdict, vault_parts::verdict>);
static_assert(std::is_same_v<std::underlying_type_t<vault_parts::part_status>, int>);
static_assert(std::is_same_v<vault_parts::verify::iterator::value_type, vault_parts::verdict>);

int main(int argc, char **argv) {
    if (argc != 8) return 2;
    const std::string url = argv[1], sid = argv[2], upload = argv[3], file = argv[4], other = argv[5],
                      missing = argv[6], unavailable = argv[7];
    using vault_parts::part_status;

    // Each status's name, and the raw values they stand for.
    CHECK(vault_parts::to_string(part_status::ok) == "OK");
    CHECK(vault_parts::to_string(part_status::missing) == "MISSING");
    CHECK(vault_parts::to_string(part_status::size_mismatch) == "SIZE_MISMATCH");
    CHECK(vault_parts::to_string(part_status::md5_mismatch) == "MD5_MISMATCH");
    CHECK(vault_parts::to_string(part_status::unverified) == "UNVERIFIED");
    CHECK(vault_parts::to_string(part_status::extra) == "EXTRA");
    CHECK(vault_parts::to_string(static_cast<part_status>(6)) == "UNKNOWN");
    CHECK(static_cast<int>(part_status::ok) == VAULT_PARTS_PART_OK);
    CHECK(static_cast<int>(part_status::missing) == VAULT_PARTS_PART_MISSING);
    CHECK(static_cast<int>(part_status::size_mismatch) == VAULT_PARTS_PART_SIZE_MISMATCH);
    CHECK(static_cast<int>(part_status::md5_mismatch) == VAULT_PARTS_PART_MD5_MISMATCH);
    CHECK(static_cast<int>(part_status::unverified) == VAULT_PARTS_PART_UNVERIFIED);
    CHECK(static_cast<int>(part_status::extra) == VAULT_PARTS_PART_EXTRA);

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
    // Nothing fetched yet.
    CHECK(check.stats().requests == 0 && check.stats().pages == 0 && check.http_status() == 0);
    std::uint32_t expected = 0;
    const part_status want[] = {part_status::ok, part_status::md5_mismatch, part_status::missing};
    for (const vault_parts::verdict &v : check) {
        CHECK(v.part_number == ++expected);
        CHECK(static_cast<int>(v.state()) == v.status);  // the raw value is still there
        CHECK(expected <= 3 && v.state() == want[expected - 1]);
        std::printf("verdict %u %d %s %llu %llu\n", v.part_number, v.status, vault_parts::to_string(v.state()).c_str(),
                    (unsigned long long)v.local_size, (unsigned long long)v.remote_size);
    }
    CHECK(!check.next().has_value());  // DONE stays DONE
    CHECK(!log.empty());
    // The details request, then one page of the 2 listed parts (limit 2).
    {
        const vault_parts_statistics st = check.stats();
        CHECK(st.requests == 2);
        CHECK(st.pages == 1);
        CHECK(st.retries == 0);
        CHECK(st.bytes_received > 0);
        CHECK(check.http_status() == 200);
    }
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
    // The local file's failure throws E_IO naming the path; no request was made, so no status.
    try {
        vault_parts::verify v(vault_parts::listing(url, sid, upload), missing);
        for (const vault_part_verdict &d : v) (void)d;
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_IO);
        CHECK(std::string(e.what()).find(missing) != std::string::npos);
        CHECK(e.vault_type().empty());
        CHECK(e.http_status() == 0);
        CHECK(e.retry_after_ms() == -1);
        CHECK(!e.retry_after().has_value());
    }
    // A misuse changes nothing and the handle has no message for it: the error still explains.
    try {
        check.threads(3);
        CHECK(false);
    } catch (const vault_parts::error &e) {
        CHECK(e.code() == VAULT_PARTS_E_ARG);
        CHECK(std::string(e.what()) == "vault_parts::verify::threads: bad argument or call");
        CHECK(e.http_status() == 200);
    }
    // Every page answered 503 with Retry-After: 2, one attempt: the error carries the status and
    // the wait, and the verifier's statistics stay readable (the details, then the first page).
    // Setters chained on temporaries: the listing's into the constructor, the verify's into `v`.
    {
        vault_parts::verify v =
            vault_parts::verify(vault_parts::listing(url, sid, unavailable).limit(2).max_attempts(1), file).threads(1);
        try {
            for (const vault_part_verdict &d : v) (void)d;
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_HTTP);
            CHECK(e.http_status() == 503);
            CHECK(e.retry_after_ms() == 2000);
            CHECK(e.retry_after() == std::optional<std::chrono::milliseconds>(std::chrono::milliseconds(2000)));
            CHECK(e.vault_type().empty());
            CHECK(std::string(e.what()).find("503") != std::string::npos);
        }
        const vault_parts_statistics st = v.stats();
        CHECK(st.requests == 2);
        CHECK(st.pages == 0);
        CHECK(st.retries == 0);
        CHECK(v.http_status() == 503);
    }
    // interrupt() from another thread stops a verify waiting out the 503's Retry-After (2 s,
    // before its second attempt): E_CANCELLED, well before that wait would have ended.
    {
        vault_parts::verify v(vault_parts::listing(url, sid, unavailable).max_attempts(3), file);
        const auto began = std::chrono::steady_clock::now();
        std::thread stopper([&v] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            v.interrupt();
        });
        try {
            for (const vault_part_verdict &d : v) (void)d;
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_CANCELLED);
        }
        stopper.join();
        const auto took = std::chrono::steady_clock::now() - began;
        CHECK(took < std::chrono::milliseconds(1900));
        CHECK(v.stats().requests == 2);  // the details, then the first attempt at page 1
        CHECK(v.stats().retries == 0);
        v.interrupt();  // again: nothing more
        CHECK(vault_parts_verify_errcode(v.native_handle()) == VAULT_PARTS_E_CANCELLED);
    }
    // String arguments are string_views, copied with their NUL: a view into a longer string
    // names only what it views (passing its data() on would name "FILE.not-this" and the ID
    // "UPLOAD/x").
    {
        const std::string long_file = file + ".not-this", long_id = upload + "/x";
        const std::string_view file_view(long_file.data(), file.size()), id_view(long_id.data(), upload.size());
        vault_parts::verify v(vault_parts::listing(std::string_view(url), std::string_view(sid), id_view), file_view);
        std::uint32_t n = 0;
        for (const vault_parts::verdict &d : v) CHECK(d.part_number == ++n && d.state() == want[n - 1]);
        CHECK(n == 3);
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
