//! OAuth/OIDC errors: `{"error": ..., "error_description": ...}` with the status Keycloak uses.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// An error answered by an OIDC endpoint.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("Realm does not exist")]
    RealmNotFound,
    #[error("{0}")]
    InvalidRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ResponseError for OidcError {
    fn status_code(&self) -> StatusCode {
        match self {
            OidcError::RealmNotFound => StatusCode::NOT_FOUND,
            OidcError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            OidcError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            OidcError::RealmNotFound => json!({"error": "Realm does not exist"}),
            OidcError::InvalidRequest(message) => {
                json!({"error": "invalid_request", "error_description": message})
            }
            OidcError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                json!({"error": "server_error", "error_description": "internal error"})
            }
        };
        HttpResponse::build(self.status_code()).json(body)
    }
}

impl From<crate::store::StoreError> for OidcError {
    fn from(err: crate::store::StoreError) -> Self {
        OidcError::Internal(err.into())
    }
}

impl From<crate::keyring::KeyringError> for OidcError {
    fn from(err: crate::keyring::KeyringError) -> Self {
        OidcError::Internal(err.into())
    }
}
