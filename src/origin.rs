//! Where requests may go: the Vault origin parsed from vault_url, the argument rules for the
//! identifiers that go into requests, and the resolution of next_page and redirect links, which
//! must stay on that origin so the session ID never reaches another host.

use crate::error::{quote, Error};
use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

// The three limits below are exported into include/vault_parts.h (cbindgen reads them here).

/// The longest vault_url vault_parts_open accepts, in bytes (the NUL not counted); a longer
/// one gives VAULT_PARTS_E_ARG. A usable one is at most about 270 bytes: "https://", a host
/// name of at most 253 characters, ":65535/".
pub const VAULT_PARTS_MAX_VAULT_URL_LEN: usize = 512;
/// The longest session_id vault_parts_open accepts, in bytes (the NUL not counted); a longer
/// one gives VAULT_PARTS_E_ARG. Vault session IDs are about 100-200 characters and OAuth
/// bearer tokens a few KB; a longer Authorization header would exceed the 8 KiB header-line
/// limit of common servers and proxies.
pub const VAULT_PARTS_MAX_SESSION_ID_LEN: usize = 8000;
/// The shortest session_id vault_parts_open accepts, in bytes (printable ASCII: one byte a
/// character); with a "Bearer " scheme the token after it must be as long. A shorter one
/// gives VAULT_PARTS_E_ARG. Every message and log line has the session ID replaced by
/// "[redacted]", and a short one is found by chance in ordinary text ("1" in every number,
/// "e" in every word, even in the placeholder): only an ID no message holds by accident can be
/// redacted safely. Real Vault session IDs are about 100-200 characters.
pub const VAULT_PARTS_MIN_SESSION_ID_LEN: usize = 12;
/// The longest upload_session_id vault_parts_open accepts, in bytes (the NUL not counted); a
/// longer one gives VAULT_PARTS_E_ARG. Vault's are 32 hex digits.
pub const VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN: usize = 256;

/// Scheme, host and port of the Vault: the only place the session ID is ever sent. Kept in
/// one canonical form (host lower case, IP addresses as std prints them, the port always
/// explicit), so two spellings of one origin compare equal and every URL fetched uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    secure: bool,
    host: Host,
    port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    /// A DNS name of RFC 1123 labels, lower case.
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::V4(ip) => write!(f, "{ip}"),
            Host::V6(ip) => write!(f, "[{ip}]"),
        }
    }
}

impl Host {
    /// A host as written in a URL: "[IPv6]", a dotted-quad IPv4 address, or a DNS name. The
    /// reason for a refusal does not quote the host: the caller decides whether it may.
    fn parse(text: &str) -> Result<Host, String> {
        if let Some(inside) = text.strip_prefix('[') {
            let inside = inside.strip_suffix(']').ok_or("an IPv6 address lacks its closing ']'")?;
            return inside.parse().map(Host::V6).map_err(|_| "the bracketed host is not an IPv6 address".into());
        }
        if text.is_empty() {
            return Err("the host is missing".into());
        }
        if text.len() > 253 {
            return Err("the host name is longer than 253 characters".into());
        }
        // A name ending in a numeric label would be read as an IPv4 address by the resolver
        // (even "127.1" or "0x7f.1"): only the plain dotted-quad form is accepted.
        if text.rsplit('.').next().is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) {
            return text
                .parse()
                .map(Host::V4)
                .map_err(|_| "the host is neither a host name nor an IPv4 address like 127.0.0.1".into());
        }
        for label in text.split('.') {
            if let Some(why) = label_flaw(label) {
                return Err(format!("the host name {why}"));
            }
        }
        Ok(Host::Name(text.to_ascii_lowercase()))
    }

    /// What a bare vault_url must name: a session ID, a single label of letters and digits,
    /// never passes for one.
    fn is_qualified(&self) -> bool {
        match self {
            Host::Name(name) => name.contains('.') || name == "localhost",
            Host::V4(_) | Host::V6(_) => true,
        }
    }

    fn is_loopback(&self) -> bool {
        match self {
            Host::Name(name) => name == "localhost",
            Host::V4(ip) => ip.is_loopback(),
            Host::V6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        }
    }
}

