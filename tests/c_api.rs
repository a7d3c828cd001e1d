//! The C API contract, driven through the C ABI: tests-c/*.c programs against vault-sim.

mod harness;

use harness::{expected_parts, list_args, program, run, scenario, Mode, Run};
use std::time::Duration;
use vault_sim::{Action, Config, LinkStyle, Sim, Upload, When};

/// Session IDs of the simulated users. alice owns the uploads; bob does not; root is Admin.
const ALICE: &str = "SID-alice-7f3a9c2e51";
const BOB: &str = "SID-bob-0c11d6";
const ROOT: &str = "SID-root-a9c4";

fn users() -> Config {
    Config::default().user(ALICE, "alice", false).user(BOB, "bob", false).user(ROOT, "root", true)
}

fn with(upload: Upload) -> impl Fn() -> Config {
    move || users().upload(upload.clone())
}

const LIST: &str = "tests-c/list.c";

fn assert_done(run: &Run) {
    assert_eq!(run.code, 0, "contract check failed ({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
    assert_eq!(run.field("result"), "DONE", "{}", run.stdout);
    assert_eq!(run.field("errmsg"), "");
    assert_eq!(run.field("error_type"), "");
}

/// Asserts the listing failed with `code` after exactly `requests` requests, that errmsg
/// names `needle`, and that no output line holds a session ID.
fn assert_failed(sim: &Sim, run: &Run, code: &str, requests: usize, needle: &str) {
    assert_eq!(run.code, 0, "contract check failed ({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
    assert_eq!(run.field("result"), code, "{}", run.stdout);
    assert!(run.field("errmsg").contains(needle), "errmsg {:?} lacks {needle:?}", run.field("errmsg"));
    assert_eq!(sim.requests().len(), requests, "requests seen: {:#?}", sim.requests());
    for sid in [ALICE, BOB, ROOT] {
        assert!(!run.stdout.contains(sid), "session ID leaked into output:\n{}", run.stdout);
    }
}

fn upload(id: &str, parts: u32) -> Upload {
    Upload::new(id, "alice", parts)
}

#[test]
fn lists_every_part_across_pages_on_one_connection() {
    let mut u = upload("98f46c04fa7a65ff2e5eaf90fdf613ab", 25);
    u.last_part_size = Some(1234);
    let expected = expected_parts(&u);
    scenario(
        with(u.clone()),
        LIST,
        |s| list_args(s, ALICE, &u.id, &["limit=10"]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
            let reqs = sim.requests();
            assert_eq!(reqs.len(), 3);
            assert_eq!(sim.connections(), 1, "pages must share one kept-alive connection");
            assert_eq!(reqs[0].path, format!("/api/v25.3/services/file_staging/upload/{}/parts", u.id));
            assert_eq!(reqs[0].query, "limit=10");
            assert!(reqs[1].query.starts_with("cursor=") && reqs[1].query.ends_with("&limit=10"), "{}", reqs[1].query);
            for r in &reqs {
                assert_eq!(r.method, "GET");
                assert_eq!(r.header("authorization"), Some(ALICE));
                assert_eq!(r.header("accept"), Some("application/json"));
                assert_eq!(
                    r.header("x-vaultapi-clientid"),
                    Some(concat!("libvault_parts-", env!("CARGO_PKG_VERSION")))
                );
            }
            assert_eq!(run.field("burst"), "1997");
        },
    );
}

#[test]
fn follows_relative_next_page_links() {
    let mut u = upload("rel1", 10);
    u.links = LinkStyle::Relative;
    let expected = expected_parts(&u);
    scenario(
        with(u.clone()),
        LIST,
        |s| list_args(s, ALICE, "rel1", &["limit=4"]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
            assert_eq!(sim.requests().len(), 3);
        },
    );
}

#[test]
fn default_limit_sends_no_parameter_and_gets_pages_of_1000() {
    let u = upload("big", 2500);
    let expected = expected_parts(&u);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "big", &[]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
            let reqs = sim.requests();
            assert_eq!(reqs.len(), 3);
            assert_eq!(reqs[0].query, "");
            assert!(reqs[2].query.ends_with("&limit=1000"));
        },
    );
}

#[test]
fn limit_one_fetches_a_page_per_part() {
    let u = upload("one", 5);
    let expected = expected_parts(&u);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "one", &["limit=1"]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
            assert_eq!(sim.requests().len(), 5);
            assert_eq!(sim.connections(), 1);
        },
    );
}

