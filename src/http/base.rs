//! The public base URL a request was made against: a fixed `--hostname`, or the scheme (https
//! on the TLS listener) and host of the request; plus the path prefix (`--http-relative-path`,
//! or `/auth` when the request came in through the legacy layout).

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpRequest};

use crate::state::AppState;

/// The base every URL in a response is built from, without a trailing slash,
/// e.g. `http://localhost:8080/auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base(String);

impl Base {
    /// Computes the base of `req` under the server's settings.
    pub fn of(req: &HttpRequest, state: &AppState) -> Base {
        let prefix = match &state.settings.relative_path {
            Some(path) => path.as_str(),
            None if req.path() == "/auth" || req.path().starts_with("/auth/") => "/auth",
            None => "",
        };
        let origin = match &state.settings.hostname {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None if state.settings.proxy_headers => {
                let info = req.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            }
            None => {
                let host = req
                    .headers()
                    .get(actix_web::http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .filter(|h| !h.is_empty() && !h.contains(['/', '@', ' ']))
                    .map_or_else(|| req.app_config().host().to_owned(), str::to_owned);
                let scheme = if req.app_config().secure() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{host}")
            }
        };
        // A configured hostname that carries its own path already includes the prefix.
        let hostname_has_path = state
            .settings
            .hostname
            .as_ref()
            .is_some_and(|u| u.path() != "/");
        if hostname_has_path {
            Base(origin)
        } else {
            Base(format!("{origin}{prefix}"))
        }
    }

    /// The base URL itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `{base}/realms/{realm}`: a realm's issuer.
    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{}", self.0, realm)
    }

    /// The base followed by `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

/// Whether `req` was made over HTTPS: it arrived on the TLS listener, or a trusted proxy
/// (`--proxy-headers`) says its client used https.
pub fn is_https(req: &HttpRequest) -> bool {
    let proxied = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.settings.proxy_headers);
    if proxied {
        req.connection_info().scheme() == "https"
    } else {
        req.app_config().secure()
    }
}

impl FromRequest for Base {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("AppState is registered");
        ready(Ok(Base::of(req, state)))
    }
}
