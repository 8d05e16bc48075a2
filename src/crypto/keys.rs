//! Realm signing keys: RSA-2048 generation with a self-signed certificate (CN = realm name),
//! the libtrust `kid` docker registries look up, and the JWK published at `/certs`.

use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, RsaKeySize, PKCS_RSA_SHA256};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::jwt::{self, HeaderKind};

/// A freshly generated key pair with its certificate, all DER.
pub struct GeneratedKey {
    /// PKCS#8 private key.
    pub private_key_der: Vec<u8>,
    /// SubjectPublicKeyInfo.
    pub public_key_der: Vec<u8>,
    /// Self-signed X.509 certificate.
    pub certificate_der: Vec<u8>,
    /// The libtrust key id.
    pub kid: String,
}

/// Why a key could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("stored key is unusable: {0}")]
    Rejected(String),
}

/// Ten years, as Keycloak's generated realm certificates.
const CERTIFICATE_DAYS: i64 = 3650;

/// Generates an RSA-2048 key and a self-signed certificate whose CN is the realm name.
pub fn generate_realm_key(realm_name: &str) -> Result<GeneratedKey, KeyError> {
    let key_pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
    let certificate_der = self_signed_certificate(&key_pair, realm_name)?;
    let public_key_der = key_pair.public_key_der();
    Ok(GeneratedKey {
        kid: libtrust_kid(&public_key_der),
        private_key_der: key_pair.serialize_der(),
        public_key_der,
        certificate_der,
    })
}

/// A self-signed certificate for `common_name`, valid from yesterday for ten years.
pub fn self_signed_certificate(key_pair: &KeyPair, common_name: &str) -> Result<Vec<u8>, KeyError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CERTIFICATE_DAYS);
    Ok(params.self_signed(key_pair)?.der().to_vec())
}

/// A TLS key pair (PEM certificate, PEM PKCS#8 key) for `localhost`, as shipped in the
/// docker-compose download for the registry's own HTTPS.
pub fn localhost_tls_pair() -> Result<(String, String), KeyError> {
    let key_pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    params.distinguished_name = name;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CERTIFICATE_DAYS);
    let certificate = params.self_signed(&key_pair)?;
    Ok((certificate.pem(), key_pair.serialize_pem()))
}

/// The libtrust key id of a public key: SHA-256 of its SubjectPublicKeyInfo DER, first 30
/// bytes, base32 without padding, in 12 groups of 4 joined by `:`.
pub fn libtrust_kid(spki_der: &[u8]) -> String {
    let digest = Sha256::digest(spki_der);
    let encoded = data_encoding::BASE32_NOPAD.encode(&digest[..30]);
    encoded
        .as_bytes()
        .chunks(4)
        .map(|chunk| std::str::from_utf8(chunk).expect("base32 is ASCII"))
        .collect::<Vec<_>>()
        .join(":")
}

/// PEM armour for a DER certificate.
pub fn certificate_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// A public key as published in a JWKS.
#[derive(Debug, Clone, Serialize)]
pub struct Jwk {
    pub kid: String,
    pub kty: &'static str,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub n: String,
    pub e: String,
    pub x5c: Vec<String>,
    /// SHA-1 thumbprint of the certificate DER, base64url (JWKS `x5t`).
    pub x5t: String,
    /// SHA-256 thumbprint of the certificate DER, base64url.
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
}

/// A realm key loaded for use: parsed once, then used for every signature.
pub struct LoadedKey {
    pub kid: String,
    pub algorithm: String,
    pub active: bool,
    pub key_pair: RsaKeyPair,
    pub jwk: Jwk,
    /// The certificate, base64 DER, as put in `x5c`.
    pub certificate_b64: String,
    /// The public key, base64 SubjectPublicKeyInfo DER.
    pub public_key_b64: String,
    /// The encoded JOSE headers of tokens this key signs, without and with `x5c`.
    header: String,
    header_with_certificate: String,
}

impl LoadedKey {
    /// Parses a stored key.
    pub fn load(stored: &crate::domain::RealmKey) -> Result<Self, KeyError> {
        let key_pair = RsaKeyPair::from_pkcs8(&stored.private_key_der)
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        let public = key_pair.public_key();
        let certificate_b64 = STANDARD.encode(&stored.certificate_der);
        let jwk = Jwk {
            kid: stored.kid.clone(),
            kty: "RSA",
            alg: stored.algorithm.clone(),
            use_: "sig",
            n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            x5c: vec![certificate_b64.clone()],
            x5t: URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &stored.certificate_der,
            )),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&stored.certificate_der)),
        };
        Ok(LoadedKey {
            header: jwt::encoded_header(&stored.kid, &certificate_b64, HeaderKind::Plain),
            header_with_certificate: jwt::encoded_header(
                &stored.kid,
                &certificate_b64,
                HeaderKind::WithCertificate,
            ),
            kid: stored.kid.clone(),
            algorithm: stored.algorithm.clone(),
            active: stored.status == "ACTIVE",
            key_pair,
            jwk,
            certificate_b64,
            public_key_b64: STANDARD.encode(&stored.public_key_der),
        })
    }

    /// The encoded header of the tokens this key signs.
    pub fn encoded_header(&self, kind: HeaderKind) -> &str {
        match kind {
            HeaderKind::Plain => &self.header,
            HeaderKind::WithCertificate => &self.header_with_certificate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The P-256 test vector from the registry's libtrust: SPKI = fixed prefix + 04 || x || y.
    #[test]
    fn libtrust_kid_matches_the_reference_vector() {
        let x = URL_SAFE_NO_PAD
            .decode("m7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q")
            .unwrap();
        let y = URL_SAFE_NO_PAD
            .decode("dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc")
            .unwrap();
        let mut spki = data_encoding::HEXLOWER
            .decode(b"3059301306072a8648ce3d020106082a8648ce3d030107034200")
            .unwrap();
        spki.push(0x04);
        spki.extend_from_slice(&x);
        spki.extend_from_slice(&y);
        assert_eq!(
            libtrust_kid(&spki),
            "PYYO:TEWU:V7JH:26JV:AQTZ:LJC3:SXVJ:XGHA:34F2:2LAQ:ZRMK:Z7Q6"
        );
    }

    #[test]
    fn generated_keys_load_and_publish_a_jwk() {
        let generated = generate_realm_key("team-a").unwrap();
        assert_eq!(generated.kid.len(), 59);
        let stored = crate::domain::RealmKey {
            id: crate::domain::KeyId::new(),
            realm_id: crate::domain::RealmId::new(),
            kid: generated.kid.clone(),
            algorithm: "RS256".into(),
            status: "ACTIVE".into(),
            private_key_der: generated.private_key_der,
            public_key_der: generated.public_key_der,
            certificate_der: generated.certificate_der,
            created_at: 0,
        };
        let loaded = LoadedKey::load(&stored).unwrap();
        assert_eq!(loaded.jwk.e, "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(&loaded.jwk.n).unwrap().len(), 256);
        assert!(loaded.active);
    }

    #[test]
    fn certificate_pem_wraps_at_64_columns() {
        let pem = certificate_pem(&[0u8; 100]);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    }
}
