//! A client's root URL and redirect URIs, read as Keycloak reads them.
//!
//! A registered redirect URI is an absolute URI, a prefix ending in `*` (`*` alone allows
//! any), or a path starting with `/`, relative to the client's root URL or, without one, to
//! the origin of this server. A root URL may start with `${authBaseUrl}` or
//! `${authAdminUrl}`, this server's base URL (what Keycloak's own clients are exported with).
//! They are checked when a client is written and resolved when a request is checked against
//! them, so nothing that cannot be followed is ever stored.

use thiserror::Error;

/// The placeholders a root URL may start with, both this server's base URL.
const BASE_PLACEHOLDERS: [&str; 2] = ["${authBaseUrl}", "${authAdminUrl}"];

/// Schemes a browser must never be sent to.
const FORBIDDEN_SCHEMES: [&str; 3] = ["javascript", "data", "vbscript"];

/// A base URL that only stands in for this server's while a client's URLs are checked.
const PLACEHOLDER_BASE: &str = "http://keywarden.invalid";

/// Why a client's URLs were refused (Keycloak's wording).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClientUrlError {
    #[error("Root URL is not a valid URL: '{0}'")]
    RootUrl(String),
    #[error("A redirect URI is not a valid URI: '{0}'")]
    RedirectUri(String),
    #[error("A redirect URI uses an illegal scheme: '{0}'")]
    RedirectScheme(String),
    #[error("Redirect URIs must not contain an URI fragment: '{0}'")]
    RedirectFragment(String),
}

/// Checks a client's root URL and redirect URIs before they are stored.
pub fn check(root_url: Option<&str>, redirect_uris: &[String]) -> Result<(), ClientUrlError> {
    if let Some(root) = root_url {
        let resolved = resolve_root(root, PLACEHOLDER_BASE);
        let acceptable =
            url::Url::parse(&resolved).is_ok_and(|url| url.fragment().is_none() && is_web(&url));
        if !acceptable {
            return Err(ClientUrlError::RootUrl(root.to_owned()));
        }
    }
    for uri in redirect_uris {
        check_redirect_uri(uri, root_url)?;
    }
    Ok(())
}

fn check_redirect_uri(uri: &str, root_url: Option<&str>) -> Result<(), ClientUrlError> {
    let resolved = resolve(uri, root_url, PLACEHOLDER_BASE);
    // A wildcard stands for the rest of the URI: what comes before it must be a URI's start.
    let fixed = match resolved.split_once('*') {
        Some(("", _)) => return Ok(()),
        Some((prefix, _)) => format!("{prefix}x"),
        None => resolved.clone(),
    };
    let url = url::Url::parse(&fixed).map_err(|_| ClientUrlError::RedirectUri(uri.to_owned()))?;
    if FORBIDDEN_SCHEMES.contains(&url.scheme()) {
        return Err(ClientUrlError::RedirectScheme(uri.to_owned()));
    }
    if url.fragment().is_some() {
        return Err(ClientUrlError::RedirectFragment(uri.to_owned()));
    }
    Ok(())
}

/// Whether a URL is an http(s) URL with a host.
fn is_web(url: &url::Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// A root URL with its `${authBaseUrl}` placeholder replaced by `server_base`.
fn resolve_root(root: &str, server_base: &str) -> String {
    BASE_PLACEHOLDERS
        .iter()
        .find_map(|p| root.strip_prefix(p))
        .map_or_else(|| root.to_owned(), |rest| format!("{server_base}{rest}"))
}

/// A registered redirect URI made absolute: a path is resolved against the root URL, or
/// against the origin of `server_base` (this server's base URL) when there is none.
pub fn resolve(uri: &str, root_url: Option<&str>, server_base: &str) -> String {
    if !uri.starts_with('/') {
        return uri.to_owned();
    }
    let root = match root_url {
        Some(root) => resolve_root(root, server_base),
        None => origin_of(server_base),
    };
    format!("{}{uri}", root.trim_end_matches('/'))
}

/// `scheme://host[:port]` of a URL.
fn origin_of(base: &str) -> String {
    url::Url::parse(base).map_or_else(|_| base.to_owned(), |u| u.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(list: &[&str]) -> Vec<String> {
        list.iter().map(|u| u.to_string()).collect()
    }

    #[test]
    fn absolute_wildcard_relative_and_native_uris_are_accepted() {
        let ok = uris(&[
            "https://app.example/cb",
            "https://app.example/*",
            "*",
            "/cb",
            "com.example.app:/oauth",
            "http://localhost:8080/cb?x=1",
        ]);
        assert_eq!(check(None, &ok), Ok(()));
        assert_eq!(check(Some("https://app.example"), &ok), Ok(()));
        assert_eq!(
            check(Some("${authBaseUrl}"), &uris(&["/realms/a/account/*"])),
            Ok(())
        );
    }

    #[test]
    fn uris_that_cannot_be_followed_are_refused() {
        for bad in ["not a uri", "cb", "javascript:alert(1)", "data:text/html,x"] {
            assert!(check(None, &uris(&[bad])).is_err(), "{bad}");
        }
        assert_eq!(
            check(None, &uris(&["https://a/cb#x"])),
            Err(ClientUrlError::RedirectFragment("https://a/cb#x".into()))
        );
        for root in [
            "/relative",
            "javascript:alert(1)//",
            "https://a/#x",
            "ftp://a",
        ] {
            assert_eq!(
                check(Some(root), &[]),
                Err(ClientUrlError::RootUrl(root.into())),
                "{root}"
            );
        }
    }

    #[test]
    fn relative_uris_resolve_against_the_root_url_or_this_server() {
        let server = "http://idp.example:8080/auth";
        assert_eq!(
            resolve("/cb", Some("https://app.example/base/"), server),
            "https://app.example/base/cb"
        );
        assert_eq!(resolve("/cb", None, server), "http://idp.example:8080/cb");
        assert_eq!(
            resolve("/x/*", Some("${authBaseUrl}"), server),
            "http://idp.example:8080/auth/x/*"
        );
        assert_eq!(
            resolve("https://a/cb", Some("https://b"), server),
            "https://a/cb"
        );
    }
}
