//! Which redirect URIs a client may use: exact entries, `prefix*` wildcards, or `*`.

use crate::domain::Client;

/// Whether `uri` matches one of the client's registered redirect URIs.
pub fn allowed(client: &Client, uri: &str) -> bool {
    let Ok(parsed) = url::Url::parse(uri) else {
        return false;
    };
    if parsed.fragment().is_some() {
        return false;
    }
    client
        .redirect_uris
        .iter()
        .any(|pattern| matches(pattern, uri))
}

/// Whether `uri` may follow a logout: the `post.logout.redirect.uris` attribute (`+` meaning
/// "the redirect URIs", entries separated by `##`), else the redirect URIs.
pub fn allowed_after_logout(client: &Client, uri: &str) -> bool {
    match client.attributes.get("post.logout.redirect.uris") {
        Some(list) => list.split("##").any(|pattern| match pattern.trim() {
            "+" => allowed(client, uri),
            pattern => matches(pattern, uri),
        }),
        None => allowed(client, uri),
    }
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
        assert!(allowed(&c, "http://app/cb"));
        assert!(!allowed(&c, "http://app/cb2"));
        assert!(allowed(&c, "https://web/any/path?x=1"));
        assert!(!allowed(&c, "https://evil/"));
        assert!(!allowed(&c, "http://app/cb#frag"));
        assert!(!allowed(&c, "not a url"));
    }

    #[test]
    fn post_logout_plus_means_the_redirect_uris() {
        let mut c = client(&["http://app/*"]);
        c.attributes.insert(
            "post.logout.redirect.uris".into(),
            "+##http://other/bye".into(),
        );
        assert!(allowed_after_logout(&c, "http://app/home"));
        assert!(allowed_after_logout(&c, "http://other/bye"));
        assert!(!allowed_after_logout(&c, "http://evil/"));
    }
}
