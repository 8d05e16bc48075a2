//! JWTs: RS256 and ES256 signing with a realm's loaded key, and verification against a
//! realm's keys.
//!
//! Signing uses the key pair parsed once at load time; `jsonwebtoken::encode` would parse the
//! private key again for every token, which costs more than the signature itself on this hot
//! path. Headers and verification come from `jsonwebtoken`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::keys::{LoadedKey, Signer, SigningAlgorithm};

/// Why a token could not be made or was refused.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("signing failed")]
    Sign,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Which JOSE header a token carries besides `alg` and `typ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// The key's libtrust `kid` (registry 2.8 looks it up in its `rootcertbundle`).
    Plain,
    /// The libtrust `kid` and the key's certificate in `x5c` (registry 2.8 and v3).
    WithCertificate,
    /// The RFC 7638 thumbprint as `kid`, no certificate (registry v3's bundle lookup).
    Thumbprint,
}

/// The encoded (base64url JSON) header for a key; computed once when the key is loaded.
pub fn encoded_header(
    algorithm: SigningAlgorithm,
    kid: &str,
    certificate_b64: &str,
    kind: HeaderKind,
) -> String {
    let mut header = Header::new(jose_algorithm(algorithm));
    header.typ = Some("JWT".to_owned());
    header.kid = Some(kid.to_owned());
    if kind == HeaderKind::WithCertificate {
        header.x5c = Some(vec![certificate_b64.to_owned()]);
    }
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("a header serializes"))
}

/// Signs `claims` with `key` into a compact JWS with the `kind` of header.
pub fn sign<T: Serialize>(
    claims: &T,
    key: &LoadedKey,
    kind: HeaderKind,
) -> Result<String, JwtError> {
    let claims_json = serde_json::to_vec(claims).map_err(|_| JwtError::Sign)?;
    let mut token = key.encoded_header(kind).to_owned();
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims_json));
    let rng = SystemRandom::new();
    let signature = match &key.signer {
        Signer::Rsa(pair) => {
            let mut signature = vec![0u8; pair.public_modulus_len()];
            pair.sign(&RSA_PKCS1_SHA256, &rng, token.as_bytes(), &mut signature)
                .map_err(|_| JwtError::Sign)?;
            signature
        }
        // The fixed encoding is JWS's: r || s, 32 bytes each.
        Signer::Ec(pair) => pair
            .sign(&rng, token.as_bytes())
            .map_err(|_| JwtError::Sign)?
            .as_ref()
            .to_vec(),
    };
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

fn jose_algorithm(algorithm: SigningAlgorithm) -> Algorithm {
    match algorithm {
        SigningAlgorithm::Rs256 => Algorithm::RS256,
        SigningAlgorithm::Es256 => Algorithm::ES256,
    }
}

/// Verifies a token signed by one of `keys` (chosen by `kid`), checking `exp`, and returns
/// its claims.
pub fn verify<T: DeserializeOwned>(token: &str, keys: &[LoadedKey]) -> Result<T, JwtError> {
    verify_with(token, keys, true)
}

/// Like `verify`, but accepts an expired token (an `id_token_hint` at logout may be old).
pub fn verify_signature<T: DeserializeOwned>(
    token: &str,
    keys: &[LoadedKey],
) -> Result<T, JwtError> {
    verify_with(token, keys, false)
}

fn verify_with<T: DeserializeOwned>(
    token: &str,
    keys: &[LoadedKey],
    check_expiry: bool,
) -> Result<T, JwtError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
    let kid = header
        .kid
        .ok_or_else(|| JwtError::Invalid("no kid".into()))?;
    let key = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| JwtError::Invalid("unknown kid".into()))?;
    let decoding = match (&key.jwk.n, &key.jwk.e, &key.jwk.x, &key.jwk.y) {
        (Some(n), Some(e), _, _) => DecodingKey::from_rsa_components(n, e),
        (_, _, Some(x), Some(y)) => DecodingKey::from_ec_components(x, y),
        _ => return Err(JwtError::Invalid("unusable key".into())),
    }
    .map_err(|e| JwtError::Invalid(e.to_string()))?;
    // The key decides the algorithm: a token cannot pick a weaker one by its header.
    let mut validation = Validation::new(jose_algorithm(key.signing_algorithm()));
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.validate_exp = check_expiry;
    if !check_expiry {
        validation.required_spec_claims.clear();
    }
    jsonwebtoken::decode::<T>(token, &decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| JwtError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::generate_key;

    fn loaded(algorithm: SigningAlgorithm) -> LoadedKey {
        let generated = generate_key("team", algorithm).unwrap();
        LoadedKey::load(&crate::domain::RealmKey {
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
        })
        .unwrap()
    }

    #[test]
    fn es256_tokens_verify_by_kid_and_only_with_their_key() {
        let ec = loaded(SigningAlgorithm::Es256);
        let rsa = loaded(SigningAlgorithm::Rs256);
        let claims = serde_json::json!({"sub": "dev", "exp": 4_000_000_000u64});
        let token = sign(&claims, &ec, HeaderKind::WithCertificate).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some(ec.kid.as_str()));
        // JWS's fixed-width r || s.
        let signature = token.rsplit('.').next().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(signature).unwrap().len(), 64);
        let keys = [rsa, ec];
        let back: serde_json::Value = verify(&token, &keys).unwrap();
        assert_eq!(back["sub"], "dev");
        // One signature character changed (not the last: its low bits are padding).
        let at = token.len() - 10;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert!(verify::<serde_json::Value>(&tampered, &keys).is_err());
        assert!(verify::<serde_json::Value>(&token, &keys[..1]).is_err());
    }

    #[test]
    fn a_token_cannot_choose_another_algorithm_than_its_key() {
        let ec = loaded(SigningAlgorithm::Es256);
        let rsa = loaded(SigningAlgorithm::Rs256);
        let claims = serde_json::json!({"sub": "dev", "exp": 4_000_000_000u64});
        let token = sign(&claims, &rsa, HeaderKind::Plain).unwrap();
        // The RSA signature under the EC key's kid.
        let forged = format!(
            "{}.{}",
            ec.encoded_header(HeaderKind::Plain),
            token.split_once('.').unwrap().1
        );
        assert!(verify::<serde_json::Value>(&forged, &[ec, rsa]).is_err());
    }
}