#[test]
fn empty_session_is_done_at_once() {
    scenario(
        with(upload("empty", 0)),
        LIST,
        |s| list_args(s, ALICE, "empty", &[]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), "");
            assert_eq!(sim.requests().len(), 1);
        },
    );
}

#[test]
fn sizes_past_4_gib_keep_64_bits() {
    let mut u = upload("huge", 3);
    u.part_size = 5_242_880;
    u.last_part_size = Some(6_000_000_000);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "huge", &[]),
        |_, run| {
            assert_done(run);
            assert!(run.parts().lines().last().unwrap().starts_with("part 3 6000000000 "), "{}", run.parts());
        },
    );
}

#[test]
fn api_version_and_client_id_reach_the_request() {
    scenario(
        with(upload("v", 2)),
        LIST,
        |s| list_args(s, ALICE, "v", &["version=v21.1", "client_id=acme.uploader_2-x"]),
        |sim, run| {
            assert_done(run);
            let r = &sim.requests()[0];
            assert_eq!(r.path, "/api/v21.1/services/file_staging/upload/v/parts");
            assert_eq!(r.header("x-vaultapi-clientid"), Some("acme.uploader_2-x"));
        },
    );
}

#[test]
fn admin_may_list_another_users_session() {
    let u = upload("adm", 3);
    let expected = expected_parts(&u);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ROOT, "adm", &[]),
        |_, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
        },
    );
}

#[test]
fn vault_failures_map_to_codes_without_retry() {
    let cases = [
        ("SID-wrong-123", "own", "E_AUTH", "INVALID_SESSION_ID"),
        (BOB, "own", "E_ACCESS", "INSUFFICIENT_ACCESS"),
        (ALICE, "nosuch", "E_VAULT", "INVALID_DATA"),
    ];
    for (sid, id, code, vault_type) in cases {
        scenario(
            with(upload("own", 3)),
            LIST,
            |s| list_args(s, sid, id, &["backoff=1,1"]),
            |sim, run| {
                assert_failed(sim, run, code, 1, vault_type);
                assert_eq!(run.field("error_type"), vault_type);
                assert!(run.field("errmsg").contains("page 1"), "{}", run.field("errmsg"));
                assert!(!run.stdout.contains("SID-wrong-123"));
                assert_eq!(run.parts(), "");
            },
        );
    }
}

#[test]
fn limit_out_of_vault_range_is_refused_locally() {
    scenario(
        with(upload("l", 3)),
        LIST,
        |s| list_args(s, ALICE, "l", &["limit=1001"]),
        |sim, run| {
            assert_failed(sim, run, "E_ARG", 0, "1 to 1000");
        },
    );
}

#[test]
fn http_statuses_map_to_codes_and_retry_only_transient_ones() {
    let cases = [
        (401, "E_AUTH", 1),
        (403, "E_ACCESS", 1),
        (404, "E_HTTP", 1),
        (400, "E_HTTP", 1),
        (429, "E_RATE_LIMIT", 3),
        (500, "E_HTTP", 3),
        (502, "E_HTTP", 3),
        (503, "E_HTTP", 3),
        (504, "E_HTTP", 3),
    ];
    for (status, code, requests) in cases {
        let u = upload("s", 3).fault(
            When::Always,
            Action::Status { code: status, body: "<html>gateway</html>".into(), retry_after: None },
        );
        scenario(
            with(u),
            LIST,
            |s| list_args(s, ALICE, "s", &["backoff=1,5", "attempts=3"]),
            |sim, run| {
                assert_failed(sim, run, code, requests, &format!("HTTP {status}"));
                assert_eq!(run.field("error_type"), "");
                if requests > 1 {
                    assert!(run.field("errmsg").contains("after 3 attempts"), "{}", run.field("errmsg"));
                }
            },
        );
    }
}

#[test]
fn a_transient_503_is_retried_and_the_listing_completes() {
    let u =
        upload("t", 5).fault(When::Request(2), Action::Status { code: 503, body: String::new(), retry_after: None });
    let expected = expected_parts(&u);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "t", &["limit=2", "backoff=1,5"]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
            assert_eq!(sim.requests().len(), 4);
        },
    );
}

#[test]
fn api_limit_exceeded_is_retried_then_reported() {
    let limit = || Action::VaultError {
        status: "FAILURE".into(),
        kind: "API_LIMIT_EXCEEDED".into(),
        message: "Slow down.".into(),
    };
    let u = upload("r", 3).fault(When::FirstN(2), limit());
    let expected = expected_parts(&u);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "r", &["backoff=1,5"]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
            assert_eq!(sim.requests().len(), 3);
        },
    );
    let u = upload("r", 3).fault(When::Always, limit());
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "r", &["backoff=1,5", "attempts=2"]),
        |sim, run| {
            assert_failed(sim, run, "E_RATE_LIMIT", 2, "API_LIMIT_EXCEEDED: Slow down.");
            assert_eq!(run.field("error_type"), "API_LIMIT_EXCEEDED");
            assert!(run.field("errmsg").contains("after 2 attempts"));
        },
    );
}

