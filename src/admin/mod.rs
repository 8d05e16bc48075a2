//! Administration: the operations (written once), and the faces that call them.

pub mod ops;
