//! One page of the list-parts response: the parts array and next_page inside Vault's envelope
//! (envelope.rs), parsed straight into typed values (no generic JSON tree) and validated field
//! by field, so a bad page is refused with a message naming the field.

use crate::envelope::{self, Answer, Object, Scalar};
use crate::error::Error;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// The most parts a page holds: the largest `limit` Vault accepts. A page past it is refused
/// while it is parsed, so a hostile page costs no more memory than a full one.
pub(crate) const MAX_PAGE_PARTS: u32 = 1000;

/// One uploaded part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub part_number: u32,
    pub size: u64,
    /// 32 lowercase hex digits, or None when Vault sent none.
    pub md5: Option<[u8; 32]>,
}

impl Part {
    pub fn md5_hex(&self) -> &str {
        self.md5.as_ref().map_or("", |m| std::str::from_utf8(m).expect("md5 holds ASCII hex"))
    }
}

/// A successful page: its parts in server order and the raw next_page link, if any.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub parts: Vec<Part>,
    pub next_page: Option<String>,
}

/// What a page says besides its parts.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Parts(Page),
    /// responseStatus FAILURE or EXCEPTION: the error to report, already mapped to a kind.
    Failed(Error),
}

/// Parses and validates one response body. Err is a protocol violation.
pub fn parse(body: &[u8]) -> Result<Outcome, Error> {
    let (data, details) = match envelope::parse::<Data, RawDetails>(body)? {
        Answer::Failed(e) => return Ok(Outcome::Failed(e)),
        Answer::Success { data, details } => (data, details),
    };
    let parts = match data {
        Data::Missing | Data::Null => Vec::new(),
        Data::NotArray(kind) => return Err(Error::protocol(format!("data is {kind}, not an array"))),
        Data::Parts(Ok(parts)) => parts,
        Data::Parts(Err(why)) => return Err(Error::protocol(why)),
    };
    let next_page = details.and_then(|d| d.next_page).filter(|l| !l.is_empty()).map(Cow::into_owned);
    Ok(Outcome::Parts(Page { parts, next_page }))
}

#[derive(Deserialize)]
struct RawDetails<'a> {
    #[serde(borrow)]
    next_page: Option<Cow<'a, str>>,
}

