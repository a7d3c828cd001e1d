// vault_parts.hpp: a header-only C++17 wrapper over vault_parts.h.
//
//   vault_parts::listing parts(url, session_id, upload_session_id);
//   parts.limit(1000).timeout(std::chrono::seconds(30));
//   for (const vault_part &p : parts) { ... }     // throws vault_parts::error on failure
//
// listing owns its handle and frees it (move-only). Every failure throws vault_parts::error,
// which carries the library's code, Vault's error type and the message (never the session ID):
// the constructor (bad URL or IDs), every setter (a value out of range, or called after
// iteration began), and iteration (a failed page). Put the constructor and the setters inside
// the same try as the loop.
// Threads: like the handle it wraps, a listing may move between threads but is used by one
// thread at a time; interrupt() is the exception, callable from any thread. A client and its
// copies may be used from any number of threads at once.
//
//   vault_parts::verify check(std::move(parts), "/data/big.iso");   // takes the listing over
//   for (const vault_parts::verdict &v : check)                    // throws vault_parts::error
//       if (v.state() != vault_parts::part_status::ok) puts(to_string(v.state()).c_str());
//   vault_parts_verify_totals t = check.summary();                 // t.resumable, t.first_to_upload
//
//   auto up = vault_parts::upload::create(url, session_id, "/u/alice/big.iso", false, "/data/big.iso");
//   save(up.start().id());                      // the new upload session's ID, before any part is sent
//   for (const vault_part_upload &e : up) { ... }   // one event per part; the commit at the end
//   auto again = vault_parts::upload::resume(url, session_id, saved_id, "/data/big.iso");
//
// upload owns its vault_parts_upload handle (move-only) and throws vault_parts::error like the
// rest; interrupt() is callable from any thread.
#ifndef VAULT_PARTS_HPP
#define VAULT_PARTS_HPP

#include <chrono>
#include <cstdint>
#include <limits>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "vault_parts.h"

