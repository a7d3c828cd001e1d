//! The redaction rule as a property: whatever server text carries the session ID, in whatever
//! spelling a server may echo it (exact, the bare token of a bearer scheme in any letter case,
//! JSON-escaped, percent-encoded in either case of hex digits or with '+' for a space, leniently
//! encoded, mixed), wherever it sits and however it is padded, no errmsg, error type or log
//! line holds 12 or more consecutive characters of any spelling.

mod harness;
mod spellings;

use harness::raw::{ok, response, Answer, RawServer};
use proptest::prelude::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vault_parts::Listing;

/// Where the server puts the padded session ID.
#[derive(Clone, Copy, Debug)]
enum Field {
    Status,
    ErrorType,
    ErrorMessage,
    Md5,
    PartNumber,
    LinkElsewhere,
    RedirectElsewhere,
    LinkHere,
    RedirectHere,
}

const FIELDS: [Field; 9] = [
    Field::Status,
    Field::ErrorType,
    Field::ErrorMessage,
    Field::Md5,
    Field::PartNumber,
    Field::LinkElsewhere,
    Field::RedirectElsewhere,
    Field::LinkHere,
    Field::RedirectHere,
];

fn answer(field: Field, text: String) -> Answer {
    Arc::new(move |n, _| {
        let failure = |kind: &str, message: &str| {
            ok(&json!({"responseStatus": "FAILURE", "errors": [{"type": kind, "message": message}]}).to_string())
        };
        let page = |data: serde_json::Value, next: Option<String>| {
            ok(&json!({"responseStatus": "SUCCESS", "responseDetails": {"next_page": next}, "data": data}).to_string())
        };
        // A header value holds no line break.
        let location = |to: &str| vec![format!("Location: {to}{}", text.replace(['\r', '\n'], ""))];
        let bytes = match field {
            Field::Status => ok(&json!({ "responseStatus": text }).to_string()),
            Field::ErrorType => failure(&text, "m"),
            Field::ErrorMessage => failure("INVALID_DATA", &text),
            Field::Md5 => page(json!([{"part_number": 1, "size": 5, "part_content_md5": text}]), None),
            Field::PartNumber => page(json!([{ "part_number": text, "size": 5 }]), None),
            Field::LinkElsewhere => page(json!([]), Some(format!("http://127.0.0.2:9/{text}"))),
            Field::RedirectElsewhere => response("302 Found", &location("http://127.0.0.2:9/"), ""),
            Field::LinkHere if n == 1 => page(json!([]), Some(format!("/p?x={text}"))),
            Field::RedirectHere if n == 1 => response("302 Found", &location("/r?x="), ""),
            Field::LinkHere | Field::RedirectHere => response("404 Not Found", &[], ""),
        };
        (Duration::ZERO, bytes)
    })
}

/// Session IDs: printable ASCII with many of the characters encoders change (space, `+ / = %
/// " \`) and brackets like the placeholder's, no surrounding space (open refuses it), and
/// half of them behind a bearer scheme in any letter case with one to three spaces.
fn session_id() -> impl Strategy<Value = String> {
    let core = r#"[!-~](([!-~]|[ +/=%"\\\[\]]){22,94})[!-~]"#;
    (prop::option::of("[Bb][Ee][Aa][Rr][Ee][Rr] {1,3}"), core).prop_map(|(scheme, id)| scheme.unwrap_or_default() + &id)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn no_output_holds_a_piece_of_the_session_id(
        secret in session_id(),
        spelling in any::<prop::sample::Index>(),
        before in "[a-z0-9 ./_-]{0,1200}",
        after in "[a-z0-9 ./_-]{0,200}",
        field in 0..FIELDS.len(),
    ) {
        let field = FIELDS[field];
        let spellings = spellings::spellings(&secret);
        let (how, spelled) = &spellings[spelling.index(spellings.len())];
        let server = RawServer::start(answer(field, format!("{before}{spelled}{after}")));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut listing = Listing::new(&server.url(), &secret, "u");
        prop_assert!(listing.error().is_none(), "{:?}", listing.error());
        listing.configure(|s| s.set_max_attempts(1)).unwrap();
        let sink_lines = lines.clone();
        listing.set_log(Some(Box::new(move |_, line| sink_lines.lock().unwrap().push(line.to_owned())))).unwrap();
        let error = listing.find_map(Result::err).expect("the listing fails");
        let mut shown = lines.lock().unwrap().clone();
        shown.push(error.message().to_owned());
        shown.push(error.vault_type().unwrap_or("").to_owned());
        for text in &shown {
            prop_assert!(text.len() <= 1024, "{field:?} {how}: {} bytes", text.len());
            if let Some(leak) = spellings::leak(text, &secret) {
                prop_assert!(false, "{field:?} {how}: {leak} in {text:?}");
            }
        }
    }
}
