//! OAuth/OIDC errors: `{"error": ..., "error_description": ...}` with the status Keycloak uses.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// The type of a bearer error's empty body, as Keycloak labels it.
const BEARER_ERROR_TYPE: &str = "text/plain;charset=UTF-8";

/// An error answered by an OIDC endpoint.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("Realm does not exist")]
    RealmNotFound,
    /// A token, introspection or revocation request to a disabled realm: 403 `access_denied`,
    /// as Keycloak answers.
    #[error("Realm not enabled")]
    RealmDisabled,
    /// Introspection by a client that failed to authenticate: 401 `invalid_request`.
    #[error("Authentication failed.")]
    AuthenticationFailed,
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed (unknown or disabled client): 401 `invalid_client`.
    #[error("{0}")]
    InvalidClient(&'static str),
    /// A request naming no client, or a client that may not use the endpoint: 400 `invalid_client`.
    #[error("{0}")]
    BadClient(&'static str),
    /// A confidential client without the right secret, or one refused a grant: 401
    /// `unauthorized_client`, as Keycloak answers.
    #[error("{0}")]
    ClientUnauthorized(&'static str),
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// The password grant's wrong credentials: 400 `invalid_grant`, as Keycloak 26 answers.
    #[error("Invalid user credentials")]
    InvalidUserCredentials,
    /// A client authenticated but not allowed to use the endpoint (public clients introspecting).
    #[error("{0}")]
    ClientNotAllowed(&'static str),
    #[error("{0}")]
    UnauthorizedClient(&'static str),
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// A `scope` naming no client scope: 400 `invalid_scope`.
    #[error("{0}")]
    InvalidScope(String),
    /// A client whose service account is missing or disabled: 401 `invalid_request`.
    #[error("{0}")]
    ServiceAccountUnavailable(String),
    /// Revocation of a token issued to another client: 400 `invalid_request`, as Keycloak.
    #[error("Unmatching clients")]
    UnmatchingClients,
    /// Revocation of a token that is neither an access nor a refresh token (an ID token).
    #[error("Unsupported token type")]
    UnsupportedTokenType,
    /// An `Authorization` header of another scheme than Basic where a client must
    /// authenticate: 401 with a Basic challenge and no body.
    #[error("Basic authentication required")]
    BasicChallenge { realm: String },
    /// No bearer token (userinfo): 401, an empty body and a bare Bearer challenge.
    #[error("Missing token")]
    MissingToken { realm: String },
    /// An invalid or revoked bearer token (userinfo): 401, an empty body, the reason in the
    /// challenge.
    #[error("{description}")]
    InvalidToken {
        realm: String,
        description: &'static str,
    },
    /// A bearer token without the scope the endpoint needs: 403 `insufficient_scope`.
    #[error("{description}")]
    InsufficientScope {
        realm: String,
        description: &'static str,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl OidcError {
    fn code(&self) -> &'static str {
        match self {
            OidcError::RealmNotFound => "Realm does not exist",
            OidcError::RealmDisabled => "access_denied",
            OidcError::InvalidRequest(_)
            | OidcError::ServiceAccountUnavailable(_)
            | OidcError::AuthenticationFailed
            | OidcError::UnmatchingClients => "invalid_request",
            OidcError::InvalidClient(_)
            | OidcError::BadClient(_)
            | OidcError::BasicChallenge { .. } => "invalid_client",
            OidcError::InvalidGrant(_) | OidcError::InvalidUserCredentials => "invalid_grant",
            OidcError::ClientNotAllowed(_) => "invalid_request",
            OidcError::UnauthorizedClient(_) | OidcError::ClientUnauthorized(_) => {
                "unauthorized_client"
            }
            OidcError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OidcError::InvalidScope(_) => "invalid_scope",
            OidcError::UnsupportedTokenType => "unsupported_token_type",
            OidcError::MissingToken { .. } | OidcError::InvalidToken { .. } => "invalid_token",
            OidcError::InsufficientScope { .. } => "insufficient_scope",
            OidcError::Internal(_) => "server_error",
        }
    }
}

impl ResponseError for OidcError {
    fn status_code(&self) -> StatusCode {
        match self {
            OidcError::RealmNotFound => StatusCode::NOT_FOUND,
            OidcError::InvalidClient(_)
            | OidcError::ClientUnauthorized(_)
            | OidcError::ServiceAccountUnavailable(_)
            | OidcError::BasicChallenge { .. }
            | OidcError::MissingToken { .. }
            | OidcError::InvalidToken { .. }
            | OidcError::AuthenticationFailed => StatusCode::UNAUTHORIZED,
            OidcError::ClientNotAllowed(_)
            | OidcError::RealmDisabled
            | OidcError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            OidcError::InvalidRequest(_)
            | OidcError::BadClient(_)
            | OidcError::InvalidGrant(_)
            | OidcError::InvalidUserCredentials
            | OidcError::UnauthorizedClient(_)
            | OidcError::UnsupportedGrantType(_)
            | OidcError::InvalidScope(_)
            | OidcError::UnmatchingClients
            | OidcError::UnsupportedTokenType => StatusCode::BAD_REQUEST,
            OidcError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        response.insert_header((header::PRAGMA, "no-cache"));
        let body = match self {
            OidcError::RealmNotFound => json!({"error": "Realm does not exist"}),
            OidcError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                json!({"error": "server_error", "error_description": "internal error"})
            }
            OidcError::BasicChallenge { realm } => {
                let challenge = format!("Basic realm=\"{realm}\"");
                return response
                    .insert_header((header::WWW_AUTHENTICATE, challenge))
                    .finish();
            }
            // Bearer errors carry their reason in the challenge and no body, as Keycloak's.
            OidcError::MissingToken { realm } => {
                let challenge = format!("Bearer realm=\"{realm}\"");
                return response
                    .insert_header((header::WWW_AUTHENTICATE, challenge))
                    .content_type(BEARER_ERROR_TYPE)
                    .finish();
            }
            OidcError::InvalidToken { realm, description }
            | OidcError::InsufficientScope { realm, description } => {
                let challenge = format!(
                    "Bearer realm=\"{realm}\", error=\"{}\", error_description=\"{description}\"",
                    self.code()
                );
                return response
                    .insert_header((header::WWW_AUTHENTICATE, challenge))
                    .content_type(BEARER_ERROR_TYPE)
                    .finish();
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