namespace vault_parts {

/// A failed call: code() is a VAULT_PARTS_E_* value, vault_type() Vault's error type or "",
/// http_status() the last HTTP status (0: none), retry_after_ms() the wait the server asked
/// for on the failure (-1: none; see vault_parts_retry_after_ms).
class error : public std::runtime_error {
public:
    error(int code, std::string vault_type, const std::string &message, int http_status = 0,
          std::int64_t retry_after_ms = -1)
        : std::runtime_error(message), code_(code), vault_type_(std::move(vault_type)),
          http_status_(http_status), retry_after_ms_(retry_after_ms) {}
    int code() const noexcept { return code_; }
    const std::string &vault_type() const noexcept { return vault_type_; }
    int http_status() const noexcept { return http_status_; }
    std::int64_t retry_after_ms() const noexcept { return retry_after_ms_; }
    /// retry_after_ms() as a duration; nullopt when the server asked for no wait.
    std::optional<std::chrono::milliseconds> retry_after() const noexcept {
        if (retry_after_ms_ < 0) return std::nullopt;
        return std::chrono::milliseconds(retry_after_ms_);
    }

private:
    int code_;
    std::string vault_type_;
    int http_status_;
    std::int64_t retry_after_ms_;
};

/// One vault_parts_client shared by many listings: copies share the one client (reference
/// counted, as the C client is by its listings), so hand copies to threads freely. Setters
/// work until the first listing is made on it and throw error otherwise.
class client {
public:
    client() {
        vault_parts_client *c = nullptr;
        int rc = vault_parts_client_new(&c);
        if (rc != VAULT_PARTS_OK) throw error(rc, "", "vault_parts_client_new failed");
        c_ = std::shared_ptr<vault_parts_client>(c, vault_parts_client_free);
    }
    client &ca_file(std::string_view pem_path) {
        return check(vault_parts_client_set_ca_file(c_.get(), std::string(pem_path).c_str()), "ca_file");
    }
    client &add_ca_file(std::string_view pem_path) {
        return check(vault_parts_client_add_ca_file(c_.get(), std::string(pem_path).c_str()), "add_ca_file");
    }
    client &system_roots() { return check(vault_parts_client_use_system_roots(c_.get()), "system_roots"); }
    client &client_id(std::string_view id) {
        return check(vault_parts_client_set_client_id(c_.get(), std::string(id).c_str()), "client_id");
    }
    client &max_idle(std::uint32_t connections) {
        return check(vault_parts_client_set_max_idle(c_.get(), connections), "max_idle");
    }
    client &proxy_from_environment(bool use) {
        return check(vault_parts_client_set_proxy_from_env(c_.get(), use ? 1 : 0), "proxy_from_environment");
    }
    /// The C client, still owned by this object and its copies.
    vault_parts_client *native_handle() const noexcept { return c_.get(); }

private:
    client &check(int rc, const char *what) {
        // A rejected value's message is read from the first listing made on the client.
        if (rc != VAULT_PARTS_OK)
            throw error(rc, "", std::string("vault_parts::client::") + what + ": " + vault_parts_errstr(rc));
        return *this;
    }
    std::shared_ptr<vault_parts_client> c_;
};

/// A verdict's status (vault_part_verdict::status, one of VAULT_PARTS_PART_*) as a type.
enum class part_status : int {
    ok = VAULT_PARTS_PART_OK,
    missing = VAULT_PARTS_PART_MISSING,
    size_mismatch = VAULT_PARTS_PART_SIZE_MISMATCH,
    md5_mismatch = VAULT_PARTS_PART_MD5_MISMATCH,
    unverified = VAULT_PARTS_PART_UNVERIFIED,
    extra = VAULT_PARTS_PART_EXTRA,
};

/// The status's name as the C API and vault-parts spell it: "OK", "MISSING", "SIZE_MISMATCH",
/// "MD5_MISMATCH", "UNVERIFIED", "EXTRA"; "UNKNOWN" for a value none of them (a newer library's).
inline std::string to_string(part_status status) {
    switch (status) {
    case part_status::ok: return "OK";
    case part_status::missing: return "MISSING";
    case part_status::size_mismatch: return "SIZE_MISMATCH";
    case part_status::md5_mismatch: return "MD5_MISMATCH";
    case part_status::unverified: return "UNVERIFIED";
    case part_status::extra: return "EXTRA";
    }
    return "UNKNOWN";
}

/// The verdict on one part, as verify yields it: the C struct (so `const vault_part_verdict &`
/// binds to it, and `status` is still the raw VAULT_PARTS_PART_* value) with its status typed.
struct verdict : vault_part_verdict {
    verdict() noexcept : vault_part_verdict() {}
    explicit verdict(const vault_part_verdict &v) noexcept : vault_part_verdict(v) {}
    /// `status` as a part_status.
    part_status state() const noexcept { return static_cast<part_status>(status); }
};

/// Receives log lines: level is one of VAULT_PARTS_LOG_*.
using log_function = std::function<void(int level, const char *message)>;

namespace detail {
/// A single-pass input iterator over what Owner::next() returns (an optional), until nullopt.
/// Incrementing calls next(), which blocks and may throw error.
template <class Owner, class Value>
class pull_iterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    using pointer = const Value *;
    using reference = const Value &;

