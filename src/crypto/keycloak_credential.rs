//! Keycloak's stored password form and keywarden's PHC strings, both ways.
//!
//! Keycloak keeps a password as two JSON strings: `secretData` (`value`: the derived key,
//! `salt`, both standard base64) and `credentialData` (`hashIterations`, `algorithm`,
//! `additionalParameters`). keywarden stores one PHC string per password:
//!
//! - argon2 (Keycloak's `argon2`): `$argon2id$v=19$m=7168,t=5,p=1$SALT$HASH`, the standard form;
//! - PBKDF2 (`pbkdf2-sha512`, `pbkdf2-sha256`, `pbkdf2` meaning SHA-1):
//!   `$pbkdf2-sha256$i=27500,l=64$SALT$HASH`, where `l` is the key length in bytes (Keycloak's
//!   older versions derived 64 bytes, newer ones 32 for some algorithms: the length always
//!   comes from the stored value).
//!
//! SALT and HASH are base64 without padding (the PHC "B64" alphabet). Parameters are capped
//! so that an imported hash cannot make each sign-in attempt arbitrarily expensive.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most PBKDF2 iterations an imported hash may ask for (about a third of a second of
/// SHA-256 on one core; Keycloak's own defaults are 27,500 to 600,000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// The most argon2 memory (KiB), passes and lanes an imported hash may ask for.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
pub const MAX_ARGON2_ITERATIONS: u32 = 100;
pub const MAX_ARGON2_PARALLELISM: u32 = 16;
/// The most argon2 work (memory in KiB times passes) one check may cost: half a second or so
/// of one hashing thread, as the PBKDF2 cap. Each cap alone allows a hash that takes tens of
/// seconds to check, and every guess at its user would hold a hashing thread of every realm
/// that long. RFC 9106's 64 MiB, 3 passes and Keycloak's 7 MiB, 5 passes fit many times.
pub const MAX_ARGON2_WORK: u64 = 512 * 1024;

/// Whether an argon2 hash of `memory` KiB and `passes` passes is cheap enough to check.
pub fn argon2_work_allowed(memory: u32, passes: u32) -> bool {
    u64::from(memory) * u64::from(passes) <= MAX_ARGON2_WORK
}

/// A password in Keycloak's stored form: the two JSON strings of a `CredentialRepresentation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeycloakPassword {
    pub secret_data: String,
    pub credential_data: String,
}

/// The PRF of a PBKDF2 hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Pbkdf2Prf {
    /// Keycloak's algorithm name (`credentialData.algorithm`).
    pub fn keycloak_name(self) -> &'static str {
        match self {
            Pbkdf2Prf::Sha1 => "pbkdf2",
            Pbkdf2Prf::Sha256 => "pbkdf2-sha256",
            Pbkdf2Prf::Sha512 => "pbkdf2-sha512",
        }
    }

    /// The PHC identifier.
    pub fn phc_name(self) -> &'static str {
        match self {
            Pbkdf2Prf::Sha1 => "pbkdf2-sha1",
            Pbkdf2Prf::Sha256 => "pbkdf2-sha256",
            Pbkdf2Prf::Sha512 => "pbkdf2-sha512",
        }
    }

    fn from_keycloak(name: &str) -> Option<Self> {
        match name {
            "pbkdf2" => Some(Pbkdf2Prf::Sha1),
            "pbkdf2-sha256" => Some(Pbkdf2Prf::Sha256),
            "pbkdf2-sha512" => Some(Pbkdf2Prf::Sha512),
            _ => None,
        }
    }

    fn from_phc(name: &str) -> Option<Self> {
        match name {
            "pbkdf2-sha1" => Some(Pbkdf2Prf::Sha1),
            "pbkdf2-sha256" => Some(Pbkdf2Prf::Sha256),
            "pbkdf2-sha512" => Some(Pbkdf2Prf::Sha512),
            _ => None,
        }
    }
}