#[test]
fn retry_after_is_honoured() {
    let u = upload("ra", 2)
        .fault(When::Request(1), Action::Status { code: 429, body: String::new(), retry_after: Some(1) });
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "ra", &["backoff=1,5000", "log=1"]),
        |sim, run| {
            assert_done(run);
            assert_eq!(sim.requests().len(), 2);
            assert!(run.elapsed >= Duration::from_secs(1), "waited only {:?}", run.elapsed);
            assert!(run.stdout.contains("retrying in 1000 ms"), "{}", run.stdout);
        },
    );
}

#[test]
fn a_closed_connection_is_a_network_error_after_retries() {
    let u = upload("c", 2).fault(When::Always, Action::Close);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "c", &["backoff=1,5", "attempts=2"]),
        |sim, run| {
            assert_failed(sim, run, "E_NETWORK", 2, "after 2 attempts");
        },
    );
}

#[test]
fn a_refused_connection_is_a_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    scenario(
        users,
        LIST,
        |_| {
            vec![
                format!("http://127.0.0.1:{port}"),
                ALICE.into(),
                "x".into(),
                "backoff=1,5".into(),
                "attempts=2".into(),
            ]
        },
        |sim, run| assert_failed(sim, run, "E_NETWORK", 0, "connection failed"),
    );
}

#[test]
fn a_hung_server_times_out_within_the_budget() {
    let u = upload("h", 2).fault(When::Always, Action::Hang);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "h", &["timeout=300", "attempts=2", "backoff=1,1"]),
        |sim, run| {
            assert_failed(sim, run, "E_TIMEOUT", 2, "timed out");
            assert!(run.elapsed < Duration::from_millis(600) + run.mode.slack(), "took {:?}", run.elapsed);
        },
    );
}

#[test]
fn bad_pages_are_protocol_errors_naming_the_field() {
    let cases = [
        ("<html><body>Maintenance</body></html>", "not valid JSON"),
        (r#"{"responseStatus":"SUCCESS","data":[{"part_number":-1,"size":5}]}"#, "data[0].part_number is -1"),
        (
            r#"{"responseStatus":"SUCCESS","data":[{"part_number":1,"size":5,"part_content_md5":"xyz"}]}"#,
            "data[0].part_content_md5",
        ),
        (r#"{"responseStatus":"SUCCESS","data":{}}"#, "data is an object"),
        (r#"{"data":[]}"#, "no responseStatus"),
    ];
    for (body, needle) in cases {
        let u = upload("b", 2).fault(When::Always, Action::Body(body.into()));
        scenario(
            with(u),
            LIST,
            |s| list_args(s, ALICE, "b", &[]),
            |sim, run| {
                assert_failed(sim, run, "E_PROTOCOL", 1, needle);
                assert!(run.field("errmsg").contains("page 1"));
            },
        );
    }
}

#[test]
fn missing_or_null_md5_is_an_empty_string() {
    let body = r#"{"responseStatus":"WARNING","data":[{"part_number":1,"size":5},{"part_number":2,"size":6,"part_content_md5":null},
        {"part_number":3,"size":7,"part_content_md5":"C24A2D4B1C4E03A9F4113903EDAC6F47","extra":[1,{"x":2}]}]}"#;
    let u = upload("m", 3).fault(When::Always, Action::Body(body.into()));
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "m", &[]),
        |_, run| {
            assert_done(run);
            assert_eq!(run.parts(), "part 1 5 \npart 2 6 \npart 3 7 c24a2d4b1c4e03a9f4113903edac6f47\n");
        },
    );
}

/// A listener on another loopback address that must never be contacted.
fn decoy() -> Sim {
    Sim::start(Config { bind: "127.0.0.2:0".into(), ..users() }).expect("decoy listener on 127.0.0.2")
}