    pull_iterator() = default;
    explicit pull_iterator(Owner *owner) : owner_(owner) { ++*this; }
    reference operator*() const { return *current_; }
    pointer operator->() const { return &*current_; }
    pull_iterator &operator++() {
        current_ = owner_->next();
        if (!current_) owner_ = nullptr;
        return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(const pull_iterator &o) const { return owner_ == o.owner_; }
    bool operator!=(const pull_iterator &o) const { return owner_ != o.owner_; }

private:
    Owner *owner_ = nullptr;
    std::optional<Value> current_;
};
/// The C functions that read the error one kind of handle keeps (vault_parts_errcode,
/// vault_parts_verify_errcode, ...).
template <class Handle>
struct error_readers {
    int (*errcode)(const Handle *);
    const char *(*errmsg)(const Handle *);
    const char *(*error_type)(const Handle *);
    int (*http_status)(const Handle *);
    std::int64_t (*retry_after_ms)(const Handle *);
};

/// The error a call on `h` that returned `rc` throws: the handle's message and Vault's error
/// type when the handle kept this code. A call refused for its timing changes nothing, so the
/// handle has no message for it: then the message is "`what`: " and the code's errstr.
template <class Handle>
error kept_error(const error_readers<Handle> &read, const Handle *h, int rc, const std::string &what) {
    const bool kept = read.errcode(h) == rc;
    std::string message = kept ? read.errmsg(h) : "";
    if (message.empty()) message = what + ": " + vault_parts_errstr(rc);
    return error(rc, kept ? read.error_type(h) : "", message, read.http_status(h), read.retry_after_ms(h));
}
}  // namespace detail

class verify;
class upload;

/// The parts of one upload session, fetched page by page as they are iterated.
class listing {
public:
    /// Checks the arguments (no network I/O); throws error with VAULT_PARTS_E_ARG when bad.
    /// Strings are copied (NUL-terminated) before the library is called.
    listing(std::string_view vault_url, std::string_view session_id, std::string_view upload_session_id) {
        int rc = vault_parts_open(&it_, std::string(vault_url).c_str(), std::string(session_id).c_str(),
                                  std::string(upload_session_id).c_str());
        if (rc != VAULT_PARTS_OK) {
            error e = make_error(rc, "vault_parts::listing");
            vault_parts_free(it_);
            throw e;
        }
    }
    /// As above, over `shared`'s connections (vault_parts_open_with_client).
    listing(const client &shared, std::string_view vault_url, std::string_view session_id,
            std::string_view upload_session_id) {
        int rc = vault_parts_open_with_client(&it_, shared.native_handle(), std::string(vault_url).c_str(),
                                              std::string(session_id).c_str(), std::string(upload_session_id).c_str());
        if (rc != VAULT_PARTS_OK) {
            error e = make_error(rc, "vault_parts::listing");
            vault_parts_free(it_);
            throw e;
        }
    }
    /// An iterator for an upload session that does not exist yet (vault_parts_open_new): the
    /// session is created by the upload it is given to, for a file to be committed at
    /// `staging_path` (absolute, naming a file), replacing a file there only if `overwrite`.
    /// Only vault_parts::upload accepts it (iterating it throws VAULT_PARTS_E_ARG); its setters
    /// (timeout, backoff, deadline, log, trust...) apply to the upload. No I/O; throws error
    /// with VAULT_PARTS_E_ARG when an argument is bad.
    static listing new_session(std::string_view vault_url, std::string_view session_id,
                               std::string_view staging_path, bool overwrite) {
        vault_parts_iter *it = nullptr;
        int rc = vault_parts_open_new(&it, std::string(vault_url).c_str(), std::string(session_id).c_str(),
                                      std::string(staging_path).c_str(), overwrite ? 1 : 0);
        listing made(it);  // owns the handle from here, failed or not
        if (rc != VAULT_PARTS_OK) throw made.make_error(rc, "vault_parts::listing::new_session");
        return made;
    }
    /// As above, over `shared`'s connections (vault_parts_open_new_with_client).
    static listing new_session(const client &shared, std::string_view vault_url, std::string_view session_id,
                               std::string_view staging_path, bool overwrite) {
        vault_parts_iter *it = nullptr;
        int rc = vault_parts_open_new_with_client(&it, shared.native_handle(), std::string(vault_url).c_str(),
                                                  std::string(session_id).c_str(), std::string(staging_path).c_str(),
                                                  overwrite ? 1 : 0);
        listing made(it);
        if (rc != VAULT_PARTS_OK) throw made.make_error(rc, "vault_parts::listing::new_session");
        return made;
    }
    listing(const listing &) = delete;
    listing &operator=(const listing &) = delete;
    listing(listing &&other) noexcept
        : it_(std::exchange(other.it_, nullptr)), log_(std::move(other.log_)) {}
    listing &operator=(listing &&other) noexcept {
        if (this != &other) {
            vault_parts_free(it_);
            it_ = std::exchange(other.it_, nullptr);
            log_ = std::move(other.log_);
        }
        return *this;
    }
    ~listing() { vault_parts_free(it_); }

