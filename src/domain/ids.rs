//! Internal ids: UUID strings wrapped so that a user id cannot be passed where a client id is
//! meant.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            /// Accepts only a well-formed UUID, as found in URLs.
            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::parse_str(raw).ok().map(|u| Self(u.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(
    /// A realm's internal id.
    RealmId
);
uuid_id!(
    /// A user's id (the `sub` of OIDC tokens).
    UserId
);
uuid_id!(
    /// A client's internal id (not its `clientId`).
    ClientUuid
);
uuid_id!(
    /// A role's id.
    RoleId
);
uuid_id!(
    /// A group's id.
    GroupId
);
uuid_id!(
    /// A realm signing key's row id (not its `kid`).
    KeyId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_uuids() {
        let id = UserId::new();
        assert_eq!(UserId::parse(id.as_str()), Some(id));
        assert_eq!(UserId::parse("not-a-uuid"), None);
        assert_eq!(UserId::parse("../etc"), None);
    }
}
