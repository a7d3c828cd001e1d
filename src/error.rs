//! The failure classes of the C API, the error value the core passes around, and the one place
//! where text from outside (server or caller) is made safe to show: redacted first, then
//! neutralised and cut.

use std::fmt;

/// Declares [`ErrorKind`] once: its discriminant is the C return code and its text is what
/// `vault_parts_errstr` returns. ffi/mod.rs checks at compile time that every
/// `VAULT_PARTS_E_*` constant equals its kind's code.
macro_rules! error_kinds {
    ($($(#[doc = $doc:literal])* $kind:ident = $code:literal, $text:literal;)*) => {
        /// What went wrong, as the C API reports it. The discriminants are the C return codes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $($(#[doc = $doc])* $kind = $code,)*
        }

        impl ErrorKind {
            /// Every kind, in code order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind),*];

            /// The fixed English description `vault_parts_errstr` returns.
            pub fn describe(self) -> &'static std::ffi::CStr {
                match self {
                    $(ErrorKind::$kind => $text,)*
                }
            }
        }
    };
}

error_kinds! {
    /// A bad argument or a call the handle's state does not allow.
    Arg = 1, c"bad argument or call";
    /// Vault rejected the session ID (INVALID_SESSION_ID, HTTP 401).
    Auth = 2, c"session ID rejected";
    /// The user may not read this upload session (INSUFFICIENT_ACCESS, HTTP 403).
    Access = 3, c"access denied";
    /// Rate limited after every attempt (API_LIMIT_EXCEEDED, HTTP 429).
    RateLimit = 4, c"rate limited";
    /// Vault answered FAILURE or EXCEPTION with another error type.
    Vault = 5, c"Vault reported an error";
    /// An HTTP status other than 200 from Vault or something in between.
    Http = 6, c"unexpected HTTP status";
    /// The connection failed: refused, reset, name not found, closed early.
    Network = 7, c"network error";
    /// An attempt ran out of time.
    Timeout = 8, c"timed out";
    /// The TLS handshake or certificate check failed.
    Tls = 9, c"TLS error";
    /// The server's answer broke the protocol: bad JSON, bad fields, bad links, too large.
    Protocol = 10, c"protocol violation by the server";
    /// A bug inside libvault_parts.
    Internal = 11, c"internal error in libvault_parts";
    /// The local file being verified or uploaded: missing, unreadable, not a regular file, or
    /// changed.
    Io = 12, c"local file error";
    /// vault_parts_interrupt stopped the listing.
    Cancelled = 13, c"interrupted";
    /// This file cannot complete this session: its size differs from the session's declared
    /// size, parts are listed past its end, or the listed sizes contradict the part size.
    Conflict = 14, c"file and session conflict";
    /// Vault answered a part upload with a size or MD5 other than what was sent, on every
    /// attempt.
    Integrity = 15, c"part stored with other content";
}

impl ErrorKind {
    /// The C return code.
    pub const fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(code: i32) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.code() == code)
    }
}

/// Longest errmsg or log line, in bytes: a hostile page cannot flood a log.
pub(crate) const MAX_MESSAGE: usize = 1024;
/// Longest Vault error type kept.
const MAX_VAULT_TYPE: usize = 128;

