//! Every cookie the console sets is built here: HttpOnly, SameSite=Lax, a path, and Secure
//! whenever the public base URL is https.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use cookie::{Cookie, SameSite};

use super::Base;

/// Where a cookie applies: the path it is sent for, and whether it needs https.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieScope {
    pub path: String,
    pub secure: bool,
}

impl CookieScope {
    /// The scope of `path` (which starts with `/`) under the request's public base.
    pub fn under(base: &Base, path: &str) -> CookieScope {
        Self::under_url(base.as_str(), path)
    }

    /// The scope of `path` under a base URL such as `https://id.example.com/auth`.
    pub fn under_url(base: &str, path: &str) -> CookieScope {
        let url = url::Url::parse(base).ok();
        let prefix = url
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        CookieScope {
            path: format!("{prefix}{path}"),
            secure: url.is_some_and(|u| u.scheme() == "https"),
        }
    }
}

/// A session cookie (no Max-Age: it ends with the browser) with the common attributes.
pub fn build(name: &'static str, value: String, scope: &CookieScope) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(scope.path.clone())
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(scope.secure)
        .build()
}

/// A cookie that makes the browser forget `name` at once.
pub fn removal(name: &'static str, scope: &CookieScope) -> Cookie<'static> {
    let mut cookie = build(name, String::new(), scope);
    cookie.make_removal();
    cookie
}

/// The value of the request's cookie `name`, if sent. Values are expected to be plain
/// (base64url tokens); callers encode anything else.
pub fn get(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Adds `cookie` to a response.
pub fn set(response: &mut HttpResponse, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(secure: bool) -> CookieScope {
        CookieScope {
            path: "/admin/master/console".into(),
            secure,
        }
    }

    #[test]
    fn cookies_are_http_only_lax_and_scoped() {
        let text = build("n", "v".into(), &scope(false)).to_string();
        assert!(text.contains("HttpOnly"), "{text}");
        assert!(text.contains("SameSite=Lax"), "{text}");
        assert!(text.contains("Path=/admin/master/console"), "{text}");
        assert!(!text.contains("Secure"), "{text}");
    }

    #[test]
    fn cookies_are_secure_over_https() {
        assert!(build("n", "v".into(), &scope(true))
            .to_string()
            .contains("Secure"));
    }

    #[test]
    fn removals_expire_at_once() {
        let text = removal("n", &scope(false)).to_string();
        assert!(text.contains("Max-Age=0"), "{text}");
    }

    #[test]
    fn scope_keeps_the_base_path_and_scheme() {
        let scope = CookieScope::under_url("https://id.example.com/auth", "/admin/x/console");
        assert_eq!(scope.path, "/auth/admin/x/console");
        assert!(scope.secure);
    }
}
