//! Docker token scopes: `type:name:actions`, e.g. `repository:team/app:pull,push` or
//! `registry:catalog:*`. The type runs to the first `:`, the actions follow the last `:`,
//! and the name is what lies between (it may itself contain `:` only in odd registries).
//!
//! A request is bounded before anything else is done with it: at most [`MAX_SCOPES`] scopes of
//! at most [`MAX_SCOPE_BYTES`] each, and names no longer than the registry's own limit.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// The most scopes one request may ask for (docker sends one to three).
pub const MAX_SCOPES: usize = 32;
/// The longest scope, in bytes: a longest name, its type and every action.
pub const MAX_SCOPE_BYTES: usize = 512;
/// The longest resource name, in bytes: the registry's own limit on a repository name
/// (distribution's `reference.NameTotalLengthMax`).
pub const MAX_NAME_BYTES: usize = 255;

/// Why the scopes of a request are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("too many scopes: at most {MAX_SCOPES} per request")]
    TooMany,
    #[error("scope too long: at most {MAX_SCOPE_BYTES} bytes")]
    TooLong,
    #[error("repository name too long: at most {MAX_NAME_BYTES} bytes")]
    NameTooLong,
}

/// One requested (or granted) access entry; serializes as the JWT's `access` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Scope {
    /// Parses one scope; `None` when it lacks a type, a name or the actions separator.
    pub fn parse(raw: &str) -> Option<Scope> {
        let (resource_type, name, actions) = split(raw)?;
        let mut seen = HashSet::new();
        Some(Scope {
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            actions: actions
                .filter(|a| seen.insert(*a))
                .map(str::to_owned)
                .collect(),
        })
    }

    /// Whether this is a repository scope (plain or with a plugin class).
    pub fn is_repository(&self) -> bool {
        self.resource_type == "repository" || self.resource_type.starts_with("repository(")
    }

    /// Whether this is the registry catalog scope.
    pub fn is_catalog(&self) -> bool {
        self.resource_type == "registry" && self.name == "catalog"
    }
}

/// Splits a scope into its type, its name and its non-empty actions.
fn split(raw: &str) -> Option<(&str, &str, impl Iterator<Item = &str>)> {
    let (resource_type, rest) = raw.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    if resource_type.is_empty() || name.is_empty() {
        return None;
    }
    let actions = actions.split(',').map(str::trim).filter(|a| !a.is_empty());
    Some((resource_type, name, actions))
}

