//! The protocols keywarden speaks to clients: OpenID Connect and docker-v2.

pub mod brute_force;
pub mod docker;
pub mod login;
pub mod oidc;
pub mod verified_credentials;
