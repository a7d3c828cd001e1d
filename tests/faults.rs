//! The fault matrix: every way the server or the network can misbehave, driven through the C
//! ABI (tests-c/list.c) natively, under valgrind and with ASan+UBSan. Each scenario asserts the
//! exact code, the errmsg content, the number of requests vault-sim saw, a bound on wall time,
//! and that no output line (errmsg or log) holds the session ID. docs/faults.md is generated
//! from the table below (VAULT_PARTS_BLESS=1 rewrites it) and checked against it.

mod harness;

use harness::raw::{ok, response, Answer, RawServer};
use harness::{expected_parts, list_args, program, program_for, run, scenario, stretch_timeouts, Mode, Run};
use serde_json::json;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use vault_sim::tls::TestCa;
use vault_sim::{Action, Config, Fault, LinkStyle, Sim, Upload, When};

const SID: &str = "SID-matrix-5e2b77c1d0";
const UPLOAD: &str = "f";
const PARTS: u32 = 5;
const FIRST_URL: &str = "/api/v25.3/services/file_staging/upload/f/parts?limit=2";

struct Case {
    name: &'static str,
    faults: Vec<(When, Action)>,
    links: LinkStyle,
    /// After the defaults: limit=2 (3 pages), backoff=1,5, attempts=3, timeout=2000, log=1.
    options: &'static [&'static str],
    code: &'static str,
    requests: usize,
    /// errmsg must contain this ("" for DONE).
    needle: &'static str,
    /// Part lines printed: all of the session's (exactly), or a count.
    parts: Parts,
    min: Duration,
    max: Duration,
    why: &'static str,
    target: Target,
    /// The path (with its query) of each request, in order, where the row claims one.
    fetched: Option<&'static [&'static str]>,
}

/// Where vault-sim listens and what list.c is given. "{port}" in `url` and in the faults'
/// links becomes vault-sim's port, chosen before it starts so a link can name it.
struct Target {
    /// "127.0.0.1" or "[::1]".
    bind: &'static str,
    /// The vault_url; None: vault-sim's own URL.
    url: Option<String>,
    session: String,
    upload: String,
}

#[derive(Clone, Copy)]
enum Parts {
    All,
    Count(usize),
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn case(name: &'static str, code: &'static str, requests: usize, needle: &'static str, why: &'static str) -> Case {
    Case {
        name,
        faults: Vec::new(),
        links: LinkStyle::Absolute,
        options: &[],
        code,
        requests,
        needle,
        parts: if code == "DONE" { Parts::All } else { Parts::Count(0) },
        min: Duration::ZERO,
        max: ms(1500),
        why,
        target: Target { bind: "127.0.0.1", url: None, session: SID.into(), upload: UPLOAD.into() },
        fetched: None,
    }
}

impl Case {
    fn on(mut self, when: When, action: Action) -> Self {
        self.faults.push((when, action));
        self
    }
    fn options(mut self, options: &'static [&'static str]) -> Self {
        self.options = options;
        self
    }
    fn parts(mut self, parts: Parts) -> Self {
        self.parts = parts;
        self
    }
    fn time(mut self, min: Duration, max: Duration) -> Self {
        self.min = min;
        self.max = max;
        self
    }
    fn fetched(mut self, targets: &'static [&'static str]) -> Self {
        self.fetched = Some(targets);
        self
    }
    fn relative(mut self) -> Self {
        self.links = LinkStyle::Relative;
        self
    }
    fn ipv6(mut self) -> Self {
        self.target.bind = "[::1]";
        self
    }
    fn url(mut self, url: &str) -> Self {
        self.target.url = Some(url.into());
        self
    }
    fn session(mut self, session: String) -> Self {
        self.target.session = session;
        self
    }
    fn upload(mut self, upload: String) -> Self {
        self.target.upload = upload;
        self
    }
}

/// `action` with "{port}" in its text replaced, or None when it holds none.
fn with_port(action: &Action, port: u16) -> Option<Action> {
    let fill = |text: &String| text.contains("{port}").then(|| text.replace("{port}", &port.to_string()));
    match action {
        Action::NextPage(link) => fill(link).map(Action::NextPage),
        Action::Redirect(location) => fill(location).map(Action::Redirect),
        Action::Body(body) => fill(body).map(Action::Body),
        _ => None,
    }
}

/// A free port on `ip`, for a simulator whose links must name its port before it starts.
fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind(format!("{ip}:0")).unwrap().local_addr().unwrap().port()
}

fn status(code: u16) -> Action {
    Action::Status { code, body: String::new(), retry_after: None }
}

fn status_after(code: u16, seconds: u32) -> Action {
    Action::Status { code, body: String::new(), retry_after: Some(seconds) }
}

fn vault(status: &str, kind: &str) -> Action {
    Action::VaultError { status: status.into(), kind: kind.into(), message: format!("Simulated {kind}.") }
}

fn body(text: &str) -> Action {
    Action::Body(text.into())
}

