//! `allowed-origins`: a client's web origins as Keycloak's `WebOriginsUtils` resolves them.

use crate::domain::Client;

/// The client's web origins, `+` standing for the origins of its redirect URIs (relative
/// ones resolved against its root URL); duplicates dropped, order kept.
pub fn allowed(client: &Client) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    let mut push = |origin: String| {
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    };
    for origin in &client.web_origins {
        if origin == "+" {
            client
                .redirect_uris
                .iter()
                .filter_map(|uri| origin_of(uri, client.root_url.as_deref()))
                .for_each(&mut push);
        } else if !origin.is_empty() {
            push(origin.clone());
        }
    }
    origins
}

/// `scheme://host[:port]` of an absolute URI, or of a relative one under `root`.
fn origin_of(uri: &str, root: Option<&str>) -> Option<String> {
    let absolute = if uri.starts_with('/') {
        format!("{}{uri}", root?.trim_end_matches('/'))
    } else {
        uri.to_owned()
    };
    let parsed = url::Url::parse(&absolute).ok()?;
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientIdName, Protocol, RealmId};

    fn client(web_origins: &[&str], redirects: &[&str], root: Option<&str>) -> Client {
        let mut client = Client::new(
            RealmId::new(),
            ClientIdName::parse("app").unwrap(),
            Protocol::OpenIdConnect,
        );
        client.web_origins = web_origins.iter().map(|s| s.to_string()).collect();
        client.redirect_uris = redirects.iter().map(|s| s.to_string()).collect();
        client.root_url = root.map(str::to_owned);
        client
    }

    #[test]
    fn plus_stands_for_the_redirect_uris_origins() {
        let c = client(
            &["+", "https://other.example"],
            &[
                "http://localhost:3000/*",
                "http://localhost:3000/cb",
                "/rel/*",
            ],
            Some("https://app.example/"),
        );
        assert_eq!(
            allowed(&c),
            vec![
                "http://localhost:3000",
                "https://app.example",
                "https://other.example"
            ]
        );
    }

    #[test]
    fn no_web_origins_means_no_claim() {
        assert!(allowed(&client(&[], &["http://a/*"], None)).is_empty());
        assert_eq!(allowed(&client(&["*"], &[], None)), vec!["*"]);
    }
}
