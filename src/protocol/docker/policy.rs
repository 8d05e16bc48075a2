//! Repository access policy for a docker-v2 client.
//!
//! `allow-all` (Keycloak's behaviour) grants any authenticated user what was asked. `rules`
//! is an ordered list; what a request gets is the union of the matching rules, intersected
//! with what it asked for. Repository patterns are globs (see [`super::pattern`]);
//! `${username}` and `${group}` stand for the user's name and each of the user's group names.
//! A policy is bounded when it is written ([`AccessPolicy::check_limits`]), so that evaluating
//! it for any request costs at most rules x pattern x name word operations.

use serde::{Deserialize, Serialize};

use super::pattern::Name;
pub use super::pattern::{Pattern, MAX_PATTERN_CHARS};
use super::scope::Scope;

/// The most rules one policy may hold.
pub const MAX_RULES: usize = 256;
/// The most pattern characters one policy may hold in all: with at most
/// [`MAX_SCOPES`](super::scope::MAX_SCOPES) scopes of the longest names per request, this
/// bounds what evaluating the policy for one token request can cost.
pub const MAX_PATTERN_CHARS_PER_POLICY: usize = 8 * 1024;
/// The longest role or group name a rule may name, in characters.
pub const MAX_WHO_CHARS: usize = 255;

/// A docker-v2 client's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum AccessPolicy {
    /// Any authenticated user of the realm gets what was asked.
    AllowAll,
    /// Ordered rules.
    Rules { rules: Vec<Rule> },
}

/// Who a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Everyone, including requests without credentials.
    Anonymous,
    /// Any authenticated user of the realm.
    Authenticated,
    /// Holders of a realm role (directly, through a group or a composite).
    Role(String),
    /// Members of a group, by name or by path (`/parent/child`).
    Group(String),
}

impl Who {
    fn parse(raw: &str) -> Result<Who, String> {
        match raw.trim() {
            "anonymous" => Ok(Who::Anonymous),
            "authenticated" => Ok(Who::Authenticated),
            other => match other.split_once(':') {
                Some(("role", name)) if !name.trim().is_empty() => Ok(Who::Role(name.trim().to_owned())),
                Some(("group", name)) if !name.trim().is_empty() => Ok(Who::Group(name.trim().to_owned())),
                _ => Err(format!(
                    "invalid 'who' value '{raw}': expected anonymous, authenticated, role:NAME or group:NAME"
                )),
            },
        }
    }

    fn to_text(&self) -> String {
        match self {
            Who::Anonymous => "anonymous".into(),
            Who::Authenticated => "authenticated".into(),
            Who::Role(name) => format!("role:{name}"),
            Who::Group(name) => format!("group:{name}"),
        }
    }
}

/// What a rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Repositories whose name matches the glob.
    Repository(Pattern),
    /// The registry catalog (`registry:catalog:*`).
    Catalog,
}

/// One rule: a target, who it applies to, and the actions it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleRepr", into = "RuleRepr")]
pub struct Rule {
    pub target: Target,
    pub who: Who,
    pub actions: Vec<String>,
}

/// The JSON form of a rule: `{"repository": "team/*", "who": "role:pusher", "actions": ["pull", "push"]}`
/// or `{"catalog": true, "who": "authenticated", "actions": ["*"]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repository: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    catalog: bool,
    who: String,
    actions: Vec<String>,
}

const ACTIONS: [&str; 4] = ["pull", "push", "delete", "*"];

/// The most actions one rule may list: each known action once.
pub const MAX_ACTIONS_PER_RULE: usize = ACTIONS.len();

impl TryFrom<RuleRepr> for Rule {
    type Error = String;

    fn try_from(repr: RuleRepr) -> Result<Self, String> {
        let target = match (repr.repository, repr.catalog) {
            (Some(pattern), false) => Target::Repository(Pattern::parse(&pattern)?),
            (None, true) => Target::Catalog,
            _ => {
                return Err(
                    "a rule needs exactly one of 'repository' (a pattern) or 'catalog': true"
                        .into(),
                )
            }
        };
        if repr.actions.is_empty() {
            return Err("a rule needs at least one action".into());
        }
        if let Some(bad) = repr.actions.iter().find(|a| !ACTIONS.contains(&a.as_str())) {
            return Err(format!(
                "unknown action '{bad}': expected pull, push, delete or *"
            ));
        }
        Ok(Rule {
            target,
            who: Who::parse(&repr.who)?,
            actions: repr.actions,
        })
    }
}

impl From<Rule> for RuleRepr {
    fn from(rule: Rule) -> Self {
        let (repository, catalog) = match rule.target {
            Target::Repository(pattern) => (Some(pattern.as_str().to_owned()), false),
            Target::Catalog => (None, true),
        };
        RuleRepr {
            repository,
            catalog,
            who: rule.who.to_text(),
            actions: rule.actions,
        }
    }
}

