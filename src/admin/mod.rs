//! Administration: the operations (written once), and the faces that call them.

pub mod api;
pub mod console;
pub mod ops;
pub mod realm_defaults;
pub mod realm_file;
pub mod repr;
