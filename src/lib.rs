//! keywarden: a small, fast identity provider that speaks Keycloak's language.

pub mod admin;
pub mod app;
pub mod backup;
pub mod bootstrap;
pub mod clock;
pub mod config;
pub mod copy_database;
pub mod crypto;
pub mod domain;
pub mod event_retention;
pub mod export_import;
pub mod health;
pub mod http;
pub mod key_rotation;
pub mod keyring;
pub mod login_log;
pub mod protocol;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod token_touches;

pub use app::Application;