    // Setters chain and work only before iteration starts (see vault_parts.h). Each throws
    // error (VAULT_PARTS_E_ARG) when the library rejects the value; the handle keeps that error.
    // Each has two overloads: on a named listing it returns the listing (listing &); on a
    // temporary, the temporary moved into the result (listing, by value, so nothing dangles):
    //   vault_parts::verify check(vault_parts::listing(url, sid, id).limit(1000), path);
    // String arguments are copied (NUL-terminated) before the library is called.
    listing &limit(std::uint32_t n) & { return check(vault_parts_set_limit(it_, n), "limit"); }
    listing limit(std::uint32_t n) && { return std::move(limit(n)); }
    listing &api_version(std::string_view v) & {
        return check(vault_parts_set_api_version(it_, std::string(v).c_str()), "api_version");
    }
    listing api_version(std::string_view v) && { return std::move(api_version(v)); }
    /// Per attempt; 1 ms to UINT32_MAX ms. A negative or longer duration throws
    /// error(VAULT_PARTS_E_ARG) before the library is called, so the handle is unchanged.
    listing &timeout(std::chrono::milliseconds t) & {
        return check(vault_parts_set_timeout_ms(it_, to_ms("timeout", t)), "timeout");
    }
    listing timeout(std::chrono::milliseconds t) && { return std::move(timeout(t)); }
    listing &max_attempts(std::uint32_t n) & {
        return check(vault_parts_set_max_attempts(it_, n), "max_attempts");
    }
    listing max_attempts(std::uint32_t n) && { return std::move(max_attempts(n)); }
    /// Both 0 to UINT32_MAX ms, as timeout() checks them.
    listing &backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) & {
        return check(vault_parts_set_backoff_ms(it_, to_ms("backoff initial", initial), to_ms("backoff max", max)),
                     "backoff");
    }
    listing backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) && {
        return std::move(backoff(initial, max));
    }
    listing &client_id(std::string_view id) & {
        return check(vault_parts_set_client_id(it_, std::string(id).c_str()), "client_id");
    }
    listing client_id(std::string_view id) && { return std::move(client_id(id)); }
    /// Trusts only this PEM file's certificates (vault_parts_set_ca_file).
    listing &ca_file(std::string_view pem_path) & {
        return check(vault_parts_set_ca_file(it_, std::string(pem_path).c_str()), "ca_file");
    }
    listing ca_file(std::string_view pem_path) && { return std::move(ca_file(pem_path)); }
    /// Trusts the built-in roots and this PEM file's certificates (vault_parts_add_ca_file).
    listing &add_ca_file(std::string_view pem_path) & {
        return check(vault_parts_add_ca_file(it_, std::string(pem_path).c_str()), "add_ca_file");
    }
    listing add_ca_file(std::string_view pem_path) && { return std::move(add_ca_file(pem_path)); }
    /// Trusts the operating system's store (vault_parts_use_system_roots).
    listing &system_roots() & { return check(vault_parts_use_system_roots(it_), "system_roots"); }
    listing system_roots() && { return std::move(system_roots()); }
    /// The function lives as long as the listing (it moves with it). An empty one turns logging off.
    listing &log(log_function fn) & {
        if (!fn) {
            log_.reset();
            return check(vault_parts_set_log(it_, nullptr, nullptr), "log");
        }
        log_ = std::make_unique<log_function>(std::move(fn));
        return check(vault_parts_set_log(it_, &listing::trampoline, log_.get()), "log");
    }
    listing log(log_function fn) && { return std::move(log(std::move(fn))); }

    /// The next part, or nullopt when every part has been returned. Throws error on failure.
    std::optional<vault_part> next() {
        vault_part p;
        int rc = vault_parts_next(it_, &p);
        if (rc == VAULT_PARTS_ROW) return p;
        if (rc == VAULT_PARTS_DONE) return std::nullopt;
        throw make_error(rc, "vault_parts::listing::next");
    }

    /// A budget for the whole listing (vault_parts_set_deadline_ms); 1 ms or more.
    listing &deadline(std::chrono::milliseconds t) & {
        if (t.count() < 1) throw error(VAULT_PARTS_E_ARG, "", "deadline must be at least 1 ms");
        return check(vault_parts_set_deadline_ms(it_, static_cast<std::uint64_t>(t.count())), "deadline");
    }
    listing deadline(std::chrono::milliseconds t) && { return std::move(deadline(t)); }
    /// Stops the listing: iteration blocked on another thread throws error(VAULT_PARTS_E_CANCELLED)
    /// within 100 ms. The one member any thread may call while another iterates, until the
    /// listing is destroyed or moved from.
    void interrupt() const noexcept { vault_parts_interrupt(it_); }
    /// The listing's statistics (vault_parts_stats).
    vault_parts_statistics stats() const noexcept {
        vault_parts_statistics s{};
        vault_parts_stats(it_, &s);
        return s;
    }
    /// The status of the last HTTP response, 0 before any.
    int http_status() const noexcept { return vault_parts_http_status(it_); }
    /// The last X-VaultAPI-BurstLimitRemaining seen, -1 before any.
    std::int64_t burst_remaining() const noexcept { return vault_parts_burst_remaining(it_); }
    /// The C handle, still owned by this listing.
    vault_parts_iter *native_handle() const noexcept { return it_; }

    /// A single-pass input iterator; incrementing fetches pages and may throw error.
    using iterator = detail::pull_iterator<listing, vault_part>;

    /// Starts the listing: parts can be iterated once.
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