#[test]
fn next_page_to_another_origin_is_refused_after_the_parts_before_it() {
    let decoy = decoy();
    let other_port = Sim::start(users()).unwrap();
    let path = "/api/v25.3/services/file_staging/upload/n/parts?cursor=x&limit=2";
    let links = [
        format!("\"{}{path}\"", decoy.url()),
        format!("\"{}{path}\"", other_port.url()),
        format!("\"https://{}{path}\"", other_port.addr()),
        format!("\"//{}{path}\"", decoy.addr()),
        "\"parts?cursor=x\"".to_owned(),
    ];
    for link in links {
        let u = upload("n", 6).fault(When::Request(1), Action::NextPage(link.clone()));
        let expected: String = expected_parts(&u).lines().take(2).map(|l| format!("{l}\n")).collect();
        scenario(
            with(u),
            LIST,
            |s| list_args(s, ALICE, "n", &["limit=2"]),
            |sim, run| {
                assert_failed(sim, run, "E_PROTOCOL", 1, "page 2: next_page refused");
                assert_eq!(run.parts(), expected, "the first page's parts come out before the bad link");
            },
        );
    }
    assert!(decoy.requests().is_empty(), "the decoy was contacted: {:#?}", decoy.requests());
    assert!(other_port.requests().is_empty(), "the other port was contacted: {:#?}", other_port.requests());
}

#[test]
fn a_pagination_loop_is_refused() {
    let link = "\"/api/v25.3/services/file_staging/upload/p/parts?limit=2\"".to_owned();
    let u = upload("p", 6).fault(When::Always, Action::NextPage(link));
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "p", &["limit=2"]),
        |sim, run| {
            assert_failed(sim, run, "E_PROTOCOL", 1, "pagination loop");
            assert_eq!(run.parts().lines().count(), 2);
        },
    );
}

#[test]
fn redirects_are_followed_only_within_the_origin() {
    let u = upload("d", 4)
        .fault(When::Request(1), Action::Redirect("/api/v25.3/services/file_staging/upload/d/parts?limit=3".into()));
    let expected = expected_parts(&u);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "d", &["log=1"]),
        |sim, run| {
            assert_done(run);
            assert_eq!(run.parts(), expected);
            assert_eq!(sim.requests().len(), 3);
            assert_eq!(sim.requests()[1].header("authorization"), Some(ALICE));
            assert!(run.stdout.contains("following 302 redirect"), "{}", run.stdout);
        },
    );

    let decoy = decoy();
    let target = format!("{}/api/v25.3/services/file_staging/upload/d/parts", decoy.url());
    let u = upload("d", 4).fault(When::Always, Action::Redirect(target));
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "d", &[]),
        |sim, run| {
            assert_failed(sim, run, "E_PROTOCOL", 1, "redirect refused");
        },
    );
    assert!(decoy.requests().is_empty(), "the decoy was contacted: {:#?}", decoy.requests());
}

#[test]
fn an_echoed_session_id_is_redacted() {
    let echo = Action::VaultError {
        status: "EXCEPTION".into(),
        kind: "UNEXPECTED_ERROR".into(),
        message: format!("bad session {ALICE}"),
    };
    let u = upload("e", 2).fault(When::Always, echo);
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "e", &["log=1"]),
        |sim, run| {
            assert_failed(sim, run, "E_VAULT", 1, "bad session [redacted]");
            assert_eq!(run.field("error_type"), "UNEXPECTED_ERROR");
        },
    );
}

#[test]
fn the_log_callback_gets_requests_pages_and_retries() {
    let u =
        upload("g", 5).fault(When::Request(2), Action::Status { code: 502, body: String::new(), retry_after: None });
    scenario(
        with(u),
        LIST,
        |s| list_args(s, ALICE, "g", &["limit=2", "log=1", "backoff=1,5"]),
        |sim, run| {
            assert_done(run);
            let lines = run.log_lines();
            let url = format!("{}/api/v25.3/services/file_staging/upload/g/parts?limit=2", sim.url());
            assert!(lines.iter().any(|l| l.starts_with(&format!("log 4 GET {url} -> 200 in "))), "{lines:#?}");
            assert!(lines.iter().any(|l| l.starts_with("log 4 GET ") && l.contains(" -> 502 in ")), "{lines:#?}");
            assert!(
                lines.iter().any(|l| l.starts_with("log 2 page 2: attempt 1 of 3 failed (HTTP 502 Bad Gateway")),
                "{lines:#?}"
            );
            assert!(lines.contains(&"log 3 page 1: 2 parts, more pages follow"), "{lines:#?}");
            assert!(lines.contains(&"log 3 page 3: 1 part, last page"), "{lines:#?}");
            assert!(lines.contains(&"log 3 listing complete after 3 pages"), "{lines:#?}");
            assert_eq!(lines.iter().filter(|l| l.starts_with("log 4 ")).count(), 4);
        },
    );
}