/// What breaks RFC 1123's rule for one label of a host name, if anything.
fn label_flaw(label: &str) -> Option<&'static str> {
    if label.is_empty() {
        Some("has an empty label")
    } else if label.len() > 63 {
        Some("has a label longer than 63 characters")
    } else if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Some("holds characters other than letters, digits, '-' and '.'")
    } else if label.starts_with('-') || label.ends_with('-') {
        Some("has a label that starts or ends with '-'")
    } else {
        None
    }
}

impl Origin {
    /// Parses vault_url: "https://host[:port][/]", a bare "host[:port]" (https), or
    /// "http://host[:port][/]" for loopback hosts only.
    pub fn parse_vault_url(url: &str) -> Result<Origin, Error> {
        if url.len() > VAULT_PARTS_MAX_VAULT_URL_LEN {
            return Err(Error::arg(format!(
                "vault_url is {} bytes long; at most {VAULT_PARTS_MAX_VAULT_URL_LEN} are accepted",
                url.len()
            )));
        }
        if url.is_empty() {
            return Err(Error::arg(
                "vault_url is empty: pass the Vault's address, like https://myvault.veevavault.com",
            ));
        }
        let scheme = split_scheme(url);
        // Without a scheme the value may be the session ID passed in the wrong place: the
        // message must not repeat it.
        let bad = |why: &str| {
            match scheme {
            Some(_) => Error::arg(format!("vault_url {} is not usable: {why}", quote(&without_userinfo(url)))),
            None => Error::arg(format!(
                "vault_url (not quoted: without a scheme it may be the session ID in the wrong place) is not usable: {why}"
            )),
        }
        };
        let (secure, rest) = match scheme {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
            Some(_) => return Err(bad("the scheme must be https:// (or http:// for a loopback test server)")),
            None => (true, url),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(bad(
                "it must be the Vault's address only, like https://myvault.veevavault.com, without a path",
            ));
        }
        let origin = parse_authority(authority, secure).map_err(|why| bad(&why))?;
        if scheme.is_none() && !origin.host.is_qualified() {
            return Err(bad("a bare vault_url must be a host name with a dot, like myvault.veevavault.com, an IP address or localhost (or start with https://)"));
        }
        if !secure && !origin.host.is_loopback() {
            return Err(bad("plain http:// is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost): the session ID must not cross a network in clear"));
        }
        Ok(origin)
    }

    /// "https://host[:port]", the port left out when it is the scheme's default.
    pub fn base(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        if self.port == default_port(self.secure) {
            format!("{scheme}://{}", self.host)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    /// https, as opposed to plain http to a loopback host.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Resolves a link Vault sent (next_page or a redirect's Location): an absolute URL on this
    /// origin, however spelled, or a path starting with one "/". Returns the absolute URL on
    /// the canonical origin; anything else is refused before a request is made.
    pub fn resolve(&self, link: &str) -> Result<String, String> {
        let shown = quote(link);
        if let Some(bad) = link.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!("link {shown} contains the character {bad:?}, which no URL may hold unencoded"));
        }
        // Browsers' URL parsers read "\\" as "/", so "/\\evil.example" could mean another host.
        if link.contains('\\') {
            return Err(format!("link {shown} contains a backslash"));
        }
        let path_and_query: Cow<str> = if let Some((scheme, rest)) = split_scheme(link) {
            let secure = if scheme.eq_ignore_ascii_case("https") {
                true
            } else if scheme.eq_ignore_ascii_case("http") {
                false
            } else {
                return Err(format!("link {shown} uses the scheme {scheme:?}; only {} is allowed", self.base()));
            };
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let target = parse_authority(&rest[..end], secure).map_err(|why| format!("link {shown}: {why}"))?;
            if target != *self {
                return Err(format!(
                    "link {shown} points to another origin than {}; the session ID is sent only there",
                    self.base()
                ));
            }
            // "http://h?x=1" and "http://h" mean the path "/".
            match &rest[end..] {
                p if p.starts_with('/') => Cow::Borrowed(p),
                p => Cow::Owned(format!("/{p}")),
            }
        } else if link.starts_with('/') && !link.starts_with("//") {
            Cow::Borrowed(link)
        } else {
            return Err(format!("link {shown} is neither an absolute URL nor a path starting with \"/\""));
        };
        // A fragment is never sent to the server.
        let path_and_query = path_and_query.split('#').next().unwrap_or("/");
        Ok(format!("{}{}", self.base(), path_and_query))
    }
}