private:
    friend class verify;  // takes the handle and the log function over
    friend class upload;  // the same
    explicit listing(vault_parts_iter *it) noexcept : it_(it) {}
    static std::uint32_t to_ms(const char *what, std::chrono::milliseconds t) {
        if (t.count() < 0 || t.count() > static_cast<std::chrono::milliseconds::rep>(
                                              std::numeric_limits<std::uint32_t>::max()))
            throw error(VAULT_PARTS_E_ARG, "",
                        std::string(what) + " " + std::to_string(t.count()) +
                            " ms is out of range: 0 to 4294967295 ms");
        return static_cast<std::uint32_t>(t.count());
    }
    listing &check(int rc, const char *what) {
        if (rc != VAULT_PARTS_OK) throw make_error(rc, std::string("vault_parts::listing::") + what);
        return *this;
    }
    error make_error(int rc, const std::string &what) const {
        static constexpr detail::error_readers<vault_parts_iter> read{
            vault_parts_errcode, vault_parts_errmsg, vault_parts_error_type, vault_parts_http_status,
            vault_parts_retry_after_ms};
        return detail::kept_error(read, it_, rc, what);
    }
    static void trampoline(void *userdata, int level, const char *message) {
        try {
            (*static_cast<log_function *>(userdata))(level, message);
        } catch (...) {
            // An exception must not unwind through the C library; the line is dropped.
        }
    }

    vault_parts_iter *it_ = nullptr;
    std::unique_ptr<log_function> log_;
};

/// A local file checked against the parts a listing lists (vault_parts_verify_*): one verdict
/// per part number, in order, as each is known. Owns the verifier (move-only) and frees it,
/// joining its hashing threads. Every failure throws error with the library's code, Vault's
/// error type, the message, the HTTP status and the server's Retry-After.
/// Threads: like the handle it wraps, a verify may move between threads but is used by one
/// thread at a time; interrupt() is the exception, callable from any thread.
class verify {
public:
    /// Takes `parts` over (its handle and log function), always, even when it throws: `parts`
    /// is left empty. `parts` must be configured but not iterated yet. part_size 0 reads it off
    /// the listing. Reads and fetches nothing; throws error when `parts` already failed (its
    /// code and message) or has started (VAULT_PARTS_E_ARG). `path` is copied.
    verify(listing &&parts, std::string_view path, std::uint64_t part_size = 0)
        : log_(std::move(parts.log_)) {
        int rc = vault_parts_verify_open(&v_, std::exchange(parts.it_, nullptr), std::string(path).c_str(),
                                         part_size);
        if (rc != VAULT_PARTS_OK) {
            error e = make_error(rc, "vault_parts::verify");
            vault_parts_verify_free(std::exchange(v_, nullptr));
            throw e;
        }
    }
    verify(const verify &) = delete;
    verify &operator=(const verify &) = delete;
    verify(verify &&other) noexcept : v_(std::exchange(other.v_, nullptr)), log_(std::move(other.log_)) {}
    verify &operator=(verify &&other) noexcept {
        if (this != &other) {
            vault_parts_verify_free(v_);
            v_ = std::exchange(other.v_, nullptr);
            log_ = std::move(other.log_);
        }
        return *this;
    }
    // The verifier (which may still log) goes before the log function it calls.
    ~verify() { vault_parts_verify_free(v_); }

