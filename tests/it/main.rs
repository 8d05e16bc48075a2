//! The integration tests: one binary, one module per area.

mod abuse_docker;
mod cli;
mod client_libraries;
mod console;
mod console_e2e;
mod docker_peers;
mod docker_token;
mod foundation;
mod helpers;
mod oidc;
mod peers;
