//! JWTs: RS256 signing with a realm's loaded key, and verification against a realm's keys.
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

use super::keys::LoadedKey;

/// Why a token could not be made or was refused.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("signing failed")]
    Sign,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Which JOSE header a token carries: RS256, typ JWT and the key's kid, plus the key's
/// certificate in `x5c` for docker registries (v3 ignores libtrust kids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    Plain,
    WithCertificate,
}

/// The encoded (base64url JSON) header for a key; computed once when the key is loaded.
pub fn encoded_header(kid: &str, certificate_b64: &str, kind: HeaderKind) -> String {
    let mut header = Header::new(Algorithm::RS256);
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
    let mut signature = vec![0u8; key.key_pair.public_modulus_len()];
    key.key_pair
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            token.as_bytes(),
            &mut signature,
        )
        .map_err(|_| JwtError::Sign)?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
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
    let decoding = DecodingKey::from_rsa_components(&key.jwk.n, &key.jwk.e)
        .map_err(|e| JwtError::Invalid(e.to_string()))?;
    let mut validation = Validation::new(Algorithm::RS256);
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
