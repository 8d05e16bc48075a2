//! OAuth/OIDC errors: `{"error": ..., "error_description": ...}` with the status Keycloak uses.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// An error answered by an OIDC endpoint.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("Realm does not exist")]
    RealmNotFound,
    /// Introspection and revocation in a disabled realm: 403 `access_denied`, as Keycloak.
    #[error("Realm not enabled")]
    RealmDisabled,
    /// Introspection by a client that failed to authenticate: 401 `invalid_request`.
    #[error("Authentication failed.")]
    AuthenticationFailed,
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(&'static str),
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// The password grant's wrong credentials: `invalid_grant`, but 401 as Keycloak answers.
    #[error("Invalid user credentials")]
    InvalidUserCredentials,
    /// A client authenticated but not allowed to use the endpoint (public clients introspecting).
    #[error("{0}")]
    ClientNotAllowed(&'static str),
    #[error("{0}")]
    UnauthorizedClient(&'static str),
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// Revocation of a token issued to another client: 400 `invalid_request`, as Keycloak.
    #[error("Unmatching clients")]
    UnmatchingClients,
    /// Revocation of a token that is neither an access nor a refresh token (an ID token).
    #[error("Unsupported token type")]
    UnsupportedTokenType,
    /// A missing, invalid or revoked bearer token (userinfo).
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl OidcError {
    fn code(&self) -> &'static str {
        match self {
            OidcError::RealmNotFound => "Realm does not exist",
            OidcError::RealmDisabled => "access_denied",
            OidcError::AuthenticationFailed | OidcError::UnmatchingClients => "invalid_request",
            OidcError::InvalidRequest(_) => "invalid_request",
            OidcError::InvalidClient(_) => "invalid_client",
            OidcError::InvalidGrant(_) | OidcError::InvalidUserCredentials => "invalid_grant",
            OidcError::ClientNotAllowed(_) => "invalid_request",
            OidcError::UnauthorizedClient(_) => "unauthorized_client",
            OidcError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OidcError::UnsupportedTokenType => "unsupported_token_type",
            OidcError::InvalidToken(_) => "invalid_token",
            OidcError::Internal(_) => "server_error",
        }
    }
}

impl ResponseError for OidcError {
    fn status_code(&self) -> StatusCode {
        match self {
            OidcError::RealmNotFound => StatusCode::NOT_FOUND,
            OidcError::RealmDisabled => StatusCode::FORBIDDEN,
            OidcError::InvalidClient(_)
            | OidcError::InvalidToken(_)
            | OidcError::AuthenticationFailed
            | OidcError::InvalidUserCredentials => StatusCode::UNAUTHORIZED,
            OidcError::ClientNotAllowed(_) => StatusCode::FORBIDDEN,
            OidcError::InvalidRequest(_)
            | OidcError::InvalidGrant(_)
            | OidcError::UnauthorizedClient(_)
            | OidcError::UnsupportedGrantType(_)
            | OidcError::UnmatchingClients
            | OidcError::UnsupportedTokenType => StatusCode::BAD_REQUEST,
            OidcError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        let body = match self {
            OidcError::RealmNotFound => json!({"error": "Realm does not exist"}),
            OidcError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                json!({"error": "server_error", "error_description": "internal error"})
            }
            OidcError::InvalidToken(description) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"keywarden\", error=\"invalid_token\", error_description=\"{description}\""),
                ));
                json!({"error": "invalid_token", "error_description": description})
            }
            other => json!({"error": other.code(), "error_description": other.to_string()}),
        };
        response.json(body)
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

impl From<crate::crypto::jwt::JwtError> for OidcError {
    fn from(err: crate::crypto::jwt::JwtError) -> Self {
        OidcError::Internal(err.into())
    }
}
