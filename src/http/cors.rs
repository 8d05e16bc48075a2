//! CORS for endpoints that browser apps call directly (the docker token endpoint), as
//! Keycloak does it: a cross-origin call is allowed only from the client's web origins
//! (`webOrigins`), and then the origin is echoed with credentials allowed. A web origin is an
//! exact origin (`https://ui.example.com:8443`), `+` for the origins of the client's redirect
//! URIs, or `*` for any origin. Any other origin gets no CORS header at all, so a page
//! elsewhere cannot read a token obtained with the browser's cached credentials.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::domain::Client;

/// The web origin that stands for the origins of the client's redirect URIs.
const INCLUDE_REDIRECTS: &str = "+";
/// The web origin that allows any origin.
const ANY_ORIGIN: &str = "*";

/// The `Origin` header of `req`, when it sent one.
pub fn origin_of(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
}

/// Whether `client`'s web origins allow a call from `origin`. Relative redirect URIs
/// (`/cb`) resolve against the client's root URL, else against `base`, the server's own URL.
pub fn client_allows(client: &Client, base: &str, origin: &str) -> bool {
    client
        .web_origins
        .iter()
        .any(|allowed| match allowed.as_str() {
            ANY_ORIGIN => true,
            INCLUDE_REDIRECTS => client
                .redirect_uris
                .iter()
                .filter_map(|uri| redirect_origin(uri, client.root_url.as_deref(), base))
                .any(|redirect| redirect == origin),
            exact => exact == origin,
        })
}

/// The origin (`scheme://host[:port]`) of an http(s) redirect URI.
fn redirect_origin(uri: &str, root_url: Option<&str>, base: &str) -> Option<String> {
    let absolute = if uri.starts_with('/') {
        let root = root_url.filter(|r| !r.is_empty()).unwrap_or(base);
        url::Url::parse(root).ok()?.join(uri).ok()?
    } else {
        url::Url::parse(uri).ok()?
    };
    if !matches!(absolute.scheme(), "http" | "https") {
        return None;
    }
    Some(absolute.origin().ascii_serialization())
}

/// Adds the CORS headers for `origin` to a built response.
pub fn add_to(response: &mut HttpResponse, origin: &str) {
    let Ok(origin) = HeaderValue::from_str(origin) else {
        return;
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("WWW-Authenticate"),
    );
}

/// The answer to a preflight (OPTIONS) request: the CORS headers only for an allowed origin.
pub fn preflight(allowed_origin: Option<&str>, methods: &'static str) -> HttpResponse {
    let mut response = HttpResponse::NoContent()
        .insert_header((header::VARY, "Origin"))
        .finish();
    if let Some(origin) = allowed_origin {
        add_to(&mut response, origin);
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("3600"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Client, ClientIdName, Protocol, RealmId};

    fn client(web_origins: &[&str], redirect_uris: &[&str], root_url: Option<&str>) -> Client {
        let mut client = Client::new(
            RealmId::new(),
            ClientIdName::parse("registry").unwrap(),
            Protocol::DockerV2,
        );
        client.web_origins = web_origins.iter().map(|o| o.to_string()).collect();
        client.redirect_uris = redirect_uris.iter().map(|u| u.to_string()).collect();
        client.root_url = root_url.map(str::to_owned);
        client
    }

    fn base() -> &'static str {
        "http://idp.example.com:8080/auth"
    }

    #[test]
    fn exact_origins_only() {
        let c = client(&["https://ui.example.com"], &[], None);
        assert!(client_allows(&c, base(), "https://ui.example.com"));
        assert!(!client_allows(&c, base(), "https://ui.example.com:8443"));
        assert!(!client_allows(&c, base(), "http://ui.example.com"));
        assert!(!client_allows(&c, base(), "null"));
    }

    #[test]
    fn no_web_origins_allow_nothing() {
        let c = client(&[], &["https://ui.example.com/*"], None);
        assert!(!client_allows(&c, base(), "https://ui.example.com"));
    }

    #[test]
    fn plus_means_the_redirect_uris_origins() {
        let c = client(
            &["+"],
            &["https://ui.example.com:8443/*", "/relative/*", "myapp:/cb"],
            Some("https://root.example.com"),
        );
        assert!(client_allows(&c, base(), "https://ui.example.com:8443"));
        assert!(client_allows(&c, base(), "https://root.example.com"));
        assert!(!client_allows(&c, base(), "https://ui.example.com"));
        assert!(!client_allows(&c, base(), "myapp:"));
        let no_root = client(&["+"], &["/cb"], None);
        assert!(client_allows(
            &no_root,
            base(),
            "http://idp.example.com:8080"
        ));
    }

    #[test]
    fn star_allows_any_origin() {
        let c = client(&["*"], &[], None);
        assert!(client_allows(&c, base(), "https://anything.example"));
    }
}
