//! Which redirect URIs a client may use: exact entries, `prefix*` wildcards, or `*`; entries
//! that are paths resolve against the client's root URL (see `domain::client_urls`), or the
//! origin of `server_base`, the base URL the request came in through.

use crate::domain::client_urls;
use crate::domain::Client;

/// Whether `uri` matches one of the client's registered redirect URIs.
pub fn allowed(client: &Client, uri: &str, server_base: &str) -> bool {
    is_followable(uri)
        && client
            .redirect_uris
            .iter()
            .any(|pattern| matches(&resolved(client, pattern, server_base), uri))
}

/// Whether `uri` may follow a logout: the `post.logout.redirect.uris` attribute (entries
/// separated by `##`, `+` meaning "the redirect URIs"; `-` alone allows nothing), else, when
/// it is absent or empty, the redirect URIs.
pub fn allowed_after_logout(client: &Client, uri: &str, server_base: &str) -> bool {
    match client
        .attributes
        .get("post.logout.redirect.uris")
        .map(|list| list.trim())
        .filter(|list| !list.is_empty())
    {
        Some("-") => false,
        Some(list) => list.split("##").any(|pattern| match pattern.trim() {
            "+" => allowed(client, uri, server_base),
            pattern => is_followable(uri) && matches(&resolved(client, pattern, server_base), uri),
        }),
        None => allowed(client, uri, server_base),
    }
}

/// The redirect URI of a request that names none: the client's only registered one, unless
/// it is a wildcard (Keycloak's rule).
pub fn default_for(client: &Client, server_base: &str) -> Option<url::Url> {
    match client.redirect_uris.as_slice() {
        [only] if !only.contains('*') => url::Url::parse(&resolved(client, only, server_base)).ok(),
        _ => None,
    }
}

/// An absolute URI a browser can be sent to.
fn is_followable(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|url| url.fragment().is_none())
}

fn resolved(client: &Client, pattern: &str, server_base: &str) -> String {
    client_urls::resolve(pattern, client.root_url.as_deref(), server_base)
}

fn matches(pattern: &str, uri: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => uri.starts_with(prefix),
        None => pattern == uri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientIdName, Protocol, RealmId};

    fn client(uris: &[&str]) -> Client {
        let mut client = Client::new(
            RealmId::new(),
            ClientIdName::parse("app").unwrap(),
            Protocol::OpenIdConnect,
        );
        client.redirect_uris = uris.iter().map(|u| u.to_string()).collect();
        client
    }

    #[test]
    fn exact_and_wildcard_redirects() {
        let c = client(&["http://app/cb", "https://web/*"]);
        let base = "http://idp";
        assert!(allowed(&c, "http://app/cb", base));
        assert!(!allowed(&c, "http://app/cb2", base));
        assert!(allowed(&c, "https://web/any/path?x=1", base));
        assert!(!allowed(&c, "https://evil/", base));
        assert!(!allowed(&c, "http://app/cb#frag", base));
        assert!(!allowed(&c, "not a url", base));
    }

    #[test]
    fn post_logout_plus_means_the_redirect_uris() {
        let mut c = client(&["http://app/*"]);
        c.attributes.insert(
            "post.logout.redirect.uris".into(),
            "+##http://other/bye".into(),
        );
        let base = "http://idp";
        assert!(allowed_after_logout(&c, "http://app/home", base));
        assert!(allowed_after_logout(&c, "http://other/bye", base));
        assert!(!allowed_after_logout(&c, "http://evil/", base));
    }

    #[test]
    fn relative_redirects_resolve_and_only_a_single_plain_one_is_the_default() {
        let mut c = client(&["/cb"]);
        assert!(allowed(&c, "http://idp/cb", "http://idp/auth"));
        assert!(!allowed(&c, "/cb", "http://idp/auth"));
        assert_eq!(
            default_for(&c, "http://idp/auth").map(String::from),
            Some("http://idp/cb".to_owned())
        );
        c.root_url = Some("https://app.example".into());
        assert!(allowed(&c, "https://app.example/cb", "http://idp"));
        assert!(!allowed(&c, "http://idp/cb", "http://idp"));
        c.redirect_uris = vec!["/cb/*".into()];
        assert_eq!(default_for(&c, "http://idp"), None);
        c.redirect_uris = vec!["not a uri".into()];
        assert_eq!(default_for(&c, "http://idp"), None);
    }
}