/// Who is asking: nobody (anonymous), or a user with the realm roles and groups they hold.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// None for a request without credentials.
    pub username: Option<String>,
    pub realm_roles: Vec<String>,
    /// Group names and full paths.
    pub groups: Vec<GroupRef>,
}

/// A group the subject belongs to.
#[derive(Debug, Clone)]
pub struct GroupRef {
    pub name: String,
    pub path: String,
}

impl Subject {
    fn is_covered_by(&self, who: &Who) -> bool {
        match who {
            Who::Anonymous => true,
            Who::Authenticated => self.username.is_some(),
            Who::Role(role) => {
                self.username.is_some() && self.realm_roles.iter().any(|r| r == role)
            }
            Who::Group(group) => {
                self.username.is_some()
                    && self
                        .groups
                        .iter()
                        .any(|g| &g.name == group || &g.path == group)
            }
        }
    }
}

impl AccessPolicy {
    /// Refuses a policy too large to evaluate cheaply on every token request: at most
    /// [`MAX_RULES`] rules, patterns of at most [`MAX_PATTERN_CHARS`] characters and
    /// [`MAX_PATTERN_CHARS_PER_POLICY`] in all, at most [`MAX_ACTIONS_PER_RULE`] actions and
    /// role or group names of at most [`MAX_WHO_CHARS`].
    pub fn check_limits(&self) -> Result<(), String> {
        let AccessPolicy::Rules { rules } = self else {
            return Ok(());
        };
        if rules.len() > MAX_RULES {
            return Err(format!("a policy holds at most {MAX_RULES} rules"));
        }
        let mut pattern_chars = 0;
        for rule in rules {
            if let Target::Repository(pattern) = &rule.target {
                pattern.check_length()?;
                pattern_chars += pattern.as_str().chars().count();
            }
            if rule.actions.len() > MAX_ACTIONS_PER_RULE {
                return Err(format!(
                    "a rule lists at most {MAX_ACTIONS_PER_RULE} actions"
                ));
            }
            if let Who::Role(name) | Who::Group(name) = &rule.who {
                if name.chars().count() > MAX_WHO_CHARS {
                    return Err(format!(
                        "a role or group name in 'who' is at most {MAX_WHO_CHARS} characters"
                    ));
                }
            }
        }
        if pattern_chars > MAX_PATTERN_CHARS_PER_POLICY {
            return Err(format!(
                "the patterns of a policy hold at most {MAX_PATTERN_CHARS_PER_POLICY} characters in all"
            ));
        }
        Ok(())
    }

    /// Whether a request without credentials could ever be granted something.
    /// Whether a rule of this policy applies to holders of the realm role `name`.
    pub fn names_role(&self, name: &str) -> bool {
        match self {
            AccessPolicy::AllowAll => false,
            AccessPolicy::Rules { rules } => rules
                .iter()
                .any(|rule| matches!(&rule.who, Who::Role(role) if role == name)),
        }
    }

    pub fn grants_anonymous(&self) -> bool {
        match self {
            AccessPolicy::AllowAll => false,
            AccessPolicy::Rules { rules } => rules.iter().any(|r| r.who == Who::Anonymous),
        }
    }

    /// What `subject` gets of `requested`: scopes with no granted action are left out.
    pub fn grant(&self, subject: &Subject, requested: &[Scope]) -> Vec<Scope> {
        requested
            .iter()
            .filter_map(|scope| {
                let granted = self.granted_actions(subject, scope);
                let actions: Vec<String> = scope
                    .actions
                    .iter()
                    .zip(granted)
                    .filter(|(_, granted)| *granted)
                    .map(|(action, _)| action.clone())
                    .collect();
                (!actions.is_empty()).then(|| Scope {
                    actions,
                    ..scope.clone()
                })
            })
            .collect()
    }

    /// For each action of `scope`, whether some rule grants it. Each rule's target is
    /// matched at most once per scope, and only when it could add an action.
    fn granted_actions(&self, subject: &Subject, scope: &Scope) -> Vec<bool> {
        let rules = match self {
            AccessPolicy::AllowAll => return vec![subject.username.is_some(); scope.actions.len()],
            AccessPolicy::Rules { rules } => rules,
        };
        let mut granted = vec![false; scope.actions.len()];
        let mut name = None;
        for rule in rules {
            let adds = |action: &String| rule.actions.iter().any(|a| a == "*" || a == action);
            let missing_and_added = scope
                .actions
                .iter()
                .zip(&granted)
                .any(|(action, done)| !done && adds(action));
            if !missing_and_added || !subject.is_covered_by(&rule.who) {
                continue;
            }
            let name = name.get_or_insert_with(|| Name::new(&scope.name));
            if !rule_targets(rule, subject, scope, name) {
                continue;
            }
            for (action, done) in scope.actions.iter().zip(granted.iter_mut()) {
                *done = *done || adds(action);
            }
            if granted.iter().all(|done| *done) {
                break;
            }
        }
        granted
    }
}