fn default_port(secure: bool) -> u16 {
    if secure {
        443
    } else {
        80
    }
}

fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let valid = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// `url` with any user name and password in its authority replaced by "[userinfo]", so a
/// message about a rejected URL never repeats a password.
fn without_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}[userinfo]{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// "host[:port]": an empty port, as in "h:", is the scheme's default, as URLs define it.
fn parse_authority(authority: &str, secure: bool) -> Result<Origin, String> {
    if authority.contains('@') {
        return Err("user names or passwords in the URL are not allowed".into());
    }
    // The port follows the last ':' after an IPv6 literal's closing bracket, if any.
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    let (host, port) = match authority[host_end..].find(':') {
        Some(i) => (&authority[..host_end + i], Some(&authority[host_end + i + 1..])),
        None => (authority, None),
    };
    if authority.starts_with('[') && host_end == 0 {
        return Err("an IPv6 address lacks its closing ']'".into());
    }
    let host = Host::parse(host)?;
    let port = match port {
        None | Some("") => default_port(secure),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err("the port is not a number from 1 to 65535".into()),
        },
    };
    Ok(Origin { secure, host, port })
}

/// The session ID goes into the Authorization header: printable ASCII (spaces allowed, for
/// "Bearer ..."), long enough to redact (VAULT_PARTS_MIN_SESSION_ID_LEN, the bearer token
/// too), without surrounding spaces (a server may quote it trimmed, a spelling the redactor
/// would not know), and not a Vault address. No message repeats it.
pub fn check_session_id(session_id: &str) -> Result<(), Error> {
    if session_id.is_empty() {
        return Err(Error::arg("session_id is empty"));
    }
    if session_id.len() > VAULT_PARTS_MAX_SESSION_ID_LEN {
        return Err(Error::arg(format!(
            "session_id is {} bytes long; at most {VAULT_PARTS_MAX_SESSION_ID_LEN} are accepted",
            session_id.len()
        )));
    }
    if session_id.chars().any(|c| c.is_control()) {
        return Err(Error::arg("session_id contains a control character"));
    }
    // HTTP header values are ASCII in practice; Vault's session IDs and Bearer tokens are.
    if !session_id.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Error::arg("session_id contains a character that is not printable ASCII"));
    }
    // Arguments passed in the wrong order: the session ID would be taken for a host name and
    // sent to a DNS resolver in the clear; the message names neither value.
    if names_an_origin(session_id) {
        return Err(Error::arg(
            "session_id is a URL or a host name: vault_url and session_id look swapped (vault_parts_open takes vault_url first)",
        ));
    }
    if session_id.trim() != session_id {
        return Err(Error::arg("session_id starts or ends with a space: pass it without surrounding spaces"));
    }
    let min = VAULT_PARTS_MIN_SESSION_ID_LEN;
    if session_id.len() < min {
        return Err(Error::arg(format!(
            "session_id is too short: a session ID has at least {min} characters (VAULT_PARTS_MIN_SESSION_ID_LEN)"
        )));
    }
    if bearer_token(session_id).is_some_and(|token| token.len() < min) {
        return Err(Error::arg(format!(
            "the token after \"Bearer \" in session_id is too short: it must have at least {min} characters (VAULT_PARTS_MIN_SESSION_ID_LEN)"
        )));
    }
    Ok(())
}

