//! Vault's envelope around every answer: `responseStatus` (SUCCESS, WARNING, FAILURE,
//! EXCEPTION), the `errors` array and its error types mapped to the C API's kinds, read straight
//! into typed values; `data` and `responseDetails` are the caller's types. Only JSON objects
//! pass for objects ([`Object`]), and [`Scalar`] keeps whatever JSON type a field held so that a
//! violation names the field and what was found.

use crate::error::{quote, Error, ErrorKind};
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// What an answer says: its data and details (SUCCESS or WARNING), or Vault's failure.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<D, R> {
    Success {
        data: D,
        details: Option<R>,
    },
    /// responseStatus FAILURE or EXCEPTION: the error to report, already mapped to a kind.
    Failed(Error),
}

/// Parses one answer body. `D` reads `data` (absent: its default) and must accept any JSON
/// value, keeping a violation for later, so that the status is looked at first (a FAILURE's data
/// does not matter); `R` reads `responseDetails` once it is known to be an object. Err is a
/// protocol violation.
pub fn parse<'a, D, R>(body: &'a [u8]) -> Result<Answer<D, R>, Error>
where
    D: Deserialize<'a> + Default,
    R: Deserialize<'a>,
{
    let RawEnvelope { status, details, data, errors } = read(body)?;
    let status = status.ok_or_else(|| Error::protocol("the body has no responseStatus"))?;
    match status.as_ref() {
        "SUCCESS" | "WARNING" => {
            let details = details.map(|d| d.get("responseDetails")).transpose().map_err(Error::protocol)?;
            Ok(Answer::Success { data, details })
        }
        "FAILURE" | "EXCEPTION" => {
            let errors = errors.unwrap_or_default().into_iter().enumerate();
            let errors = errors.map(|(i, e)| e.get(format_args!("errors[{i}]"))).collect::<Result<Vec<_>, _>>();
            Ok(Answer::Failed(vault_failure(&status, errors.map_err(Error::protocol)?)))
        }
        other => Err(Error::protocol(format!("unknown responseStatus {}", quote(other)))),
    }
}

/// The body as an envelope object, borrowing its strings where JSON needs no unescaping.
fn read<'a, D, R>(body: &'a [u8]) -> Result<RawEnvelope<'a, D, R>, Error>
where
    D: Deserialize<'a> + Default,
    R: Deserialize<'a>,
{
    let envelope: Object<RawEnvelope<D, R>> = serde_json::from_slice(body).map_err(|e| {
        let what =
            if e.is_syntax() || e.is_eof() { "the body is not valid JSON" } else { "the body has an unexpected shape" };
        Error::protocol(format!("{what} ({e})"))
    })?;
    envelope.get("the body").map_err(Error::protocol)
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "D: Deserialize<'de> + Default, R: Deserialize<'de>"))]
struct RawEnvelope<'a, D, R> {
    #[serde(rename = "responseStatus", borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(rename = "responseDetails")]
    details: Option<Object<R>>,
    #[serde(default)]
    data: D,
    #[serde(borrow)]
    errors: Option<Vec<Object<RawError<'a>>>>,
}

/// Vault's error types mapped to the C API's kinds: the one table of them.
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
struct RawError<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