fn rule_targets(rule: &Rule, subject: &Subject, scope: &Scope, name: &Name) -> bool {
    match &rule.target {
        Target::Catalog => scope.is_catalog(),
        Target::Repository(pattern) if scope.is_repository() => {
            let username = subject.username.as_deref();
            if pattern.uses_group() {
                subject
                    .groups
                    .iter()
                    .any(|g| pattern.matches(name, username, Some(&g.name)))
            } else {
                pattern.matches(name, username, None)
            }
        }
        Target::Repository(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(json: &str) -> AccessPolicy {
        serde_json::from_str(json).unwrap()
    }

    fn user(name: &str, roles: &[&str], groups: &[&str]) -> Subject {
        Subject {
            username: Some(name.into()),
            realm_roles: roles.iter().map(|r| r.to_string()).collect(),
            groups: groups
                .iter()
                .map(|g| GroupRef {
                    name: g.to_string(),
                    path: format!("/{g}"),
                })
                .collect(),
        }
    }

    fn ask(raw: &str) -> Vec<Scope> {
        super::super::scope::parse_all([raw]).unwrap()
    }

    fn granted(policy: &AccessPolicy, subject: &Subject, raw: &str) -> Vec<String> {
        policy
            .grant(subject, &ask(raw))
            .into_iter()
            .flat_map(|s| s.actions)
            .collect()
    }

    #[test]
    fn allow_all_grants_what_is_asked_to_users_only() {
        let all = AccessPolicy::AllowAll;
        assert_eq!(
            granted(&all, &user("a", &[], &[]), "repository:x/y:pull,push"),
            ["pull", "push"]
        );
        assert!(granted(&all, &Subject::default(), "repository:x/y:pull").is_empty());
    }

    #[test]
    fn team_realm_everyone_pulls_and_pushers_push() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"**","who":"authenticated","actions":["pull"]},
                {"repository":"**","who":"role:pusher","actions":["pull","push"]}]}"#,
        );
        assert_eq!(
            granted(&p, &user("dev", &[], &[]), "repository:team/app:pull,push"),
            ["pull"]
        );
        assert_eq!(
            granted(
                &p,
                &user("ci", &["pusher"], &[]),
                "repository:team/app:pull,push"
            ),
            ["pull", "push"]
        );
    }

    #[test]
    fn personal_namespaces() {
        let p = policy(
            r#"{"mode":"rules","rules":[{"repository":"${username}/*","who":"authenticated","actions":["*"]}]}"#,
        );
        let alice = user("alice", &[], &[]);
        assert_eq!(
            granted(&p, &alice, "repository:alice/app:pull,push"),
            ["pull", "push"]
        );
        assert!(granted(&p, &alice, "repository:bob/app:pull").is_empty());
        assert!(granted(&p, &alice, "repository:alice/deep/app:pull").is_empty());
        assert!(granted(&p, &Subject::default(), "repository:alice/app:pull").is_empty());
    }

    #[test]
    fn group_namespaces() {
        let p = policy(
            r#"{"mode":"rules","rules":[{"repository":"${group}/**","who":"authenticated","actions":["pull","push"]}]}"#,
        );
        let dev = user("dev", &[], &["frontend", "ops"]);
        assert_eq!(granted(&p, &dev, "repository:ops/tools/x:push"), ["push"]);
        assert!(granted(&p, &dev, "repository:backend/x:pull").is_empty());
    }

    #[test]
    fn public_anonymous_pull_of_library() {
        let p = policy(
            r#"{"mode":"rules","rules":[{"repository":"library/*","who":"anonymous","actions":["pull"]}]}"#,
        );
        assert!(p.grants_anonymous());
        assert_eq!(
            granted(
                &p,
                &Subject::default(),
                "repository:library/alpine:pull,push"
            ),
            ["pull"]
        );
        assert!(granted(&p, &Subject::default(), "repository:private/x:pull").is_empty());
    }

    #[test]
    fn catalog_rules_cover_only_the_catalog() {
        let p = policy(
            r#"{"mode":"rules","rules":[{"catalog":true,"who":"role:admin","actions":["*"]}]}"#,
        );
        assert_eq!(
            granted(&p, &user("a", &["admin"], &[]), "registry:catalog:*"),
            ["*"]
        );
        assert!(granted(&p, &user("a", &["admin"], &[]), "repository:catalog:pull").is_empty());
        assert!(granted(&p, &user("b", &[], &[]), "registry:catalog:*").is_empty());
    }

    #[test]
    fn denied_scopes_are_left_out_and_others_kept() {
        let p = policy(
            r#"{"mode":"rules","rules":[{"repository":"a","who":"authenticated","actions":["pull"]}]}"#,
        );
        let grants = p.grant(
            &user("u", &[], &[]),
            &ask("repository:a:pull repository:b:pull"),
        );
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].name, "a");
    }

    #[test]
    fn invalid_rules_are_refused_with_a_reason() {
        for (json, needle) in [
            (
                r#"{"mode":"rules","rules":[{"who":"authenticated","actions":["pull"]}]}"#,
                "exactly one",
            ),
            (
                r#"{"mode":"rules","rules":[{"repository":"a","who":"nobody","actions":["pull"]}]}"#,
                "nobody",
            ),
            (
                r#"{"mode":"rules","rules":[{"repository":"a","who":"authenticated","actions":["fly"]}]}"#,
                "fly",
            ),
            (
                r#"{"mode":"rules","rules":[{"repository":"${user}","who":"authenticated","actions":["pull"]}]}"#,
                "placeholder",
            ),
        ] {
            let err = serde_json::from_str::<AccessPolicy>(json)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn oversized_policies_are_refused_with_a_reason() {
        let rule = |pattern: &str, actions: &str| {
            format!(r#"{{"repository":"{pattern}","who":"anonymous","actions":[{actions}]}}"#)
        };
        let check = |rules: Vec<String>| {
            policy(&format!(
                r#"{{"mode":"rules","rules":[{}]}}"#,
                rules.join(",")
            ))
            .check_limits()
        };
        assert!(check(vec![rule("team/**", r#""pull""#)]).is_ok());
        assert!(check(vec![rule(&"*".repeat(40_000), r#""pull""#)])
            .unwrap_err()
            .contains("512 characters"));
        assert!(check(vec![rule("a", r#""pull""#); MAX_RULES + 1])
            .unwrap_err()
            .contains("256 rules"));
        let longest = rule(&"*".repeat(MAX_PATTERN_CHARS), r#""pull""#);
        assert!(check(vec![longest.clone(); 16]).is_ok());
        assert!(check(vec![longest; 17])
            .unwrap_err()
            .contains("8192 characters in all"));
        assert!(check(vec![rule("a", &[r#""pull""#; 5].join(","))])
            .unwrap_err()
            .contains("4 actions"));
        let long_role = format!(
            r#"{{"mode":"rules","rules":[{{"catalog":true,"who":"role:{}","actions":["*"]}}]}}"#,
            "r".repeat(MAX_WHO_CHARS + 1)
        );
        assert!(policy(&long_role).check_limits().is_err());
        assert!(AccessPolicy::AllowAll.check_limits().is_ok());
    }

    #[test]
    fn a_rule_is_matched_once_per_scope_whatever_the_actions() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"team/*","who":"authenticated","actions":["pull"]},
                {"repository":"team/*","who":"authenticated","actions":["*"]}]}"#,
        );
        assert_eq!(
            granted(
                &p,
                &user("u", &[], &[]),
                "repository:team/app:pull,push,delete"
            ),
            ["pull", "push", "delete"]
        );
    }

    #[test]
    fn policies_round_trip_through_json() {
        let json = r#"{"mode":"rules","rules":[{"repository":"${group}/*","who":"group:/team","actions":["pull"]},{"catalog":true,"who":"anonymous","actions":["*"]}]}"#;
        let p = policy(json);
        assert_eq!(serde_json::to_string(&p).unwrap(), json);
    }

    proptest! {
        #[test]
        fn grants_never_exceed_the_request(
            actions in proptest::sample::subsequence(vec!["pull", "push", "delete", "*"], 0..4),
            rule_actions in proptest::sample::subsequence(vec!["pull", "push", "delete", "*"], 1..4),
            name in "[a-z]{1,5}(/[a-z]{1,5}){0,2}",
        ) {
            let p = AccessPolicy::Rules { rules: vec![Rule {
                target: Target::Repository(Pattern::parse("**").unwrap()),
                who: Who::Authenticated,
                actions: rule_actions.iter().map(|a| a.to_string()).collect(),
            }]};
            let requested = vec![Scope { resource_type: "repository".into(), name, actions: actions.iter().map(|a| a.to_string()).collect() }];
            for scope in p.grant(&user("u", &[], &[]), &requested) {
                for action in &scope.actions {
                    prop_assert!(actions.contains(&action.as_str()));
                    prop_assert!(rule_actions.contains(&action.as_str()) || rule_actions.contains(&"*"));
                }
            }
        }

    }
}