/// A parsed PBKDF2 PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbkdf2Hash {
    pub prf: Pbkdf2Prf,
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl Pbkdf2Hash {
    /// Parses `$pbkdf2-sha256$i=N,l=L$SALT$HASH`; `None` for anything else or out of bounds.
    pub fn parse(phc: &str) -> Option<Pbkdf2Hash> {
        let mut parts = phc.strip_prefix('$')?.split('$');
        let prf = Pbkdf2Prf::from_phc(parts.next()?)?;
        let (mut iterations, mut length) = (None, None);
        for param in parts.next()?.split(',') {
            match param.split_once('=')? {
                ("i", v) => iterations = v.parse::<u32>().ok(),
                ("l", v) => length = v.parse::<usize>().ok(),
                _ => return None,
            }
        }
        let salt = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
        let hash = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
        if parts.next().is_some() || length != Some(hash.len()) {
            return None;
        }
        let parsed = Pbkdf2Hash {
            prf,
            iterations: iterations?,
            salt,
            hash,
        };
        parsed.within_bounds().ok()?;
        Some(parsed)
    }

    fn within_bounds(&self) -> Result<(), String> {
        if !(1..=MAX_PBKDF2_ITERATIONS).contains(&self.iterations) {
            return Err(format!(
                "hashIterations must be between 1 and {MAX_PBKDF2_ITERATIONS}"
            ));
        }
        if !(1..=64).contains(&self.salt.len()) {
            return Err("the salt must be 1 to 64 bytes".into());
        }
        if !(16..=128).contains(&self.hash.len()) {
            return Err("the hash must be 16 to 128 bytes".into());
        }
        Ok(())
    }

    /// The PHC string.
    pub fn to_phc(&self) -> String {
        format!(
            "${}$i={},l={}${}${}",
            self.prf.phc_name(),
            self.iterations,
            self.hash.len(),
            STANDARD_NO_PAD.encode(&self.salt),
            STANDARD_NO_PAD.encode(&self.hash)
        )
    }

    /// Derives the key from `password` (UTF-8, as Java's PBKDF2 encodes it) and compares it
    /// with the stored one in constant time.
    pub fn verify(&self, password: &str) -> bool {
        use aws_lc_rs::pbkdf2;
        let algorithm = match self.prf {
            Pbkdf2Prf::Sha1 => pbkdf2::PBKDF2_HMAC_SHA1,
            Pbkdf2Prf::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            Pbkdf2Prf::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        };
        let Some(iterations) = std::num::NonZeroU32::new(self.iterations) else {
            return false;
        };
        pbkdf2::verify(
            algorithm,
            iterations,
            &self.salt,
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretData {
    value: String,
    #[serde(default)]
    salt: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialData {
    hash_iterations: Option<i64>,
    algorithm: Option<String>,
    #[serde(default)]
    additional_parameters: Map<String, Value>,
}

/// Turns Keycloak's stored password into the PHC string keywarden stores. The error says
/// what is wrong in words an admin can act on.
pub fn phc_from_keycloak(secret_data: &str, credential_data: &str) -> Result<String, String> {
    let secret: SecretData = serde_json::from_str(secret_data)
        .map_err(|_| "secretData is not Keycloak's password secret (value, salt)".to_owned())?;
    let data: CredentialData = serde_json::from_str(credential_data).map_err(|_| {
        "credentialData is not Keycloak's password data (hashIterations, algorithm)".to_owned()
    })?;
    let algorithm = data.algorithm.as_deref().unwrap_or("pbkdf2-sha256");
    let iterations = data.hash_iterations.unwrap_or(-1);
    let salt = decode_base64(secret.salt.as_deref().unwrap_or_default(), "salt")?;
    let hash = decode_base64(&secret.value, "value")?;
    if algorithm == "argon2" {
        return argon2_phc(&data.additional_parameters, iterations, &salt, &hash);
    }
    pbkdf2_phc(algorithm, iterations, salt, hash)
}

/// Turns the flat form of Keycloak's oldest exports (`hashedSaltedValue`, `salt`,
/// `hashIterations`, `algorithm` on the credential itself) into a PHC string.
pub fn phc_from_legacy(
    algorithm: Option<&str>,
    iterations: Option<i64>,
    salt: &str,
    hashed_salted_value: &str,
) -> Result<String, String> {
    let salt = decode_base64(salt, "salt")?;
    let hash = decode_base64(hashed_salted_value, "hashedSaltedValue")?;
    pbkdf2_phc(
        algorithm.unwrap_or("pbkdf2-sha256"),
        iterations.unwrap_or(-1),
        salt,
        hash,
    )
}

fn pbkdf2_phc(
    algorithm: &str,
    iterations: i64,
    salt: Vec<u8>,
    hash: Vec<u8>,
) -> Result<String, String> {
    let prf = Pbkdf2Prf::from_keycloak(algorithm)
        .ok_or_else(|| format!("unsupported password hash algorithm '{algorithm}'"))?;
    let parsed = Pbkdf2Hash {
        prf,
        iterations: u32::try_from(iterations).unwrap_or(0),
        salt,
        hash,
    };
    parsed.within_bounds()?;
    Ok(parsed.to_phc())
}

fn argon2_phc(
    parameters: &Map<String, Value>,
    iterations: i64,
    salt: &[u8],
    hash: &[u8],
) -> Result<String, String> {
    let variant = match first_parameter(parameters, "type")
        .as_deref()
        .unwrap_or("id")
    {
        "id" => "argon2id",
        "i" => "argon2i",
        "d" => "argon2d",
        other => return Err(format!("unsupported argon2 type '{other}'")),
    };
    let version = match first_parameter(parameters, "version")
        .as_deref()
        .unwrap_or("1.3")
    {
        "1.3" => 19,
        "1.0" => 16,
        other => return Err(format!("unsupported argon2 version '{other}'")),
    };
    let number = |key: &str, max: u32| -> Result<u32, String> {
        first_parameter(parameters, key)
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|v| (1..=max).contains(v))
            .ok_or_else(|| format!("argon2 {key} must be a number between 1 and {max}"))
    };
    let memory = number("memory", MAX_ARGON2_MEMORY_KIB)?;
    let parallelism = number("parallelism", MAX_ARGON2_PARALLELISM)?;
    let hash_length = number("hashLength", 64)?;
    let passes = u32::try_from(iterations)
        .ok()
        .filter(|t| (1..=MAX_ARGON2_ITERATIONS).contains(t))
        .ok_or_else(|| format!("hashIterations must be between 1 and {MAX_ARGON2_ITERATIONS}"))?;
    if memory < 8 * parallelism {
        return Err("argon2 memory must be at least 8 KiB per lane".into());
    }
    if !argon2_work_allowed(memory, passes) {
        return Err(format!(
            "argon2 memory times hashIterations must be at most {MAX_ARGON2_WORK}"
        ));
    }
    if hash.len() != hash_length as usize || hash.len() < 4 {
        return Err("the argon2 value does not have hashLength bytes".into());
    }
    if !(8..=48).contains(&salt.len()) {
        return Err("the argon2 salt must be 8 to 48 bytes".into());
    }
    Ok(format!(
        "${variant}$v={version}$m={memory},t={passes},p={parallelism}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash)
    ))
}

/// `additionalParameters` values are lists of strings (`{"memory": ["7168"]}`).
fn first_parameter(parameters: &Map<String, Value>, key: &str) -> Option<String> {
    match parameters.get(key)? {
        Value::Array(values) => values.first()?.as_str().map(str::to_owned),
        Value::String(value) => Some(value.clone()),
        _ => None,
    }
}

fn decode_base64(text: &str, field: &str) -> Result<Vec<u8>, String> {
    let trimmed = text.trim().trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(trimmed)
        .ok()
        .filter(|bytes| !bytes.is_empty())
        .ok_or_else(|| format!("{field} is not base64"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretDataOut<'a> {
    value: &'a str,
    salt: &'a str,
    additional_parameters: Map<String, Value>,
}

/// The PHC string as Keycloak stores it, for export; `None` for a string keywarden cannot
/// express (never the case for what it writes itself).
pub fn keycloak_from_phc(phc: &str) -> Option<KeycloakPassword> {
    if let Some(pbkdf2) = Pbkdf2Hash::parse(phc) {
        return Some(KeycloakPassword {
            secret_data: secret_data(&pbkdf2.salt, &pbkdf2.hash),
            credential_data: credential_data(
                pbkdf2.iterations,
                pbkdf2.prf.keycloak_name(),
                Map::new(),
            ),
        });
    }
    let hash = argon2::password_hash::PasswordHash::new(phc).ok()?;
    let variant = match hash.algorithm.as_str() {
        "argon2id" => "id",
        "argon2i" => "i",
        "argon2d" => "d",
        _ => return None,
    };
    let params = argon2::Params::try_from(&hash).ok()?;
    let version = match hash.version.unwrap_or(19) {
        19 => "1.3",
        16 => "1.0",
        _ => return None,
    };
    let mut salt = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?;
    let output = hash.hash?;
    Some(KeycloakPassword {
        secret_data: secret_data(salt, output.as_bytes()),
        credential_data: credential_data(
            params.t_cost(),
            "argon2",
            Argon2Parameters {
                hash_length: [output.len().to_string()],
                memory: [params.m_cost().to_string()],
                kind: [variant],
                version: [version],
                parallelism: [params.p_cost().to_string()],
            },
        ),
    })
}

/// `credentialData` with its keys in the order Keycloak writes them (`hashIterations`,
/// `algorithm`, `additionalParameters`), so an export reads like Keycloak's own.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialDataOut<P> {
    hash_iterations: u32,
    algorithm: &'static str,
    additional_parameters: P,
}

/// Keycloak's argon2 `additionalParameters`, in the order it writes them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Argon2Parameters {
    hash_length: [String; 1],
    memory: [String; 1],
    #[serde(rename = "type")]
    kind: [&'static str; 1],
    version: [&'static str; 1],
    parallelism: [String; 1],
}

fn credential_data(
    hash_iterations: u32,
    algorithm: &'static str,
    additional_parameters: impl Serialize,
) -> String {
    serde_json::to_string(&CredentialDataOut {
        hash_iterations,
        algorithm,
        additional_parameters,
    })
    .unwrap_or_default()
}

fn secret_data(salt: &[u8], hash: &[u8]) -> String {
    serde_json::to_string(&SecretDataOut {
        value: &STANDARD.encode(hash),
        salt: &STANDARD.encode(salt),
        additional_parameters: Map::new(),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A pbkdf2-sha256 hash with a 64-byte key, as Keycloak 10 to 23 stored them.
    fn keycloak_pbkdf2_sha256(password: &str, iterations: u32, key_len: usize) -> (String, String) {
        let salt = b"0123456789abcdef";
        let mut key = vec![0u8; key_len];
        aws_lc_rs::pbkdf2::derive(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::new(iterations).unwrap(),
            salt,
            password.as_bytes(),
            &mut key,
        );
        (
            json!({"value": STANDARD.encode(&key), "salt": STANDARD.encode(salt), "additionalParameters": {}})
                .to_string(),
            json!({"hashIterations": iterations, "algorithm": "pbkdf2-sha256", "additionalParameters": {}})
                .to_string(),
        )
    }

    #[test]
    fn pbkdf2_hashes_of_either_key_length_verify_after_conversion() {
        for key_len in [64, 32] {
            let (secret, data) = keycloak_pbkdf2_sha256("s3cret", 1000, key_len);
            let phc = phc_from_keycloak(&secret, &data).unwrap();
            assert!(phc.starts_with(&format!("$pbkdf2-sha256$i=1000,l={key_len}$")));
            let parsed = Pbkdf2Hash::parse(&phc).unwrap();
            assert!(parsed.verify("s3cret"));
            assert!(!parsed.verify("s3creT"));
        }
    }

    #[test]
    fn a_known_keycloak_pbkdf2_sha256_vector_verifies() {
        // RFC 7914 section 11 (PBKDF2-HMAC-SHA256, "passwd" / "salt", 1 iteration, 64 bytes).
        let key = data_encoding::HEXLOWER
            .decode(
                b"55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
                  49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
            )
            .unwrap();
        let secret = json!({"value": STANDARD.encode(&key), "salt": STANDARD.encode(b"salt")});
        let data = json!({"hashIterations": 1, "algorithm": "pbkdf2-sha256"});
        let phc = phc_from_keycloak(&secret.to_string(), &data.to_string()).unwrap();
        assert!(Pbkdf2Hash::parse(&phc).unwrap().verify("passwd"));
    }

    #[test]
    fn pbkdf2_conversion_round_trips_to_keycloak_form() {
        let (secret, data) = keycloak_pbkdf2_sha256("pw", 27500, 64);
        let phc = phc_from_keycloak(&secret, &data).unwrap();
        let back = keycloak_from_phc(&phc).unwrap();
        assert_eq!(
            phc_from_keycloak(&back.secret_data, &back.credential_data).unwrap(),
            phc
        );
        let data: Value = serde_json::from_str(&back.credential_data).unwrap();
        assert_eq!(data["algorithm"], "pbkdf2-sha256");
        assert_eq!(data["hashIterations"], 27500);
    }

    #[test]
    fn sha1_and_sha512_names_map_both_ways() {
        for (name, prf) in [
            ("pbkdf2", Pbkdf2Prf::Sha1),
            ("pbkdf2-sha512", Pbkdf2Prf::Sha512),
        ] {
            let secret =
                json!({"value": STANDARD.encode([7u8; 64]), "salt": STANDARD.encode([1u8; 16])});
            let data = json!({"hashIterations": 10, "algorithm": name});
            let phc = phc_from_keycloak(&secret.to_string(), &data.to_string()).unwrap();
            assert_eq!(Pbkdf2Hash::parse(&phc).unwrap().prf, prf);
            let back = keycloak_from_phc(&phc).unwrap();
            assert!(back
                .credential_data
                .contains(&format!("\"algorithm\":\"{name}\"")));
        }
    }

    #[test]
    fn keycloak_argon2_converts_to_a_standard_phc_string_that_verifies() {
        let phc = crate::crypto::passwords::hash_blocking("s3cret").unwrap();
        let keycloak = keycloak_from_phc(&phc).unwrap();
        let data: Value = serde_json::from_str(&keycloak.credential_data).unwrap();
        assert_eq!(data["algorithm"], "argon2");
        assert_eq!(data["hashIterations"], 5);
        assert_eq!(data["additionalParameters"]["memory"], json!(["7168"]));
        assert_eq!(data["additionalParameters"]["type"], json!(["id"]));
        assert_eq!(data["additionalParameters"]["version"], json!(["1.3"]));
        let again = phc_from_keycloak(&keycloak.secret_data, &keycloak.credential_data).unwrap();
        assert_eq!(again, phc);
        assert!(crate::crypto::passwords::verify_blocking("s3cret", &again));
    }

    #[test]
    fn costly_or_malformed_hashes_are_refused_with_a_reason() {
        let secret =
            json!({"value": STANDARD.encode([7u8; 32]), "salt": STANDARD.encode([1u8; 16])})
                .to_string();
        let too_many = json!({"hashIterations": 2_000_000_000u32, "algorithm": "pbkdf2-sha256"});
        assert!(phc_from_keycloak(&secret, &too_many.to_string())
            .unwrap_err()
            .contains("hashIterations"));
        let unknown = json!({"hashIterations": 10, "algorithm": "bcrypt"});
        assert!(phc_from_keycloak(&secret, &unknown.to_string())
            .unwrap_err()
            .contains("bcrypt"));
        let huge_memory = json!({"hashIterations": 5, "algorithm": "argon2", "additionalParameters": {
            "hashLength": ["32"], "memory": ["4194304"], "type": ["id"], "version": ["1.3"], "parallelism": ["1"]}});
        assert!(phc_from_keycloak(&secret, &huge_memory.to_string())
            .unwrap_err()
            .contains("memory"));
        assert!(phc_from_keycloak("{}", "{}").is_err());
        assert!(phc_from_keycloak("not json", "{}").is_err());
        assert!(Pbkdf2Hash::parse("$pbkdf2-sha256$i=0,l=32$AAAA$AAAA").is_none());
        assert!(Pbkdf2Hash::parse("$argon2id$v=19$m=7168,t=5,p=1$AAAA$AAAA").is_none());
    }

    #[test]
    fn credential_data_keys_come_in_keycloaks_order() {
        let phc = crate::crypto::passwords::hash_blocking("s3cret").unwrap();
        let data = keycloak_from_phc(&phc).unwrap().credential_data;
        assert!(
            data.starts_with(
                "{\"hashIterations\":5,\"algorithm\":\"argon2\",\"additionalParameters\":\
                 {\"hashLength\":[\"32\"],\"memory\":[\"7168\"],\"type\":[\"id\"],\
                 \"version\":[\"1.3\"],\"parallelism\":[\"1\"]}}"
            ),
            "{data}"
        );
        let (secret, data) = keycloak_pbkdf2_sha256("pw", 27500, 64);
        let back = keycloak_from_phc(&phc_from_keycloak(&secret, &data).unwrap()).unwrap();
        assert_eq!(
            back.credential_data,
            "{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"
        );
        assert!(
            back.secret_data.starts_with("{\"value\":"),
            "{}",
            back.secret_data
        );
    }

    #[test]
    fn the_flat_legacy_form_converts() {
        let (secret, _) = keycloak_pbkdf2_sha256("old", 100, 64);
        let secret: Value = serde_json::from_str(&secret).unwrap();
        let phc = phc_from_legacy(
            Some("pbkdf2-sha256"),
            Some(100),
            secret["salt"].as_str().unwrap(),
            secret["value"].as_str().unwrap(),
        )
        .unwrap();
        assert!(Pbkdf2Hash::parse(&phc).unwrap().verify("old"));
    }
}
