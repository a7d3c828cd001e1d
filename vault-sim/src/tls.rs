//! Certificates made at run time for HTTPS tests: a CA and a server certificate it signed.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
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
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("key generation");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("self-signed CA");
        let pem = cert.pem();
        TestCa { issuer: Issuer::new(params, key), pem }
    }

    /// The CA certificate as PEM, for vault_parts_set_ca_file.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server identity for `names` (DNS names or IP addresses) signed by this CA.
    pub fn identity(&self, names: &[&str]) -> Identity {
        let key = KeyPair::generate().expect("key generation");
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
        let cert = params.signed_by(&key, &self.issuer).expect("signing");
        Identity { chain: vec![cert.der().to_vec()], key: key.serialize_der() }
    }
}

pub(crate) fn server_config(identity: &Identity) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = identity.chain.iter().map(|c| CertificateDer::from(c.clone())).collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
    Arc::new(config)
}
