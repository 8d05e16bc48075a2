//! Realm signing keys: RSA-2048 (RS256) and P-256 (ES256) generation with a self-signed
//! certificate (CN = realm name), the libtrust `kid` docker registries look up, the RFC 7638
//! thumbprint registry v3 looks up, and the JWK published at `/certs`.

use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, KeyPair, RsaKeySize, PKCS_ECDSA_P256_SHA256,
    PKCS_RSA_SHA256,
};
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

/// The algorithms a realm key can sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    Rs256,
    Es256,
}

impl SigningAlgorithm {
    /// Parses a JWS algorithm name; only RS256 and ES256 are offered.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(SigningAlgorithm::Rs256),
            "ES256" => Some(SigningAlgorithm::Es256),
            _ => None,
        }
    }

    /// The JWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Es256 => "ES256",
        }
    }
}

/// Generates an RSA-2048 key and a self-signed certificate whose CN is the realm name.
pub fn generate_realm_key(realm_name: &str) -> Result<GeneratedKey, KeyError> {
    generate_key(realm_name, SigningAlgorithm::Rs256)
}

/// Generates a key for `algorithm` (RSA-2048 or P-256) and a self-signed certificate whose CN
/// is the realm name.
pub fn generate_key(
    realm_name: &str,
    algorithm: SigningAlgorithm,
) -> Result<GeneratedKey, KeyError> {
    let key_pair = match algorithm {
        SigningAlgorithm::Rs256 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?,
        SigningAlgorithm::Es256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?,
    };
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    pub x5c: Vec<String>,
    /// SHA-1 thumbprint of the certificate DER, base64url (JWKS `x5t`).
    pub x5t: String,
    /// SHA-256 thumbprint of the certificate DER, base64url.
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
}

/// The parsed private key that signs.
pub enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A realm key loaded for use: parsed once, then used for every signature.
pub struct LoadedKey {
    pub kid: String,
    pub algorithm: String,
    pub active: bool,
    /// Whether this is the realm's pre-generated next key of its algorithm (see
    /// `key_rotation`): published, never signing yet.
    pub next: bool,
    pub signer: Signer,
    pub jwk: Jwk,
    /// The RFC 7638 JWK thumbprint (SHA-256, base64url), the key id registry v3 derives from
    /// the certificates of its `rootcertbundle`.
    pub thumbprint: String,
    /// The certificate, base64 DER, as put in `x5c`.
    pub certificate_b64: String,
    /// The public key, base64 SubjectPublicKeyInfo DER.
    pub public_key_b64: String,
    /// The encoded JOSE headers of tokens this key signs, one per `HeaderKind`.
    header: String,
    header_with_certificate: String,
    header_with_thumbprint: String,
}