    /// Hashing threads, 1 to 16 (0: one per core); only before iteration. Throws error
    /// (VAULT_PARTS_E_ARG) otherwise. Chains as the listing's setters do (a temporary is moved
    /// into the result).
    verify &threads(std::uint32_t n) & { return check(vault_parts_verify_set_threads(v_, n), "threads"); }
    verify threads(std::uint32_t n) && { return std::move(threads(n)); }

    /// The next verdict, or nullopt after the last. Blocks while a page is fetched or a part
    /// hashed; throws error on failure (a listing error, VAULT_PARTS_E_IO for the file...).
    std::optional<verdict> next() {
        vault_part_verdict v;
        int rc = vault_parts_verify_next(v_, &v);
        if (rc == VAULT_PARTS_ROW) return verdict(v);
        if (rc == VAULT_PARTS_DONE) return std::nullopt;
        throw make_error(rc, "vault_parts::verify::next");
    }

    /// The counts so far; complete once iteration ended (resumable is 1 only then).
    vault_parts_verify_totals summary() const {
        vault_parts_verify_totals t{};
        int rc = vault_parts_verify_summary(v_, &t);
        if (rc != VAULT_PARTS_OK) throw make_error(rc, "vault_parts::verify::summary");
        return t;
    }

    /// Stops the verification: iteration blocked on another thread (a page, a part being
    /// hashed) throws error(VAULT_PARTS_E_CANCELLED) within 100 ms, and so does every later
    /// call. The one member any thread may call while another iterates, until the verify is
    /// destroyed or moved from.
    void interrupt() const noexcept { vault_parts_verify_interrupt(v_); }
    /// The statistics of the verifier's listing (vault_parts_verify_stats): requests (the
    /// details request included), retries, pages...; readable after an error was thrown too.
    vault_parts_statistics stats() const noexcept {
        vault_parts_statistics s{};
        vault_parts_verify_stats(v_, &s);
        return s;
    }
    /// The status of the last HTTP response, 0 before any (vault_parts_verify_http_status).
    int http_status() const noexcept { return vault_parts_verify_http_status(v_); }

    /// The C handle, still owned by this object (NULL once moved from).
    vault_parts_verify *native_handle() const noexcept { return v_; }

    /// A single-pass input iterator; incrementing may fetch pages, hash parts and throw error.
    /// It yields verdict, which binds to `const vault_part_verdict &` too.
    using iterator = detail::pull_iterator<verify, verdict>;
    /// Starts the verification: verdicts can be iterated once.
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

private:
    verify &check(int rc, const char *what) {
        if (rc != VAULT_PARTS_OK) throw make_error(rc, std::string("vault_parts::verify::") + what);
        return *this;
    }
    error make_error(int rc, const std::string &what) const {
        static constexpr detail::error_readers<vault_parts_verify> read{
            vault_parts_verify_errcode, vault_parts_verify_errmsg, vault_parts_verify_error_type,
            vault_parts_verify_http_status, vault_parts_verify_retry_after_ms};
        return detail::kept_error(read, v_, rc, what);
    }

    vault_parts_verify *v_ = nullptr;
    std::unique_ptr<log_function> log_;
};