/// Parses every `scope` value of a request: values may repeat and each may hold several
/// space-separated scopes. Malformed entries are skipped, as the registry never sends them;
/// scopes for the same resource are merged. Refuses more than [`MAX_SCOPES`] entries, an
/// entry longer than [`MAX_SCOPE_BYTES`] or a name longer than [`MAX_NAME_BYTES`], looking
/// at no more input than that; the work is linear in the input.
pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Scope>, ScopeError> {
    let mut scopes: Vec<Scope> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut actions_seen: HashSet<(usize, &str)> = HashSet::new();
    for (count, raw) in values
        .into_iter()
        .flat_map(str::split_whitespace)
        .enumerate()
    {
        if count >= MAX_SCOPES {
            return Err(ScopeError::TooMany);
        }
        if raw.len() > MAX_SCOPE_BYTES {
            return Err(ScopeError::TooLong);
        }
        let Some((resource_type, name, actions)) = split(raw) else {
            continue;
        };
        if name.len() > MAX_NAME_BYTES {
            return Err(ScopeError::NameTooLong);
        }
        let position = *index.entry((resource_type, name)).or_insert_with(|| {
            scopes.push(Scope {
                resource_type: resource_type.to_owned(),
                name: name.to_owned(),
                actions: Vec::new(),
            });
            scopes.len() - 1
        });
        for action in actions {
            if actions_seen.insert((position, action)) {
                scopes[position].actions.push(action.to_owned());
            }
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_a_push_scope() {
        let scope = Scope::parse("repository:team/app:pull,push").unwrap();
        assert_eq!(scope.resource_type, "repository");
        assert_eq!(scope.name, "team/app");
        assert_eq!(scope.actions, ["pull", "push"]);
    }

    #[test]
    fn name_keeps_host_port_colons() {
        let scope = Scope::parse("repository:localhost:5000/app:pull").unwrap();
        assert_eq!(scope.name, "localhost:5000/app");
    }

    #[test]
    fn catalog_scope_is_recognised() {
        assert!(Scope::parse("registry:catalog:*").unwrap().is_catalog());
        assert!(Scope::parse("repository(plugin):x:pull")
            .unwrap()
            .is_repository());
    }

    #[test]
    fn repeated_and_space_separated_scopes_are_all_answered() {
        let scopes = parse_all([
            "repository:a:pull,push repository:b:pull",
            "repository:c:pull",
            "repository:a:delete,pull",
        ])
        .unwrap();
        assert_eq!(scopes.len(), 3);
        assert_eq!(scopes[0].actions, ["pull", "push", "delete"]);
    }

    #[test]
    fn malformed_scopes_are_skipped() {
        assert!(parse_all([
            "",
            "repository",
            "repository:",
            ":a:pull",
            "repository::pull"
        ])
        .unwrap()
        .is_empty());
    }

    #[test]
    fn empty_actions_give_an_empty_list() {
        assert_eq!(
            Scope::parse("repository:a:").unwrap().actions,
            Vec::<String>::new()
        );
    }

    #[test]
    fn requests_beyond_the_limits_are_refused() {
        let many = vec!["repository:a:pull"; MAX_SCOPES];
        assert_eq!(parse_all(many.clone()).unwrap().len(), 1);
        let one_more = [many.join(" "), "repository:b:pull".into()];
        assert_eq!(
            parse_all(one_more.iter().map(String::as_str)),
            Err(ScopeError::TooMany)
        );
        let longest_name = format!("repository:{}:pull", "n".repeat(MAX_NAME_BYTES));
        assert!(parse_all([longest_name.as_str()]).is_ok());
        let too_long_name = format!("repository:{}:pull", "n".repeat(MAX_NAME_BYTES + 1));
        assert_eq!(
            parse_all([too_long_name.as_str()]),
            Err(ScopeError::NameTooLong)
        );
        let too_long = format!("repository:a:{}", "pull,".repeat(MAX_SCOPE_BYTES / 5));
        assert_eq!(parse_all([too_long.as_str()]), Err(ScopeError::TooLong));
    }

    #[test]
    fn a_huge_input_is_refused_after_reading_only_its_head() {
        let huge = "repository:a:pull ".repeat(20_000);
        assert_eq!(parse_all([huge.as_str()]), Err(ScopeError::TooMany));
    }

    #[test]
    fn duplicated_actions_are_kept_once_in_order() {
        let scopes =
            parse_all(["repository:a:push,pull,push", "repository:a:pull,delete"]).unwrap();
        assert_eq!(scopes[0].actions, ["push", "pull", "delete"]);
        assert_eq!(
            Scope::parse("repository:a:b,a,b").unwrap().actions,
            ["b", "a"]
        );
    }

    proptest! {
        #[test]
        fn well_formed_scopes_round_trip(
            name in "[a-z0-9]+(/[a-z0-9._-]+){0,3}",
            actions in proptest::sample::subsequence(vec!["pull", "push", "delete", "*"], 1..4),
        ) {
            let raw = format!("repository:{name}:{}", actions.join(","));
            let scope = Scope::parse(&raw).unwrap();
            prop_assert_eq!(scope.name, name);
            prop_assert_eq!(scope.actions, actions);
        }

        #[test]
        fn arbitrary_input_never_panics(raw in "\\PC{0,80}") {
            if let Ok(scopes) = parse_all([raw.as_str()]) {
                prop_assert!(scopes.len() <= MAX_SCOPES);
                prop_assert!(scopes.iter().all(|s| s.name.len() <= MAX_NAME_BYTES));
            }
        }
    }
}
