//! The redaction rule as a property: whatever server text carries the whole session ID,
//! wherever it sits and however it is padded, no errmsg, error type or log line holds 12 or
//! more consecutive characters of it, raw or escaped.

mod harness;

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
}

const FIELDS: [Field; 8] = [
    Field::Status,
    Field::ErrorType,
    Field::ErrorMessage,
    Field::Md5,
    Field::PartNumber,
    Field::LinkElsewhere,
    Field::RedirectElsewhere,
    Field::LinkHere,
];

fn answer(field: Field, text: String) -> Answer {
    Arc::new(move |n, _| {
        let failure = |kind: &str, message: &str| {
            ok(&json!({"responseStatus": "FAILURE", "errors": [{"type": kind, "message": message}]}).to_string())
        };
        let page = |data: serde_json::Value, next: Option<String>| {
            ok(&json!({"responseStatus": "SUCCESS", "responseDetails": {"next_page": next}, "data": data}).to_string())
        };
        let bytes = match field {
            Field::Status => ok(&json!({ "responseStatus": text }).to_string()),
            Field::ErrorType => failure(&text, "m"),
            Field::ErrorMessage => failure("INVALID_DATA", &text),
            Field::Md5 => page(json!([{"part_number": 1, "size": 5, "part_content_md5": text}]), None),
            Field::PartNumber => page(json!([{ "part_number": text, "size": 5 }]), None),
            Field::LinkElsewhere => page(json!([]), Some(format!("http://127.0.0.2:9/{text}"))),
            Field::RedirectElsewhere => {
                response("302 Found", &[format!("Location: http://127.0.0.2:9/{}", text.replace(['\r', '\n'], ""))], "")
            }
            Field::LinkHere if n == 1 => page(json!([]), Some(format!("/p?x={text}"))),
            Field::LinkHere => response("404 Not Found", &[], ""),
        };
        (Duration::ZERO, bytes)
    })
}

fn pieces(secret: &str) -> Vec<String> {
    let forms = [secret.to_owned(), format!("{secret:?}"), json!(secret).to_string()];
    forms
        .iter()
        .flat_map(|f| {
            let chars: Vec<char> = f.trim_matches('"').chars().collect();
            chars.windows(12).map(|w| w.iter().collect::<String>()).collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_output_holds_a_piece_of_the_session_id(
        secret in "[!-~]{24,96}",
        before in "[a-z0-9 ./_-]{0,1200}",
        after in "[a-z0-9 ./_-]{0,200}",
        field in 0..FIELDS.len(),
    ) {
        let field = FIELDS[field];
        let server = RawServer::start(answer(field, format!("{before}{secret}{after}")));
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
            prop_assert!(text.len() <= 1024, "{field:?}: {} bytes", text.len());
            for piece in pieces(&secret) {
                prop_assert!(!text.contains(&piece), "{field:?}: {piece:?} in {text:?}");
            }
        }
    }
}
