//! Validated domain types: names parsed at the edge, ids that cannot be mixed up, and the
//! realm, user and client models the rest of the server works with. No I/O here.

pub mod client_urls;
mod events;
mod ids;
mod models;
mod names;
pub mod setting_ranges;
pub mod token_settings;

pub use events::EventTypes;
pub use ids::{ClientUuid, GroupId, KeyId, RealmId, RoleId, UserId};
pub use models::{Client, Group, Protocol, Realm, RealmKey, Role, User};
pub use names::{ClientIdName, NameError, RealmName, Username};