/// The data member: validated into parts while it is read, keeping the first violation so the
/// status can still be checked first (a FAILURE page's data does not matter).
#[derive(Default)]
enum Data {
    #[default]
    Missing,
    Null,
    NotArray(&'static str),
    Parts(Result<Vec<Part>, String>),
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of parts")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1000));
        let mut violation = None;
        let mut index = 0usize;
        while let Some(raw) = seq.next_element::<Object<RawPart>>()? {
            if violation.is_none() && index == MAX_PAGE_PARTS as usize {
                violation = Some(format!("data holds more than {MAX_PAGE_PARTS} parts, the most a Vault page holds"));
                parts = Vec::new();
            }
            if violation.is_none() {
                let part = raw.get(format_args!("data[{index}]"));
                match part.and_then(|raw| raw.validate().map_err(|why| format!("data[{index}].{why}"))) {
                    Ok(part) => parts.push(part),
                    Err(why) => violation = Some(why),
                }
            }
            index += 1;
        }
        Ok(Data::Parts(violation.map_or(Ok(parts), Err)))
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Data, E> {
        Ok(Data::NotArray("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Data, E> {
        Ok(Data::NotArray("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Data, E> {
        Ok(Data::NotArray("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Data, E> {
        Ok(Data::NotArray("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Data, E> {
        Ok(Data::NotArray("a string"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Data::NotArray("an object"))
    }
}

/// One element of data, fields kept as whatever JSON type arrived so validation can say what
/// was wrong.
#[derive(Deserialize)]
pub(crate) struct RawPart<'a> {
    #[serde(default)]
    part_number: Scalar<'a>,
    #[serde(default)]
    size: Scalar<'a>,
    #[serde(default, borrow)]
    part_content_md5: Scalar<'a>,
}

impl RawPart<'_> {
    /// The part, or the violation naming the field (without the element's path).
    pub(crate) fn validate(&self) -> Result<Part, String> {
        let part_number = match self.part_number {
            Scalar::Unsigned(n) if n >= 1 && n <= u64::from(u32::MAX) => n as u32,
            ref other => {
                return Err(format!(
                    "part_number is {}; it must be a positive integer that fits in 32 bits",
                    other.describe()
                ))
            }
        };
        let size = match self.size {
            Scalar::Unsigned(n) => n,
            ref other => {
                return Err(format!(
                    "size is {}; it must be a non-negative integer that fits in 64 bits",
                    other.describe()
                ))
            }
        };
        let md5 = self.part_content_md5.md5("part_content_md5")?;
        Ok(Part { part_number, size, md5 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// Verbatim from Vault's reference page (shared/vault-api.md).
    const REFERENCE_EXAMPLE: &str = r#"{
   "responseStatus": "SUCCESS",
   "responseDetails": {
       "next_page": "https://myvault.veevavault.com/api/v21.1/services/file_staging/upload/98f46c04fa7a65ff2e5eaf90fdf613ab/parts?cursor=%2BMTykDOd3PrccDRP%2F254mQ%3D%3D%3A%2BkGnLUB6M9iDNUZeJ6BgOdWKpFQ%2BC7Q0B8UHdPxfJ7U%3D&limit=2"
   },
   "data": [
       { "size": 5242880, "part_number": 1, "part_content_md5": "c24a2d4b1c4e03a9f4113903edac6f47" },
       { "size": 5242880, "part_number": 2, "part_content_md5": "d6762077325b9ec3b75ada3b269e17d3" }
   ]
}"#;

    fn page(body: &str) -> Page {
        match parse(body.as_bytes()).unwrap() {
            Outcome::Parts(p) => p,
            Outcome::Failed(e) => panic!("unexpected failure {e}"),
        }
    }

    fn violation(body: &str) -> String {
        let e = parse(body.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        e.message().to_owned()
    }

    fn item(fields: &str) -> String {
        format!(r#"{{"responseStatus":"SUCCESS","data":[{{"part_number":1,"size":5}},{{{fields}}}]}}"#)
    }

    #[test]
    fn parses_the_reference_example_exactly() {
        let p = page(REFERENCE_EXAMPLE);
        assert_eq!(p.parts.len(), 2);
        assert_eq!(p.parts[0].part_number, 1);
        assert_eq!(p.parts[0].size, 5_242_880);
        assert_eq!(p.parts[0].md5_hex(), "c24a2d4b1c4e03a9f4113903edac6f47");
        assert_eq!(p.parts[1].part_number, 2);
        assert_eq!(p.parts[1].md5_hex(), "d6762077325b9ec3b75ada3b269e17d3");
        assert!(p.next_page.unwrap().ends_with("%2BC7Q0B8UHdPxfJ7U%3D&limit=2"));
    }

    #[test]
    fn a_page_holds_at_most_vaults_largest_limit() {
        let body = |n: u32| {
            let items: Vec<String> = (1..=n).map(|k| format!(r#"{{"part_number":{k},"size":5}}"#)).collect();
            format!(r#"{{"responseStatus":"SUCCESS","data":[{}]}}"#, items.join(","))
        };
        assert_eq!(page(&body(MAX_PAGE_PARTS)).parts.len(), 1000);
        assert_eq!(
            violation(&body(MAX_PAGE_PARTS + 1)),
            "data holds more than 1000 parts, the most a Vault page holds"
        );
        // A FAILURE page's data does not matter, however long.
        let failed = body(MAX_PAGE_PARTS + 1).replace("SUCCESS", "FAILURE");
        assert!(matches!(parse(failed.as_bytes()), Ok(Outcome::Failed(_))));
    }

    #[test]
    fn last_page_and_empty_forms() {
        assert_eq!(page(r#"{"responseStatus":"SUCCESS","data":[]}"#).parts.len(), 0);
        assert_eq!(page(r#"{"responseStatus":"SUCCESS"}"#).next_page, None);
        assert_eq!(
            page(r#"{"responseStatus":"SUCCESS","responseDetails":{"next_page":null},"data":null}"#).next_page,
            None
        );
        assert_eq!(
            page(r#"{"responseStatus":"SUCCESS","responseDetails":{"next_page":""},"data":[]}"#).next_page,
            None
        );
        assert_eq!(page(r#"{"responseStatus":"WARNING","data":[{"part_number":7,"size":0}]}"#).parts[0].part_number, 7);
    }

    #[test]
    fn md5_forms() {
        let p = page(&item(r#""part_number":2,"size":1,"part_content_md5":"C24A2D4B1C4E03A9F4113903EDAC6F47""#));
        assert_eq!(p.parts[1].md5_hex(), "c24a2d4b1c4e03a9f4113903edac6f47");
        let p = page(&item(r#""part_number":2,"size":1,"part_content_md5":null"#));
        assert_eq!(p.parts[1].md5_hex(), "");
        assert_eq!(p.parts[0].md5, None);
        assert!(violation(&item(r#""part_number":2,"size":1,"part_content_md5":"abc""#))
            .contains("data[1].part_content_md5"));
        assert!(violation(&item(r#""part_number":2,"size":1,"part_content_md5":"g24a2d4b1c4e03a9f4113903edac6f47""#))
            .contains("not 32 hex digits"));
        assert!(violation(&item(r#""part_number":2,"size":1,"part_content_md5":5"#)).contains("must be a string"));
    }

    #[test]
    fn number_violations_name_the_field() {
        for (fields, expect) in [
            (r#""part_number":0,"size":1"#, "data[1].part_number is 0"),
            (r#""part_number":-3,"size":1"#, "data[1].part_number is -3"),
            (r#""part_number":1.5,"size":1"#, "data[1].part_number is 1.5"),
            (r#""part_number":"2","size":1"#, "data[1].part_number is the string \"2\""),
            (r#""part_number":4294967296,"size":1"#, "data[1].part_number is 4294967296"),
            (r#""size":1"#, "data[1].part_number is missing"),
            (r#""part_number":2,"size":-1"#, "data[1].size is -1"),
            (r#""part_number":2,"size":18446744073709551616"#, "data[1].size is 18446744073709552000"),
            (r#""part_number":2,"size":null"#, "data[1].size is null"),
            (r#""part_number":2"#, "data[1].size is missing"),
        ] {
            let msg = violation(&item(fields));
            assert!(msg.contains(expect), "{fields}: {msg}");
        }
        let p = page(&item(r#""part_number":4294967295,"size":18446744073709551615,"extra":{"a":[1]}"#));
        assert_eq!(p.parts[1].part_number, u32::MAX);
        assert_eq!(p.parts[1].size, u64::MAX);
    }

    #[test]
    fn shape_violations() {
        assert!(violation("<html>503</html>").contains("not valid JSON"));
        assert!(violation(r#"{"responseStatus":"SUCCESS","data":[{"#).contains("not valid JSON"));
        assert!(violation(r#"{"data":[]}"#).contains("no responseStatus"));
        assert!(violation(r#"{"responseStatus":"MAYBE","data":[]}"#).contains("unknown responseStatus \"MAYBE\""));
        assert!(violation(r#"{"responseStatus":"SUCCESS","data":{"a":1}}"#).contains("data is an object, not an array"));
        assert!(violation(r#"{"responseStatus":"SUCCESS","data":"x"}"#).contains("data is a string"));
        assert_eq!(violation(r#"{"responseStatus":"SUCCESS","data":[1]}"#), "data[0] is a number, not an object");
        assert!(
            violation(r#"{"responseStatus":"SUCCESS","responseDetails":{"next_page":5}}"#).contains("unexpected shape")
        );
    }

    /// serde's derived structs read an array as positional fields: only objects may pass.
    #[test]
    fn arrays_are_not_objects() {
        let array_page = r#"["SUCCESS", ["/p?c=2"], [[7, 42, "c24a2d4b1c4e03a9f4113903edac6f47"]], null]"#;
        assert_eq!(violation(array_page), "the body is an array, not an object");
        for (body, kind) in [("[]", "an array"), ("\"SUCCESS\"", "a string"), ("5", "a number"), ("null", "null")] {
            assert_eq!(violation(body), format!("the body is {kind}, not an object"), "{body}");
        }
        for (details, kind) in [(r#"["/p?c=2"]"#, "an array"), ("\"/p?c=2\"", "a string"), ("true", "a boolean")] {
            let body = format!(r#"{{"responseStatus":"SUCCESS","responseDetails":{details},"data":[]}}"#);
            assert_eq!(violation(&body), format!("responseDetails is {kind}, not an object"), "{body}");
        }
        for (element, kind) in
            [(r#"[7,42,"c24a2d4b1c4e03a9f4113903edac6f47"]"#, "an array"), ("null", "null"), ("7", "a number")]
        {
            let body = format!(
                r#"{{"responseStatus":"SUCCESS","data":[{{"part_number":1,"size":5}},{{"part_number":2,"size":5}},{element}]}}"#
            );
            assert_eq!(violation(&body), format!("data[2] is {kind}, not an object"), "{body}");
        }
        for errors in [r#"[["INVALID_SESSION_ID","Invalid"]]"#, r#"["INVALID_SESSION_ID"]"#] {
            let body = format!(r#"{{"responseStatus":"FAILURE","errors":{errors}}}"#);
            assert!(violation(&body).starts_with("errors[0] is "), "{body}");
        }
        let later = r#"{"responseStatus":"FAILURE","errors":[{"type":"INVALID_DATA"},[1]]}"#;
        assert_eq!(violation(later), "errors[1] is an array, not an object");
        // Objects nested inside ignored values stay ignored, and null details mean none.
        assert_eq!(page(r#"{"responseStatus":"SUCCESS","responseDetails":null,"data":[]}"#).next_page, None);
        let p = page(r#"{"responseStatus":"SUCCESS","responseDetails":{"next_page":"/n","x":[1]},"data":[]}"#);
        assert_eq!(p.next_page.as_deref(), Some("/n"));
    }

    #[test]
    fn failures_map_by_type() {
        let failed = |t: &str| match parse(
            format!(r#"{{"responseStatus":"FAILURE","errors":[{{"type":"{t}","message":"msg here"}}],"data":"junk"}}"#)
                .as_bytes(),
        )
        .unwrap()
        {
            Outcome::Failed(e) => e,
            Outcome::Parts(_) => panic!("not a failure"),
        };
        assert_eq!(failed("INVALID_SESSION_ID").kind(), ErrorKind::Auth);
        assert_eq!(failed("INSUFFICIENT_ACCESS").kind(), ErrorKind::Access);
        assert_eq!(failed("API_LIMIT_EXCEEDED").kind(), ErrorKind::RateLimit);
        let e = failed("INVALID_DATA");
        assert_eq!(e.kind(), ErrorKind::Vault);
        assert_eq!(e.vault_type(), Some("INVALID_DATA"));
        assert_eq!(e.message(), "Vault answered FAILURE: INVALID_DATA: msg here");
        match parse(br#"{"responseStatus":"EXCEPTION"}"#).unwrap() {
            Outcome::Failed(e) => {
                assert_eq!(e.kind(), ErrorKind::Vault);
                assert_eq!(e.vault_type(), None);
            }
            Outcome::Parts(_) => panic!("not a failure"),
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn page_json(parts: &[(u32, u64, Option<String>)], next: &Option<String>) -> String {
        let data: Vec<String> = parts
            .iter()
            .map(|(n, size, md5)| match md5 {
                Some(m) => format!(r#"{{"size":{size},"part_number":{n},"part_content_md5":"{m}"}}"#),
                None => format!(r#"{{"part_number":{n},"size":{size}}}"#),
            })
            .collect();
        let next = next.as_ref().map_or("null".to_owned(), |n| serde_json::to_string(n).unwrap());
        format!(
            r#"{{"responseStatus":"SUCCESS","responseDetails":{{"next_page":{next}}},"data":[{}]}}"#,
            data.join(",")
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&body);
        }

        #[test]
        fn json_like_text_never_panics(body in r#"[{}\[\]":,0-9a-zA-Z_ .\-eE+\\]{0,200}"#) {
            let _ = parse(body.as_bytes());
        }

        #[test]
        fn valid_pages_round_trip(
            parts in proptest::collection::vec((1u32.., any::<u64>(), proptest::option::of("[0-9a-fA-F]{32}")), 0..50),
            next in proptest::option::of("/api/v25\\.3/[a-z0-9/?=&%]{1,60}"),
        ) {
            let body = page_json(&parts, &next);
            let Outcome::Parts(page) = parse(body.as_bytes()).unwrap() else { panic!("not parts") };
            prop_assert_eq!(page.next_page, next);
            prop_assert_eq!(page.parts.len(), parts.len());
            for (got, (n, size, md5)) in page.parts.iter().zip(&parts) {
                prop_assert_eq!(got.part_number, *n);
                prop_assert_eq!(got.size, *size);
                prop_assert_eq!(got.md5_hex(), md5.as_deref().map(str::to_ascii_lowercase).unwrap_or_default());
            }
        }
    }
}