/// A failure with a message for a person and, when Vault said so, Vault's error type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    vault_type: Option<String>,
    /// The wait the server asked for (Retry-After) on the answer that made this error.
    retry_after: Option<std::time::Duration>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), vault_type: None, retry_after: None }
    }

    pub fn with_retry_after(mut self, retry_after: Option<std::time::Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The Retry-After of the answer that made this error, if it carried one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    pub fn arg(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Arg, message)
    }

    pub fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    pub fn with_vault_type(mut self, vault_type: impl Into<String>) -> Self {
        self.vault_type = Some(vault_type.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Vault's error type ("INVALID_SESSION_ID"), when the failure came from Vault.
    pub fn vault_type(&self) -> Option<&str> {
        self.vault_type.as_deref()
    }

    /// Prefixes context ("page 2: ") to the message.
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    /// The error as it may be shown: message and type passed through [`Redactor::show`].
    /// Messages are built from uncut, unescaped outside text, so this is where a session ID
    /// the server echoed is found, whole, before anything is cut.
    pub fn shown(mut self, redactor: &Redactor) -> Self {
        self.message = redactor.show(&self.message, MAX_MESSAGE);
        self.vault_type = self.vault_type.map(|t| redactor.show(&t, MAX_VAULT_TYPE));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Removes the session ID from text. Every errmsg, error type and log line passes through
/// [`Redactor::show`], the one place where outside text is redacted, neutralised and cut, in
/// that order.
///
/// The session ID is found in every spelling a server may echo it in, not only the caller's:
/// the whole ID and, after a "bearer " scheme in any letter case, the bare token; each
/// character raw, percent-encoded (either case of hex digits; a space also as '+'), or
/// JSON-escaped (`\"`, `\\`, `\/`, `\u00XX`), in any mixture. Session IDs with surrounding
/// spaces, the one spelling change not found here (trimming), are refused at open
/// ([`crate::origin::check_session_id`]).
#[derive(Clone, Debug)]
pub struct Redactor {
    /// The session ID and its bearer token, each at least VAULT_PARTS_MIN_SESSION_ID_LEN long.
    secrets: Vec<Secret>,
    /// What replaces each spelling: it can never complete a spelling with the text around it.
    placeholder: &'static str,
}

/// The placeholders, in order of preference. Redacting must not rebuild the secret around the
/// placeholder (a secret starting with "d]" would reappear in "[redacted]" + "d]" + the rest):
/// one whose first and last characters the secrets do not hold never can, since a spelling
/// (at least 12 characters) does not fit between them. The secrets are ASCII (open refuses
/// other text), so the last one always fits.
const PLACEHOLDERS: [&str; 5] = ["[redacted]", "(redacted)", "<redacted>", "{redacted}", "\u{ab}redacted\u{bb}"];

impl Default for Redactor {
    fn default() -> Self {
        Redactor { secrets: Vec::new(), placeholder: PLACEHOLDERS[0] }
    }
}

impl Redactor {
    /// A redactor for `session_id`. A secret shorter than VAULT_PARTS_MIN_SESSION_ID_LEN is
    /// left out: any text may hold it by chance, and open refuses such a session ID, so it is
    /// never sent and no server can echo it; the only messages made for it are the refusal's.
    pub fn new(session_id: &str) -> Self {
        let min = crate::origin::VAULT_PARTS_MIN_SESSION_ID_LEN;
        let secrets: Vec<Secret> = [Some(session_id), crate::origin::bearer_token(session_id)]
            .into_iter()
            .flatten()
            .filter(|s| s.len() >= min)
            .map(|s| Secret(s.as_bytes().to_vec()))
            .collect();
        let fits = |p: &&&str| {
            let ends = [p.chars().next(), p.chars().last()];
            !secrets.iter().any(|s| s.0.iter().any(|&b| ends.contains(&Some(char::from(b)))))
        };
        let placeholder = PLACEHOLDERS.iter().find(fits).unwrap_or(&PLACEHOLDERS[PLACEHOLDERS.len() - 1]);
        Redactor { secrets, placeholder }
    }

    /// `text` with every spelling of the session ID replaced by the placeholder ("[redacted]"
    /// unless the session ID holds a bracket); overlapping occurrences become one.
    pub fn redact(&self, text: &str) -> String {
        let mut found = Vec::new();
        for secret in &self.secrets {
            secret.find_in(text, &mut found);
        }
        if found.is_empty() {
            return text.to_owned();
        }
        found.sort_unstable_by_key(|r| r.start);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut ranges = found.into_iter().peekable();
        while let Some(first) = ranges.next() {
            let mut end = first.end;
            while let Some(next) = ranges.next_if(|r| r.start < end) {
                end = end.max(next.end);
            }
            out.push_str(&text[copied..first.start]);
            out.push_str(self.placeholder);
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// Redacted, then made printable, then cut to `max` bytes with a visible marker. The cut's
    /// marker could complete a spelling with the text beside it: the result is redacted once
    /// more (which only shortens it).
    pub fn show(&self, text: &str, max: usize) -> String {
        self.redact(&cut(&neutralise(&self.redact(text)), max))
    }
}

/// One secret as [`Redactor`] looks for it: printable ASCII bytes (never none), each of which
/// may appear in any of its spellings ([`spellings_of`]).
#[derive(Clone, Debug)]
struct Secret(Vec<u8>);

impl Secret {
    /// Adds to `found` the byte ranges of `text` that spell the secret, overlapping ones
    /// included. Every start is tried at once (a Thompson NFA over the secret's positions),
    /// keeping for each position the earliest start: the work is the text's length times the
    /// number of the secret's prefixes in play at one place, a few for a random secret
    /// whatever the text, at most the secret's length.
    fn find_in(&self, text: &str, found: &mut Vec<std::ops::Range<usize>>) {
        // Longer than the longest spelling of one character ("\u00XX").
        const RING: usize = 8;
        let bytes = text.as_bytes();
        // Most texts hold no spelling's first byte: nothing to set up.
        let Some(mut at) = bytes.iter().position(|&b| may_start(self.0[0], b)) else { return };
        // (next character of the secret, start) pairs waiting at each of the next positions.
        let mut ring: [Vec<(usize, usize)>; RING] = Default::default();
        // For each next character, the position and index of its state there: one state per
        // (position, next character), the earliest start, however many paths led to it.
        let mut first = vec![(usize::MAX, 0); self.0.len() + 1];
        let mut waiting = 0;
        while at <= bytes.len() {
            if waiting == 0 {
                // Nothing under way: skip to where the first character's spelling may start.
                match bytes[at..].iter().position(|&b| may_start(self.0[0], b)) {
                    Some(skip) => at += skip,
                    None => return,
                }
            }
            let mut here = std::mem::take(&mut ring[at % RING]);
            waiting -= here.len();
            if text.is_char_boundary(at) {
                here.push((0, at));
            }
            keep_earliest(&mut here, &mut first, at);
            for &(next, start) in &here {
                if next == self.0.len() {
                    found.push(start..at);
                    continue;
                }
                spellings_of(self.0[next], text, at, |len| {
                    ring[(at + len) % RING].push((next + 1, start));
                    waiting += 1;
                });
            }
            here.clear();
            ring[at % RING] = here;
            at += 1;
        }
    }
}

/// Leaves one of the states `here` (at position `at`) per next character, with the earliest
/// start; `first` records where each next character's state was kept.
fn keep_earliest(here: &mut Vec<(usize, usize)>, first: &mut [(usize, usize)], at: usize) {
    let mut kept = 0;
    for i in 0..here.len() {
        let (next, start) = here[i];
        match first[next] {
            (position, k) if position == at => here[k].1 = here[k].1.min(start),
            _ => {
                first[next] = (at, kept);
                here[kept] = (next, start);
                kept += 1;
            }
        }
    }
    here.truncate(kept);
}

/// Whether a spelling of the character `c` may start with the byte `b` (see [`spellings_of`]).
fn may_start(c: u8, b: u8) -> bool {
    b == c || b == b'%' || b == b'\\' || (c == b' ' && (b == b'+' || !b.is_ascii_graphic()))
}

/// Calls `found` with the length of each spelling of the character `c` that starts at byte
/// `at` of `text`: `c` itself; "%XX" in either case of hex digits; `\"`, `\\`, `\/` and
/// `\u00XX` as JSON writes them; for a space also '+' (forms and queries) and any character
/// [`neutralise`] turns into a space, so neutralising after redaction cannot rebuild it.
fn spellings_of(c: u8, text: &str, at: usize, mut found: impl FnMut(usize)) {
    let Some(rest) = text.get(at..) else { return };
    let b = rest.as_bytes();
    let hex = |i: usize| {
        let digit = |j: usize| b.get(j).and_then(|&d| char::from(d).to_digit(16));
        Some(digit(i)? * 16 + digit(i + 1)?)
    };
    match b.first() {
        None => return,
        Some(&first) if first == c || (c == b' ' && first == b'+') => found(1),
        Some(_) if c == b' ' => {
            if let Some(ch) = rest.chars().next().filter(|&ch| is_unsafe(ch)) {
                found(ch.len_utf8());
            }
        }
        Some(_) => {}
    }
    if b[0] == b'%' && hex(1) == Some(c.into()) {
        found(3);
    }
    if b[0] == b'\\' {
        if b.get(1) == Some(&c) && matches!(c, b'"' | b'\\' | b'/') {
            found(2);
        }
        if b.get(1..4) == Some(b"u00") && hex(4) == Some(c.into()) {
            found(6);
        }
    }
}

/// Outside text inside a message, in quotes. Not cut and not escaped: [`Redactor::show`] cuts
/// the whole message after redaction, and escaping before redaction would hide the session ID.
pub fn quote(text: &str) -> String {
    format!("\"{text}\"")
}

/// `text` with every character a terminal or log reader could be fooled by replaced by a
/// space: control characters, Unicode line and paragraph separators, and format characters
/// (general category Cf: bidi overrides and isolates, zero-width characters, BOM, ...).
pub fn neutralise(text: &str) -> String {
    text.chars().map(|c| if is_unsafe(c) { ' ' } else { c }).collect()
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// Unicode general category Cf (Unicode 15.1).
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}'
        | '\u{8E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// `text` cut to at most `max` bytes (on character boundaries): its middle is replaced by a
/// marker saying how much was cut, so both what failed (the start) and why (the end) remain.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    // Room for the marker: "...[cut " + up to 20 digits + " bytes]...".
    let keep = max.saturating_sub(38) / 2;
    let mut head = keep;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - keep;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}...[cut {} bytes]...{}", &text[..head], tail - head, &text[tail..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "SID-0123-abcd";

    #[test]
    fn redact_replaces_every_occurrence() {
        let r = Redactor::new(SID);
        let e = Error::new(ErrorKind::Vault, format!("bad {SID} and {SID}")).with_vault_type(format!("X_{SID}"));
        let e = e.shown(&r);
        assert_eq!(e.message(), "bad [redacted] and [redacted]");
        assert_eq!(e.vault_type(), Some("X_[redacted]"));
        assert_eq!(Redactor::new("Bearer tok-0123-abcd").redact("x tok-0123-abcd"), "x [redacted]");
    }

    #[test]
    fn every_spelling_a_server_echoes_is_redacted() {
        let r = Redactor::new(r#"bEaReR  a b"c\d/e+f%g=h"#);
        for echo in [
            r#"bEaReR  a b"c\d/e+f%g=h"#,
            r#"a b"c\d/e+f%g=h"#,
            r#"a b\"c\\d\/e+f%g=h"#,
            r#"a\u0020b\u0022c\u005Cd\u002fe\u002Bf\u0025g\u003dh"#,
            "a%20b%22c%5Cd%2Fe%2Bf%25g%3Dh",
            "a%20b%22c%5cd%2fe%2bf%25g%3dh",
            "a+b%22c%5Cd/e%2Bf%25g=h",
            "%61 %62%22%63%5c%64/%65+%66%%67=%68",
            "a\tb\"c\\d/e+f%g=h",
            "a\u{200B}b\"c\\d/e+f%g=h",
        ] {
            assert_eq!(r.show(&format!("<{echo}>"), MAX_MESSAGE), "<[redacted]>", "{echo:?}");
        }
        // Near misses stay: a character missing, or an escape that is not one.
        for miss in [r#"a b"c\d/e+f%g="#, "a%2xb%22c%5Cd%2Fe%2Bf%25g%3Dh", r#"a b\u22c\d/e+f%g=h"#] {
            assert_eq!(r.redact(miss), miss);
        }
    }

    #[test]
    fn secrets_too_short_to_redact_are_left_out() {
        assert_eq!(Redactor::new("1").redact("10 21 1"), "10 21 1");
        assert_eq!(Redactor::new("s").show("session_id is too short", 99), "session_id is too short");
        // The whole ID is redacted, its too-short token is not.
        let r = Redactor::new("Bearer abc");
        assert_eq!(r.redact("abc Bearer abc"), "abc Bearer abc");
        let r = Redactor::new("Bearer abcdef");
        assert_eq!(r.redact("abcdef Bearer abcdef"), "abcdef [redacted]");
    }

    #[test]
    fn overlapping_occurrences_become_one() {
        let r = Redactor::new(&"ab".repeat(10));
        assert_eq!(r.redact(&format!("x{}y", "ab".repeat(29))), "x[redacted]y");
        assert_eq!(r.redact(&"ab".repeat(20)), "[redacted]");
        assert_eq!(Redactor::new(SID).redact(&format!("{SID}{SID}")), "[redacted][redacted]");
    }

    #[test]
    fn the_placeholder_never_rebuilds_the_secret() {
        let r = Redactor::new("d]0123456789");
        assert_eq!(r.redact("d]0123456789-0123456789"), "(redacted)-0123456789");
        let r = Redactor::new("x[redacted]y");
        assert_eq!(r.redact("xx[redacted]yy"), "x(redacted)y");
        let all = Redactor::new("[]()<>{}0123456789");
        assert_eq!(all.redact("-[]()<>{}0123456789-"), "-\u{ab}redacted\u{bb}-");
        assert_eq!(Redactor::new("0123456789ab").placeholder, "[redacted]");
    }

    /// A long text without the first character's spellings is skipped at once; one full of
    /// near misses is still one pass, its work bounded by the secret's length per byte.
    #[test]
    fn work_is_linear_in_the_text() {
        let r = Redactor::new(&format!("{}x", "a".repeat(40)));
        let started = std::time::Instant::now();
        assert_eq!(r.redact(&"b".repeat(8 << 20)).len(), 8 << 20);
        let skipped = started.elapsed();
        // The worst case: a secret whose every prefix is in play at every position.
        assert_eq!(r.redact(&"a".repeat(1 << 16)).len(), 1 << 16);
        // Generous bounds for an unoptimised build on a loaded machine (each takes well under
        // a second on an idle one).
        assert!(skipped < std::time::Duration::from_secs(30), "{skipped:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());
    }

    #[test]
    fn printable_neutralises_controls_separators_and_format_characters() {
        assert_eq!(neutralise("a\u{2028}b\u{2029}c\u{202E}d\u{200B}e\u{2066}f\u{FEFF}g\u{85}h"), "a b c d e f g h");
        assert_eq!(neutralise("é中"), "é中");
    }

    #[test]
    fn cut_marks_and_respects_boundaries() {
        assert_eq!(cut("abc", 3), "abc");
        let long = "é".repeat(2000);
        let c = cut(&long, MAX_MESSAGE);
        assert!(c.len() <= MAX_MESSAGE, "{}", c.len());
        let (head, rest) = c.split_once("...[cut ").unwrap();
        let (n, tail) = rest.split_once(" bytes]...").unwrap();
        assert_eq!(head.len() + n.parse::<usize>().unwrap() + tail.len(), long.len(), "{c}");
        assert!(head.starts_with('é') && tail.ends_with('é'));
        assert!(cut(&format!("{}: HTTP 404", "a".repeat(5000)), 100).ends_with("aaa: HTTP 404"));
    }

    #[test]
    fn codes_match_the_c_contract() {
        assert_eq!(ErrorKind::Arg.code(), 1);
        assert_eq!(ErrorKind::Protocol.code(), 10);
        assert_eq!(ErrorKind::Internal.code(), 11);
        assert_eq!(ErrorKind::from_code(8), Some(ErrorKind::Timeout));
        assert_eq!(ErrorKind::from_code(12), Some(ErrorKind::Io));
        assert_eq!(ErrorKind::from_code(13), Some(ErrorKind::Cancelled));
        assert_eq!(ErrorKind::from_code(14), Some(ErrorKind::Conflict));
        assert_eq!(ErrorKind::from_code(15), Some(ErrorKind::Integrity));
        assert_eq!(ErrorKind::from_code(16), None);
        assert_eq!(ErrorKind::from_code(0), None);
        let codes: Vec<i32> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes, (1..=15).collect::<Vec<_>>(), "one kind per code, in order, no gap");
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Whether `text` spells `secret` exactly, by the rules of [`spellings_of`], tried every way.
    fn spells(secret: &[u8], text: &str) -> bool {
        let Some((&c, rest)) = secret.split_first() else { return text.is_empty() };
        let mut lens = Vec::new();
        spellings_of(c, text, 0, |len| lens.push(len));
        lens.into_iter().any(|len| text.get(len..).is_some_and(|t| spells(rest, t)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The one-pass matcher finds, for every end, the earliest start a brute-force search
        /// finds.
        #[test]
        fn the_matcher_agrees_with_brute_force(
            secret in r#"[ab %\\"]{12,14}"#,
            text in r#"([ab %\\"u0+]|%2[02]|%5[cC]|\\u00[25][025cC]){0,24}"#,
        ) {
            let mut found = Vec::new();
            Secret(secret.as_bytes().to_vec()).find_in(&text, &mut found);
            let mut expected = Vec::new();
            for end in 0..=text.len() {
                if let Some(start) = (0..end).find(|&s| text.get(s..end).is_some_and(|t| spells(secret.as_bytes(), t))) {
                    expected.push(start..end);
                }
            }
            found.sort_by_key(|r| r.end);
            prop_assert_eq!(found, expected);
        }

        /// Whatever the text, made of pieces of the secret, of placeholders and of the cut's
        /// marker, what show returns holds no spelling of the secret: redacting it again
        /// changes nothing.
        #[test]
        fn shown_text_is_a_fixed_point(
            secret in r#"[\[\]().d ab+%]{12,16}"#,
            pieces in prop::collection::vec(r#"[\[\]().d ab+%]{1,6}|\[redacted\]|\(redacted\)|\.\.\.\[cut 9 bytes\]\.\.\."#, 0..30),
            copies in prop::collection::vec(0usize..30, 0..4),
            max in 40usize..200,
        ) {
            let mut pieces = pieces;
            for at in copies {
                pieces.insert(at.min(pieces.len()), secret.clone());
            }
            let text = pieces.concat();
            let r = Redactor::new(&secret);
            let shown = r.show(&text, max);
            prop_assert_eq!(r.redact(&shown), shown.clone(), "{:?} -> {:?}", text, shown);
            prop_assert!(shown.len() <= max, "{} bytes", shown.len());
        }
    }
}
