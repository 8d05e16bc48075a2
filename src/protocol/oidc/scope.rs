//! The `scope` parameter against Keycloak 26's client scopes of a new realm.
//!
//! Every client has the default scopes; the optional ones are granted when asked for. A scope
//! shows in the token's `scope` only if Keycloak includes it there (`include.in.token.scope`).

use super::OidcError;

/// Keycloak's client scopes: name, whether it is a default scope, whether it shows.
const CLIENT_SCOPES: [(&str, bool, bool); 12] = [
    ("acr", true, false),
    ("address", false, true),
    ("basic", true, false),
    ("email", true, true),
    ("microprofile-jwt", false, true),
    // Accepted, but keywarden issues no offline tokens, so it does not claim one.
    ("offline_access", false, false),
    ("organization", false, true),
    ("phone", false, true),
    ("profile", true, true),
    ("roles", true, false),
    ("service_account", true, false),
    ("web-origins", true, false),
];

/// Refuses a `scope` naming what is neither `openid` nor a client scope, in Keycloak's words.
pub fn check(requested: Option<&str>) -> Result<(), OidcError> {
    let Some(requested) = requested else {
        return Ok(());
    };
    let known = |name: &str| name == "openid" || CLIENT_SCOPES.iter().any(|(n, ..)| *n == name);
    if requested.split(' ').filter(|s| !s.is_empty()).all(known) {
        Ok(())
    } else {
        Err(OidcError::InvalidScope(format!(
            "Invalid scopes: {requested}"
        )))
    }
}

/// The scope string Keycloak reports: `openid` when asked, then the scopes granted that show
/// in a token (`email profile` by default), in name order.
pub fn effective(requested: Option<&str>) -> String {
    let asked: Vec<&str> = requested
        .map(|s| s.split_whitespace().collect())
        .unwrap_or_default();
    let granted = CLIENT_SCOPES
        .iter()
        .filter(|(name, default, shows)| *shows && (*default || asked.contains(name)))
        .map(|(name, ..)| *name);
    let openid = asked.contains(&"openid").then_some("openid");
    openid
        .into_iter()
        .chain(granted)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_follows_keycloaks_defaults() {
        assert_eq!(effective(Some("openid")), "openid email profile");
        assert_eq!(effective(None), "email profile");
        assert_eq!(
            effective(Some("phone openid")),
            "openid email phone profile"
        );
        assert_eq!(effective(Some("offline_access")), "email profile");
    }

    #[test]
    fn unknown_scopes_are_refused_in_keycloaks_words() {
        assert!(check(None).is_ok());
        assert!(check(Some("openid profile email offline_access")).is_ok());
        let refused = check(Some("openid foo")).unwrap_err();
        assert_eq!(refused.to_string(), "Invalid scopes: openid foo");
    }
}
