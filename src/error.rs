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
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// The session ID, and for "Bearer <token>" also the bare token, longest first.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(session_id: &str) -> Self {
        let mut secrets = vec![session_id.to_owned()];
        if let Some(token) = session_id.strip_prefix("Bearer ").map(str::trim) {
            secrets.push(token.to_owned());
        }
        secrets.retain(|s| !s.is_empty());
        Redactor { secrets }
    }

    /// `text` with every occurrence of the session ID replaced by "[redacted]".
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "[redacted]");
            }
        }
        out
    }

    /// Redacted, then made printable, then cut to `max` bytes with a visible marker.
    pub fn show(&self, text: &str, max: usize) -> String {
        cut(&neutralise(&self.redact(text)), max)
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

    #[test]
    fn redact_replaces_every_occurrence() {
        let r = Redactor::new("SID123");
        let e = Error::new(ErrorKind::Vault, "bad SID123 and SID123").with_vault_type("X_SID123");
        let e = e.shown(&r);
        assert_eq!(e.message(), "bad [redacted] and [redacted]");
        assert_eq!(e.vault_type(), Some("X_[redacted]"));
        assert_eq!(Redactor::new("Bearer tok-123").redact("x tok-123"), "x [redacted]");
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