/// A JSON value that must be an object. serde's derived structs also read an array as their
/// fields in order, so `["SUCCESS", ...]` would pass for a page: only a map reaches `T`, and any
/// other value is kept as the name of its type so the caller can say where it was found.
pub(crate) enum Object<T> {
    Is(T),
    Not(&'static str),
}

impl<T> Object<T> {
    /// The object, or the violation: `what` is named with the type found instead.
    pub(crate) fn get(self, what: impl fmt::Display) -> Result<T, String> {
        match self {
            Object::Is(object) => Ok(object),
            Object::Not(kind) => Err(format!("{what} is {kind}, not an object")),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjectVisitor(std::marker::PhantomData))
    }
}

struct ObjectVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Object::Is)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Object::Not("an array"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Object::Not("null"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Object::Not("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Object::Not("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Object::Not("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Object::Not("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Object::Not("a string"))
    }
}

/// A JSON value that should be an array of objects: anything else is kept as the name of its
/// type, so the status is looked at before the shape is judged. For small arrays (a page of
/// parts has its own streaming reader).
#[derive(Default)]
pub(crate) enum List<T> {
    #[default]
    Missing,
    Null,
    Not(&'static str),
    Items(Vec<Object<T>>),
}

impl<T> List<T> {
    /// The objects, or the violation naming `what` (e.g. "data").
    pub(crate) fn get(self, what: &str) -> Result<Vec<T>, String> {
        match self {
            List::Missing | List::Null => Ok(Vec::new()),
            List::Not(kind) => Err(format!("{what} is {kind}, not an array")),
            List::Items(items) => {
                items.into_iter().enumerate().map(|(i, item)| item.get(format_args!("{what}[{i}]"))).collect()
            }
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor(std::marker::PhantomData))
    }
}

struct ListVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(List::Items(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(List::Not("an object"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(List::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(List::Not("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(List::Not("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(List::Not("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(List::Not("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(List::Not("a string"))
    }
}

/// Any JSON value, keeping only what validation needs.
#[derive(Default)]
pub(crate) enum Scalar<'a> {
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
    pub(crate) fn describe(&self) -> String {
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

impl Scalar<'_> {
    /// A non-negative integer no larger than `max`; None when missing or null. The violation
    /// names `field` and what it held.
    pub(crate) fn unsigned(&self, field: &str, max: u64) -> Result<Option<u64>, String> {
        match self {
            Scalar::Missing | Scalar::Null => Ok(None),
            Scalar::Unsigned(n) if *n <= max => Ok(Some(*n)),
            other => Err(format!("{field} is {}; it must be an integer from 0 to {max}", other.describe())),
        }
    }

    /// A string of at most `max` bytes without control characters; None when missing or null.
    pub(crate) fn text(&self, field: &str, max: usize) -> Result<Option<String>, String> {
        match self {
            Scalar::Missing | Scalar::Null => Ok(None),
            Scalar::Str(s) if s.len() > max => {
                Err(format!("{field} is {} bytes long; at most {max} are accepted", s.len()))
            }
            Scalar::Str(s) if s.chars().any(char::is_control) => {
                Err(format!("{field} {} contains a control character", quote(s)))
            }
            Scalar::Str(s) => Ok(Some(s.clone().into_owned())),
            other => Err(format!("{field} is {}; it must be a string", other.describe())),
        }
    }

    /// An MD5 as 32 hex digits, kept in lower case; None when missing or null. The violation
    /// names `field`.
    pub(crate) fn md5(&self, field: &str) -> Result<Option<[u8; 32]>, String> {
        match self {
            Scalar::Missing | Scalar::Null => Ok(None),
            Scalar::Str(s) if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let mut hex = [0u8; 32];
                hex.copy_from_slice(s.as_bytes());
                hex.make_ascii_lowercase();
                Ok(Some(hex))
            }
            Scalar::Str(s) => Err(format!("{field} {} is not 32 hex digits", quote(s))),
            other => Err(format!("{field} is {}; it must be a string of 32 hex digits", other.describe())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed data object of the kind create and details answer with.
    #[derive(Deserialize, Default)]
    struct Job<'a> {
        #[serde(default, borrow)]
        status: Scalar<'a>,
    }

    fn job(body: &str) -> Result<Answer<Option<Object<Job<'_>>>, IgnoredAny>, Error> {
        parse(body.as_bytes())
    }

    #[test]
    fn success_and_warning_carry_the_callers_data() {
        for status in ["SUCCESS", "WARNING"] {
            let body =
                format!(r#"{{"responseStatus":"{status}","responseMessage":"OK","data":{{"status":"RUNNING"}}}}"#);
            let Answer::Success { data: Some(Object::Is(job)), details: None } = job(&body).unwrap() else {
                panic!("{body}")
            };
            assert!(matches!(job.status, Scalar::Str(ref s) if s == "RUNNING"));
        }
        // A data member of another type is the caller's to judge, after the status.
        let Answer::Success { data: Some(Object::Not(kind)), .. } =
            job(r#"{"responseStatus":"SUCCESS","data":[1,2]}"#).unwrap()
        else {
            panic!("not kept")
        };
        assert_eq!(kind, "an array");
        assert!(matches!(job(r#"{"responseStatus":"SUCCESS"}"#).unwrap(), Answer::Success { data: None, .. }));
    }

    #[test]
    fn a_failure_is_read_before_its_data() {
        let body = r#"{"responseStatus":"EXCEPTION","errors":[{"type":"UNEXPECTED_ERROR","message":"m"},{"type":"X"}],"data":7}"#;
        let Answer::Failed(e) = job(body).unwrap() else { panic!("not a failure") };
        assert_eq!((e.kind(), e.vault_type()), (ErrorKind::Vault, Some("UNEXPECTED_ERROR")));
        assert_eq!(e.message(), "Vault answered EXCEPTION: UNEXPECTED_ERROR: m (and 1 more errors)");
        let Answer::Failed(e) = job(r#"{"responseStatus":"FAILURE","errors":[{"message":"m"}]}"#).unwrap() else {
            panic!("not a failure")
        };
        assert_eq!(
            (e.kind(), e.vault_type(), e.message()),
            (ErrorKind::Vault, None, "Vault answered FAILURE: (no error type): m")
        );
    }

    #[test]
    fn the_envelope_itself_must_be_an_object_with_a_known_status() {
        for (body, expected) in [
            ("[]", "the body is an array, not an object"),
            (r#"{"data":{}}"#, "the body has no responseStatus"),
            (r#"{"responseStatus":"DONE"}"#, "unknown responseStatus \"DONE\""),
            (r#"{"responseStatus":"SUCCESS","responseDetails":[1]}"#, "responseDetails is an array, not an object"),
        ] {
            let e = match job(body) {
                Err(e) => e,
                Ok(_) => panic!("{body} passed"),
            };
            assert_eq!((e.kind(), e.message()), (ErrorKind::Protocol, expected), "{body}");
        }
    }

    #[test]
    fn md5s_are_checked_and_kept_in_lower_case() {
        let hex = |s: &str| Scalar::Str(Cow::Borrowed(s)).md5("part_content_md5");
        assert_eq!(hex("C24A2D4B1C4E03A9F4113903EDAC6F47").unwrap(), Some(*b"c24a2d4b1c4e03a9f4113903edac6f47"));
        assert_eq!(Scalar::Null.md5("m"), Ok(None));
        assert_eq!(hex("abc").unwrap_err(), "part_content_md5 \"abc\" is not 32 hex digits");
        assert_eq!(Scalar::Unsigned(5).md5("m").unwrap_err(), "m is 5; it must be a string of 32 hex digits");
    }
}
