//! Errors of the docker-v2 token endpoint, in the shapes docker clients understand:
//! Docker-format 401s (the client prints the message after "unauthorized:") and OAuth-style
//! 400s for a bad service.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// An error answered by the docker token endpoint.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("Realm does not exist")]
    RealmNotFound,
    /// No credentials: ask for Basic ones.
    #[error("authentication required")]
    CredentialsRequired { realm: String },
    /// Wrong, unknown or disabled credentials; always the same message.
    #[error("Invalid username or password.")]
    InvalidCredentials { realm: String },
    /// A refresh token that is unknown, expired, revoked or for another service.
    #[error("Invalid refresh token.")]
    InvalidToken { realm: String },
    #[error("{0}")]
    InvalidRequest(String),
    /// Unknown, disabled or non-docker service.
    #[error("Invalid client or client is disabled")]
    InvalidClient,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DockerError {
    fn challenge(realm: &str) -> String {
        format!("Basic realm=\"{}\"", realm.replace(['"', '\\'], ""))
    }
}

impl ResponseError for DockerError {
    fn status_code(&self) -> StatusCode {
        match self {
            DockerError::RealmNotFound => StatusCode::NOT_FOUND,
            DockerError::CredentialsRequired { .. }
            | DockerError::InvalidCredentials { .. }
            | DockerError::InvalidToken { .. } => StatusCode::UNAUTHORIZED,
            DockerError::InvalidRequest(_) | DockerError::InvalidClient => StatusCode::BAD_REQUEST,
            DockerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        let body = match self {
            DockerError::RealmNotFound => json!({"error": "Realm does not exist"}),
            DockerError::CredentialsRequired { realm }
            | DockerError::InvalidCredentials { realm }
            | DockerError::InvalidToken { realm } => {
                response.insert_header((header::WWW_AUTHENTICATE, Self::challenge(realm)));
                let message = self.to_string();
                json!({"errors": [{"code": "UNAUTHORIZED", "message": message, "detail": []}]})
            }
            DockerError::InvalidRequest(message) => {
                json!({"error": "invalid_request", "error_description": message})
            }
            DockerError::InvalidClient => {
                json!({"error": "invalid_client", "error_description": self.to_string()})
            }
            DockerError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "docker token endpoint failed");
                json!({"errors": [{"code": "UNKNOWN", "message": "internal error", "detail": []}]})
            }
        };
        response.json(body)
    }
}

impl From<crate::store::StoreError> for DockerError {
    fn from(err: crate::store::StoreError) -> Self {
        DockerError::Internal(err.into())
    }
}

impl From<crate::keyring::KeyringError> for DockerError {
    fn from(err: crate::keyring::KeyringError) -> Self {
        DockerError::Internal(err.into())
    }
}
