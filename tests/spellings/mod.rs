//! The spellings in which a server may echo a session ID, for the redaction tests
//! (tests/redaction.rs, tests/input.rs): what a client library, a JSON encoder or a URL
//! encoder makes of it, and the 12-character pieces of each that no output may hold.
#![allow(dead_code)]

/// Fewer consecutive characters of a spelling in an output are not a leak: the session IDs
/// open accepts are at least this long (VAULT_PARTS_MIN_SESSION_ID_LEN).
pub const PIECE: usize = 12;

/// The token after a "bearer" scheme in any letter case, as a server that parsed the
/// Authorization header may quote it.
pub fn token(session_id: &str) -> Option<&str> {
    let scheme = session_id.get(..7)?;
    scheme.eq_ignore_ascii_case("bearer ").then(|| session_id[7..].trim_start())
}

/// Each spelling of the session ID and of its bearer token, by name.
pub fn spellings(session_id: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut secrets = vec![("id", session_id)];
    if let Some(t) = token(session_id) {
        secrets.push(("token", t));
    }
    for (which, s) in secrets {
        for (how, spelled) in [
            ("exact", s.to_owned()),
            ("json", json(s)),
            ("json-u", json_u(s)),
            ("pct-upper", pct(s, false, false)),
            ("pct-lower", pct(s, true, false)),
            ("form", pct(s, false, true)),
            ("lenient", lenient(s)),
            ("mixed", mixed(s)),
        ] {
            out.push((format!("{which}-{how}"), spelled));
        }
    }
    out
}

/// `s` as a JSON string's content (serde_json: `"` and `\` escaped).
pub fn json(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

/// `s` as an encoder that escapes every character but letters and digits as \u00XX writes it
/// (as Gson does for < > & = ').
fn json_u(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("\\u{:04x}", c as u32) }).collect()
}

/// Percent-encoded: every byte but RFC 3986's unreserved ones as %XX, in `lower` or upper case
/// hex; with `plus`, a space as '+' (application/x-www-form-urlencoded).
pub fn pct(s: &str, lower: bool, plus: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b' ' if plus => "+".to_owned(),
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => (b as char).to_string(),
            b if lower => format!("%{b:02x}"),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// As a WHATWG URL serializer writes a query: only space, '"', '#', '<', '>' and '\'' encoded;
/// '%' and '\' stay raw.
fn lenient(s: &str) -> String {
    s.chars().map(|c| if " \"#<>'".contains(c) { format!("%{:02X}", c as u32) } else { c.to_string() }).collect()
}

/// Every other character percent-encoded (lower-case hex), the rest raw.
fn mixed(s: &str) -> String {
    s.chars().enumerate().map(|(i, c)| if i % 2 == 0 { format!("%{:02x}", c as u32) } else { c.to_string() }).collect()
}

/// The first PIECE-character piece of any spelling of `session_id` that `output` holds, with
/// the spelling's name.
pub fn leak(output: &str, session_id: &str) -> Option<String> {
    for (name, spelled) in spellings(session_id) {
        let chars: Vec<char> = spelled.chars().collect();
        for w in chars.windows(PIECE) {
            let piece: String = w.iter().collect();
            if output.contains(&piece) {
                return Some(format!("{name} piece {piece:?}"));
            }
        }
    }
    None
}
