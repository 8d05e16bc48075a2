//! Which login events a realm keeps: Keycloak's `enabledEventTypes`, validated at the edge.

use std::fmt;

use serde::Serialize;

/// The most event types a realm may list.
const MAX_TYPES: usize = 64;
/// The longest event type name accepted (Keycloak's longest is under 50).
const MAX_TYPE_CHARS: usize = 64;

/// A set of login event types, stored space-separated; empty means every type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct EventTypes(String);

impl EventTypes {
    /// Accepts names of upper-case letters, digits and underscores (`LOGIN`, `LOGIN_ERROR`).
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<EventTypes, String> {
        if names.len() > MAX_TYPES {
            return Err(format!("enabledEventTypes: at most {MAX_TYPES} types"));
        }
        let mut kept: Vec<&str> = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            let valid = !name.is_empty()
                && name.len() <= MAX_TYPE_CHARS
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(format!("enabledEventTypes: invalid event type '{name}'"));
            }
            if !kept.contains(&name) {
                kept.push(name);
            }
        }
        Ok(EventTypes(kept.join(" ")))
    }

    /// Whether events of `event_type` are kept.
    pub fn allows(&self, event_type: &str) -> bool {
        self.0.is_empty() || self.0.split(' ').any(|t| t == event_type)
    }

    /// The listed types (empty: every type).
    pub fn names(&self) -> Vec<String> {
        self.0.split_whitespace().map(str::to_owned).collect()
    }
}

impl fmt::Display for EventTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_allows_every_type() {
        assert!(EventTypes::default().allows("LOGIN"));
        assert!(EventTypes::parse::<&str>(&[]).unwrap().allows("LOGOUT"));
    }

    #[test]
    fn a_list_allows_only_its_types() {
        let types = EventTypes::parse(&["LOGIN", "LOGIN_ERROR", "LOGIN"]).unwrap();
        assert_eq!(types.names(), ["LOGIN", "LOGIN_ERROR"]);
        assert!(types.allows("LOGIN_ERROR"));
        assert!(!types.allows("LOGOUT"));
        assert!(!types.allows("LOGIN LOGIN_ERROR"));
    }

    #[test]
    fn odd_names_are_refused() {
        assert!(EventTypes::parse(&["login"]).is_err());
        assert!(EventTypes::parse(&["LOGIN ERROR"]).is_err());
        assert!(EventTypes::parse(&[""]).is_err());
        assert!(EventTypes::parse(&["X".repeat(65)]).is_err());
        assert!(EventTypes::parse(&vec!["LOGIN"; 65]).is_err());
    }
}
