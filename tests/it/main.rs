//! The integration tests: one binary, one module per area.

mod abuse_access;
mod abuse_brute_force;
mod abuse_docker;
mod abuse_events;
mod abuse_fidelity;
mod abuse_import;
mod abuse_oidc;
mod cli;
mod client_libraries;
mod console;
mod console_e2e;
mod docker_peers;
mod docker_token;
mod fidelity_admin;
mod fidelity_credentials;
mod fidelity_import;
mod fidelity_layout;
mod fidelity_oidc;
mod fidelity_recorded_admin;
mod fidelity_recorded_oidc;
mod fidelity_sessions;
mod foundation;
mod helpers;
mod oidc;
mod peers;
mod production_backup;
