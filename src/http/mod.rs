//! Cross-cutting web glue: the public base URL of a request, realm lookup, CORS, TLS.

pub mod base;
pub mod basic;
pub mod client_gone;
pub mod cookies;
pub mod cors;
pub mod csrf;
pub mod read_epoch;
pub mod request_span;
pub mod security_headers;
pub mod tls;
pub mod trailing_slash;

pub use base::Base;
