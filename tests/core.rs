//! The Rust core on its own, without the C layer: the same listing rules, checked directly.

use vault_parts::{ErrorKind, Listing};
use vault_sim::{Action, Config, Sim, Upload, When};

const SID: &str = "SID-core-91a";

fn sim(upload: Upload) -> Sim {
    Sim::start(Config::default().user(SID, "alice", false).upload(upload)).unwrap()
}

#[test]
fn iterates_every_part_then_stays_done() {
    let u = Upload::new("c1", "alice", 23);
    let sim = sim(u.clone());
    let mut listing = Listing::new(&sim.url(), SID, "c1");
    listing.configure(|s| s.set_limit(5)).unwrap();
    let parts: Vec<_> = listing.by_ref().collect::<Result<_, _>>().unwrap();
    let expected = vault_sim::expected_parts(&u);
    assert_eq!(parts.len(), 23);
    for (p, (n, size, md5)) in parts.iter().zip(&expected) {
        assert_eq!((p.part_number, p.size, p.md5_hex()), (*n, *size, md5.as_str()));
    }
    assert_eq!(sim.requests().len(), 5);
    assert!(listing.next().is_none());
    assert_eq!(listing.next_part(), Ok(None));
    assert_eq!(listing.burst_remaining(), 1995);
    // Settings are frozen once paging started; the refusal is misuse and changes nothing.
    assert_eq!(listing.configure(|s| s.set_limit(7)).unwrap_err().kind(), ErrorKind::Arg);
    assert_eq!(listing.next_part(), Ok(None));
    assert!(listing.error().is_none());
}

#[test]
fn an_error_is_yielded_once_by_the_iterator_and_kept_by_next_part() {
    let u = Upload::new("c2", "alice", 4).fault(When::Request(2), Action::Body("not json".into()));
    let sim = sim(u);
    let mut listing = Listing::new(&sim.url(), SID, "c2");
    listing.configure(|s| s.set_limit(2)).unwrap();
    let items: Vec<_> = listing.by_ref().collect();
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_ok());
    let err = items[2].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().starts_with("page 2 (GET "), "{}", err.message());
    assert!(listing.next().is_none(), "the Rust iterator is fused after its error");
    assert_eq!(listing.next_part().unwrap_err(), *err, "next_part repeats it, as the C API does");
    assert_eq!(listing.error(), Some(err));
}

#[test]
fn bad_arguments_fail_without_io_and_never_echo_the_session_id() {
    let listing = Listing::new("http://example.com", "secret-token", "u");
    let e = listing.error().unwrap();
    assert_eq!(e.kind(), ErrorKind::Arg);
    assert!(e.message().contains("only for loopback hosts"));
    let listing = Listing::new("https://v.example", "secret-token", "a/b");
    assert!(listing.error().unwrap().message().contains("upload_session_id"));
    let listing = Listing::new("https://v.example/secret-token", "secret-token", "u");
    assert!(!listing.error().unwrap().message().contains("secret-token"), "{}", listing.error().unwrap());
    // A long session ID inside an argument the check quotes cut and escaped: no piece of it.
    let sid = r#"Q7"w\e9RtY2uI8oP4aS6dF1gH3jK5lZ0xC7vB9nM2qW4eR6tY8uI0oP1aS3dF5gH"#;
    let upload = format!("{}/{sid}", "u".repeat(80));
    for (url, upload) in [(format!("https://h/{}{sid}", "p".repeat(180)), "u".to_owned()), ("https://h".into(), upload)]
    {
        let listing = Listing::new(&url, sid, &upload);
        let msg = listing.error().unwrap().message().to_owned();
        let chars: Vec<char> = sid.chars().collect();
        for piece in chars.windows(12).map(|w| w.iter().collect::<String>()) {
            assert!(
                !msg.contains(&piece) && !msg.contains(&format!("{piece:?}").trim_matches('"').to_owned()),
                "{msg}"
            );
        }
    }
}

#[test]
fn a_refused_text_setting_never_echoes_the_session_id() {
    let sid = "Zr8-Kq2-Wn5-Xt7-Lp4-Hv9-Jm3-Bc6-Dg1-Fs0";
    let mut listing = Listing::new("https://v.example", sid, "u");
    let version = format!("v{}{sid}", "1".repeat(20));
    let e = listing.configure(|s| s.set_api_version(&version)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Arg);
    assert!(e.message().contains("[redacted]"), "{e}");
    let chars: Vec<char> = sid.chars().collect();
    for piece in chars.windows(12).map(|w| w.iter().collect::<String>()) {
        assert!(!e.message().contains(&piece), "{e}");
    }
    assert_eq!(listing.error(), Some(&e), "a bad value sticks");
}
