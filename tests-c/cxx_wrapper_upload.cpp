// The C++ wrapper's upload: a new session created by start() (its ID known before any part is
// sent), committed and waited for; a resume keeping intact parts and sending the others, over a
// client, from a configured listing (and its log function) it took over; exceptions carrying the
// exact code, Vault's error type and the message; misuse; interrupt() from another thread.
//
// usage: cxx_wrapper_upload URL SESSION_ID FILE RESUME_ID CONFLICT_FILE HANG_ID INTERRUPT_MS UNKNOWN_SESSION_ID
//   FILE has 3 parts of 5 MiB or fewer. RESUME_ID lists FILE's first 2 parts, part 1 with a wrong
//   MD5. CONFLICT_FILE is another size. HANG_ID lists none of FILE's parts and its first PUT hangs.
// Prints "new ID", then "LABEL event N VERDICT ACTION OFFSET SIZE MD5 ATTEMPTS" per part event and
// "LABEL summary PARTS KEPT SENT BYTES_SENT BYTES_HASHED COMMITTED" per upload, one line per thrown
// error ("LABEL CODE VAULT_TYPE"), and the check count.
#include "vault_parts.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common.h"  // CHECK, code_name, test_failures

namespace {

const char *verdict_name(int v) {
    switch (v) {
    case VAULT_PARTS_PART_OK: return "OK";
    case VAULT_PARTS_PART_MISSING: return "MISSING";
    case VAULT_PARTS_PART_SIZE_MISMATCH: return "SIZE_MISMATCH";
    case VAULT_PARTS_PART_MD5_MISMATCH: return "MD5_MISMATCH";
    case VAULT_PARTS_PART_UNVERIFIED: return "UNVERIFIED";
    default: return "BAD_VERDICT";
    }
}

unsigned events = 0;

void print_event(const char *label, const vault_part_upload &e) {
    events++;
    std::printf("%s event %u %s %s %llu %llu %.32s %u\n", label, e.part_number, verdict_name(e.verdict),
                e.action == VAULT_PARTS_KEPT ? "KEPT" : e.action == VAULT_PARTS_SENT ? "SENT" : "BAD_ACTION",
                static_cast<unsigned long long>(e.offset), static_cast<unsigned long long>(e.size), e.md5,
                e.attempts);
}

void print_summary(const char *label, const vault_parts_upload_totals &t) {
    std::printf("%s summary %u %u %u %llu %llu %d\n", label, t.parts, t.kept, t.sent,
                static_cast<unsigned long long>(t.bytes_sent), static_cast<unsigned long long>(t.bytes_hashed),
                t.committed);
}

void print_error(const char *label, const vault_parts::error &e) {
    std::printf("%s %s %s\n", label, code_name(e.code()), e.vault_type().empty() ? "-" : e.vault_type().c_str());
}

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 9) return 2;
    const std::string url = argv[1], sid = argv[2], file = argv[3], resume_id = argv[4], conflict_file = argv[5],
                      hang_id = argv[6], unknown = argv[8];
    const auto interrupt_after = std::chrono::milliseconds(std::atoi(argv[7]));
    const auto poll = std::chrono::milliseconds(100);
    const std::uint64_t part_size = 5 << 20;

    // A new session: nothing is created before start(), which makes the ID known before any
    // part is sent; the setters are refused once it ran (the upload goes on).
    {
        auto up = vault_parts::upload::create(url, sid, "/u/alice/cxx-new.bin", false, file, part_size);
        CHECK(up.id().empty());
        up.commit_mode(VAULT_PARTS_COMMIT_WAIT).poll_interval(poll);
        const std::string id = up.start().id();
        CHECK(id.size() == 32);
        CHECK(up.start().id() == id);  // a second start does nothing
        vault_parts_upload_totals t = up.summary();
        CHECK(t.kept == 0 && t.sent == 0 && t.bytes_sent == 0 && t.committed == 0 && t.job_id == 0);
        try {
            up.commit_mode(VAULT_PARTS_COMMIT_NONE);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
            CHECK(contains(e.what(), "commit_mode"));
        }
        try {
            up.poll_interval(std::chrono::seconds(1));
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
        }
        std::printf("new %s\n", id.c_str());
        std::uint32_t expected = 0;
        for (const vault_part_upload &e : up) {
            CHECK(e.part_number == ++expected);
            print_event("new", e);
        }
        CHECK(expected == 3);
        CHECK(!up.next().has_value());  // DONE stays DONE
        t = up.summary();
        CHECK(t.job_id != 0);
        print_summary("new", t);
        CHECK(up.id() == id);
    }

    vault_parts::client shared;
    shared.client_id("cxx-upload-test");

    // A file of another size cannot complete the session: E_CONFLICT, nothing sent.
    {
        auto up = vault_parts::upload::resume(shared, url, sid, resume_id, conflict_file);
        CHECK(up.id() == resume_id);
        try {
            for (const vault_part_upload &e : up) print_event("conflict", e);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            print_error("conflict", e);
            CHECK(contains(e.what(), "cannot complete this session"));
        }
        CHECK(up.summary().bytes_sent == 0);
    }

    // A resume from a configured listing (limit, log function) on the client: part 1 sent again,
    // part 2 kept, part 3 sent, then the commit. The listing is gone before the events come.
    {
        std::vector<std::string> log;
        std::optional<vault_parts::upload> made;
        {
            vault_parts::listing parts(shared, url, sid, resume_id);
            parts.limit(1).log([&log](int level, const char *message) { log.push_back(std::to_string(level) + message); });
            made.emplace(std::move(parts), file);
            CHECK(parts.native_handle() == nullptr);
        }
        vault_parts::upload up = std::move(*made);
        CHECK(made->native_handle() == nullptr);
        CHECK(up.native_handle() != nullptr);
        CHECK(up.id() == resume_id);  // known before the start
        up.poll_interval(poll);
        for (const vault_part_upload &e : up) print_event("resume", e);
        print_summary("resume", up.summary());
        CHECK(!log.empty());
    }

    // Vault refuses the create: start() throws E_AUTH with Vault's type; no ID; sticky.
    {
        auto up = vault_parts::upload::create(url, unknown, "/u/alice/cxx-auth.bin", false, file);
        try {
            up.start();
            CHECK(false);
        } catch (const vault_parts::error &e) {
            print_error("auth", e);
            CHECK(!contains(e.what(), unknown));
        }
        CHECK(up.id().empty());
        try {
            for (const vault_part_upload &e : up) print_event("auth", e);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_AUTH);
        }
    }

    // Bad arguments: thrown by the factory (the staging path), by the setters (a value out of
    // range: kept, so start() throws it again), by the start (the part size).
    try {
        vault_parts::upload::create(url, sid, "relative/x.bin", false, file);
        CHECK(false);
    } catch (const vault_parts::error &e) {
        print_error("staging_path", e);
    }
    {
        auto up = vault_parts::upload::create(url, sid, "/u/alice/cxx-args.bin", false, file);
        try {
            up.poll_interval(std::chrono::milliseconds(-1));  // refused before the library: unchanged
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
        }
        CHECK(vault_parts_upload_errcode(up.native_handle()) == VAULT_PARTS_OK);
        try {
            up.commit_mode(7);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            print_error("commit_mode", e);
            CHECK(contains(e.what(), "commit mode 7"));
        }
        try {
            up.start();
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
            CHECK(contains(e.what(), "commit mode 7"));
        }
    }
    try {
        auto up = vault_parts::upload::create(url, sid, "/u/alice/cxx-args.bin", false, file, 1);
        up.start();
        CHECK(false);
    } catch (const vault_parts::error &e) {
        print_error("part_size", e);
        CHECK(contains(e.what(), "part_size 1"));
    }
    // A listing already iterated is refused, and a new-session listing cannot be iterated.
    {
        vault_parts::listing started(url, sid, hang_id);
        CHECK(!started.next().has_value());  // no parts: DONE at once
        try {
            vault_parts::upload up(std::move(started), file);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            print_error("started", e);
        }
        CHECK(started.native_handle() == nullptr);
        auto fresh = vault_parts::listing::new_session(url, sid, "/u/alice/cxx-listing.bin", true);
        try {
            fresh.next();
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
        }
    }

    // Moves: the moved-from upload is empty; assignment frees the upload it replaces (neither
    // started, so neither made a session).
    {
        auto a = vault_parts::upload::create(url, sid, "/u/alice/cxx-move-a.bin", false, file);
        auto b = vault_parts::upload::create(shared, url, sid, "/u/alice/cxx-move-b.bin", false, file);
        vault_parts_upload *handle = a.native_handle();
        b = std::move(a);
        CHECK(a.native_handle() == nullptr);
        CHECK(b.native_handle() == handle);
        CHECK(a.id().empty());
        try {
            a.summary();
            CHECK(false);
        } catch (const vault_parts::error &e) {
            CHECK(e.code() == VAULT_PARTS_E_ARG);
        }
    }

    // An interrupt before the start: the first event throws E_CANCELLED, nothing is created.
    {
        auto up = vault_parts::upload::create(url, sid, "/u/alice/cxx-int.bin", false, file);
        up.interrupt();
        try {
            for (const vault_part_upload &e : up) print_event("interrupt", e);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            print_error("interrupt", e);
        }
    }

    // interrupt() from another thread while part 1's PUT hangs: E_CANCELLED, nothing committed.
    {
        auto up = vault_parts::upload::resume(url, sid, hang_id, file);
        up.poll_interval(poll);
        std::thread stopper([&up, interrupt_after] {
            std::this_thread::sleep_for(interrupt_after);
            up.interrupt();
        });
        try {
            for (const vault_part_upload &e : up) print_event("hang", e);
            CHECK(false);
        } catch (const vault_parts::error &e) {
            print_error("hang", e);
            CHECK(contains(e.what(), "interrupted"));
        }
        stopper.join();
        vault_parts_upload_totals t = up.summary();
        CHECK(t.committed == 0 && t.sent == 0);
    }

    std::printf("cxx_wrapper_upload: %u events, %d failed checks\n", events, test_failures);
    return test_failures ? 1 : 0;
}
