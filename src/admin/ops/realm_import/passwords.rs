//! The password of each imported user: a hash in Keycloak's stored form (`secretData` and
//! `credentialData`, or the flat form of the oldest exports) becomes the PHC string keywarden
//! stores, unchanged; a plain `value` is hashed, a few at a time.

use futures_util::{StreamExt, TryStreamExt};
use secrecy::SecretString;

use crate::admin::ops::OpsError;
use crate::admin::repr::{CredentialRepr, UserRepr};
use crate::crypto::keycloak_credential::{phc_from_keycloak, phc_from_legacy};
use crate::state::AppState;

/// Password hashes computed at once per import, so one import cannot fill the hashing queue
/// ahead of every sign-in.
const HASHES_IN_FLIGHT: usize = 4;

/// A password ready to store.
pub(in crate::admin::ops) struct Password {
    pub phc: String,
    pub temporary: bool,
    /// The credential's `userLabel`.
    pub label: Option<String>,
}

enum Source {
    Stored(String),
    Plain(String),
}

/// Reads every user's password (the first password credential, as Keycloak keeps one), in
/// the users' order; stored hashes are checked before any plain password is hashed. A hash
/// of an algorithm keywarden does not know (a Keycloak extension's) is left out and noted in
/// `left_out`: the user comes without a password, as on a Keycloak without that extension.
pub(in crate::admin::ops) async fn prepare(
    state: &AppState,
    users: &[UserRepr],
    left_out: &mut Vec<String>,
) -> Result<Vec<Option<Password>>, OpsError> {
    let mut sources = Vec::with_capacity(users.len());
    for (index, user) in users.iter().enumerate() {
        let mut found = None;
        let passwords = user
            .credentials
            .iter()
            .flatten()
            .enumerate()
            .filter(|(_, c)| c.kind.as_deref().unwrap_or("password") == "password");
        for (at, credential) in passwords {
            let path = format!("users[{index}].credentials[{at}]");
            match source_of(credential) {
                Ok(Some(source)) => {
                    let label = credential.user_label.clone().filter(|l| !l.is_empty());
                    found = Some((source, credential.temporary.unwrap_or(false), label));
                    break;
                }
                Ok(None) => {}
                Err(e) if e.starts_with("unsupported") => left_out.push(format!("{path}: {e}")),
                Err(e) => return Err(OpsError::Invalid(format!("{path}: {e}"))),
            }
        }
        sources.push(found);
    }
    futures_util::stream::iter(sources)
        .map(|source| async move {
            let Some((source, temporary, label)) = source else {
                return Ok(None);
            };
            let phc = match source {
                Source::Stored(phc) => phc,
                Source::Plain(value) => state
                    .passwords
                    .hash(SecretString::from(value))
                    .await
                    .map_err(anyhow::Error::from)?,
            };
            Ok::<_, OpsError>(Some(Password {
                phc,
                temporary,
                label,
            }))
        })
        .buffered(HASHES_IN_FLIGHT)
        .try_collect()
        .await
}

/// What a password credential holds: a stored hash, a plain value, or nothing usable.
fn source_of(credential: &CredentialRepr) -> Result<Option<Source>, String> {
    if let Some(secret_data) = &credential.secret_data {
        let credential_data = credential.credential_data.as_deref().unwrap_or("{}");
        check_algorithm(credential_data)?;
        return phc_from_keycloak(secret_data, credential_data)
            .map(|phc| Some(Source::Stored(phc)));
    }
    if let Some(hashed) = &credential.hashed_salted_value {
        return phc_from_legacy(
            credential.algorithm.as_deref(),
            credential.hash_iterations,
            credential.salt.as_deref().unwrap_or_default(),
            hashed,
        )
        .map(|phc| Some(Source::Stored(phc)));
    }
    Ok(credential
        .value
        .clone()
        .filter(|v| !v.is_empty())
        .map(Source::Plain))
}

/// The hash algorithms keywarden reads, by Keycloak's names.
const KNOWN_ALGORITHMS: [&str; 4] = ["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512", "argon2"];

