//! CORS for endpoints that browser apps call directly (the docker token endpoint): the
//! requesting origin is echoed with credentials allowed, so no proxy is needed in front.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

/// Adds the CORS response headers for `req`'s origin, if it sent one.
pub fn allow_origin(req: &HttpRequest, response: &mut HttpResponseBuilder) {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        response
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
            .insert_header((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"))
            .insert_header((header::VARY, "Origin"))
            .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, "WWW-Authenticate"));
    }
}

/// Adds the CORS headers to an already built response.
pub fn add_to(req: &HttpRequest, response: &mut HttpResponse) {
    if let Some(origin) = req.headers().get(header::ORIGIN).cloned() {
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
}

/// The answer to a preflight (OPTIONS) request.
pub fn preflight(req: &HttpRequest, methods: &'static str) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    allow_origin(req, &mut response);
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, methods))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Authorization, Content-Type",
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "3600"))
        .finish()
}
