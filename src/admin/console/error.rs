//! The console's errors and its HTML error page. Failures that a form can explain (invalid
//! input, conflicts) are shown on the form itself; these are the rest.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;

use super::page::{html, see_other, Paths};
use crate::admin::ops::OpsError;
use crate::http::Base;
use crate::state::AppState;
use crate::store::StoreError;

/// Why a console request failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Not signed in (or the session ended): go to this sign-in page.
    #[error("sign-in required")]
    SignInRequired(String),
    #[error("You do not have access to this page.")]
    Forbidden,
    #[error("{0} not found.")]
    NotFound(String),
    #[error("This form has expired or did not come from the console. Go back, reload the page and try again.")]
    CsrfRefused,
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignInRequired(_) => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden | ConsoleError::CsrfRefused => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The bare answer; [`pages`] dresses it as the console's error page.
    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignInRequired(location) => see_other(location),
            ConsoleError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "console request failed");
                html(self.status_code(), self.message())
            }
            other => html(other.status_code(), other.message()),
        }
    }
}

impl ConsoleError {
    /// What the page tells the admin (internal causes stay in the log).
    fn message(&self) -> String {
        match self {
            ConsoleError::Internal(_) => {
                "Something went wrong on the server. The details are in its log.".into()
            }
            other => other.to_string(),
        }
    }

    fn heading(&self) -> &'static str {
        match self {
            ConsoleError::Forbidden => "Forbidden",
            ConsoleError::NotFound(_) => "Not found",
            ConsoleError::CsrfRefused => "Form refused",
            ConsoleError::BadRequest(_) => "Cannot do that",
            ConsoleError::SignInRequired(_) | ConsoleError::Internal(_) => "Server error",
        }
    }
}

impl From<OpsError> for ConsoleError {
    fn from(err: OpsError) -> Self {
        match err {
            OpsError::Invalid(message) | OpsError::Conflict(message) => {
                ConsoleError::BadRequest(message)
            }
            OpsError::NotFound(what) => ConsoleError::NotFound(
                what.trim_start_matches("Could not find ")
                    .trim_end_matches(" by id")
                    .trim_end_matches(" with id")
                    .trim_end_matches(" not found.")
                    .to_owned(),
            ),
            OpsError::Field { text, .. } => ConsoleError::BadRequest(text.to_owned()),
            OpsError::Refused(message) => ConsoleError::BadRequest(message.to_owned()),
            OpsError::Forbidden => ConsoleError::Forbidden,
            OpsError::Store(err) => ConsoleError::Internal(err.into()),
            OpsError::Internal(err) => ConsoleError::Internal(err),
        }
    }
}

impl From<StoreError> for ConsoleError {
    fn from(err: StoreError) -> Self {
        ConsoleError::Internal(err.into())
    }
}

impl From<sqlx::Error> for ConsoleError {
    fn from(err: sqlx::Error) -> Self {
        ConsoleError::Internal(err.into())
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    assets: &'a str,
    home: &'a str,
    heading: &'a str,
    message: &'a str,
}

/// Middleware for the console's scope: a [`ConsoleError`] becomes a full error page with a
/// way back to the console.
pub async fn pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let paths = req.app_data::<web::Data<AppState>>().map(|state| {
        let base = Base::of(req.request(), state);
        Paths::of(&base, req.match_info().get("realm").unwrap_or("master"))
    });
    let response = next.call(req).await?.map_into_boxed_body();
    let page = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ConsoleError>())
        .filter(|e| !matches!(e, ConsoleError::SignInRequired(_)))
        .zip(paths)
        .map(|(err, paths)| {
            ErrorPage {
                assets: &paths.assets,
                home: &format!("{}/", paths.root),
                heading: err.heading(),
                message: &err.message(),
            }
            .render()
        });
    match page {
        Some(Ok(body)) => {
            let status = response.status();
            Ok(response.into_response(html(status, body)))
        }
        _ => Ok(response),
    }
}