/// The token of a session ID in the "Bearer <token>" form, the scheme in any letter case: what
/// a server that parsed the Authorization header may quote.
pub fn bearer_token(session_id: &str) -> Option<&str> {
    let scheme = session_id.get(..7)?;
    scheme.eq_ignore_ascii_case("bearer ").then(|| session_id[7..].trim_start())
}

/// Whether `text` is something vault_url accepts, or a URL: what a session ID never is.
fn names_an_origin(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || Origin::parse_vault_url(text).is_ok()
}

/// The upload session ID becomes one path segment: only characters that need no encoding.
pub fn check_upload_session_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::arg("upload_session_id is empty"));
    }
    if id.len() > VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN {
        return Err(Error::arg(format!(
            "upload_session_id is {} bytes long; at most {VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN} are accepted",
            id.len()
        )));
    }
    let shown = quote(id);
    if id == "." || id == ".." {
        return Err(Error::arg(format!("upload_session_id {shown} is not a usable path segment")));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(c);
    if let Some(c) = id.chars().find(|&c| !allowed(c)) {
        return Err(Error::arg(format!(
            "upload_session_id {shown} contains {c:?}; it must be one URL path segment (letters, digits and -._~!$&'()*+,;=:@)"
        )));
    }
    Ok(())
}

