//! The failure classes of the C API and the error value the core passes around.

use std::fmt;

/// What went wrong, as the C API reports it. The discriminants are the C return codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A bad argument or a call the handle's state does not allow.
    Arg = 1,
    /// Vault rejected the session ID (INVALID_SESSION_ID, HTTP 401).
    Auth = 2,
    /// The user may not read this upload session (INSUFFICIENT_ACCESS, HTTP 403).
    Access = 3,
    /// Rate limited after every attempt (API_LIMIT_EXCEEDED, HTTP 429).
    RateLimit = 4,
    /// Vault answered FAILURE or EXCEPTION with another error type.
    Vault = 5,
    /// An HTTP status other than 200 from Vault or something in between.
    Http = 6,
    /// The connection failed: refused, reset, name not found, closed early.
    Network = 7,
    /// An attempt ran out of time.
    Timeout = 8,
    /// The TLS handshake or certificate check failed.
    Tls = 9,
    /// The server's answer broke the protocol: bad JSON, bad fields, bad links, too large.
    Protocol = 10,
    /// A bug inside libvault_parts.
    Internal = 11,
    /// The local file being verified: missing, unreadable, not a regular file, or changed.
    Io = 12,
}

impl ErrorKind {
    /// The C return code.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A failure with a message for a person and, when Vault said so, Vault's error type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    vault_type: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), vault_type: None }
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

    /// Replaces every occurrence of `secret` in the message and type, so that a server echoing
    /// the session ID back cannot make the library leak it.
    pub fn redact(mut self, secret: &str) -> Self {
        self.message = redact(&self.message, secret);
        self.vault_type = self.vault_type.map(|t| redact(&t, secret));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `text` with every occurrence of `secret` replaced by "[redacted]".
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        return text.to_owned();
    }
    text.replace(secret, "[redacted]")
}

/// A server-sent string made safe to show: control characters become spaces and it is cut at
/// `max` characters, so a hostile page cannot flood a log or break a terminal.
pub fn printable(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().nth(max).is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_every_occurrence() {
        let e = Error::new(ErrorKind::Vault, "bad SID123 and SID123").with_vault_type("X_SID123");
        let e = e.redact("SID123");
        assert_eq!(e.message(), "bad [redacted] and [redacted]");
        assert_eq!(e.vault_type(), Some("X_[redacted]"));
    }

    #[test]
    fn printable_strips_controls_and_caps_length() {
        assert_eq!(printable("a\nb\u{0}c", 10), "a b c");
        assert_eq!(printable("abcdef", 3), "abc...");
    }

    #[test]
    fn codes_match_the_c_contract() {
        assert_eq!(ErrorKind::Arg.code(), 1);
        assert_eq!(ErrorKind::Protocol.code(), 10);
        assert_eq!(ErrorKind::Internal.code(), 11);
    }
}
