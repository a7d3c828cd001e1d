//! What a caller may tune before the first page, with Vault's rules for each value.

use crate::error::{quote, Error};
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

/// The roots HTTPS trusts. Files and the system store are read when set, so a bad path or an
/// empty store fails at the setter rather than at the first page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustRoots {
    /// Mozilla's roots, compiled in.
    BuiltIn,
    /// Only these DER certificates (a private CA).
    Only(Vec<Vec<u8>>),
    /// Mozilla's roots and these DER certificates (a TLS-inspecting proxy's CA).
    BuiltInPlus(Vec<Vec<u8>>),
    /// The operating system's store, as OpenSSL finds it (SSL_CERT_FILE, SSL_CERT_DIR, then the
    /// distribution's bundle), in DER.
    System(Vec<Vec<u8>>),
}

impl TrustRoots {
    /// Only the certificates of the PEM file at `path`, read now.
    pub fn only_file(path: &str) -> Result<TrustRoots, Error> {
        Ok(TrustRoots::Only(read_pem_certs(path)?))
    }

    /// The built-in roots and the certificates of the PEM file at `path`, read now.
    pub fn plus_file(path: &str) -> Result<TrustRoots, Error> {
        Ok(TrustRoots::BuiltInPlus(read_pem_certs(path)?))
    }

    /// The operating system's store, found as OpenSSL finds it, read now.
    pub fn system() -> Result<TrustRoots, Error> {
        let found = rustls_native_certs::load_native_certs();
        if found.certs.is_empty() {
            let why = found.errors.first().map_or("no certificate found".to_owned(), |e| e.to_string());
            return Err(Error::arg(format!(
                "the system's trust store is empty or unreadable ({}; set SSL_CERT_FILE or SSL_CERT_DIR)",
                why
            )));
        }
        Ok(TrustRoots::System(found.certs.into_iter().map(|c| c.to_vec()).collect()))
    }

    /// The DER certificates to trust; None means the built-in roots alone.
    pub fn certs(&self) -> Option<Vec<&[u8]>> {
        let builtin = || webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| c.as_ref());
        match self {
            TrustRoots::BuiltIn => None,
            TrustRoots::Only(certs) | TrustRoots::System(certs) => Some(certs.iter().map(Vec::as_slice).collect()),
            TrustRoots::BuiltInPlus(certs) => Some(builtin().chain(certs.iter().map(Vec::as_slice)).collect()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// None: no limit parameter, Vault's default (1000).
    pub limit: Option<u32>,
    pub api_version: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub client_id: String,
    /// Which certificates a server's chain must lead to.
    pub trust: TrustRoots,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// The budget of the whole listing, counted from the first vault_parts_next; None: no limit.
    pub deadline: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limit: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            trust: TrustRoots::BuiltIn,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
            deadline: None,
        }
    }
}

impl Settings {
    pub fn set_limit(&mut self, limit: u32) -> Result<(), Error> {
        if !(1..=crate::page::MAX_PAGE_PARTS).contains(&limit) {
            let max = crate::page::MAX_PAGE_PARTS;
            return Err(Error::arg(format!("limit {limit} is out of range: Vault accepts 1 to {max}")));
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

    pub fn set_client_id(&mut self, client_id: &str) -> Result<(), Error> {
        self.client_id = check_client_id(client_id)?;
        Ok(())
    }

    /// Trusts only the certificates of the PEM file at `path`.
    pub fn set_ca_file(&mut self, path: &str) -> Result<(), Error> {
        self.trust = TrustRoots::only_file(path)?;
        Ok(())
    }

    /// Trusts the built-in roots and the certificates of the PEM file at `path`.
    pub fn add_ca_file(&mut self, path: &str) -> Result<(), Error> {
        self.trust = TrustRoots::plus_file(path)?;
        Ok(())
    }

    /// Trusts the operating system's store, found as OpenSSL finds it.
    pub fn use_system_roots(&mut self) -> Result<(), Error> {
        self.trust = TrustRoots::system()?;
        Ok(())
    }

    /// A budget for the whole listing: every page, attempt and wait (at least 1 ms).
    pub fn set_deadline_ms(&mut self, ms: u64) -> Result<(), Error> {
        if ms == 0 {
            return Err(Error::arg("deadline must be at least 1 ms"));
        }
        self.deadline = Some(Duration::from_millis(ms));
        Ok(())
    }
}

/// Vault's rule for X-VaultAPI-ClientID: 1 to 100 letters, digits, '.', '_' and '-'.
pub(crate) fn check_client_id(client_id: &str) -> Result<String, Error> {
    let valid_chars = client_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if client_id.is_empty() || client_id.len() > 100 || !valid_chars {
        return Err(Error::arg(format!(
            "client_id {} is not valid: Vault accepts 1 to 100 letters, digits, '.', '_' and '-'",
            crate::error::quote(client_id)
        )));
    }
    Ok(client_id.to_owned())
}

/// The largest CA file vault_parts_set_ca_file, vault_parts_add_ca_file and their client
/// versions read, in bytes (1 MiB); a larger one gives VAULT_PARTS_E_ARG. A bundle of every
/// public root CA is about 220 KB; the cap bounds what a wrong path (a log, a disk image)
/// costs before it is refused.
pub const VAULT_PARTS_MAX_CA_FILE_SIZE: usize = 1048576;

/// The certificates of a PEM file, read now; at least one.
fn read_pem_certs(path: &str) -> Result<Vec<Vec<u8>>, Error> {
    let pem = read_ca_file(path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.der().to_vec()),
            Ok(_) => {}
            Err(e) => return Err(Error::arg(format!("ca_file {} is not valid PEM: {e}", quote(path)))),
        }
    }
    if certs.is_empty() {
        return Err(Error::arg(format!("ca_file {} holds no PEM certificate", quote(path))));
    }
    Ok(certs)
}

