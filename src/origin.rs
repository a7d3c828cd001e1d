//! Where requests may go: the Vault origin parsed from vault_url, the argument rules for the
//! identifiers that go into requests, and the resolution of next_page and redirect links, which
//! must stay on that origin so the session ID never reaches another host.

use crate::error::Error;
use std::net::Ipv4Addr;

/// Scheme, host and port of the Vault: the only place the session ID is ever sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    secure: bool,
    /// Lower case; IPv6 literals keep their brackets.
    host: String,
    port: u16,
}

impl Origin {
    /// Parses vault_url: "https://host[:port][/]", a bare "host[:port]" (https), or
    /// "http://host[:port][/]" for loopback hosts only.
    pub fn parse_vault_url(url: &str) -> Result<Origin, Error> {
        let bad = |why: &str| {
            Error::arg(format!(
                "vault_url {:?} is not usable: {why}",
                crate::error::printable(&without_userinfo(url), 200)
            ))
        };
        if url.is_empty() {
            return Err(Error::arg(
                "vault_url is empty: pass the Vault's address, like https://myvault.veevavault.com",
            ));
        }
        let (secure, rest) = match split_scheme(url) {
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
        if !secure && !origin.is_loopback() {
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

    fn is_loopback(&self) -> bool {
        let host = self.host.as_str();
        host == "localhost" || host == "[::1]" || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Resolves a link Vault sent (next_page or a redirect's Location): an absolute URL on this
    /// origin or a path starting with one "/". Returns the canonical absolute URL; anything
    /// else is refused before a request is made.
    pub fn resolve(&self, link: &str) -> Result<String, String> {
        let shown = crate::error::printable(link, 200);
        if let Some(bad) = link.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!("link {shown:?} contains the character {bad:?}, which no URL may hold unencoded"));
        }
        // Browsers' URL parsers read "\\" as "/", so "/\\evil.example" could mean another host.
        if link.contains('\\') {
            return Err(format!("link {shown:?} contains a backslash"));
        }
        let path_and_query = if let Some((scheme, rest)) = split_scheme(link) {
            let secure = if scheme.eq_ignore_ascii_case("https") {
                true
            } else if scheme.eq_ignore_ascii_case("http") {
                false
            } else {
                return Err(format!("link {shown:?} uses the scheme {scheme:?}; only {} is allowed", self.base()));
            };
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let target = parse_authority(&rest[..end], secure).map_err(|why| format!("link {shown:?}: {why}"))?;
            if target != *self {
                return Err(format!(
                    "link {shown:?} points to another origin than {}; the session ID is sent only there",
                    self.base()
                ));
            }
            match &rest[end..] {
                "" => "/",
                p if p.starts_with('/') => p,
                _ => return Err(format!("link {shown:?} has no path")),
            }
        } else if link.starts_with('/') && !link.starts_with("//") {
            link
        } else {
            return Err(format!("link {shown:?} is neither an absolute URL nor a path starting with \"/\""));
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

fn parse_authority(authority: &str, secure: bool) -> Result<Origin, String> {
    if authority.contains('@') {
        return Err("user names or passwords in the URL are not allowed".into());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or("an IPv6 address lacks its closing ']'")?;
        if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err("the IPv6 address is malformed".into());
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("junk after the IPv6 address")?),
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.is_empty() {
            return Err("the host is missing".into());
        }
        if host.len() > 253 || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
            return Err("the host name holds characters a host name cannot".into());
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => default_port(secure),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => n,
            _ => return Err(format!("the port {:?} is not a number from 1 to 65535", crate::error::printable(p, 20))),
        },
    };
    Ok(Origin { secure, host, port })
}

/// The session ID goes into the Authorization header: it must be non-empty printable ASCII
/// (spaces allowed, for "Bearer ..."). The message never repeats it.
pub fn check_session_id(session_id: &str) -> Result<(), Error> {
    if session_id.is_empty() {
        return Err(Error::arg("session_id is empty"));
    }
    if session_id.chars().any(|c| c.is_control()) {
        return Err(Error::arg("session_id contains a control character"));
    }
    // HTTP header values are ASCII in practice; Vault's session IDs and Bearer tokens are.
    if !session_id.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Error::arg("session_id contains a character that is not printable ASCII"));
    }
    Ok(())
}

/// The upload session ID becomes one path segment: only characters that need no encoding.
pub fn check_upload_session_id(id: &str) -> Result<(), Error> {
    let shown = crate::error::printable(id, 100);
    if id.is_empty() {
        return Err(Error::arg("upload_session_id is empty"));
    }
    if id == "." || id == ".." {
        return Err(Error::arg(format!("upload_session_id {shown:?} is not a usable path segment")));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(c);
    if let Some(c) = id.chars().find(|&c| !allowed(c)) {
        return Err(Error::arg(format!(
            "upload_session_id {shown:?} contains {c:?}; it must be one URL path segment (letters, digits and -._~!$&'()*+,;=:@)"
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
        Err(Error::arg(format!(
            "api version {:?} is not a Vault API version like \"v25.3\"",
            crate::error::printable(version, 40)
        )))
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
        ] {
            let e = Origin::parse_vault_url(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Arg, "{bad}");
            assert!(e.message().contains("vault_url"), "{bad}: {}", e.message());
        }
    }

    #[test]
    fn a_rejected_url_never_repeats_its_password() {
        for (url, shown) in [
            ("https://me:hunter2@h.example", "https://[userinfo]@h.example"),
            ("me:hunter2@h.example/x@y", "[userinfo]@h.example/x@y"),
            ("http://a@b:hunter2@127.0.0.1:1/", "http://[userinfo]@127.0.0.1:1/"),
            ("ftp://me:hunter2@h", "ftp://[userinfo]@h"),
        ] {
            let e = Origin::parse_vault_url(url).unwrap_err();
            assert!(!e.message().contains("hunter2"), "{}", e.message());
            assert!(e.message().contains(&format!("{shown:?}")), "{}", e.message());
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
    fn identifier_rules() {
        assert!(check_session_id("ABC.123-x").is_ok());
        assert!(check_session_id("").is_err());
        assert!(check_session_id("a\nb").is_err());
        assert!(check_session_id("Bearer abc.def").is_ok());
        assert!(check_session_id("sé").unwrap_err().message().contains("printable ASCII"));
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

        #[test]
        fn arbitrary_text_never_panics(link in any::<String>(), url in any::<String>()) {
            let _ = Origin::parse_vault_url(&url);
            let origin = Origin::parse_vault_url("http://127.0.0.1:9").unwrap();
            let _ = origin.resolve(&link);
            let _ = check_upload_session_id(&link);
            let _ = check_api_version(&link);
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
