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
    /// The form would take admin rights away from the admin themself: ask first.
    #[error("{}", crate::admin::ops::LOSES_OWN_POWERS)]
    LosesOwnPowers,
    /// The name differs only by case from an existing one: ask first.
    #[error(
        "There is already a {kind} named {existing}. {wanted} differs from it only by case; \
             the two would be different {kind}s, easy to take for one another."
    )]
    CaseTwin {
        kind: &'static str,
        existing: String,
        wanted: String,
    },
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
            ConsoleError::LosesOwnPowers | ConsoleError::CaseTwin { .. } => StatusCode::CONFLICT,
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
            ConsoleError::LosesOwnPowers => format!(
                "{} You could lock yourself out of this realm's administration; only another \
                 administrator could give the rights back.",
                crate::admin::ops::LOSES_OWN_POWERS
            ),
            other => other.to_string(),
        }
    }

    fn heading(&self) -> &'static str {
        match self {
            ConsoleError::Forbidden => "Forbidden",
            ConsoleError::NotFound(_) => "Not found",
            ConsoleError::CsrfRefused => "Form refused",
            ConsoleError::BadRequest(_) => "Cannot do that",
            ConsoleError::LosesOwnPowers => "Remove your own admin rights?",
            ConsoleError::CaseTwin { .. } => "A name that differs only by case",
            ConsoleError::SignInRequired(_) | ConsoleError::Internal(_) => "Server error",
        }
    }
}

impl From<OpsError> for ConsoleError {
    fn from(err: OpsError) -> Self {
        match err {
            OpsError::Invalid(message)
            | OpsError::Conflict(message)
            | OpsError::Precondition(message) => ConsoleError::BadRequest(message),
            OpsError::NotFound(what) => ConsoleError::NotFound(
                what.trim_start_matches("Could not find ")
                    .trim_end_matches(" by id")
                    .trim_end_matches(" with id")
                    .trim_end_matches(" not found.")
                    .to_owned(),
            ),
            OpsError::Field { text, .. } => ConsoleError::BadRequest(text.to_owned()),
            OpsError::Refused(message) if message == crate::admin::ops::LOSES_OWN_POWERS => {
                ConsoleError::LosesOwnPowers
            }
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

/// Any path of the console that no page answers: the console's own 404 page.
pub async fn not_found() -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound("Page".into()))
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    assets: &'a str,
    home: &'a str,
    heading: &'a str,
    message: &'a str,
    /// For [`ConsoleError::LosesOwnPowers`]: the form to post again, confirmed.
    confirm: Option<Confirm>,
}

/// A refused form, to be posted again once the admin confirms.
struct Confirm {
    action: String,
    fields: Vec<(String, String)>,
    confirm_field: &'static str,
    button: &'static str,
}

impl Confirm {
    /// The form of `req` (kept by `Posted`), without secrets and without the confirmation,
    /// if `err` is a question.
    fn of(err: &ConsoleError, req: &actix_web::HttpRequest) -> Option<Confirm> {
        let (confirm_field, button) = match err {
            ConsoleError::LosesOwnPowers => (super::form::CONFIRM_OWN, "Remove my rights anyway"),
            ConsoleError::CaseTwin { .. } => (super::names::CONFIRM_CASE, "Create it anyway"),
            _ => return None,
        };
        use actix_web::HttpMessage;
        let form = req.extensions().get::<super::form::FormData>().cloned()?;
        let fields = form
            .fields()
            .iter()
            .filter(|(name, _)| {
                name != confirm_field && !name.contains("password") && !name.contains("secret")
            })
            .cloned()
            .collect();
        Some(Confirm {
            action: req.path().to_owned(),
            fields,
            confirm_field,
            button,
        })
    }
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
    let confirm = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ConsoleError>())
        .and_then(|e| Confirm::of(e, response.request()));
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
                confirm,
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
