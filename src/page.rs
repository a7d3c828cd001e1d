//! One page of the list-parts response: parsed straight into typed values (no generic JSON
//! tree) and validated field by field, so a bad page is refused with a message naming the field.

use crate::error::{quote, Error, ErrorKind};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

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
    let raw: RawPage = serde_json::from_slice(body).map_err(|e| {
        let what =
            if e.is_syntax() || e.is_eof() { "the body is not valid JSON" } else { "the body has an unexpected shape" };
        Error::protocol(format!("{what} ({e})"))
    })?;
    let status = raw.status.ok_or_else(|| Error::protocol("the body has no responseStatus"))?;
    match status.as_ref() {
        "SUCCESS" | "WARNING" => {}
        "FAILURE" | "EXCEPTION" => return Ok(Outcome::Failed(vault_failure(&status, raw.errors.unwrap_or_default()))),
        other => return Err(Error::protocol(format!("unknown responseStatus {}", quote(other)))),
    }
    let parts = match raw.data {
        Data::Missing | Data::Null => Vec::new(),
        Data::NotArray(kind) => return Err(Error::protocol(format!("data is {kind}, not an array"))),
        Data::Parts(Ok(parts)) => parts,
        Data::Parts(Err(why)) => return Err(Error::protocol(why)),
    };
    let next_page = raw.details.and_then(|d| d.next_page).filter(|l| !l.is_empty()).map(Cow::into_owned);
    Ok(Outcome::Parts(Page { parts, next_page }))
}

fn vault_failure(status: &str, errors: Vec<RawError>) -> Error {
    let Some(first) = errors.first() else {
        return Error::new(ErrorKind::Vault, format!("Vault answered {status} without an error type"));
    };
    let vault_type = first.kind.as_deref().unwrap_or_default().to_owned();
    let kind = match vault_type.as_str() {
        "INVALID_SESSION_ID" => ErrorKind::Auth,
        "INSUFFICIENT_ACCESS" => ErrorKind::Access,
        "API_LIMIT_EXCEEDED" => ErrorKind::RateLimit,
        _ => ErrorKind::Vault,
    };
    let mut message =
        format!("Vault answered {status}: {}", if vault_type.is_empty() { "(no error type)" } else { &vault_type });
    if let Some(m) = first.message.as_deref().filter(|m| !m.is_empty()) {
        message.push_str(&format!(": {m}"));
    }
    if errors.len() > 1 {
        message.push_str(&format!(" (and {} more errors)", errors.len() - 1));
    }
    let error = Error::new(kind, message);
    if vault_type.is_empty() {
        error
    } else {
        error.with_vault_type(vault_type)
    }
}

#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(rename = "responseStatus", borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(rename = "responseDetails", borrow)]
    details: Option<RawDetails<'a>>,
    #[serde(default)]
    data: Data,
    errors: Option<Vec<RawError<'a>>>,
}

#[derive(Deserialize)]
struct RawDetails<'a> {
    #[serde(borrow)]
    next_page: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawError<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
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
        while let Some(raw) = seq.next_element::<RawPart>()? {
            if violation.is_none() {
                match raw.validate() {
                    Ok(part) => parts.push(part),
                    Err(why) => violation = Some(format!("data[{index}].{why}")),
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
/// was wrong. An element that is not an object fails the whole page as malformed.
#[derive(Deserialize)]
struct RawPart<'a> {
    #[serde(default)]
    part_number: Scalar<'a>,
    #[serde(default)]
    size: Scalar<'a>,
    #[serde(default, borrow)]
    part_content_md5: Scalar<'a>,
}

impl RawPart<'_> {
    fn validate(&self) -> Result<Part, String> {
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
        let md5 = match &self.part_content_md5 {
            Scalar::Missing | Scalar::Null => None,
            Scalar::Str(s) if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let mut hex = [0u8; 32];
                hex.copy_from_slice(s.as_bytes());
                hex.make_ascii_lowercase();
                Some(hex)
            }
            Scalar::Str(s) => {
                return Err(format!("part_content_md5 {} is not 32 hex digits", quote(s)));
            }
            other => {
                return Err(format!("part_content_md5 is {}; it must be a string of 32 hex digits", other.describe()))
            }
        };
        Ok(Part { part_number, size, md5 })
    }
}

/// Any JSON value, keeping only what validation needs.
#[derive(Default)]
enum Scalar<'a> {
    #[default]
    Missing,
    Null,
    Bool,
    Unsigned(u64),
    Negative(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Compound,
}

impl Scalar<'_> {
    fn describe(&self) -> String {
        match self {
            Scalar::Missing => "missing".into(),
            Scalar::Null => "null".into(),
            Scalar::Bool => "a boolean".into(),
            Scalar::Unsigned(n) => n.to_string(),
            Scalar::Negative(n) => n.to_string(),
            Scalar::Float(f) => format!("{f} (not an integer, or too large)"),
            Scalar::Str(s) => format!("the string {}", quote(s)),
            Scalar::Compound => "an object or array".into(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor(std::marker::PhantomData))
    }
}

struct ScalarVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
    type Value = Scalar<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool)
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Unsigned(n))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(if n >= 0 { Scalar::Unsigned(n as u64) } else { Scalar::Negative(n) })
    }
    fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(f))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(violation(r#"{"responseStatus":"SUCCESS","data":[1]}"#).contains("unexpected shape"));
        assert!(
            violation(r#"{"responseStatus":"SUCCESS","responseDetails":{"next_page":5}}"#).contains("unexpected shape")
        );
        assert!(violation("[]").contains("unexpected shape"));
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
