//! Cross-cutting web glue: the public base URL of a request, realm lookup, CORS.

pub mod base;
pub mod basic;
pub mod cors;

pub use base::Base;
