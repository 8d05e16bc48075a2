//! Names that users type: realm names, usernames and client ids, parsed once at the edge.

use std::fmt;

use serde::Serialize;

/// Why a name was refused; the text is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("{0} must be at most {1} characters")]
    TooLong(&'static str, usize),
    #[error("{0} may contain only {1}")]
    BadCharacters(&'static str, &'static str),
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// A realm's name, as it appears in URLs: letters, digits, `-`, `_` and `.`.
    RealmName
);
name_type!(
    /// A username, stored lower-case as Keycloak does.
    Username
);
name_type!(
    /// A client's `clientId` (for docker-v2 clients, the registry's `service`).
    ClientIdName
);

const MAX_LEN: usize = 255;

fn check_length(field: &'static str, value: &str) -> Result<(), NameError> {
    if value.is_empty() {
        Err(NameError::Empty(field))
    } else if value.chars().count() > MAX_LEN {
        Err(NameError::TooLong(field, MAX_LEN))
    } else {
        Ok(())
    }
}

impl RealmName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        const FIELD: &str = "Realm name";
        let value = raw.trim();
        check_length(FIELD, value)?;
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
        if !value.chars().all(allowed) || value.starts_with('.') {
            return Err(NameError::BadCharacters(
                FIELD,
                "letters, digits, '-', '_' and '.' (not first)",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        const FIELD: &str = "Username";
        let value = raw.trim().to_lowercase();
        check_length(FIELD, &value)?;
        if value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == ':')
        {
            return Err(NameError::BadCharacters(
                FIELD,
                "printable characters without spaces, '/' or ':'",
            ));
        }
        Ok(Self(value))
    }
}

impl ClientIdName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        const FIELD: &str = "Client ID";
        let value = raw.trim();
        check_length(FIELD, value)?;
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(NameError::BadCharacters(
                FIELD,
                "printable characters without spaces",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames_are_trimmed_and_lower_cased() {
        assert_eq!(Username::parse("  Alice ").unwrap().as_str(), "alice");
    }

    #[test]
    fn usernames_refuse_colons_because_basic_auth_splits_on_them() {
        assert!(Username::parse("a:b").is_err());
    }

    #[test]
    fn realm_names_refuse_path_characters() {
        for bad in ["", "a/b", "..", ".hidden", "a b", "ä"] {
            assert!(RealmName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(RealmName::parse("team-a_1.x").is_ok());
    }

    #[test]
    fn names_longer_than_255_characters_are_refused() {
        assert!(ClientIdName::parse(&"x".repeat(256)).is_err());
        assert!(ClientIdName::parse(&"x".repeat(255)).is_ok());
    }

    proptest! {
        #[test]
        fn parsed_realm_names_are_url_path_safe(raw in "\\PC{0,40}") {
            if let Ok(name) = RealmName::parse(&raw) {
                prop_assert!(!name.as_str().contains('/'));
                prop_assert!(!name.as_str().is_empty());
                prop_assert_eq!(url::form_urlencoded::byte_serialize(name.as_str().as_bytes()).collect::<String>(), name.as_str());
            }
        }

        #[test]
        fn parsing_a_username_twice_changes_nothing(raw in "\\PC{0,40}") {
            if let Ok(name) = Username::parse(&raw) {
                prop_assert_eq!(Username::parse(name.as_str()).unwrap(), name);
            }
        }
    }
}