#[test]
fn without_a_callback_nothing_is_printed() {
    scenario(
        with(upload("q", 3)),
        LIST,
        |s| list_args(s, ALICE, "q", &[]),
        |_, run| {
            assert_done(run);
            assert_eq!(run.stderr, "");
            assert!(run.log_lines().is_empty());
        },
    );
}

#[test]
fn handles_list_in_parallel_threads() {
    let sessions: Vec<(String, u32)> = (0..8).map(|i| (format!("thr{i}"), 20 + i * 13)).collect();
    let config = {
        let sessions = sessions.clone();
        move || sessions.iter().fold(users(), |c, (id, n)| c.upload(upload(id, *n)))
    };
    let args = |s: &Sim| {
        let mut a = vec![s.url(), "7".to_owned()];
        a.extend(sessions.iter().map(|(id, n)| format!("{ALICE}:{id}:{n}")));
        a
    };
    scenario(config, "tests-c/threads.c", args, |sim, run| {
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout.lines().filter(|l| l.ends_with(" DONE")).count(), 8, "{}", run.stdout);
        let pages: u32 = sessions.iter().map(|(_, n)| n.div_ceil(7)).sum();
        assert_eq!(sim.requests().len() as u32, pages);
    });
}

#[test]
fn api_contract_without_a_particular_server_answer() {
    scenario(
        with(upload("api", 3)),
        "tests-c/api.c",
        |s| vec![s.url(), ALICE.into(), "api".into()],
        |_, run| {
            assert_eq!(run.code, 0, "tests-c/api.c failed ({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
            assert!(run.stdout.contains("api: 0 failed checks"));
        },
    );
}

#[test]
fn cxx_wrapper_lists_and_throws() {
    let u = upload("cxx", 8);
    scenario(
        with(u),
        "tests-c/cxx_wrapper.cpp",
        |s| vec![s.url(), ALICE.into(), "cxx".into(), "8".into(), BOB.into()],
        |sim, run| {
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert_eq!(run.stdout, "cxx_wrapper: 8 parts, 0 failed checks\n");
            assert_eq!(
                sim.requests().iter().filter(|r| r.header("x-vaultapi-clientid") == Some("cxx-test")).count(),
                3
            );
        },
    );
}

/// A line of the header that declares a function (not a typedef of a function pointer).
fn is_function_declaration(line: &str) -> bool {
    !line.starts_with([' ', '#'])
        && !line.starts_with("typedef ")
        && line.contains("vault_parts_")
        && line.ends_with(");")
}

/// Every function, type and macro in the public header carries a doc comment for a C reader.
#[test]
fn every_header_item_is_documented() {
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/vault_parts.h")).unwrap();
    let lines: Vec<&str> = header.lines().collect();
    let mut items = 0;
    for (i, line) in lines.iter().enumerate() {
        let is_item = (line.starts_with("#define VAULT_PARTS_") && !line.starts_with("#define VAULT_PARTS_H"))
            || line.starts_with("typedef ")
            || (line.contains(" vault_parts_") && line.ends_with(");"));
        if !is_item {
            continue;
        }
        items += 1;
        // The item's comment ends right above it; version macros share one comment per group.
        let above = lines[..i].iter().rev().find(|l| !l.starts_with("#define VAULT_PARTS_VERSION_")).unwrap();
        assert!(above.trim_end().ends_with("*/"), "undocumented header item: {line}");
    }
    // Exact and independent: the header declares every function the library exports, no more.
    let declared = lines.iter().filter(|l| is_function_declaration(l)).count();
    let nm = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(harness::lib_dir().join("libvault_parts.so"))
        .output()
        .expect("nm runs");
    let exported = String::from_utf8_lossy(&nm.stdout)
        .lines()
        // vault_parts_test_*: the forced-panic hooks of debug builds, never in the header.
        .filter(|l| {
            l.split_whitespace()
                .nth(2)
                .is_some_and(|s| s.starts_with("vault_parts_") && !s.starts_with("vault_parts_test_"))
        })
        .count();
    assert_eq!(declared, exported, "functions in the header against vault_parts_* symbols the library exports");
    assert!(items > declared, "{items} items, {declared} functions: no constant or type was found");
    for phrase in ["The caller owns the handle and must pass it to vault_parts_free", "The library owns the string"] {
        assert!(header.contains(phrase), "the header lacks the fixed phrase {phrase:?}");
    }
}

#[test]
fn header_compiles_and_links_as_cpp11() {
    let exe = program("tests-c/header_cxx.cpp");
    let r = run(Mode::Native, &exe, &[], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "header_cxx: ok\n"), "{}", r.stderr);
}
