//! The client attributes that shape a client's tokens: the signing algorithm (Keycloak's
//! `access.token.signed.response.alg` and `id.token.signed.response.alg`) and, for docker-v2
//! clients, what the registry token's JOSE header carries (`docker.token.header`).

use std::collections::BTreeMap;

/// The algorithm of a client's access tokens (docker-v2 registry tokens too).
pub const ACCESS_TOKEN_ALG: &str = "access.token.signed.response.alg";
/// The algorithm of a client's ID tokens.
pub const ID_TOKEN_ALG: &str = "id.token.signed.response.alg";
/// What a docker-v2 client's registry tokens carry in their header.
pub const DOCKER_TOKEN_HEADER: &str = "docker.token.header";

/// The algorithms realm keys sign with; unset (or empty) means the realm default, RS256.
pub const ALGORITHMS: &[&str] = &["RS256", "ES256"];

/// What a registry token's header carries besides `alg` and `typ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DockerTokenHeader {
    /// The libtrust `kid` and the certificate in `x5c`: registry 2.8, and v3 with a
    /// `rootcertbundle`. The default.
    #[default]
    X5c,
    /// The libtrust `kid` alone: registry 2.8 (its bundle), and v3 with a JWKS file (our
    /// `/certs`, whose `kid`s are the same). The smallest token.
    Kid,
    /// The RFC 7638 thumbprint as `kid`, no certificate: v3 with a `rootcertbundle`.
    JwkThumbprint,
}

impl DockerTokenHeader {
    /// The attribute values, in the order of the variants.
    pub const VALUES: &'static [&'static str] = &["x5c", "kid", "jwk-thumbprint"];

    /// Parses an attribute value; unset or empty is the default.
    pub fn parse(value: Option<&str>) -> Option<Self> {
        match value.map(str::trim).unwrap_or("") {
            "" | "x5c" => Some(DockerTokenHeader::X5c),
            "kid" => Some(DockerTokenHeader::Kid),
            "jwk-thumbprint" => Some(DockerTokenHeader::JwkThumbprint),
            _ => None,
        }
    }

    /// The client's choice (an unknown stored value counts as the default).
    pub fn of(attributes: &BTreeMap<String, String>) -> Self {
        Self::parse(attributes.get(DOCKER_TOKEN_HEADER).map(String::as_str)).unwrap_or_default()
    }
}

/// Checks the token attributes of a client; the message names the attribute and the values
/// it takes.
pub fn check(attributes: &BTreeMap<String, String>) -> Result<(), String> {
    for name in [ACCESS_TOKEN_ALG, ID_TOKEN_ALG] {
        if let Some(value) = attributes.get(name) {
            if !value.is_empty() && !ALGORITHMS.contains(&value.as_str()) {
                return Err(format!(
                    "Unsupported {name} '{value}': use one of {}",
                    ALGORITHMS.join(", ")
                ));
            }
        }
    }
    if let Some(value) = attributes.get(DOCKER_TOKEN_HEADER) {
        if DockerTokenHeader::parse(Some(value)).is_none() {
            return Err(format!(
                "Unsupported {DOCKER_TOKEN_HEADER} '{value}': use one of {}",
                DockerTokenHeader::VALUES.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn header_choices_parse_with_x5c_as_the_default() {
        assert_eq!(DockerTokenHeader::parse(None), Some(DockerTokenHeader::X5c));
        assert_eq!(
            DockerTokenHeader::parse(Some("")),
            Some(DockerTokenHeader::X5c)
        );
        assert_eq!(
            DockerTokenHeader::parse(Some("kid")),
            Some(DockerTokenHeader::Kid)
        );
        assert_eq!(
            DockerTokenHeader::parse(Some("jwk-thumbprint")),
            Some(DockerTokenHeader::JwkThumbprint)
        );
        assert_eq!(DockerTokenHeader::parse(Some("jwk")), None);
    }

    #[test]
    fn bad_values_are_named_in_the_message() {
        assert!(check(&attributes(&[
            (ACCESS_TOKEN_ALG, "ES256"),
            (DOCKER_TOKEN_HEADER, "kid")
        ]))
        .is_ok());
        assert!(check(&attributes(&[(ID_TOKEN_ALG, "")])).is_ok());
        let err = check(&attributes(&[(ACCESS_TOKEN_ALG, "PS256")])).unwrap_err();
        assert!(
            err.contains(ACCESS_TOKEN_ALG) && err.contains("RS256, ES256"),
            "{err}"
        );
        let err = check(&attributes(&[(DOCKER_TOKEN_HEADER, "jwk")])).unwrap_err();
        assert!(err.contains("x5c, kid, jwk-thumbprint"), "{err}");
    }
}
