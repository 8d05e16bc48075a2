//! Keycloak's browser security headers, with its default values, on every response.
//!
//! As Keycloak's `DefaultSecurityHeadersProvider`: JSON answers get the REST set, HTML pages
//! (and answers to form posts that are not JSON) the full set with the Content-Security-Policy,
//! anything else the generic set. A header a handler already set (the console's stricter
//! policy) is kept. `Strict-Transport-Security` goes only on answers served over HTTPS.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;

const X_FRAME_OPTIONS: (HeaderName, &str) = (header::X_FRAME_OPTIONS, "SAMEORIGIN");
const CONTENT_SECURITY_POLICY: (HeaderName, &str) = (
    header::CONTENT_SECURITY_POLICY,
    "frame-src 'self'; frame-ancestors 'self'; object-src 'none';",
);
const X_CONTENT_TYPE_OPTIONS: (HeaderName, &str) = (header::X_CONTENT_TYPE_OPTIONS, "nosniff");
const X_ROBOTS_TAG: (HeaderName, &str) = (HeaderName::from_static("x-robots-tag"), "none");
const STRICT_TRANSPORT_SECURITY: (HeaderName, &str) = (
    header::STRICT_TRANSPORT_SECURITY,
    "max-age=31536000; includeSubDomains",
);
const REFERRER_POLICY: (HeaderName, &str) = (header::REFERRER_POLICY, "no-referrer");

/// Which of Keycloak's sets a response gets.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Rest,
    Html,
    Generic,
}

/// Middleware: adds the headers a response lacks.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_type = essence(req.headers());
    let https = super::base::is_https(req.request());
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let kind = kind(request_type.as_deref(), essence(headers).as_deref());
    let set: &[&(HeaderName, &str)] = match kind {
        Kind::Rest => &[
            &STRICT_TRANSPORT_SECURITY,
            &X_FRAME_OPTIONS,
            &X_CONTENT_TYPE_OPTIONS,
            &REFERRER_POLICY,
            &X_ROBOTS_TAG,
        ],
        Kind::Html => &[
            &X_FRAME_OPTIONS,
            &CONTENT_SECURITY_POLICY,
            &X_CONTENT_TYPE_OPTIONS,
            &X_ROBOTS_TAG,
            &STRICT_TRANSPORT_SECURITY,
            &REFERRER_POLICY,
        ],
        Kind::Generic => &[
            &STRICT_TRANSPORT_SECURITY,
            &X_CONTENT_TYPE_OPTIONS,
            &REFERRER_POLICY,
            &X_ROBOTS_TAG,
        ],
    };
    for (name, value) in set {
        if !headers.contains_key(name) && (https || *name != header::STRICT_TRANSPORT_SECURITY) {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
    }
    Ok(response)
}

/// The media type of a `Content-Type` header, lower-case, without parameters.
fn essence(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// Keycloak's choice: the response's type decides, the request's when the response has none.
fn kind(request: Option<&str>, response: Option<&str>) -> Kind {
    let rest = |t: &str| t == "application/json" || t == "application/xml";
    if response.or(request).is_some_and(rest) {
        Kind::Rest
    } else if response == Some("text/html") || request == Some("application/x-www-form-urlencoded")
    {
        Kind::Html
    } else {
        Kind::Generic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_type_decides_before_the_request_type() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(kind(form, Some("application/json")), Kind::Rest);
        assert_eq!(kind(form, None), Kind::Html);
        assert_eq!(kind(None, Some("text/html")), Kind::Html);
        assert_eq!(kind(Some("application/json"), None), Kind::Rest);
        assert_eq!(kind(None, Some("text/css")), Kind::Generic);
        assert_eq!(kind(None, None), Kind::Generic);
    }
}
