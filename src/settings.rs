//! What a caller may tune before the first page, with Vault's rules for each value.

use crate::error::Error;
use std::time::Duration;

/// The API version used when the caller sets none: a generally available release that has
/// the list-parts endpoint (it exists from v21.1).
pub(crate) const DEFAULT_API_VERSION: &str = "v25.3";
/// Per attempt, as the C API documents.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// First retry wait; each later one doubles, with jitter.
pub(crate) const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(250);
/// No single wait, Retry-After included, is longer.
pub(crate) const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Sent as X-VaultAPI-ClientID unless the caller sets one; Vault logs it per request.
pub(crate) const DEFAULT_CLIENT_ID: &str = concat!("libvault_parts-", env!("CARGO_PKG_VERSION"));

#[derive(Clone, Debug)]
pub struct Settings {
    /// None: no limit parameter, Vault's default (1000).
    pub limit: Option<u32>,
    pub api_version: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub client_id: String,
    /// DER certificates that replace the built-in roots.
    pub ca_certs: Option<Vec<Vec<u8>>>,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limit: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            ca_certs: None,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
        }
    }
}

impl Settings {
    pub fn set_limit(&mut self, limit: u32) -> Result<(), Error> {
        if !(1..=1000).contains(&limit) {
            return Err(Error::arg(format!("limit {limit} is out of range: Vault accepts 1 to 1000")));
        }
        self.limit = Some(limit);
        Ok(())
    }

    pub fn set_api_version(&mut self, version: &str) -> Result<(), Error> {
        crate::origin::check_api_version(version)?;
        self.api_version = version.to_owned();
        Ok(())
    }

    pub fn set_timeout_ms(&mut self, ms: u32) -> Result<(), Error> {
        if ms == 0 {
            return Err(Error::arg("timeout must be at least 1 ms"));
        }
        self.timeout = Duration::from_millis(ms.into());
        Ok(())
    }

    pub fn set_max_attempts(&mut self, attempts: u32) -> Result<(), Error> {
        if attempts == 0 {
            return Err(Error::arg("max_attempts must be at least 1"));
        }
        self.max_attempts = attempts;
        Ok(())
    }

    pub fn set_backoff_ms(&mut self, initial_ms: u32, max_ms: u32) -> Result<(), Error> {
        if initial_ms > max_ms {
            return Err(Error::arg(format!(
                "backoff initial wait {initial_ms} ms is longer than its maximum {max_ms} ms"
            )));
        }
        self.backoff_initial = Duration::from_millis(initial_ms.into());
        self.backoff_max = Duration::from_millis(max_ms.into());
        Ok(())
    }

    /// Vault's rule: 1 to 100 letters, digits, '.', '_' and '-'.
    pub fn set_client_id(&mut self, client_id: &str) -> Result<(), Error> {
        let valid_chars = client_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if client_id.is_empty() || client_id.len() > 100 || !valid_chars {
            return Err(Error::arg(format!(
                "client_id {} is not valid: Vault accepts 1 to 100 letters, digits, '.', '_' and '-'",
                crate::error::quote(client_id)
            )));
        }
        self.client_id = client_id.to_owned();
        Ok(())
    }

    /// Reads the PEM file now, so that a bad path fails here rather than at the first page.
    pub fn set_ca_file(&mut self, path: &str) -> Result<(), Error> {
        let pem = std::fs::read(path).map_err(|e| Error::arg(format!("ca_file {path:?} cannot be read: {e}")))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.der().to_vec()),
                Ok(_) => {}
                Err(e) => return Err(Error::arg(format!("ca_file {path:?} is not valid PEM: {e}"))),
            }
        }
        if certs.is_empty() {
            return Err(Error::arg(format!("ca_file {path:?} holds no PEM certificate")));
        }
        self.ca_certs = Some(certs);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn ranges() {
        let mut s = Settings::default();
        assert!(s.set_limit(1).is_ok() && s.set_limit(1000).is_ok());
        assert_eq!(s.set_limit(0).unwrap_err().kind(), ErrorKind::Arg);
        assert!(s.set_limit(1001).unwrap_err().message().contains("1 to 1000"));
        assert!(s.set_timeout_ms(0).is_err() && s.set_timeout_ms(1).is_ok());
        assert!(s.set_max_attempts(0).is_err() && s.set_max_attempts(1).is_ok());
        assert!(s.set_backoff_ms(10, 5).is_err() && s.set_backoff_ms(0, 0).is_ok());
    }

    #[test]
    fn client_id_rule() {
        let mut s = Settings::default();
        assert!(s.set_client_id(DEFAULT_CLIENT_ID).is_ok());
        assert!(s.set_client_id(&"a".repeat(100)).is_ok());
        for bad in ["", "a b", "a/b", "é", &"a".repeat(101)] {
            assert!(s.set_client_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ca_file_must_hold_a_certificate() {
        let mut s = Settings::default();
        assert!(s.set_ca_file("/nonexistent/ca.pem").unwrap_err().message().contains("cannot be read"));
        let dir = std::env::temp_dir().join(format!("vault_parts_settings_{}", std::process::id()));
        std::fs::write(&dir, "not a pem").unwrap();
        assert!(s.set_ca_file(dir.to_str().unwrap()).unwrap_err().message().contains("no PEM certificate"));
        std::fs::remove_file(&dir).unwrap();
    }
}