/// One local file uploaded to one upload session (vault_parts_upload_*): a new session,
/// created by start(), or an existing one resumed, whose intact parts are kept. Iterating
/// yields one vault_part_upload per part of the file, in order (action VAULT_PARTS_KEPT or
/// VAULT_PARTS_SENT); the end of the range comes once the commit step the mode asks for is
/// done (by default the commit's job has ended and the file is on file staging). Owns the
/// upload handle (move-only) and frees it; the session stays on Vault, to be resumed by its ID.
///
/// Every failure throws error with the library's code, Vault's error type and the message:
/// the factories and the constructor (bad arguments), the setters (a value out of range, or
/// called after the start), start() and iteration (VAULT_PARTS_E_AUTH, _CONFLICT, _IO,
/// _INTEGRITY, _CANCELLED...). Errors are sticky: once one is thrown, every later call throws
/// it again.
/// Threads: like the handle it wraps, an upload may move between threads but is used by one
/// thread at a time; interrupt() is the exception, callable from any thread.
class upload {
public:
    /// Takes `session` over (its handle and log function), always, even when it throws:
    /// `session` is left empty. `session` comes from listing::new_session (a new session) or
    /// a listing constructor (resume that session), configured but not iterated. `path` is
    /// the local file; part_size is 5 MiB to 50 MiB, or 0: read off the listing (resume) or
    /// the library's choice (a new session). Reads and sends nothing; throws error when
    /// `session` already failed (its code and message) or has started (VAULT_PARTS_E_ARG).
    upload(listing &&session, std::string_view path, std::uint64_t part_size = 0)
        : log_(std::move(session.log_)) {
        int rc = vault_parts_upload_open(&u_, std::exchange(session.it_, nullptr), std::string(path).c_str(),
                                         part_size);
        if (rc != VAULT_PARTS_OK) {
            error e = make_error(rc, "vault_parts::upload");
            vault_parts_upload_free(std::exchange(u_, nullptr));
            throw e;
        }
    }
    /// A new upload session for the file at `path`, to be committed at `staging_path` (see
    /// listing::new_session), with the listing's default settings. Nothing is created before
    /// start() or the first iteration.
    static upload create(std::string_view vault_url, std::string_view session_id, std::string_view staging_path,
                         bool overwrite, std::string_view path, std::uint64_t part_size = 0) {
        return upload(listing::new_session(vault_url, session_id, staging_path, overwrite), path, part_size);
    }
    /// As above, over `shared`'s connections.
    static upload create(const client &shared, std::string_view vault_url, std::string_view session_id,
                         std::string_view staging_path, bool overwrite, std::string_view path,
                         std::uint64_t part_size = 0) {
        return upload(listing::new_session(shared, vault_url, session_id, staging_path, overwrite), path,
                      part_size);
    }
    /// The existing session `upload_session_id` completed from the file at `path`: parts
    /// Vault holds intact are kept, the others sent, then the commit.
    static upload resume(std::string_view vault_url, std::string_view session_id, std::string_view upload_session_id,
                         std::string_view path, std::uint64_t part_size = 0) {
        return upload(listing(vault_url, session_id, upload_session_id), path, part_size);
    }
    /// As above, over `shared`'s connections.
    static upload resume(const client &shared, std::string_view vault_url, std::string_view session_id,
                         std::string_view upload_session_id, std::string_view path, std::uint64_t part_size = 0) {
        return upload(listing(shared, vault_url, session_id, upload_session_id), path, part_size);
    }
    upload(const upload &) = delete;
    upload &operator=(const upload &) = delete;
    upload(upload &&other) noexcept : u_(std::exchange(other.u_, nullptr)), log_(std::move(other.log_)) {}
    upload &operator=(upload &&other) noexcept {
        if (this != &other) {
            vault_parts_upload_free(u_);
            u_ = std::exchange(other.u_, nullptr);
            log_ = std::move(other.log_);
        }
        return *this;
    }
    // The upload (which may still log) goes before the log function it calls.
    ~upload() { vault_parts_upload_free(u_); }

