//! PKCE (RFC 7636) at the token endpoint, each failure worded as Keycloak's `PkceUtils`.

use super::OidcError;
use crate::crypto;

/// Checks a code's stored challenge against the `code_verifier` the client sent.
pub fn verify(
    method: Option<&str>,
    challenge: Option<&str>,
    verifier: Option<&str>,
) -> Result<(), OidcError> {
    let Some(challenge) = challenge else {
        return match verifier {
            Some(_) => Err(OidcError::InvalidGrant(
                "PKCE code verifier specified but challenge not present in authorization",
            )),
            None => Ok(()),
        };
    };
    let verifier = verifier.ok_or(OidcError::InvalidGrant("PKCE code verifier not specified"))?;
    if !well_formed(verifier) {
        return Err(OidcError::InvalidGrant(
            "PKCE verification failed: Invalid code verifier",
        ));
    }
    if !matches(method, challenge, verifier) {
        return Err(OidcError::InvalidGrant(
            "PKCE verification failed: Code mismatch",
        ));
    }
    Ok(())
}

/// RFC 7636's `code-verifier`: 43 to 128 unreserved characters.
fn well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether a verifier answers the stored challenge.
fn matches(method: Option<&str>, challenge: &str, verifier: &str) -> bool {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let computed = match method {
        Some("S256") => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes())),
        _ => verifier.to_owned(),
    };
    crypto::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn description(result: Result<(), OidcError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert!(verify(Some("S256"), Some(CHALLENGE), Some(VERIFIER)).is_ok());
        let plain = "a".repeat(43);
        assert!(verify(Some("plain"), Some(&plain), Some(&plain)).is_ok());
        assert!(verify(None, None, None).is_ok());
    }

    #[test]
    fn each_failure_has_keycloaks_words() {
        assert_eq!(
            description(verify(Some("S256"), Some(CHALLENGE), None)),
            "PKCE code verifier not specified"
        );
        assert_eq!(
            description(verify(Some("S256"), Some(CHALLENGE), Some("short"))),
            "PKCE verification failed: Invalid code verifier"
        );
        let wrong = "b".repeat(43);
        assert_eq!(
            description(verify(Some("S256"), Some(CHALLENGE), Some(&wrong))),
            "PKCE verification failed: Code mismatch"
        );
        assert_eq!(
            description(verify(None, None, Some(VERIFIER))),
            "PKCE code verifier specified but challenge not present in authorization"
        );
    }
}
