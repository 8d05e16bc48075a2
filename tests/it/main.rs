//! The integration tests: one binary, one module per area.

mod cli;
mod docker_peers;
mod docker_token;
mod foundation;
mod helpers;
mod oidc;
mod peers;
