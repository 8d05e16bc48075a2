//! Docker token scopes: `type:name:actions`, e.g. `repository:team/app:pull,push` or
//! `registry:catalog:*`. The type runs to the first `:`, the actions follow the last `:`,
//! and the name is what lies between (it may itself contain `:` only in odd registries).

use serde::{Deserialize, Serialize};

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
        let (resource_type, rest) = raw.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        if resource_type.is_empty() || name.is_empty() {
            return None;
        }
        let mut parsed: Vec<String> = Vec::new();
        for action in actions.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            if !parsed.iter().any(|a| a == action) {
                parsed.push(action.to_owned());
            }
        }
        Some(Scope {
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            actions: parsed,
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

/// Parses every `scope` value of a request: values may repeat and each may hold several
/// space-separated scopes. Malformed entries are skipped, as the registry never sends them;
/// scopes for the same resource are merged.
pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Scope> {
    let mut scopes: Vec<Scope> = Vec::new();
    for scope in values
        .into_iter()
        .flat_map(str::split_whitespace)
        .filter_map(Scope::parse)
    {
        match scopes
            .iter_mut()
            .find(|s| s.resource_type == scope.resource_type && s.name == scope.name)
        {
            Some(existing) => {
                for action in scope.actions {
                    if !existing.actions.contains(&action) {
                        existing.actions.push(action);
                    }
                }
            }
            None => scopes.push(scope),
        }
    }
    scopes
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
            "repository:a:delete",
        ]);
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
        .is_empty());
    }

    #[test]
    fn empty_actions_give_an_empty_list() {
        assert_eq!(
            Scope::parse("repository:a:").unwrap().actions,
            Vec::<String>::new()
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
            let _ = parse_all([raw.as_str()]);
        }
    }
}
