//! Cross-site request forgery defences for the console's forms. A signed-in form carries its
//! session's token; the sign-in form, before any session exists, carries a token that must
//! match a cookie (double submit). Either way the token is compared in constant time, and a
//! browser that says the request is cross-site is refused outright.

use actix_web::HttpRequest;

/// The name of the hidden form field that carries the token.
pub const FIELD: &str = "csrf";

/// A fresh unguessable token.
pub fn new_token() -> String {
    crate::crypto::random_token()
}

/// Whether `given` is the non-empty `expected` token.
pub fn matches(expected: &str, given: Option<&str>) -> bool {
    match given {
        Some(given) if !expected.is_empty() => {
            crate::crypto::constant_time_eq(expected.as_bytes(), given.as_bytes())
        }
        _ => false,
    }
}

/// Whether the browser reports the request as coming from another site (`Sec-Fetch-Site`).
pub fn cross_site(req: &HttpRequest) -> bool {
    req.headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_themselves() {
        let token = new_token();
        assert!(matches(&token, Some(&token)));
        assert!(!matches(&token, Some("other")));
        assert!(!matches(&token, None));
        assert!(!matches("", Some("")));
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        let req = actix_web::test::TestRequest::default()
            .insert_header(("Sec-Fetch-Site", "cross-site"))
            .to_http_request();
        assert!(cross_site(&req));
        let req = actix_web::test::TestRequest::default()
            .insert_header(("Sec-Fetch-Site", "same-origin"))
            .to_http_request();
        assert!(!cross_site(&req));
    }
}