/// Refuses an algorithm keywarden does not know before the rest is read, so that it is told
/// apart from malformed data.
fn check_algorithm(credential_data: &str) -> Result<(), String> {
    let algorithm = serde_json::from_str::<serde_json::Value>(credential_data)
        .ok()
        .and_then(|data| data.get("algorithm")?.as_str().map(str::to_owned));
    match algorithm {
        Some(name) if !KNOWN_ALGORITHMS.contains(&name.as_str()) => {
            Err(format!("unsupported password hash algorithm '{name}'"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keycloak_credential::Pbkdf2Hash;

    fn stored(secret_data: &str, credential_data: &str) -> String {
        let credential = CredentialRepr {
            secret_data: Some(secret_data.into()),
            credential_data: Some(credential_data.into()),
            ..CredentialRepr::default()
        };
        match source_of(&credential).unwrap() {
            Some(Source::Stored(phc)) => phc,
            _ => panic!("not a stored hash"),
        }
    }

    /// Keycloak 9's export (tests/fixtures/keycloak-exports/kc9-todo-list-realm.json): a
    /// 64-byte pbkdf2-sha256 key, no additionalParameters.
    #[test]
    fn a_keycloak_9_hash_verifies_its_password() {
        let phc = stored(
            r#"{"value":"7uHnrKtykcs+ob6fzLsR82gqTRLTKa62lIPuUBVQd75dahTZOlGwZGksNuarkWqHcMHvpMIann+n33i6cz2LpQ==","salt":"N1wr590OkfBaG1YXZpqGUg=="}"#,
            r#"{"hashIterations":27500,"algorithm":"pbkdf2-sha256"}"#,
        );
        let hash = Pbkdf2Hash::parse(&phc).unwrap();
        assert!(hash.verify("password"));
        assert!(!hash.verify("Password"));
    }

    /// Keycloak 21's export (kc21-spring-realm.json): a 32-byte pbkdf2-sha256 key.
    #[test]
    fn a_keycloak_21_hash_verifies_its_password() {
        let phc = stored(
            r#"{"value":"S1q7k6fRci34f9JAxgbjNvHrTYvNEr8cDvxRntPvYic=","salt":"rqhekBzNlvZymPgbilDr1g==","additionalParameters":{}}"#,
            r#"{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}"#,
        );
        assert!(Pbkdf2Hash::parse(&phc).unwrap().verify("admin"));
    }

    /// Keycloak 23's export (kc23-signals-realm-export.json).
    #[test]
    fn a_keycloak_23_hash_verifies_its_password() {
        let phc = stored(
            r#"{"value":"TLS7B/ginAQOpoxfTY2D1bDQ3AsTd0Y0oAPRboDca0k=","salt":"Fz5w/gDwwYLUHEkSM2wjYg==","additionalParameters":{}}"#,
            r#"{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}"#,
        );
        assert!(Pbkdf2Hash::parse(&phc).unwrap().verify("password"));
    }

    /// Keycloak 26's export (kc26-openbeheer-realm-export.json): argon2id, 7 MiB, 5 passes.
    #[test]
    fn a_keycloak_26_argon2_hash_verifies_its_password() {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let phc = stored(
            r#"{"value":"opK2JwNdEiwrKJgKzYdalxOTSxuX0Kh+0nsLMCZNDTQ=","salt":"cFXf3ITG9X9kJDuOlYw2Xw==","additionalParameters":{}}"#,
            r#"{"hashIterations":5,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}"#,
        );
        let hash = PasswordHash::new(&phc).unwrap();
        let argon2 = argon2::Argon2::default();
        assert!(argon2.verify_password(b"aNic3Passw0rd", &hash).is_ok());
        assert!(argon2.verify_password(b"aNic3Passw0rD", &hash).is_err());
    }

    #[test]
    fn an_unreadable_hash_is_refused_with_its_reason() {
        let credential = CredentialRepr {
            secret_data: Some(r#"{"value":"AAAA","salt":"AAAA"}"#.into()),
            credential_data: Some(r#"{"hashIterations":-1,"algorithm":"pbkdf2-sha256"}"#.into()),
            ..CredentialRepr::default()
        };
        assert!(source_of(&credential).is_err());
    }
}