    /// What follows the last part: VAULT_PARTS_COMMIT_NONE, VAULT_PARTS_COMMIT or
    /// VAULT_PARTS_COMMIT_WAIT (the default). Only before the start; throws error
    /// (VAULT_PARTS_E_ARG) otherwise, and for another value (which the handle keeps).
    /// Like the listing's setters, commit_mode(), poll_interval() and start() chain on a named
    /// upload (upload &) and on a temporary (moved into the result, upload by value).
    upload &commit_mode(int mode) & { return check(vault_parts_upload_set_commit(u_, mode), "commit_mode"); }
    upload commit_mode(int mode) && { return std::move(commit_mode(mode)); }
    /// At most one job status request per `every` under VAULT_PARTS_COMMIT_WAIT: 100 ms to
    /// 600 s (default 10 s, Vault's limit). Only before the start. A duration past UINT32_MAX ms
    /// or negative throws before the library is called (the handle is unchanged); another one
    /// out of range is kept as the handle's error.
    upload &poll_interval(std::chrono::milliseconds every) & {
        return check(vault_parts_upload_set_poll_ms(u_, listing::to_ms("poll interval", every)), "poll_interval");
    }
    upload poll_interval(std::chrono::milliseconds every) && { return std::move(poll_interval(every)); }

    /// The first I/O (vault_parts_upload_start): opens the file; a new session is created
    /// (id() then returns its ID), an existing one's details and parts are read and checked
    /// against the file (VAULT_PARTS_E_CONFLICT when it cannot complete it, nothing sent).
    /// Optional: iteration runs it. Call it to save id() before any part is sent; a second
    /// call does nothing. Throws error on failure.
    upload &start() & { return check(vault_parts_upload_start(u_), "start"); }
    upload start() && { return std::move(start()); }

    /// The upload session's ID: "" for a new session until start() created it (or when its
    /// create failed); for a resumed session the ID it was given. Not secret.
    std::string id() const {
        const char *id = vault_parts_upload_id(u_);
        return id != nullptr ? id : "";
    }

    /// The next part's event, or nullopt once every part is done and the commit step the mode
    /// asks for has ended. Blocks while a part is sent, the commit made or its job polled;
    /// throws error on failure.
    std::optional<vault_part_upload> next() {
        vault_part_upload e;
        int rc = vault_parts_upload_next(u_, &e);
        if (rc == VAULT_PARTS_ROW) return e;
        if (rc == VAULT_PARTS_DONE) return std::nullopt;
        throw make_error(rc, "vault_parts::upload::next");
    }

    /// What the upload has done so far (parts, kept, sent, bytes_sent, bytes_hashed, job_id,
    /// committed); valid at any time, also after an error was thrown.
    vault_parts_upload_totals summary() const {
        vault_parts_upload_totals t{};
        int rc = vault_parts_upload_summary(u_, &t);
        if (rc != VAULT_PARTS_OK) throw make_error(rc, "vault_parts::upload::summary");
        return t;
    }

    /// Stops the upload: a call blocked on another thread (a part on the wire, a retry's or a
    /// poll's wait) throws error(VAULT_PARTS_E_CANCELLED) within 100 ms, and so does every later
    /// one; nothing is committed after it. The one member any thread may call while another
    /// iterates, until the upload is destroyed or moved from.
    void interrupt() const noexcept { vault_parts_upload_interrupt(u_); }

    /// The C handle, still owned by this object (NULL once moved from).
    vault_parts_upload *native_handle() const noexcept { return u_; }

    /// A single-pass input iterator; incrementing may send a part, commit and throw error.
    using iterator = detail::pull_iterator<upload, vault_part_upload>;
    /// Starts the upload (if start() was not called): the events can be iterated once.
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

private:
    upload &check(int rc, const char *what) {
        if (rc != VAULT_PARTS_OK) throw make_error(rc, std::string("vault_parts::upload::") + what);
        return *this;
    }
    error make_error(int rc, const std::string &what) const {
        static constexpr detail::error_readers<vault_parts_upload> read{
            vault_parts_upload_errcode, vault_parts_upload_errmsg, vault_parts_upload_error_type,
            vault_parts_upload_http_status, vault_parts_upload_retry_after_ms};
        return detail::kept_error(read, u_, rc, what);
    }

    vault_parts_upload *u_ = nullptr;
    std::unique_ptr<log_function> log_;
};

}  // namespace vault_parts

#endif  // VAULT_PARTS_HPP
