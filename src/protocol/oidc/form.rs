//! Form bodies and query strings of the OIDC endpoints.

use std::collections::{HashMap, HashSet};

use super::OidcError;

/// The fields of a form body or query string; a repeated field keeps its last value.
pub type Form = HashMap<String, String>;

/// Parses `application/x-www-form-urlencoded` text.
pub fn parse_form(body: &[u8]) -> Form {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A non-empty field.
pub fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Keycloak's rule for the token, introspection and revocation endpoints: once the client is
/// authenticated, a body that names any field twice is refused, so that no two readers of
/// the request can see different values.
pub fn reject_duplicates(body: &[u8]) -> Result<(), OidcError> {
    let mut seen = HashSet::new();
    for (name, _) in url::form_urlencoded::parse(body) {
        if !seen.insert(name) {
            return Err(OidcError::InvalidRequest("duplicated parameter".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_field_is_a_duplicate_even_when_empty() {
        assert!(reject_duplicates(b"a=1&b=2&c=").is_ok());
        for body in [&b"a=1&a=1"[..], b"a=&b=1&a=", b"a=1&%61=2"] {
            assert!(reject_duplicates(body).is_err(), "{body:?}");
        }
    }
}
