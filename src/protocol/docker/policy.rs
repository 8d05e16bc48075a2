//! Repository access policy for a docker-v2 client.
//!
//! `allow-all` (Keycloak's behaviour) grants any authenticated user what was asked. `rules`
//! is an ordered list; what a request gets is the union of the matching rules, intersected
//! with what it asked for. Repository patterns are globs: `*` and `?` stay within one path
//! segment, `**` crosses `/`; `${username}` and `${group}` stand for the user's name and each
//! of the user's group names (taken literally, never as glob characters).

use serde::{Deserialize, Serialize};

use super::scope::Scope;

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
            Target::Repository(pattern) => (Some(pattern.source), false),
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

/// A compiled repository glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyInSegment,
    AnyAcrossSegments,
    OneChar,
    Username,
    Group,
}

impl Pattern {
    /// Compiles a glob; `${...}` must be `${username}` or `${group}`.
    pub fn parse(source: &str) -> Result<Pattern, String> {
        let source = source.trim();
        if source.is_empty() {
            return Err("a repository pattern must not be empty".into());
        }
        let mut tokens = Vec::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("${username}") {
                tokens.push(Token::Username);
                rest = after;
            } else if let Some(after) = rest.strip_prefix("${group}") {
                tokens.push(Token::Group);
                rest = after;
            } else if rest.starts_with("${") {
                return Err(format!(
                    "unknown placeholder in '{source}': only ${{username}} and ${{group}} exist"
                ));
            } else if let Some(after) = rest.strip_prefix("**") {
                tokens.push(Token::AnyAcrossSegments);
                rest = after;
            } else {
                tokens.push(match c {
                    '*' => Token::AnyInSegment,
                    '?' => Token::OneChar,
                    other => Token::Literal(other),
                });
                rest = &rest[c.len_utf8()..];
            }
        }
        Ok(Pattern {
            source: source.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn uses_group(&self) -> bool {
        self.tokens.contains(&Token::Group)
    }

    /// Matches `name` with the placeholders bound; a pattern with a placeholder whose value is
    /// missing never matches.
    fn matches(&self, name: &str, username: Option<&str>, group: Option<&str>) -> bool {
        let name: Vec<char> = name.chars().collect();
        match_tokens(&self.tokens, &name, username, group)
    }
}

fn match_tokens(
    tokens: &[Token],
    name: &[char],
    username: Option<&str>,
    group: Option<&str>,
) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return name.is_empty();
    };
    let literal = |value: Option<&str>| -> bool {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return false;
        };
        let value: Vec<char> = value.chars().collect();
        name.starts_with(&value) && match_tokens(rest, &name[value.len()..], username, group)
    };
    match token {
        Token::Literal(c) => {
            name.first() == Some(c) && match_tokens(rest, &name[1..], username, group)
        }
        Token::OneChar => {
            name.first().is_some_and(|c| *c != '/')
                && match_tokens(rest, &name[1..], username, group)
        }
        Token::AnyInSegment => {
            let segment_end = name.iter().position(|c| *c == '/').unwrap_or(name.len());
            (0..=segment_end).any(|skip| match_tokens(rest, &name[skip..], username, group))
        }
        Token::AnyAcrossSegments => {
            (0..=name.len()).any(|skip| match_tokens(rest, &name[skip..], username, group))
        }
        Token::Username => literal(username),
        Token::Group => literal(group),
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
    /// Whether a request without credentials could ever be granted something.
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
                let actions: Vec<String> = scope
                    .actions
                    .iter()
                    .filter(|action| self.allows(subject, scope, action))
                    .cloned()
                    .collect();
                (!actions.is_empty()).then(|| Scope {
                    actions,
                    ..scope.clone()
                })
            })
            .collect()
    }

    fn allows(&self, subject: &Subject, scope: &Scope, action: &str) -> bool {
        let rules = match self {
            AccessPolicy::AllowAll => return subject.username.is_some(),
            AccessPolicy::Rules { rules } => rules,
        };
        rules.iter().any(|rule| {
            let action_granted = rule.actions.iter().any(|a| a == "*" || a == action);
            action_granted && subject.is_covered_by(&rule.who) && rule_targets(rule, subject, scope)
        })
    }
}

fn rule_targets(rule: &Rule, subject: &Subject, scope: &Scope) -> bool {
    match &rule.target {
        Target::Catalog => scope.is_catalog(),
        Target::Repository(pattern) if scope.is_repository() => {
            let username = subject.username.as_deref();
            if pattern.uses_group() {
                subject
                    .groups
                    .iter()
                    .any(|g| pattern.matches(&scope.name, username, Some(&g.name)))
            } else {
                pattern.matches(&scope.name, username, None)
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
        super::super::scope::parse_all([raw])
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
    fn placeholders_are_literal_not_globs() {
        let p = Pattern::parse("${username}/app").unwrap();
        assert!(!p.matches("xx/app", Some("*"), None));
        assert!(p.matches("*/app", Some("*"), None));
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

        #[test]
        fn star_never_crosses_a_slash(a in "[a-z]{1,5}", b in "[a-z]{1,5}") {
            let p = Pattern::parse("*").unwrap();
            prop_assert!(p.matches(&a, None, None));
            let joined = format!("{a}/{b}");
            prop_assert!(!p.matches(&joined, None, None));
        }
    }
}
