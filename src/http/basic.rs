//! HTTP Basic credentials: `Basic base64(user:password)`, split on the first colon so that
//! passwords may contain colons.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::SecretString;

/// A username and password from an `Authorization: Basic` header.
#[derive(Debug)]
pub struct BasicCredentials {
    pub username: String,
    pub password: SecretString,
}

/// Parses an `Authorization` header value; `None` when it is not well-formed Basic.
pub fn parse(header: &str) -> Option<BasicCredentials> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, password) = text.split_once(':')?;
    Some(BasicCredentials {
        username: username.to_owned(),
        password: SecretString::from(password.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn password_may_contain_colons() {
        let creds = parse(&basic("alice:pa:ss:word")).unwrap();
        assert_eq!(creds.username, "alice");
        assert_eq!(creds.password.expose_secret(), "pa:ss:word");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert!(parse(&basic("a:b").replace("Basic", "bAsIc")).is_some());
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in ["", "Basic", "Basic !!!", "Bearer abc", &basic("nocolon")] {
            assert!(parse(bad).is_none(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn any_username_without_colon_round_trips(user in "[^:]{0,20}", password in "\\PC{0,20}") {
            let creds = parse(&basic(&format!("{user}:{password}"))).unwrap();
            prop_assert_eq!(creds.username, user);
            prop_assert_eq!(creds.password.expose_secret(), password.as_str());
        }

        #[test]
        fn arbitrary_input_never_panics(raw in "\\PC{0,80}") {
            let _ = parse(&raw);
        }
    }
}