/// Vault API versions look like "v25.3".
pub fn check_api_version(version: &str) -> Result<(), Error> {
    let ok = version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(major, minor)| {
        let digits = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii_digit());
        digits(major, 2) && digits(minor, 2)
    });
    if ok {
        Ok(())
    } else {
        Err(Error::arg(format!("api version {} is not a Vault API version like \"v25.3\"", quote(version))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn origin(url: &str) -> Origin {
        Origin::parse_vault_url(url).unwrap()
    }

    #[test]
    fn vault_url_forms() {
        assert_eq!(origin("https://MyVault.veevavault.com").base(), "https://myvault.veevavault.com");
        assert_eq!(origin("https://myvault.veevavault.com/").base(), "https://myvault.veevavault.com");
        assert_eq!(origin("myvault.veevavault.com").base(), "https://myvault.veevavault.com");
        assert_eq!(origin("https://v.example:8443").base(), "https://v.example:8443");
        assert_eq!(origin("https://v.example:443").base(), "https://v.example");
        assert_eq!(origin("http://127.0.0.1:8080/").base(), "http://127.0.0.1:8080");
        assert_eq!(origin("http://127.9.9.9:1").base(), "http://127.9.9.9:1");
        assert_eq!(origin("http://localhost").base(), "http://localhost");
        assert_eq!(origin("http://[::1]:99").base(), "http://[::1]:99");
        // Other spellings of the same origins come out in the one canonical form.
        assert_eq!(origin("http://[0:0:0:0:0:0:0:1]:99").base(), "http://[::1]:99");
        assert_eq!(origin("http://[::FFFF:127.0.0.1]:99").base(), "http://[::ffff:127.0.0.1]:99");
        assert_eq!(origin("https://h:/").base(), "https://h");
        assert_eq!(origin("https://h:").base(), "https://h");
        assert_eq!(origin("HTTPS://V.Example:08443").base(), "https://v.example:8443");
        assert_eq!(origin(&format!("https://{}.example", "a".repeat(63))).base().len(), "https://.example".len() + 63);
        let longest = format!("{}.{}", vec!["a".repeat(63); 3].join("."), "b".repeat(61));
        assert_eq!(origin(&longest).base(), format!("https://{longest}"));
    }

    #[test]
    fn vault_url_rejections() {
        for bad in [
            "",
            "http://myvault.veevavault.com",
            "http://10.0.0.1:80",
            "ftp://x",
            "https://",
            "https://h/api/v25.3",
            "https://h?x",
            "https://u:p@h",
            "https://h:0",
            "https://h:65536",
            "https://h:+1",
            "https://h h",
            "https://[::1",
            "https://..",
            "https://-",
            "https://.",
            "https://[:::]",
            "https://[]",
            "https://[::1]x",
            "https://[::1]:x",
            "https://[fe80::1%25eth0]",
            "https://[127.0.0.1]",
            "https://v..example",
            "https://.v.example",
            "https://v.example.",
            "https://-v.example",
            "https://v-.example",
            "https://v.-example",
            "https://v_x.example",
            "https://127.1",
            "https://0x7f.0.0.1",
            "https://127.000.0.1",
            "https://1.2.3.256",
            "https://a.1",
            "http://127.1:80",
            "http://[::2]:80",
            "https://h:1:2",
            "https://h]:1",
            &format!("https://{}.example", "a".repeat(64)),
            &format!("https://{}.{}", vec!["a".repeat(63); 3].join("."), "b".repeat(62)),
        ] {
            let e = Origin::parse_vault_url(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Arg, "{bad}");
            assert!(e.message().contains("vault_url"), "{bad}: {}", e.message());
        }
        let too_long = format!("https://v.example/{}", "a".repeat(VAULT_PARTS_MAX_VAULT_URL_LEN));
        let e = Origin::parse_vault_url(&too_long).unwrap_err();
        assert_eq!(e.message(), format!("vault_url is {} bytes long; at most 512 are accepted", too_long.len()));
    }

    /// Spellings of one origin and of different ones, each checked both ways: B as a link
    /// against A as vault_url, and A against B. Equal ones resolve to the canonical origin.
    #[test]
    fn origins_compare_in_canonical_form() {
        let equal = [
            ("http://[::1]:8080", "http://[0:0:0:0:0:0:0:1]:8080"),
            ("http://[::1]:8080", "HTTP://[0000::0001]:8080"),
            ("https://[2001:db8::1]", "https://[2001:DB8:0:0::1]:443"),
            ("https://[::ffff:7f00:1]", "https://[::ffff:127.0.0.1]"),
            ("https://v.example", "https://V.Example:443"),
            ("https://v.example", "https://v.example:"),
            ("https://v.example:8443", "https://v.example:08443"),
            ("http://localhost", "http://LOCALHOST:80"),
            ("http://127.0.0.1", "http://127.0.0.1:80"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ];
        let unequal = [
            ("http://[::1]:8080", "http://127.0.0.1:8080"),
            ("https://[2001:db8::1]", "https://[2001:db8::1:0]"),
            ("https://[::ffff:127.0.0.1]", "https://127.0.0.1"),
            ("https://127.0.0.1:443", "http://127.0.0.1:443"),
            ("https://v.example", "https://v.example:8443"),
            ("https://v.example", "https://v.example.com"),
            ("https://a.v.example", "https://v.example"),
            ("http://localhost", "http://127.0.0.1"),
            ("http://localhost:80", "http://localhost:8080"),
        ];
        for (a, b, same) in equal.iter().map(|(a, b)| (a, b, true)).chain(unequal.iter().map(|(a, b)| (a, b, false))) {
            for (url, other) in [(a, b), (b, a)] {
                let base = origin(url);
                let link = format!("{other}/p?q=1");
                match base.resolve(&link) {
                    Ok(resolved) => {
                        assert!(same, "{link} accepted against {url}");
                        assert_eq!(resolved, format!("{}/p?q=1", base.base()));
                        assert_eq!(base.base(), origin(other).base());
                    }
                    Err(why) => {
                        assert!(!same, "{link} refused against {url}: {why}");
                        assert!(why.contains("another origin"), "{why}");
                    }
                }
            }
        }
    }

    #[test]
    fn links_without_a_path_mean_the_root() {
        let o = origin("http://127.0.0.1:8080");
        assert_eq!(o.resolve("http://127.0.0.1:8080?x=1").unwrap(), "http://127.0.0.1:8080/?x=1");
        assert_eq!(o.resolve("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080/");
        assert_eq!(o.resolve("http://127.0.0.1:8080#f").unwrap(), "http://127.0.0.1:8080/");
        assert_eq!(o.resolve("http://127.0.0.1:8080?x=1#f").unwrap(), "http://127.0.0.1:8080/?x=1");
        let v6 = origin("http://[0:0::1]:9");
        assert_eq!(v6.resolve("http://[::1]:9?c=2").unwrap(), "http://[::1]:9/?c=2");
        assert_eq!(v6.resolve("/p").unwrap(), "http://[::1]:9/p");
    }

    #[test]
    fn a_rejected_url_never_repeats_its_password() {
        for (url, shown) in [
            ("https://me:hunter2@h.example", "\"https://[userinfo]@h.example\""),
            ("me:hunter2@h.example/x@y", "vault_url (not quoted: "),
            ("http://a@b:hunter2@127.0.0.1:1/", "\"http://[userinfo]@127.0.0.1:1/\""),
            ("ftp://me:hunter2@h", "\"ftp://[userinfo]@h\""),
        ] {
            let e = Origin::parse_vault_url(url).unwrap_err();
            assert!(!e.message().contains("hunter2"), "{}", e.message());
            assert!(e.message().contains(shown), "{}", e.message());
        }
        assert_eq!(without_userinfo("https://h/p@q"), "https://h/p@q");
    }

    #[test]
    fn resolve_keeps_links_on_the_origin() {
        let o = origin("https://v.example");
        assert_eq!(
            o.resolve("/api/v1/x?cursor=a%2B&limit=2").unwrap(),
            "https://v.example/api/v1/x?cursor=a%2B&limit=2"
        );
        assert_eq!(o.resolve("https://V.EXAMPLE:443/p?q").unwrap(), "https://v.example/p?q");
        assert_eq!(o.resolve("https://v.example/p#frag").unwrap(), "https://v.example/p");
        for bad in [
            "http://v.example/p",
            "https://v.example:444/p",
            "https://evil.example/p",
            "https://v.example.evil.example/p",
            "https://v.example@evil.example/p",
            "//evil.example/p",
            "p?cursor=1",
            "javascript:alert(1)",
            "/p q",
            "/p\r\nX: y",
            "/\\evil.example/p",
            "",
        ] {
            assert!(o.resolve(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn session_ids_too_short_padded_or_naming_an_origin_are_refused() {
        let refused = |id: &str| check_session_id(id).unwrap_err().message().to_owned();
        assert!(check_session_id(&"s".repeat(VAULT_PARTS_MIN_SESSION_ID_LEN)).is_ok());
        for short in ["1", &"s".repeat(VAULT_PARTS_MIN_SESSION_ID_LEN - 1), "Bearer abcdefghijk", "bEARER   1"] {
            assert!(refused(short).contains("at least 12 characters"), "{short:?}: {}", refused(short));
        }
        assert!(check_session_id("BeArEr abcdefghijkl").is_ok());
        assert_eq!(bearer_token("bearer   tok"), Some("tok"));
        assert_eq!(bearer_token("Bearertok"), None);
        for padded in [" abcdefghijkl", "abcdefghijkl ", "Bearer abcdefghijkl "] {
            assert_eq!(refused(padded), "session_id starts or ends with a space: pass it without surrounding spaces");
        }
        for swapped in [
            "https://v.example",
            "HTTP://127.0.0.1:1",
            "myvault.veevavault.com",
            "localhost:8443",
            "127.0.0.1:8080",
            "[::1]:8080",
        ] {
            assert!(refused(swapped).contains("look swapped"), "{swapped}: {}", refused(swapped));
        }
        // A single label (as a hex session ID is) and values no vault_url can be are IDs.
        for id in ["0123456789abcdef0123", "sid:0123456789abcdef", "abc.def ghi.jkl", "v.example/abcdefgh"] {
            assert!(check_session_id(id).is_ok(), "{id}");
        }
    }

    /// A bare vault_url may be the session ID: its refusals never quote it, and a single label
    /// (what a session ID looks like) is refused before it can reach a resolver.
    #[test]
    fn a_bare_vault_url_is_never_quoted_and_needs_a_dot() {
        for bare in [
            "0123456789abcdef0123456789abcdef",
            "vaulthost",
            "vaulthost:8443",
            &"0123456789abcdef".repeat(8),
            "bad_host.example",
            "h.example:99999",
            "h.example:0123456789abcdef",
            "[0123456789abcdef]",
            "1.2.3.0123456789",
            "v.example/0123456789abcdef",
        ] {
            let e = Origin::parse_vault_url(bare).unwrap_err();
            assert!(e.message().starts_with("vault_url (not quoted: "), "{bare}: {}", e.message());
            for piece in [bare, "0123456789", "vaulthost", "bad_host", "v.example", "h.example"] {
                assert!(!e.message().contains(piece), "{bare}: {}", e.message());
            }
        }
        let e = Origin::parse_vault_url("vaulthost").unwrap_err();
        assert!(e.message().ends_with("a bare vault_url must be a host name with a dot, like myvault.veevavault.com, an IP address or localhost (or start with https://)"), "{}", e.message());
        assert_eq!(origin("https://vaulthost").base(), "https://vaulthost");
        for ok in ["localhost:8443", "127.0.0.1", "[::1]:8443", "v.example"] {
            assert!(Origin::parse_vault_url(ok).is_ok(), "{ok}");
        }
        let e = Origin::parse_vault_url("https://bad_host.example").unwrap_err();
        assert!(e.message().starts_with("vault_url \"https://bad_host.example\" is not usable: "), "{}", e.message());
    }

    #[test]
    fn identifier_lengths() {
        assert!(check_session_id(&"s".repeat(VAULT_PARTS_MAX_SESSION_ID_LEN)).is_ok());
        let e = check_session_id(&"s".repeat(VAULT_PARTS_MAX_SESSION_ID_LEN + 1)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Arg);
        assert_eq!(e.message(), "session_id is 8001 bytes long; at most 8000 are accepted");
        assert!(check_upload_session_id(&"u".repeat(VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN)).is_ok());
        let e = check_upload_session_id(&"u".repeat(100_000)).unwrap_err();
        assert_eq!(e.message(), "upload_session_id is 100000 bytes long; at most 256 are accepted");
    }

    #[test]
    fn identifier_rules() {
        assert!(check_session_id("ABC-123_x.yz+/=").is_ok());
        assert!(check_session_id("").is_err());
        assert!(check_session_id("a\nbcdefghijklmn").is_err());
        assert!(check_session_id("Bearer abc.def.ghi.jkl").is_ok());
        assert!(check_session_id("sé-0123456789").unwrap_err().message().contains("printable ASCII"));
        assert!(check_upload_session_id("98f46c04fa7a65ff2e5eaf90fdf613ab").is_ok());
        for bad in ["", ".", "..", "a/b", "a?b", "a#b", "a%2F", "a b", "a\tb", "é"] {
            assert!(check_upload_session_id(bad).is_err(), "{bad:?}");
        }
        for good in ["v25.3", "v21.1", "v9.10"] {
            assert!(check_api_version(good).is_ok(), "{good}");
        }
        for bad in ["25.3", "v25", "v25.", "v.3", "v25.3.1", "v251.3", "V25.3", ""] {
            assert!(check_api_version(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever a server sends, an accepted link stays on the configured origin.
        #[test]
        fn accepted_links_keep_the_origin(link in r#"(https?://|//|/)?[a-zA-Z0-9.:@\[\]/?#%&=_\-]{0,60}"#) {
            let origin = Origin::parse_vault_url("https://v.example:8443").unwrap();
            if let Ok(url) = origin.resolve(&link) {
                prop_assert!(url.starts_with("https://v.example:8443/"), "{} -> {}", link, url);
                let rest = &url["https://v.example:8443".len()..];
                prop_assert!(!rest.starts_with("//"), "{} -> {}", link, url);
            }
        }

        /// The other half: links that do stay on the origin are accepted, as they are and
        /// spelled absolutely (so the property above cannot pass by refusing everything).
        #[test]
        fn same_origin_links_are_accepted(path in r#"/[a-zA-Z0-9._\-]{1,20}(/[a-zA-Z0-9._\-]{1,20}){0,3}"#,
                                          query in r#"(\?[a-z]{1,8}=[a-zA-Z0-9]{1,12}(&[a-z]{1,8}=[0-9]{1,6}){0,2})?"#) {
            prop_assume!(!path.split('/').any(|segment| segment == "." || segment == ".."));
            let origin = Origin::parse_vault_url("https://v.example:8443").unwrap();
            let link = format!("{path}{query}");
            let want = format!("https://v.example:8443{link}");
            prop_assert_eq!(origin.resolve(&link).ok(), Some(want.clone()), "{}", link);
            prop_assert_eq!(origin.resolve(&want).ok(), Some(want.clone()), "{}", want);
        }

        #[test]
        fn arbitrary_text_never_panics(link in any::<String>(), url in any::<String>()) {
            let _ = Origin::parse_vault_url(&url);
            let origin = Origin::parse_vault_url("http://127.0.0.1:9").unwrap();
            let _ = origin.resolve(&link);
            let _ = check_upload_session_id(&link);
            let _ = check_api_version(&link);
        }

        /// Every spelling of an IPv6 address (std's, all eight groups, leading zeros, upper
        /// case) names the same origin, and a different address never does.
        #[test]
        fn ipv6_spellings_compare_by_address(groups in any::<[u16; 8]>(), other in any::<[u16; 8]>(), upper in any::<bool>()) {
            let ip = Ipv6Addr::from(groups);
            let origin = Origin::parse_vault_url(&format!("https://[{ip}]:8443")).unwrap();
            let expanded: Vec<String> = groups.iter().map(|g| if upper { format!("{g:04X}") } else { format!("{g:x}") }).collect();
            for spelling in [ip.to_string(), expanded.join(":")] {
                let link = format!("https://[{spelling}]:8443/p");
                prop_assert_eq!(origin.resolve(&link), Ok(format!("{}/p", origin.base())));
                prop_assert_eq!(Origin::parse_vault_url(&format!("https://[{spelling}]:8443")).unwrap(), origin.clone());
            }
            if other != groups {
                let link = format!("https://[{}]:8443/p", Ipv6Addr::from(other));
                prop_assert!(origin.resolve(&link).is_err(), "{}", link);
            }
        }

        /// The canonical form is a fixed point: an accepted vault_url's base parses back to
        /// the same origin, and a host's case never matters.
        #[test]
        fn canonical_base_round_trips(url in r#"(https?://)?[a-zA-Z0-9.\-\[\]:]{1,40}/?"#) {
            if let Ok(origin) = Origin::parse_vault_url(&url) {
                let again = Origin::parse_vault_url(&origin.base()).unwrap();
                prop_assert_eq!(&again, &origin);
                prop_assert_eq!(Origin::parse_vault_url(&url.to_ascii_uppercase()).ok(), Some(origin));
            }
        }

        /// Any host and port written back as an absolute link resolves exactly when it is ours.
        #[test]
        fn absolute_links_compare_origins(host in "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}", port in 1u16.., path in "/[a-z0-9/]{0,20}") {
            let origin = Origin::parse_vault_url("https://v.example:8443").unwrap();
            let link = format!("https://{host}:{port}{path}");
            let same = host == "v.example" && port == 8443;
            prop_assert_eq!(origin.resolve(&link).is_ok(), same, "{}", link);
        }
    }
}
