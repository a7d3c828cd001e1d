//! Certificates made at run time for HTTPS tests: a CA and a server certificate it signed.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What the server presents: its certificate chain and private key (DER).
#[derive(Clone, Debug)]
pub struct Identity {
    pub chain: Vec<Vec<u8>>,
    pub key: Vec<u8>,
}

/// A throwaway CA; clients trust it through its PEM.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("key generation");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("self-signed CA");
        let (pem, der) = (cert.pem(), cert.der().to_vec());
        TestCa { issuer: Issuer::new(params, key), pem, der }
    }

    /// The CA certificate as PEM, for vault_parts_set_ca_file.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate as DER, for a rustls root store.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// A server identity for `names` (DNS names or IP addresses) signed by this CA.
    pub fn identity(&self, names: &[&str]) -> Identity {
        let key = KeyPair::generate().expect("key generation");
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
        let cert = params.signed_by(&key, &self.issuer).expect("signing");
        Identity { chain: vec![cert.der().to_vec()], key: key.serialize_der() }
    }
}

/// Sessions the server remembers for resumption by session ID (TLS 1.2); TLS 1.3 and
/// TLS 1.2 ticket resumption need no server memory.
const SESSION_CACHE: usize = 4096;

/// A server config that lets clients resume sessions, by ticket or by session ID.
pub(crate) fn server_config(identity: &Identity) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = identity.chain.iter().map(|c| CertificateDer::from(c.clone())).collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE);
    config.ticketer = rustls::crypto::ring::Ticketer::new().expect("session ticketer");
    Arc::new(config)
}

/// Completes the server side of the handshake, polling `stop` through the socket's read
/// timeout so a client that never finishes cannot hold the thread past the server's life.
pub(crate) fn handshake(conn: &mut rustls::ServerConnection, tcp: &mut TcpStream, stop: &AtomicBool) -> io::Result<()> {
    while conn.is_handshaking() {
        if stop.load(Ordering::Relaxed) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        match conn.complete_io(tcp) {
            Ok((0, 0)) if conn.is_handshaking() => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            Err(e) if crate::http::is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
