//! The admin operations, each written once: validation, the write through the store, and what
//! must happen with it (keys, default clients and roles, revoked tokens).

pub mod access;
pub mod attack_detection;
pub mod audit;
pub mod audited;
pub mod client_credentials;
pub mod client_role_mappings;
pub mod client_scopes;
pub mod clients;
pub mod docker_policy;
pub mod event_settings;
pub mod group_views;
pub mod groups;
pub mod keys;
pub mod layout;
pub mod partial_import;
pub mod realm_export;
pub mod realm_import;
pub mod realms;
pub mod role_composites;
pub mod role_edits;
pub mod role_mappings;
pub mod roles;
pub mod sessions;
pub mod user_credentials;
pub mod user_profile;
pub mod user_sessions;
pub mod users;

use crate::domain::NameError;
use crate::store::StoreError;

/// The refusal of a write that would take admin powers away from the actor themself, while
/// they asked to be warned first (`Actor::keep_own_powers`).
pub const LOSES_OWN_POWERS: &str =
    "This change takes administrative rights away from your own account.";

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// A request whose precondition fails (Keycloak's 412, as for client roles of a client
    /// that does not exist).
    #[error("{0}")]
    Precondition(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A field Keycloak's user profile refuses: answered with the field, the message key and
    /// the field as its one parameter; `text` says it in words (for the console).
    #[error("{text}")]
    Field {
        field: &'static str,
        key: &'static str,
        text: &'static str,
    },
    /// A request Keycloak refuses with 400 `{"error": message}` rather than `errorMessage`.
    #[error("{0}")]
    Refused(String),
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for OpsError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => OpsError::Conflict(message),
            other => OpsError::Store(other),
        }
    }
}

impl From<sqlx::Error> for OpsError {
    fn from(err: sqlx::Error) -> Self {
        OpsError::Store(StoreError::Database(err))
    }
}

impl From<NameError> for OpsError {
    fn from(err: NameError) -> Self {
        OpsError::Invalid(err.to_string())
    }
}
