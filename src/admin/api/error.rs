//! Admin REST errors in Keycloak's shapes: `{"error": ...}` for 401/403/404,
//! `{"errorMessage": ...}` for 400/409.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::admin::ops::OpsError;

/// An error answered by the admin REST API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("HTTP 401 Unauthorized")]
    Unauthorized,
    #[error("HTTP 403 Forbidden")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// 412 `{"errorMessage": ...}`.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    BadRequest(String),
    /// A field the user profile refuses: 400 `{"field", "errorMessage", "params": [field]}`.
    #[error("{message}")]
    Field {
        field: &'static str,
        message: &'static str,
    },
    /// A body that is not the JSON expected: 400 `{"error", "error_description": "Cannot
    /// parse the JSON"}`, `invalid_request` for broken JSON, `unknown_error` for JSON of the
    /// wrong shape, as Keycloak answers.
    #[error("Cannot parse the JSON")]
    Unparsable { error: &'static str },
    /// A body Keycloak's strict decoder refuses: 400 `{"error": message}`.
    #[error("{0}")]
    InvalidRepresentation(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::BadRequest(_)
            | ApiError::InvalidRepresentation(_)
            | ApiError::Field { .. }
            | ApiError::Unparsable { .. } => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ApiError::Conflict(message)
            | ApiError::PreconditionFailed(message)
            | ApiError::BadRequest(message) => {
                json!({"errorMessage": message})
            }
            ApiError::Field { field, message } => {
                json!({"field": field, "errorMessage": message, "params": [field]})
            }
            ApiError::Unparsable { error } => {
                json!({"error": error, "error_description": "Cannot parse the JSON"})
            }
            ApiError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "admin API failed");
                json!({"error": "unknown_error"})
            }
            other => json!({"error": other.to_string()}),
        };
        HttpResponse::build(self.status_code()).json(body)
    }
}

impl From<OpsError> for ApiError {
    fn from(err: OpsError) -> Self {
        match err {
            OpsError::Invalid(message) => ApiError::BadRequest(message),
            OpsError::Conflict(message) => ApiError::Conflict(message),
            OpsError::Precondition(message) => ApiError::PreconditionFailed(message),
            OpsError::NotFound(message) if message.contains(' ') => {
                ApiError::NotFound(message.to_owned())
            }
            OpsError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            OpsError::Field { field, key, .. } => ApiError::Field {
                field,
                message: key,
            },
            OpsError::Refused(message) => ApiError::InvalidRepresentation(message.to_owned()),
            OpsError::Forbidden => ApiError::Forbidden,
            OpsError::Store(err) => ApiError::Internal(err.into()),
            OpsError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        OpsError::from(err).into()
    }
}

/// The answer to a JSON body that cannot be read as the representation expected.
pub fn unparsable(err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let error = match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => "invalid_request",
        Category::Data => "unknown_error",
    };
    ApiError::Unparsable { error }
}

/// Turns a JSON body that cannot be read into Keycloak's 400.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    match &err {
        actix_web::error::JsonPayloadError::Deserialize(e) => unparsable(e).into(),
        actix_web::error::JsonPayloadError::ContentType => {
            ApiError::BadRequest("Expected a JSON body (Content-Type: application/json)".to_owned())
                .into()
        }
        other => ApiError::BadRequest(format!("Unable to read the request body: {other}")).into(),
    }
}