/// The bytes of the CA file at `path`: a regular file of at most VAULT_PARTS_MAX_CA_FILE_SIZE
/// bytes. No interrupt reaches a setter, so nothing here may wait or read without end: the
/// open does not block (a FIFO would wait for a writer), and a device (/dev/zero) or a FIFO
/// is refused before a byte is read.
fn read_ca_file(path: &str) -> Result<Vec<u8>, Error> {
    use crate::local::{open_regular, NotRegular};
    use std::io::Read;
    let refused = |why: String| Error::arg(format!("ca_file {} {why}", quote(path)));
    let unreadable = |e: std::io::Error| refused(format!("cannot be read: {e}"));
    let (file, meta) = open_regular(path.as_ref()).map_err(|refusal| match refusal {
        NotRegular::Io(_, e) => unreadable(e),
        other => refused(other.is().into()),
    })?;
    let cap = VAULT_PARTS_MAX_CA_FILE_SIZE;
    let too_large = || refused(format!("is larger than {cap} bytes (VAULT_PARTS_MAX_CA_FILE_SIZE)"));
    if meta.len() > cap as u64 {
        return Err(too_large());
    }
    // The file may grow after the check: one byte past the cap is enough to tell.
    let mut pem = Vec::with_capacity(meta.len() as usize);
    file.take(cap as u64 + 1).read_to_end(&mut pem).map_err(unreadable)?;
    if pem.len() > cap {
        return Err(too_large());
    }
    Ok(pem)
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

    /// Each refusal comes before a byte is read, so none can block or run out of memory.
    #[test]
    fn ca_files_are_regular_and_bounded() {
        let dir = std::env::temp_dir().join(format!("vault_parts_ca_files_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let big = dir.join("big.pem");
        std::fs::write(&big, vec![b'\n'; VAULT_PARTS_MAX_CA_FILE_SIZE + 1]).unwrap();
        let at_cap = dir.join("at-cap.pem");
        std::fs::write(&at_cap, vec![b'\n'; VAULT_PARTS_MAX_CA_FILE_SIZE]).unwrap();
        let refusal = |path: &std::path::Path| read_ca_file(path.to_str().unwrap()).unwrap_err();
        let shown = |path: &std::path::Path| format!("ca_file \"{}\"", path.display());
        assert_eq!(refusal(&fifo).message(), format!("{} is not a regular file", shown(&fifo)));
        let zero = std::path::Path::new("/dev/zero");
        assert_eq!(refusal(zero).message(), "ca_file \"/dev/zero\" is not a regular file");
        assert_eq!(refusal(&dir).message(), format!("{} is a directory", shown(&dir)));
        let e = refusal(&big);
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::Arg,
                format!("{} is larger than 1048576 bytes (VAULT_PARTS_MAX_CA_FILE_SIZE)", shown(&big)).as_str()
            )
        );
        assert_eq!(read_ca_file(at_cap.to_str().unwrap()).unwrap().len(), VAULT_PARTS_MAX_CA_FILE_SIZE);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn trust_roots_replace_or_extend_the_built_in_ones() {
        let builtin = webpki_root_certs::TLS_SERVER_ROOT_CERTS.len();
        assert!(builtin > 100, "Mozilla's roots are compiled in");
        assert_eq!(TrustRoots::BuiltIn.certs(), None);
        let ca = vec![vec![1u8, 2, 3]];
        assert_eq!(TrustRoots::Only(ca.clone()).certs(), Some(vec![&[1u8, 2, 3][..]]));
        let trust = TrustRoots::BuiltInPlus(ca);
        let plus = trust.certs().unwrap();
        assert_eq!(plus.len(), builtin + 1);
        assert_eq!(plus[builtin], &[1u8, 2, 3][..]);
    }
}