impl LoadedKey {
    /// Parses a stored key.
    pub fn load(stored: &crate::domain::RealmKey) -> Result<Self, KeyError> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Rejected(e.to_string());
        let certificate_b64 = STANDARD.encode(&stored.certificate_der);
        let mut jwk = Jwk {
            kid: stored.kid.clone(),
            kty: "RSA",
            alg: stored.algorithm.clone(),
            use_: "sig",
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
            x5c: vec![certificate_b64.clone()],
            x5t: URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &stored.certificate_der,
            )),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&stored.certificate_der)),
        };
        let algorithm = SigningAlgorithm::parse(&stored.algorithm)
            .ok_or_else(|| KeyError::Rejected(format!("algorithm {}", stored.algorithm)))?;
        let (signer, thumbprint_input) = match algorithm {
            SigningAlgorithm::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(&stored.private_key_der).map_err(rejected)?;
                let public = pair.public_key();
                let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
                let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
                let input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
                jwk.n = Some(n);
                jwk.e = Some(e);
                (Signer::Rsa(pair), input)
            }
            SigningAlgorithm::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &stored.private_key_der,
                )
                .map_err(rejected)?;
                // The uncompressed point: 0x04 || x || y, 32 bytes each.
                let point = pair.public_key().as_ref();
                if point.len() != 65 {
                    return Err(KeyError::Rejected("not a P-256 point".into()));
                }
                let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
                let y = URL_SAFE_NO_PAD.encode(&point[33..]);
                let input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
                jwk.kty = "EC";
                jwk.crv = Some("P-256");
                jwk.x = Some(x);
                jwk.y = Some(y);
                (Signer::Ec(pair), input)
            }
        };
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
        let header = |kid: &str, kind| jwt::encoded_header(algorithm, kid, &certificate_b64, kind);
        Ok(LoadedKey {
            header: header(&stored.kid, HeaderKind::Plain),
            header_with_certificate: header(&stored.kid, HeaderKind::WithCertificate),
            header_with_thumbprint: header(&thumbprint, HeaderKind::Thumbprint),
            thumbprint,
            kid: stored.kid.clone(),
            algorithm: stored.algorithm.clone(),
            active: stored.status == "ACTIVE",
            next: stored.is_next,
            signer,
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
            HeaderKind::Thumbprint => &self.header_with_thumbprint,
        }
    }

    /// The algorithm this key signs with.
    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        match self.signer {
            Signer::Rsa(_) => SigningAlgorithm::Rs256,
            Signer::Ec(_) => SigningAlgorithm::Es256,
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
            is_next: false,
            activates_at: None,
        };
        let loaded = LoadedKey::load(&stored).unwrap();
        assert_eq!(loaded.jwk.e.as_deref(), Some("AQAB"));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(loaded.jwk.n.as_deref().unwrap())
                .unwrap()
                .len(),
            256
        );
        assert!(loaded.active);
    }

    fn stored(algorithm: SigningAlgorithm) -> crate::domain::RealmKey {
        let generated = generate_key("team-a", algorithm).unwrap();
        crate::domain::RealmKey {
            id: crate::domain::KeyId::new(),
            realm_id: crate::domain::RealmId::new(),
            kid: generated.kid,
            algorithm: algorithm.as_str().into(),
            status: "ACTIVE".into(),
            private_key_der: generated.private_key_der,
            public_key_der: generated.public_key_der,
            certificate_der: generated.certificate_der,
            created_at: 0,
            is_next: false,
            activates_at: None,
        }
    }

    #[test]
    fn p256_keys_load_and_publish_an_ec_jwk() {
        let key = stored(SigningAlgorithm::Es256);
        let loaded = LoadedKey::load(&key).unwrap();
        assert_eq!(loaded.signing_algorithm(), SigningAlgorithm::Es256);
        assert_eq!(loaded.jwk.kty, "EC");
        assert_eq!(loaded.jwk.crv, Some("P-256"));
        assert!(loaded.jwk.n.is_none());
        // The SPKI ends with the uncompressed point 04 || x || y.
        let x = URL_SAFE_NO_PAD
            .decode(loaded.jwk.x.as_deref().unwrap())
            .unwrap();
        let y = URL_SAFE_NO_PAD
            .decode(loaded.jwk.y.as_deref().unwrap())
            .unwrap();
        let point = [&[4u8][..], &x, &y].concat();
        assert!(key.public_key_der.ends_with(&point));
        assert_eq!(key.kid, libtrust_kid(&key.public_key_der));
    }

    /// RFC 7638 section 3.1's example: the thumbprint of its RSA key.
    #[test]
    fn thumbprints_follow_rfc_7638() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let input = format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#);
        assert_eq!(
            URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes())),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let rsa = LoadedKey::load(&stored(SigningAlgorithm::Rs256)).unwrap();
        let input = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            rsa.jwk.e.as_deref().unwrap(),
            rsa.jwk.n.as_deref().unwrap()
        );
        assert_eq!(
            rsa.thumbprint,
            URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
        );
    }

    #[test]
    fn certificate_pem_wraps_at_64_columns() {
        let pem = certificate_pem(&[0u8; 100]);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    }
}