/// A one-page body holding `items` (the data array's contents).
fn items(items: &str) -> Action {
    Action::Body(format!(r#"{{"responseStatus":"SUCCESS","data":[{items}]}}"#))
}

fn link(json: &str) -> Action {
    Action::NextPage(json.into())
}

/// How many vault-sim scenarios `cases()` holds.
const MATRIX_ROWS: usize = 85;

fn cases() -> Vec<Case> {
    use When::{Always, FirstN, Request};
    let ok_item = r#"{"part_number":1,"size":5242880,"part_content_md5":"c24a2d4b1c4e03a9f4113903edac6f47"}"#;
    vec![
        case("baseline", "DONE", 3, "", "three clean pages"),
        case("relative_next_page", "DONE", 3, "", "next_page as a path, as VQL sends it").relative(),
        case("delay_below_timeout", "DONE", 3, "", "slow answers within the per-attempt timeout")
            .on(Always, Action::Delay(ms(100)))
            .time(ms(300), ms(1500)),
        case("hung_server", "E_TIMEOUT", 2, "timed out", "no answer: each attempt ends at the timeout")
            .on(Always, Action::Hang)
            .options(&["timeout=300", "attempts=2"])
            .time(ms(600), ms(2600)),
        case("hang_once", "DONE", 4, "", "a single hung attempt is retried")
            .on(Request(1), Action::Hang)
            .options(&["timeout=300"])
            .time(ms(300), ms(2300)),
        case(
            "listing_deadline",
            "E_TIMEOUT",
            1,
            "deadline was reached",
            "a hung server and a 500 ms listing deadline: ends at the deadline, not retried",
        )
        .on(Always, Action::Hang)
        .options(&["deadline=500"])
        .time(ms(500), ms(1500)),
        case(
            "retry_wait_past_deadline",
            "E_TIMEOUT",
            1,
            "would end past it",
            "503 with Retry-After: 30 and a 1 s deadline: the wait is not started",
        )
        .on(Always, status_after(503, 30))
        .options(&["deadline=1000", "backoff=1,60000"])
        .time(Duration::ZERO, ms(900)),
        case("http_401", "E_AUTH", 1, "HTTP 401", "a gateway refusing the session: not retried")
            .on(Always, status(401)),
        case("http_403", "E_ACCESS", 1, "HTTP 403", "forbidden: not retried").on(Always, status(403)),
        case("http_404_html", "E_HTTP", 1, "HTTP 404", "other 4xx: reported at once").on(
            Always,
            Action::Status { code: 404, body: "<html><h1>Not Found</h1></html>".into(), retry_after: None },
        ),
        case("http_400", "E_HTTP", 1, "HTTP 400", "other 4xx: reported at once").on(Always, status(400)),
        case("http_500", "E_HTTP", 3, "after 3 attempts", "server errors are retried, then reported")
            .on(Always, status(500)),
        case("http_502_html", "E_HTTP", 3, "HTTP 502", "a proxy's error page, retried")
            .on(Always, Action::Status { code: 502, body: "<html>Bad Gateway</html>".into(), retry_after: None }),
        case("http_503_always", "E_HTTP", 3, "HTTP 503", "maintenance, retried then reported").on(Always, status(503)),
        case("http_504", "E_HTTP", 3, "HTTP 504", "gateway timeout, retried").on(Always, status(504)),
        case("http_503_once", "DONE", 4, "", "one 503 is retried and the listing completes")
            .on(Request(2), status(503)),
        case("http_429_always", "E_RATE_LIMIT", 3, "HTTP 429", "rate limited on every attempt").on(Always, status(429)),
        case("retry_after_honoured", "DONE", 4, "", "Retry-After: 1 waits a second before the retry")
            .on(Request(1), status_after(429, 1))
            .options(&["backoff=1,5000"])
            .time(ms(1000), ms(2500)),
        case("retry_after_capped", "E_HTTP", 3, "HTTP 503", "Retry-After: 3600 is capped by the backoff maximum")
            .on(Always, status_after(503, 3600))
            .options(&["backoff=1,200"])
            .time(ms(400), ms(1500)),
        case("vault_invalid_session", "E_AUTH", 1, "INVALID_SESSION_ID", "FAILURE with HTTP 200: never retried")
            .on(Always, vault("FAILURE", "INVALID_SESSION_ID")),
        case("vault_insufficient_access", "E_ACCESS", 1, "INSUFFICIENT_ACCESS", "not the owner nor an Admin")
            .on(Always, vault("FAILURE", "INSUFFICIENT_ACCESS")),
        case("vault_api_limit_first2", "DONE", 5, "", "API_LIMIT_EXCEEDED twice, then pages")
            .on(FirstN(2), vault("FAILURE", "API_LIMIT_EXCEEDED")),
        case("vault_api_limit_always", "E_RATE_LIMIT", 3, "API_LIMIT_EXCEEDED", "rate limited after every attempt")
            .on(Always, vault("FAILURE", "API_LIMIT_EXCEEDED")),
        case("vault_invalid_data", "E_VAULT", 1, "INVALID_DATA", "another FAILURE type: E_VAULT, not retried")
            .on(Always, vault("FAILURE", "INVALID_DATA")),
        case("vault_exception", "E_VAULT", 1, "EXCEPTION: UNEXPECTED_ERROR", "Vault's own fault, not retried")
            .on(Always, vault("EXCEPTION", "UNEXPECTED_ERROR")),
        case("vault_failure_on_page_2", "E_VAULT", 2, "page 2", "page 1's parts come out before the failure")
            .on(Request(2), vault("FAILURE", "OPERATION_NOT_ALLOWED"))
            .parts(Parts::Count(2)),
        case("vault_warning", "DONE", 3, "", "WARNING with data is a success").on(Always, Action::Warning),
        case("body_not_json", "E_PROTOCOL", 1, "not valid JSON", "garbage instead of JSON")
            .on(Always, body("not json at all")),
        case("body_html", "E_PROTOCOL", 1, "not valid JSON", "an HTML page with status 200")
            .on(Always, body("<html><body>Vault is down for maintenance</body></html>")),
        case("body_empty", "E_PROTOCOL", 1, "not valid JSON", "an empty 200").on(Always, body("")),
        case("body_truncated", "E_NETWORK", 3, "after 3 attempts", "Content-Length larger than the body, then close")
            .on(Always, Action::Truncated),
        case("body_truncated_once", "DONE", 4, "", "a truncated body is retried").on(Request(1), Action::Truncated),
        case("body_dropped_mid_way", "E_NETWORK", 3, "connection failed", "the connection drops mid-body")
            .on(Always, Action::DropMidBody),
        case("body_endless", "E_PROTOCOL", 1, "larger than 8 MiB", "an endless body is cut at the cap while reading")
            .on(Always, Action::Endless)
            .time(Duration::ZERO, ms(3000)),
        case("body_gzip", "DONE", 3, "", "gzip Content-Encoding is decoded").on(Always, Action::Gzip),
        case("body_chunked", "DONE", 3, "", "chunked Transfer-Encoding").on(Always, Action::Chunked),
        case("headers_lower_case", "DONE", 3, "", "HTTP/2-style lower-case header names")
            .on(Always, Action::LowercaseHeaders),
        case("connection_closed", "E_NETWORK", 3, "connection failed", "closed without an answer")
            .on(Always, Action::Close),
        case("connection_closed_once", "DONE", 4, "", "one closed connection is retried").on(Request(2), Action::Close),
        case("next_page_null", "DONE", 1, "", "null next_page ends the listing")
            .on(Request(1), link("null"))
            .parts(Parts::Count(2)),
        case("next_page_empty", "DONE", 1, "", "\"\" next_page ends the listing")
            .on(Request(1), link("\"\""))
            .parts(Parts::Count(2)),
        case("next_page_other_host", "E_PROTOCOL", 1, "another origin", "the session ID would go to another host")
            .on(Request(1), link("\"http://127.0.0.2:9/api/v25.3/services/file_staging/upload/f/parts?cursor=x\""))
            .parts(Parts::Count(2)),
        case("next_page_other_port", "E_PROTOCOL", 1, "another origin", "same host, another port is another origin")
            .on(Request(1), link("\"http://127.0.0.1:9/api/v25.3/services/file_staging/upload/f/parts?cursor=x\""))
            .parts(Parts::Count(2)),
        case("next_page_other_scheme", "E_PROTOCOL", 1, "another origin", "https where vault_url is http")
            .on(Request(1), link("\"https://127.0.0.1/api/v25.3/services/file_staging/upload/f/parts?cursor=x\""))
            .parts(Parts::Count(2)),
        case(
            "next_page_protocol_relative",
            "E_PROTOCOL",
            1,
            "neither an absolute URL",
            "//host/path names another host",
        )
        .on(Request(1), link("\"//127.0.0.2/api/v25.3/services/file_staging/upload/f/parts\""))
        .parts(Parts::Count(2)),
        case("next_page_bare_path", "E_PROTOCOL", 1, "neither an absolute URL", "a path not starting with /")
            .on(Request(1), link("\"parts?cursor=x\""))
            .parts(Parts::Count(2)),
        case("next_page_javascript", "E_PROTOCOL", 1, "neither an absolute URL", "a non-HTTP scheme")
            .on(Request(1), link("\"javascript:x\""))
            .parts(Parts::Count(2)),
        case("next_page_repeats_cursor", "E_PROTOCOL", 1, "pagination loop", "a link back to a fetched page")
            .on(Always, link(&format!("\"{FIRST_URL}\"")))
            .parts(Parts::Count(2)),
        case("next_page_number", "E_PROTOCOL", 1, "unexpected shape", "next_page that is not a string")
            .on(Always, link("5")),
        case("redirect_same_origin", "DONE", 4, "", "a redirect within the origin is followed")
            .on(Request(1), Action::Redirect(FIRST_URL.into())),
        case("redirect_other_host", "E_PROTOCOL", 1, "redirect refused", "a redirect to another host is not followed")
            .on(Always, Action::Redirect("http://127.0.0.2:9/api/v25.3/services/file_staging/upload/f/parts".into())),
        case("redirect_loop", "E_PROTOCOL", 6, "more than 5 redirects", "redirects are capped")
            .on(Always, Action::Redirect(FIRST_URL.into())),
        case(
            "page_over_limit",
            "E_PROTOCOL",
            1,
            "page 1: 3 parts, more than the limit of 2 its request asked for",
            "a page longer than the limit asked for: a handle holds one page, so its memory stays bounded",
        )
        .on(Always, items(&format!(r#"{ok_item},{ok_item},{ok_item}"#))),
        case("part_number_negative", "E_PROTOCOL", 1, "data[0].part_number is -1", "part numbers are positive")
            .on(Always, items(r#"{"part_number":-1,"size":5}"#)),
        case("part_number_zero", "E_PROTOCOL", 1, "data[0].part_number is 0", "parts are numbered from 1")
            .on(Always, items(r#"{"part_number":0,"size":5}"#)),
        case("part_number_fraction", "E_PROTOCOL", 1, "data[0].part_number is 1.5", "part numbers are integers")
            .on(Always, items(r#"{"part_number":1.5,"size":5}"#)),
        case(
            "part_number_string",
            "E_PROTOCOL",
            1,
            "data[0].part_number is the string",
            "numbers must be JSON numbers",
        )
        .on(Always, items(r#"{"part_number":"1","size":5}"#)),
        case("part_number_too_big", "E_PROTOCOL", 1, "data[0].part_number is 4294967296", "must fit 32 bits")
            .on(Always, items(r#"{"part_number":4294967296,"size":5}"#)),
        case("size_negative", "E_PROTOCOL", 1, "data[0].size is -5", "sizes are non-negative")
            .on(Always, items(r#"{"part_number":1,"size":-5}"#)),
        case("size_too_big", "E_PROTOCOL", 1, "data[0].size is 18446744073709552000", "must fit 64 bits")
            .on(Always, items(r#"{"part_number":1,"size":18446744073709551616}"#)),
        case("size_missing", "E_PROTOCOL", 1, "data[0].size is missing", "size is required")
            .on(Always, items(r#"{"part_number":1}"#)),
        case("md5_malformed", "E_PROTOCOL", 1, "data[1].part_content_md5", "not hex").on(
            Always,
            items(&format!(
                r#"{ok_item},{{"part_number":2,"size":5,"part_content_md5":"zz4a2d4b1c4e03a9f4113903edac6f47"}}"#
            )),
        ),
        case("md5_short", "E_PROTOCOL", 1, "not 32 hex digits", "31 digits")
            .on(Always, items(r#"{"part_number":1,"size":5,"part_content_md5":"c24a2d4b1c4e03a9f4113903edac6f4"}"#)),
        case("md5_upper_case", "DONE", 1, "", "upper-case hex is accepted and returned lower case")
            .on(Always, items(r#"{"part_number":1,"size":5,"part_content_md5":"C24A2D4B1C4E03A9F4113903EDAC6F47"}"#))
            .parts(Parts::Count(1)),
        case("md5_null_or_missing", "DONE", 1, "", "a missing or null md5 is returned as \"\"")
            .on(Always, items(r#"{"part_number":1,"size":5,"part_content_md5":null},{"part_number":2,"size":5}"#))
            .parts(Parts::Count(2)),
        case("unknown_fields", "DONE", 1, "", "unknown extra fields are ignored")
            .on(
                Always,
                items(&format!(
                    r#"{{"zz":[1,{{"a":null}}],"part_number":1,"size":5,"uploaded":"2026-01-01"}},{ok_item}"#
                )),
            )
            .parts(Parts::Count(2)),
        case("data_not_array", "E_PROTOCOL", 1, "data is an object", "data must be an array")
            .on(Always, body(r#"{"responseStatus":"SUCCESS","data":{"part_number":1}}"#)),
        case("status_missing", "E_PROTOCOL", 1, "no responseStatus", "every Vault response has one")
            .on(Always, body(r#"{"data":[]}"#)),
        case("status_unknown", "E_PROTOCOL", 1, "unknown responseStatus", "only SUCCESS, WARNING, FAILURE, EXCEPTION")
            .on(Always, body(r#"{"responseStatus":"PARTIAL","data":[]}"#)),
        // Issue 8, findings 4, 7 and 8: page shapes, argument limits, spellings of one origin.
        case("body_is_an_array", "E_PROTOCOL", 1, "the body is an array, not an object", "a page's fields by position")
            .on(Always, body(r#"["SUCCESS", ["/p?c=2"], [[7, 42, "c24a2d4b1c4e03a9f4113903edac6f47"]], null]"#)),
        case(
            "details_is_an_array",
            "E_PROTOCOL",
            1,
            "responseDetails is an array, not an object",
            "next_page by position",
        )
        .on(
            Always,
            body(&format!(r#"{{"responseStatus":"SUCCESS","responseDetails":["/p?c=2"],"data":[{ok_item}]}}"#)),
        ),
        case("part_is_an_array", "E_PROTOCOL", 1, "data[1] is an array, not an object", "a part's fields by position")
            .on(Always, items(&format!(r#"{ok_item},[2,5,"c24a2d4b1c4e03a9f4113903edac6f47"]"#))),
        case("part_is_null", "E_PROTOCOL", 1, "data[0] is null, not an object", "every element of data is a part")
            .on(Always, items("null")),
        case(
            "error_is_an_array",
            "E_PROTOCOL",
            1,
            "errors[0] is an array, not an object",
            "an error's fields by position",
        )
        .on(Always, body(r#"{"responseStatus":"FAILURE","errors":[["INVALID_SESSION_ID","Invalid session"]]}"#)),
        case("session_id_longest", "DONE", 3, "", "a session ID of 8000 bytes, the maximum, is sent")
            .session(long_id(SID, 8000)),
        case("session_id_too_long", "E_ARG", 0, "at most 8000", "8001 bytes: refused by vault_parts_open")
            .session(long_id(SID, 8001)),
        case("upload_id_longest", "DONE", 3, "", "an upload session ID of 256 bytes, the maximum")
            .upload(long_id("u", 256)),
        case("upload_id_too_long", "E_ARG", 0, "at most 256", "257 bytes: refused by vault_parts_open")
            .upload(long_id("u", 257)),
        case("vault_url_host_dots", "E_ARG", 0, "empty label", "\"..\" is no host name").url("http://..:{port}"),
        case("vault_url_host_dash", "E_ARG", 0, "starts or ends with '-'", "nor is \"-\"").url("https://-"),
        case("vault_url_bad_ipv6", "E_ARG", 0, "not an IPv6 address", "nor is \"[:::]\"").url("http://[:::]:{port}"),
        case("vault_url_ipv6_spelled_out", "DONE", 3, "", "http://[0:0:0:0:0:0:0:1] is the loopback ::1")
            .ipv6()
            .url("http://[0:0:0:0:0:0:0:1]:{port}"),
        case("next_page_ipv6_spelled_out", "DONE", 2, "", "a link to [0:0:0:0:0:0:0:1] stays on [::1]")
            .ipv6()
            .on(
                Request(1),
                link(&format!("\"http://[0:0:0:0:0:0:0:1]:{{port}}{}\"", FIRST_URL.replace("limit=2", "limit=5"))),
            )
            .parts(Parts::Count(7)),
        case(
            "next_page_query_without_path",
            "E_HTTP",
            2,
            "HTTP 404",
            "a link with a query and no path is fetched at /",
        )
        .on(Request(1), link("\"http://127.0.0.1:{port}?limit=5\""))
        .fetched(&[FIRST_URL, "/?limit=5"])
        .parts(Parts::Count(2)),
        case("next_page_loop_respelled", "E_PROTOCOL", 1, "pagination loop", "the first page's URL, spelled otherwise")
            .ipv6()
            .on(Always, link(&format!("\"http://[0::1]:{{port}}{FIRST_URL}\"")))
            .parts(Parts::Count(2)),
    ]
}

/// `prefix` padded with 'x' to `len` bytes.
fn long_id(prefix: &str, len: usize) -> String {
    format!("{prefix}{}", "x".repeat(len - prefix.len()))
}

fn sim_config(c: &Case) -> Config {
    let t = &c.target;
    let needs_port = c.faults.iter().any(|(_, a)| with_port(a, 0).is_some());
    let port = if needs_port { free_port(t.bind) } else { 0 };
    let mut upload = Upload::new(&t.upload, "alice", PARTS);
    upload.links = c.links;
    upload.faults = c
        .faults
        .iter()
        .map(|(when, action)| Fault { when: *when, action: with_port(action, port).unwrap_or_else(|| action.clone()) })
        .collect();
    Config { bind: format!("{}:{port}", t.bind), ..Config::default() }.user(&t.session, "alice", false).upload(upload)
}

/// list.c's arguments for `c` against `sim`.
fn case_args(c: &Case, sim: &Sim, options: &[&str]) -> Vec<String> {
    let port = sim.addr().port().to_string();
    let url = c.target.url.as_ref().map_or_else(|| sim.url(), |u| u.replace("{port}", &port));
    let mut args = vec![url, c.target.session.clone(), c.target.upload.clone()];
    args.extend(options.iter().map(|s| s.to_string()));
    args
}

fn check_case(c: &Case, sim: &Sim, run: &Run) {
    let ctx = format!("scenario {} ({:?})", c.name, run.mode);
    assert_eq!(run.code, 0, "{ctx}: contract check failed:\n{}{}", run.stdout, run.stderr);
    assert_eq!(run.field("result"), c.code, "{ctx}:\n{}", run.stdout);
    let errmsg = run.field("errmsg");
    if c.needle.is_empty() {
        assert_eq!(errmsg, "", "{ctx}");
    } else {
        assert!(errmsg.contains(c.needle), "{ctx}: errmsg {errmsg:?} lacks {:?}\n{:?}", c.needle, run.log_lines());
    }
    let sid = c.target.session.as_str();
    assert!(!run.stdout.contains(sid) && !run.stderr.contains(sid), "{ctx}: session ID leaked:\n{}", run.stdout);
    for piece in secret_pieces(sid) {
        assert!(!run.stdout.contains(&piece), "{ctx}: {piece:?} of the session ID leaked:\n{}", run.stdout);
    }
    assert!(errmsg.len() <= 1024, "{ctx}: errmsg of {} bytes", errmsg.len());
    assert_eq!(sim.requests().len(), c.requests, "{ctx}: requests {:#?}", sim.requests());
    if let Some(targets) = c.fetched {
        let got: Vec<String> = sim
            .requests()
            .iter()
            .map(|r| if r.query.is_empty() { r.path.clone() } else { format!("{}?{}", r.path, r.query) })
            .collect();
        assert_eq!(got, targets, "{ctx}: the requests' targets");
    }
    match c.parts {
        Parts::All => assert_eq!(run.parts(), expected_parts(&sim_config(c).uploads[0]), "{ctx}"),
        Parts::Count(n) => assert_eq!(run.parts().lines().count(), n, "{ctx}: {}", run.parts()),
    }
    assert!(run.elapsed >= c.min, "{ctx}: took {:?}, expected at least {:?}", run.elapsed, c.min);
    let bound = c.max + run.mode.slack() - Mode::Native.slack();
    assert!(run.elapsed <= bound, "{ctx}: took {:?}, bound {bound:?}", run.elapsed);
}

#[test]
fn fault_matrix() {
    let cases = cases();
    // Exact: a scenario added or lost changes this count and docs/faults.md together.
    assert_eq!(cases.len(), MATRIX_ROWS, "the matrix's scenarios");
    // Two workers: the scenarios are I/O-bound and this machine has two cores. Every failing
    // scenario is reported, not only the first.
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = cases.get(i) else { break };
                let mut options = vec!["limit=2", "backoff=1,5", "attempts=3", "timeout=2000", "log=1"];
                options.extend_from_slice(c.options);
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    scenario(
                        || sim_config(c),
                        "tests-c/list.c",
                        |sim| case_args(c, sim, &options),
                        |sim, run| check_case(c, sim, run),
                    )
                }));
                if outcome.is_err() {
                    failed.lock().unwrap().push(c.name);
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "failing scenarios: {failed:?}");
}

#[test]
fn faults_doc_matches_the_matrix() {
    let mut table = String::from("| scenario | expected | requests | why |\n|---|---|---|---|\n");
    let rows = cases().into_iter().map(|c| (c.name, c.code, c.requests, c.why));
    let hostile = hostile_cases().into_iter().map(|c| (c.name, c.code, c.requests, c.why));
    for (name, code, requests, why) in rows.chain(hostile).chain(PROGRAM_ROWS.iter().copied()) {
        let code = if code == "DONE" { "DONE".to_owned() } else { format!("VAULT_PARTS_{code}") };
        table.push_str(&format!("| `{name}` | {code} | {requests} | {} |\n", why.replace('|', "\\|")));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/faults.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let (begin, end) = ("<!-- matrix:begin -->\n", "<!-- matrix:end -->");
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/faults.md lacks the matrix markers");
    };
    let current = &doc[b + begin.len()..e];
    if std::env::var("VAULT_PARTS_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, format!("{}{table}{}", &doc[..b + begin.len()], &doc[e..])).unwrap();
    } else {
        assert_eq!(current, table, "docs/faults.md is stale: run VAULT_PARTS_BLESS=1 cargo test --test faults");
    }
}

/// The session ID never reaches another origin, whether by next_page or by redirect: a decoy
/// listener on another loopback address records every request and must see none.
#[test]
fn session_id_never_reaches_another_origin() {
    let decoy = Sim::start(Config { bind: "127.0.0.2:0".into(), ..Config::default() }).expect("decoy on 127.0.0.2");
    let target = format!("{}/api/v25.3/services/file_staging/upload/f/parts", decoy.url());
    for action in [Action::NextPage(format!("\"{target}?cursor=x\"")), Action::Redirect(target.clone())] {
        let config = || {
            let u = Upload::new(UPLOAD, "alice", PARTS).fault(When::Always, action.clone());
            Config::default().user(SID, "alice", false).upload(u)
        };
        scenario(
            config,
            "tests-c/list.c",
            |s| list_args(s, SID, UPLOAD, &["limit=2", "log=1"]),
            |sim, run| {
                assert_eq!(run.field("result"), "E_PROTOCOL", "{}", run.stdout);
                assert_eq!(sim.requests().len(), 1);
            },
        );
    }
    assert!(decoy.requests().is_empty(), "requests reached the decoy: {:#?}", decoy.requests());
}

#[test]
fn ten_pages_use_one_tcp_connection() {
    let config = || Config::default().user(SID, "alice", false).upload(Upload::new(UPLOAD, "alice", 100));
    scenario(
        config,
        "tests-c/list.c",
        |s| list_args(s, SID, UPLOAD, &["limit=10"]),
        |sim, run| {
            assert_eq!(run.field("result"), "DONE");
            assert_eq!(sim.requests().len(), 10);
            assert_eq!(sim.connections(), 1);
            assert!(sim.requests().iter().all(|r| r.connection == 1));
        },
    );
}

#[test]
fn an_endless_body_is_cut_while_reading() {
    let config = || {
        let u = Upload::new(UPLOAD, "alice", PARTS).fault(When::Always, Action::Endless);
        Config::default().user(SID, "alice", false).upload(u)
    };
    scenario(
        config,
        "tests-c/list.c",
        |s| list_args(s, SID, UPLOAD, &[]),
        |_, run| {
            assert_eq!(run.field("result"), "E_PROTOCOL");
            assert!(run.field("errmsg").contains("larger than 8 MiB"));
            if run.mode == Mode::Native {
                // The server would send gigabytes; the cap keeps the process small.
                let rss_kib: u64 = run.field("maxrss").parse().unwrap();
                assert!(rss_kib < 48 * 1024, "peak RSS {rss_kib} KiB");
            }
        },
    );
}

#[test]
fn thirty_two_threads_each_list_their_own_session() {
    let sessions: Vec<(String, u32)> = (0..32).map(|i| (format!("t{i}"), 10 + i * 7)).collect();
    let config = || {
        sessions
            .iter()
            .fold(Config::default().user(SID, "alice", false), |c, (id, n)| c.upload(Upload::new(id, "alice", *n)))
    };
    let args = |s: &Sim| {
        let mut a = vec![s.url(), "25".to_owned()];
        a.extend(sessions.iter().map(|(id, n)| format!("{SID}:{id}:{n}")));
        a
    };
    scenario(config, "tests-c/threads.c", args, |sim, run| {
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout.lines().filter(|l| l.ends_with(" DONE")).count(), 32);
        let pages: u32 = sessions.iter().map(|(_, n)| n.div_ceil(25)).sum();
        assert_eq!(sim.requests().len() as u32, pages);
    });
}

#[test]
fn a_panic_inside_the_library_is_contained() {
    let config = || Config::default().user(SID, "alice", false).upload(Upload::new(UPLOAD, "alice", 2));
    scenario(
        config,
        "tests-c/panic.c",
        |s| vec![s.url(), SID.into(), UPLOAD.into()],
        |_, run| {
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert_eq!(run.stdout, "panic: survived, 0 failed checks\n");
        },
    );
}

/// HTTPS with a CA made at test time: unknown issuer without the CA file, every part with it,
/// and a certificate for another name refused even with the CA.
#[test]
fn tls_trusts_only_the_configured_ca_and_the_right_name() {
    let ca = TestCa::new("libvault_parts test CA");
    let dir = std::env::temp_dir().join(format!("vault_parts_tls_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let ca_opt = format!("ca_file={}", ca_file.display());
    let right = ca.identity(&["127.0.0.1", "localhost"]);
    let wrong = ca.identity(&["other.example"]);
    let tls_config = |identity: &vault_sim::tls::Identity| {
        let identity = identity.clone();
        move || {
            let mut c = Config::default().user(SID, "alice", false).upload(Upload::new(UPLOAD, "alice", 5));
            c.tls = Some(identity.clone());
            c
        }
    };
    let exe = program("tests-c/list.c");
    for (identity, options, code, requests) in [
        (&right, vec![], "E_TLS", 0),
        (&right, vec![ca_opt.as_str(), "limit=2"], "DONE", 3),
        (&wrong, vec![ca_opt.as_str()], "E_TLS", 0),
    ] {
        let sim = Sim::start(tls_config(identity)()).unwrap();
        assert!(sim.url().starts_with("https://"));
        let mut args = list_args(&sim, SID, UPLOAD, &options);
        args.push("attempts=3".into());
        let r = run(Mode::Native, &exe, &args, &[]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(r.field("result"), code, "{}", r.stdout);
        assert_eq!(sim.requests().len(), requests);
        if code == "E_TLS" {
            assert!(r.field("errmsg").contains("TLS failure"), "{}", r.field("errmsg"));
            assert!(r.field("errmsg").contains("page 1"), "{}", r.field("errmsg"));
        } else {
            assert_eq!(r.parts().lines().count(), 5);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A session ID as long as real ones, holding characters that escaping changes.
const LONG_SID: &str = r#"7Fq2"kZ9\xW4mB8vN1cR6tY3hJ5gD0sL7pA2eU9iO4uK8yT1rE6wQ3zX5nM0bV2c"#;
/// A long session ID that links may hold unencoded.
const LINK_SID: &str = "9A1c7E2b5D8f3G6h0J4k9L2m7N1p5Q8r3S6t0U4v9W2x7Y1z5B8d3F6g0H4j9K2";

/// A hostile server vault-sim does not play, written raw: what it answers, what the list
/// program must report.
struct Hostile {
    name: &'static str,
    sid: &'static str,
    /// Builds the server's answers; the argument stretches delays under valgrind.
    serve: fn(u32) -> Answer,
    options: &'static [&'static str],
    code: &'static str,
    requests: usize,
    needle: &'static str,
    parts: usize,
    min: Duration,
    max: Duration,
    why: &'static str,
    /// False only where valgrind would take minutes (10,000 requests); native and ASan run it.
    valgrind: bool,
    /// Pages vault_parts_stats counts ("received and accepted"), when the case checks them.
    pages: Option<u64>,
    /// Fewer requests allowed under valgrind, for a row whose count depends on time: valgrind
    /// on a loaded machine spends up to seconds per request of its own.
    valgrind_requests_min: Option<usize>,
}

fn hostile(name: &'static str, serve: fn(u32) -> Answer, code: &'static str, requests: usize) -> Hostile {
    Hostile {
        name,
        sid: SID,
        serve,
        options: &[],
        code,
        requests,
        needle: "",
        parts: 0,
        min: Duration::ZERO,
        max: ms(1500),
        why: "",
        valgrind: true,
        pages: None,
        valgrind_requests_min: None,
    }
}

impl Hostile {
    fn says(mut self, needle: &'static str, why: &'static str) -> Self {
        self.needle = needle;
        self.why = why;
        self
    }
    fn pages(mut self, pages: u64) -> Self {
        self.pages = Some(pages);
        self
    }
    fn sid(mut self, sid: &'static str) -> Self {
        self.sid = sid;
        self
    }
    fn options(mut self, options: &'static [&'static str]) -> Self {
        self.options = options;
        self
    }
    fn parts(mut self, parts: usize) -> Self {
        self.parts = parts;
        self
    }
    fn time(mut self, min: Duration, max: Duration) -> Self {
        self.min = min;
        self.max = max;
        self
    }
    fn valgrind_requests_at_least(mut self, min: usize) -> Self {
        self.valgrind_requests_min = Some(min);
        self
    }
    fn without_valgrind(mut self) -> Self {
        self.valgrind = false;
        self
    }
}

fn every(f: fn(usize, &str) -> Vec<u8>) -> Answer {
    Arc::new(move |n, target| (Duration::ZERO, f(n, target)))
}

fn part(n: usize) -> serde_json::Value {
    json!({"part_number": n, "size": 5, "part_content_md5": "c24a2d4b1c4e03a9f4113903edac6f47"})
}

fn page(data: serde_json::Value, next: Option<String>) -> Vec<u8> {
    ok(&json!({"responseStatus": "SUCCESS", "responseDetails": {"next_page": next}, "data": data}).to_string())
}

fn failure(kind: &str, message: &str) -> Vec<u8> {
    ok(&json!({"responseStatus": "FAILURE", "errors": [{"type": kind, "message": message}]}).to_string())
}

/// `answer`, until request `stop`: then an HTTP 410, so a library without the bound fails the
/// scenario instead of running forever.
fn endless(n: usize, stop: usize, answer: Vec<u8>) -> Vec<u8> {
    if n < stop {
        answer
    } else {
        response("410 Gone", &[], "")
    }
}

/// The IMF-fixdate (RFC 9110) `seconds` from now, as a server writes Retry-After.
fn http_date_in(seconds: u64) -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + seconds;
    let (days, secs) = ((t / 86_400) as i64, t % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let name = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month as usize - 1];
    format!("{weekday}, {day:02} {name} {year} {:02}:{:02}:{:02} GMT", secs / 3600, secs / 60 % 60, secs % 60)
}

#[test]
fn the_http_date_is_imf_fixdate() {
    let s = http_date_in(0);
    assert_eq!(s.len(), "Thu, 03 Dec 2026 13:41:23 GMT".len(), "{s}");
    assert!(s.ends_with(" GMT") && s.as_bytes()[3] == b',', "{s}");
}

fn pad(n: usize) -> String {
    "p".repeat(n)
}

fn hostile_cases() -> Vec<Hostile> {
    vec![
        hostile(
            "endless_empty_cursors",
            |_| every(|n, _| endless(n, 1_000, page(json!([]), Some(format!("/p?c={}", n + 1))))),
            "E_PROTOCOL",
            11,
        )
        .says("VAULT_PARTS_MAX_EMPTY_PAGES", "a new cursor on every empty page: at most 10 empty pages in a row")
        .pages(10),
        hostile(
            "endless_cursors_with_parts",
            |_| every(|n, _| endless(n, 10_100, page(json!([part(n)]), Some(format!("/p?c={}", n + 1))))),
            "E_PROTOCOL",
            10_000,
        )
        .says("VAULT_PARTS_MAX_PAGES", "a part and a new cursor on every page: at most 10,000 pages per listing")
        .parts(10_000)
        .time(Duration::ZERO, ms(30_000))
        .without_valgrind(),
        hostile(
            "redirect_hops_share_one_deadline",
            |scale| {
                Arc::new(move |n, _| {
                    let answer = if n <= 5 {
                        response("302 Found", &[format!("Location: /p?hop={n}")], "")
                    } else {
                        page(json!([part(1)]), None)
                    };
                    // 350 ms a hop: the third answer would end at 1050 ms, so three requests
                    // are made and the 1 s bound cuts the third, with 150 ms a hop to spare for
                    // a loaded machine (250 ms hops left none: 3 or 4 requests by load).
                    (ms(350 * u64::from(scale)), answer)
                })
            },
            "E_TIMEOUT",
            3,
        )
        .says("timed out", "five slow same-origin redirects: one 1 s deadline covers every hop")
        .options(&["timeout=1000", "attempts=1"])
        .valgrind_requests_at_least(2)
        .time(ms(1000), ms(1800)),
        hostile(
            "retry_after_http_date_in_the_future",
            |_| {
                every(|n, _| {
                    if n == 1 {
                        // Three seconds ahead, truncated to the second: a wait of 2 to 3 s.
                        response("503 Service Unavailable", &[format!("Retry-After: {}", http_date_in(3))], "")
                    } else {
                        page(json!([part(1)]), None)
                    }
                })
            },
            "DONE",
            2,
        )
        .says("", "503 with Retry-After as an HTTP date 3 s ahead: waited for (2-3 s), then the page")
        .options(&["backoff=1,10000"])
        .parts(1)
        .time(ms(2000), ms(4500)),
        hostile(
            "api_limit_retry_after_in_200",
            |_| {
                every(|n, _| {
                    if n == 1 {
                        let mut r = failure("API_LIMIT_EXCEEDED", "Slow down.");
                        let at = r.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
                        r.splice(at..at, b"Retry-After: 1\r\n".iter().copied());
                        r
                    } else {
                        page(json!([part(1), part(2)]), None)
                    }
                })
            },
            "DONE",
            2,
        )
        .says("", "API_LIMIT_EXCEEDED in an HTTP 200 body with Retry-After: 1 waits a second")
        .options(&["backoff=1,5000"])
        .parts(2)
        .time(ms(1000), ms(2500)),
        hostile(
            "echo_sid_in_status",
            |_| every(|_, _| ok(&json!({"responseStatus": format!("{}{LONG_SID}", pad(10))}).to_string())),
            "E_PROTOCOL",
            1,
        )
        .says("unknown responseStatus", "the session ID echoed as responseStatus: redacted before it is cut")
        .sid(LONG_SID),
        hostile(
            "echo_sid_in_error_type",
            |_| every(|_, _| failure(&format!("{}{LONG_SID}", pad(30)), "m")),
            "E_VAULT",
            1,
        )
        .says("[redacted]", "the session ID echoed in a Vault error type: redacted in errmsg and error_type")
        .sid(LONG_SID),
        hostile(
            "echo_sid_in_error_message",
            |_| every(|_, _| failure("INVALID_DATA", &format!("{}{LONG_SID}", pad(280)))),
            "E_VAULT",
            1,
        )
        .says("[redacted]", "the session ID at the end of a long Vault error message")
        .sid(LONG_SID),
        hostile(
            "echo_sid_in_md5",
            |_| {
                every(|_, _| {
                    page(
                        json!([{"part_number": 1, "size": 5, "part_content_md5": format!("{}{LONG_SID}", pad(20))}]),
                        None,
                    )
                })
            },
            "E_PROTOCOL",
            1,
        )
        .says("part_content_md5", "the session ID as an md5: quoted only after redaction")
        .sid(LONG_SID),
        hostile(
            "echo_sid_in_part_number",
            |_| every(|_, _| page(json!([{"part_number": format!("{}{LONG_SID}", pad(10)), "size": 5}]), None)),
            "E_PROTOCOL",
            1,
        )
        .says("part_number is the string", "the session ID as a part number string")
        .sid(LONG_SID),
        hostile(
            "echo_sid_in_next_page",
            |_| every(|_, _| page(json!([]), Some(format!("http://127.0.0.2:9/{}{LINK_SID}", pad(180))))),
            "E_PROTOCOL",
            1,
        )
        .says("next_page refused", "the session ID in a next_page to another host: refused, not quoted")
        .sid(LINK_SID),
        hostile(
            "echo_sid_in_redirect",
            |_| {
                every(|_, _| {
                    response("302 Found", &[format!("Location: http://127.0.0.2:9/{}{LINK_SID}", pad(180))], "")
                })
            },
            "E_PROTOCOL",
            1,
        )
        .says("redirect refused", "the session ID in a redirect to another host")
        .sid(LINK_SID),
        hostile(
            "echo_sid_in_followed_link",
            |_| {
                every(|n, _| {
                    if n == 1 {
                        page(json!([]), Some(format!("/p?x={}{LINK_SID}", pad(300))))
                    } else {
                        response("404 Not Found", &[], "")
                    }
                })
            },
            "E_HTTP",
            2,
        )
        .says("HTTP 404", "the session ID in a same-origin link: the URL in errmsg and log is redacted")
        .sid(LINK_SID),
        hostile(
            "huge_next_page",
            |_| {
                every(|n, _| {
                    if n == 1 {
                        page(json!([]), Some(format!("/{}", "a".repeat(1_000_000))))
                    } else {
                        response("404 Not Found", &[], "")
                    }
                })
            },
            "E_PROTOCOL",
            1,
        )
        .says(
            "...[cut ",
            "a 1 MB next_page (too long a URI to send): errmsg and log lines are cut at 1 KiB with a marker",
        )
        .options(&["timeout=20000"])
        .time(Duration::ZERO, ms(20_000)),
        hostile(
            "forged_log_lines",
            |_| {
                every(|_, _| {
                    failure("INVALID_DATA", "x\u{2028}log 1 forged\u{2029}\u{202E}gnp.exe\u{200B}\u{2066}\u{FEFF}\n\r")
                })
            },
            "E_VAULT",
            1,
        )
        .says("log 1 forged", "line separators and bidi/format characters from the server become spaces"),
        hostile(
            "headers_over_127",
            |_| every(|_, _| response("200 OK", &(0..130).map(|i| format!("X-H{i}: v")).collect::<Vec<_>>(), "{}")),
            "E_PROTOCOL",
            1,
        )
        .says("broke HTTP", "more than 127 response headers: a protocol violation, not retried"),
        hostile(
            "header_block_over_64k",
            |_| every(|_, _| response("200 OK", &[format!("X-Big: {}", "b".repeat(70_000))], "{}")),
            "E_PROTOCOL",
            1,
        )
        .says("broke HTTP", "a header block over 64 KiB: a protocol violation, not retried"),
    ]
}

/// Rows for C programs outside the list program's matrix.
const PROGRAM_ROWS: &[(&str, &str, usize, &str)] = &[(
    "misuse_changes_nothing",
    "ARG",
    3,
    "tests-c/misuse.c: setters after next, next with NULL out, calls after DONE return E_ARG and change nothing",
)];

/// Every 12-character piece of the secret, raw and as Rust or JSON escaping writes it.
fn secret_pieces(sid: &str) -> Vec<String> {
    let forms = [
        sid.to_owned(),
        format!("{sid:?}").trim_matches('"').to_owned(),
        json!(sid).to_string().trim_matches('"').to_owned(),
    ];
    let mut pieces = Vec::new();
    for form in forms {
        let chars: Vec<char> = form.chars().collect();
        pieces.extend(chars.windows(12).map(|w| w.iter().collect::<String>()));
    }
    pieces
}

fn check_hostile(c: &Hostile, requests: usize, run: &Run) {
    let ctx = format!("hostile {} ({:?})", c.name, run.mode);
    assert_eq!(run.code, 0, "{ctx}: contract check failed:\n{}{}", run.stdout, run.stderr);
    assert_eq!(run.field("result"), c.code, "{ctx}:\n{}", &run.stdout[..run.stdout.len().min(4000)]);
    let errmsg = run.field("errmsg");
    if c.needle.is_empty() {
        assert_eq!(errmsg, "", "{ctx}: no error, no message");
    }
    assert!(errmsg.contains(c.needle), "{ctx}: errmsg {errmsg:?} lacks {:?}\n{:?}", c.needle, run.log_lines());
    assert!(errmsg.len() <= 1024, "{ctx}: errmsg of {} bytes", errmsg.len());
    for line in run.log_lines() {
        assert!(line.len() <= 1024 + "log 1 ".len(), "{ctx}: log line of {} bytes", line.len());
    }
    let all = format!("{}{}", run.stdout, run.stderr);
    if let Some(p) = secret_pieces(c.sid).iter().find(|p| all.contains(p.as_str())) {
        panic!("{ctx}: {p:?} of the session ID leaked:\n{}", &all[..all.len().min(4000)]);
    }
    for forged in ['\u{2028}', '\u{2029}', '\u{202E}', '\u{200B}', '\u{2066}', '\u{FEFF}'] {
        assert!(!run.stdout.contains(forged), "{ctx}: U+{:04X} reached the output", forged as u32);
    }
    match c.valgrind_requests_min {
        Some(min) if run.mode == Mode::Valgrind => {
            assert!((min..=c.requests).contains(&requests), "{ctx}: {requests} requests, want {min}..={}", c.requests)
        }
        _ => assert_eq!(requests, c.requests, "{ctx}: requests"),
    }
    if let Some(pages) = c.pages {
        let stats = run.field("stats");
        assert!(stats.ends_with(&format!(" pages {pages}")), "{ctx}: stats {stats:?}, want {pages} pages accepted");
    }
    assert_eq!(run.parts().lines().count(), c.parts, "{ctx}: parts");
    assert!(run.elapsed >= c.min, "{ctx}: took {:?}, expected at least {:?}", run.elapsed, c.min);
    // The native bound is the claim. valgrind runs code 20-50x slower, so a row whose time is
    // CPU work (a 1 MB page parsed, cut and redacted) also gets a factor under it, not just the
    // fixed slack: huge_next_page took 55 s against 48 s with other builds on the 2 cores.
    let bound = match run.mode {
        Mode::Valgrind => c.max * 3 + run.mode.slack(),
        _ => c.max + run.mode.slack() - Mode::Native.slack(),
    };
    assert!(run.elapsed <= bound, "{ctx}: took {:?}, bound {bound:?}", run.elapsed);
}

fn run_hostile(c: &Hostile) {
    for mode in Mode::all().into_iter().filter(|m| c.valgrind || *m != Mode::Valgrind) {
        let scale = if mode == Mode::Valgrind { 10 } else { 1 };
        let server = RawServer::start((c.serve)(scale));
        let mut options = vec!["limit=2", "backoff=1,5", "attempts=3", "timeout=2000", "log=1"];
        options.extend_from_slice(c.options);
        let mut args = vec![server.url(), c.sid.to_owned(), UPLOAD.to_owned()];
        args.extend(options.iter().map(|o| o.to_string()));
        let exe = program_for("tests-c/list.c", mode == Mode::Sanitized);
        let r = run(mode, &exe, &stretch_timeouts(mode, args), &[]);
        assert_ne!(r.code, 99, "valgrind found errors in {}:\n{}", c.name, r.stderr);
        assert!(r.code != 98 && !r.stderr.contains("Sanitizer"), "sanitizers in {}:\n{}", c.name, r.stderr);
        check_hostile(c, server.requests(), &r);
    }
}

#[test]
fn hostile_servers() {
    let cases = hostile_cases();
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    let only = std::env::var("VAULT_PARTS_HOSTILE").ok();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = cases.get(i) else { break };
                if only.as_deref().is_some_and(|o| o != c.name) {
                    continue;
                }
                if catch_unwind(AssertUnwindSafe(|| run_hostile(c))).is_err() {
                    failed.lock().unwrap().push(c.name);
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "failing hostile scenarios: {failed:?}");
    // Narrowed to one scenario (a debugging aid), the matrix did not run: never a pass.
    if let Some(only) = only {
        assert!(cases.iter().any(|c| c.name == only), "VAULT_PARTS_HOSTILE={only} names no scenario");
        panic!("VAULT_PARTS_HOSTILE={only}: that scenario passed, but the rest of the matrix did not run");
    }
}

#[test]
fn misuse_changes_nothing() {
    let config = || Config::default().user(SID, "alice", false).upload(Upload::new(UPLOAD, "alice", 3));
    scenario(
        config,
        "tests-c/misuse.c",
        |s| vec![s.url(), SID.into(), UPLOAD.into()],
        |sim, run| {
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert_eq!(run.stdout, "misuse: 0 failed checks\n");
            assert_eq!(sim.requests().len(), PROGRAM_ROWS[0].2);
        },
    );
}

/// The memory an open handle holds after its first page, for the header's planning figure
/// (natively: under ASan or valgrind the allocator is not the program's own).
#[test]
fn an_open_handle_holds_a_bounded_amount_of_memory() {
    let sim = Sim::start(Config::default().user(SID, "alice", false).upload(Upload::new(UPLOAD, "alice", 3))).unwrap();
    let args = vec![sim.url(), SID.into(), UPLOAD.into(), "100".into()];
    let r = run(Mode::Native, &program("tests-c/handle_memory.c"), &args, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let kib: i64 = r.field("per_handle_kib").parse().unwrap();
    println!("an open handle holds {kib} KiB after its first page");
    // The header says "about 260 KiB": within a fifth of it (the measured 263 KiB natively is
    // mostly the connection's buffers; the allocator's rounding moves it a few KiB).
    assert!((208..=312).contains(&kib), "{kib} KiB per handle: the header says about 260 KiB");
}
