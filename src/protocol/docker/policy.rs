//! Repository access policy for a docker-v2 client.
//!
//! `allow-all` (Keycloak's behaviour) grants any authenticated user what was asked. `rules`
//! is an ordered list of allow and deny rules; what a request gets is the union of the
//! matching allow rules, less every action a matching deny rule names, intersected with what
//! it asked for (see [`super::decision`]). A rule applies to a kind of subject (`who`), and
//! may also require the client's address to be in one of its networks (`ip`) and the user to
//! hold attribute values (`attributes`). Repository patterns are globs (see
//! [`super::pattern`]); `${username}` and `${group}` stand for the user's name and each of
//! the user's group names. A policy is bounded when it is written ([`AccessPolicy::check_limits`]),
//! so that evaluating it for any request costs at most rules x pattern x name word operations.
//!
//! The JSON form of a rule keeps the first format: `effect`, `ip` and `attributes` are left
//! out when unused, so a policy stored before they existed loads and saves unchanged.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::conditions::{attributes_match, check_attributes};
pub use super::conditions::{AttributeConditions, Network, MAX_NETWORKS_PER_RULE};
pub use super::pattern::{Pattern, MAX_PATTERN_CHARS};

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

/// Whether a matching rule adds its actions or takes them away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// The rule grants its actions.
    #[default]
    Allow,
    /// The rule removes its actions, whatever other rules grant.
    Deny,
}

impl Effect {
    fn is_allow(&self) -> bool {
        *self == Effect::Allow
    }
}

/// One rule: a target, who it applies to, the conditions they must meet, and the actions it
/// grants (or, for a deny rule, removes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleRepr", into = "RuleRepr")]
pub struct Rule {
    pub effect: Effect,
    pub target: Target,
    pub who: Who,
    pub actions: Vec<String>,
    /// The client's address must be in one of these (none: any address).
    pub networks: Vec<Network>,
    /// The user must hold one listed value of each attribute (none: no condition).
    pub attributes: AttributeConditions,
}

/// The JSON form of a rule: `{"repository": "team/*", "who": "role:pusher", "actions": ["pull", "push"]}`
/// or `{"catalog": true, "who": "authenticated", "actions": ["*"]}`, with optional
/// `"effect": "deny"`, `"ip": ["10.0.0.0/8"]` and `"attributes": {"team": ["web"]}`.
/// As in docker_auth, a rule with no actions denies everything.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    effect: Option<Effect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repository: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    catalog: bool,
    who: String,
    actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ip: Vec<String>,
    #[serde(default, skip_serializing_if = "AttributeConditions::is_empty")]
    attributes: AttributeConditions,
}

/// The actions a rule may name.
pub const ACTIONS: [&str; 4] = ["pull", "push", "delete", "*"];

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
        let (effect, actions) = match (repr.effect, repr.actions.is_empty()) {
            (Some(Effect::Allow), true) => {
                return Err("an allow rule needs at least one action".into())
            }
            (_, true) => (Effect::Deny, vec!["*".to_owned()]),
            (effect, false) => (effect.unwrap_or_default(), repr.actions),
        };
        if let Some(bad) = actions.iter().find(|a| !ACTIONS.contains(&a.as_str())) {
            return Err(format!(
                "unknown action '{bad}': expected pull, push, delete or *"
            ));
        }
        if repr.ip.len() > MAX_NETWORKS_PER_RULE {
            return Err(format!(
                "a rule lists at most {MAX_NETWORKS_PER_RULE} networks in 'ip'"
            ));
        }
        let networks = repr
            .ip
            .iter()
            .map(|raw| Network::parse(raw))
            .collect::<Result<_, _>>()?;
        check_attributes(&repr.attributes)?;
        Ok(Rule {
            effect,
            target,
            who: Who::parse(&repr.who)?,
            actions,
            networks,
            attributes: repr.attributes,
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
            effect: Some(rule.effect).filter(|e| !e.is_allow()),
            repository,
            catalog,
            who: rule.who.to_text(),
            actions: rule.actions,
            ip: rule
                .networks
                .iter()
                .map(|n| n.as_str().to_owned())
                .collect(),
            attributes: rule.attributes,
        }
    }
}

impl Rule {
    /// Refuses a rule beyond the per-rule limits: a pattern of more than
    /// [`MAX_PATTERN_CHARS`], more than [`MAX_ACTIONS_PER_RULE`] actions or
    /// [`MAX_NETWORKS_PER_RULE`] networks, a role or group name of more than
    /// [`MAX_WHO_CHARS`], or attribute conditions beyond theirs.
    pub fn check_limits(&self) -> Result<(), String> {
        if let Target::Repository(pattern) = &self.target {
            pattern.check_length()?;
        }
        if self.actions.len() > MAX_ACTIONS_PER_RULE {
            return Err(format!(
                "a rule lists at most {MAX_ACTIONS_PER_RULE} actions"
            ));
        }
        if self.networks.len() > MAX_NETWORKS_PER_RULE {
            return Err(format!(
                "a rule lists at most {MAX_NETWORKS_PER_RULE} networks"
            ));
        }
        if let Who::Role(name) | Who::Group(name) = &self.who {
            if name.chars().count() > MAX_WHO_CHARS {
                return Err(format!(
                    "a role or group name is at most {MAX_WHO_CHARS} characters"
                ));
            }
        }
        check_attributes(&self.attributes)
    }

    /// Whether the rule covers `action` (`*` covers every action).
    pub fn covers(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a == "*" || a == action)
    }

    /// Whether the rule applies to `subject`: who it is, where it asks from, what it holds.
    pub fn applies_to(&self, subject: &Subject) -> bool {
        subject.is_covered_by(&self.who)
            && (self.networks.is_empty()
                || subject
                    .address
                    .is_some_and(|ip| self.networks.iter().any(|n| n.contains(ip))))
            && (self.attributes.is_empty()
                || (subject.username.is_some()
                    && attributes_match(&self.attributes, &subject.attributes)))
    }
}

/// Who is asking: nobody (anonymous), or a user with the realm roles, groups and attributes
/// they hold; and from which address.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// None for a request without credentials.
    pub username: Option<String>,
    pub realm_roles: Vec<String>,
    /// Group names and full paths.
    pub groups: Vec<GroupRef>,
    /// The user's attributes (empty when anonymous).
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    /// The client's address, when known.
    pub address: Option<IpAddr>,
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
    /// [`MAX_RULES`] rules, each within [`Rule::check_limits`], and patterns of at most
    /// [`MAX_PATTERN_CHARS_PER_POLICY`] characters in all.
    pub fn check_limits(&self) -> Result<(), String> {
        let AccessPolicy::Rules { rules } = self else {
            return Ok(());
        };
        if rules.len() > MAX_RULES {
            return Err(format!("a policy holds at most {MAX_RULES} rules"));
        }
        let mut pattern_chars = 0;
        for (i, rule) in rules.iter().enumerate() {
            rule.check_limits()
                .map_err(|message| format!("rule {}: {message}", i + 1))?;
            if let Target::Repository(pattern) = &rule.target {
                pattern_chars += pattern.as_str().chars().count();
            }
        }
        if pattern_chars > MAX_PATTERN_CHARS_PER_POLICY {
            return Err(format!(
                "the patterns of a policy hold at most {MAX_PATTERN_CHARS_PER_POLICY} characters in all"
            ));
        }
        Ok(())
    }

    /// Whether a rule of this policy applies to holders of the realm role `name`.
    pub fn names_role(&self, name: &str) -> bool {
        self.rules()
            .iter()
            .any(|rule| matches!(&rule.who, Who::Role(role) if role == name))
    }

    /// Whether a request without credentials could ever be granted something.
    pub fn grants_anonymous(&self) -> bool {
        self.rules().iter().any(|r| {
            r.effect == Effect::Allow && r.who == Who::Anonymous && r.attributes.is_empty()
        })
    }

    /// Whether the token endpoint answers a request without credentials for `requested`
    /// rather than asking for a sign-in: only when something was asked and some rule could
    /// grant it to anonymous requests.
    pub fn admits_anonymous(&self, requested: &[super::scope::Scope]) -> bool {
        !requested.is_empty() && self.grants_anonymous()
    }

    /// The rules (none for allow-all).
    pub fn rules(&self) -> &[Rule] {
        match self {
            AccessPolicy::AllowAll => &[],
            AccessPolicy::Rules { rules } => rules,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::docker::decision::Verdict;
    use crate::protocol::docker::scope::Scope;
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
            ..Subject::default()
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

    #[test]
    fn a_matching_deny_removes_its_actions_whatever_else_matched() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"**","who":"authenticated","actions":["*"]},
                {"effect":"deny","repository":"prod/**","who":"authenticated","actions":["push","delete"]},
                {"repository":"prod/**","who":"role:release","actions":["push"]}]}"#,
        );
        let dev = user("dev", &["release"], &[]);
        assert_eq!(
            granted(&p, &dev, "repository:prod/app:pull,push,delete"),
            ["pull"]
        );
        assert_eq!(
            granted(&p, &dev, "repository:dev/app:pull,push"),
            ["pull", "push"]
        );
        let decision = p.decide(&dev, &ask("repository:prod/app:pull,push"));
        assert_eq!(
            decision[0].verdicts,
            [
                Verdict::Allowed(0),
                Verdict::Denied {
                    rule: 1,
                    allowed_by: Some(0)
                }
            ]
        );
    }

    #[test]
    fn a_deny_before_the_allow_still_wins_and_no_deny_for_others_changes_nothing() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"team/*","who":"group:contractors","actions":[]},
                {"repository":"team/*","who":"authenticated","actions":["pull","push"]}]}"#,
        );
        assert!(granted(
            &p,
            &user("c", &[], &["contractors"]),
            "repository:team/app:pull"
        )
        .is_empty());
        assert_eq!(
            granted(
                &p,
                &user("e", &[], &["staff"]),
                "repository:team/app:pull,push"
            ),
            ["pull", "push"]
        );
        let rules = p.rules();
        assert_eq!(rules[0].effect, Effect::Deny);
        assert_eq!(rules[0].actions, ["*"]);
    }

    #[test]
    fn address_rules_admit_only_their_networks() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"**","who":"authenticated","actions":["pull","push"],"ip":["10.0.0.0/8","2001:db8::/32"]},
                {"repository":"**","who":"authenticated","actions":["pull"]}]}"#,
        );
        let from = |ip: Option<&str>| Subject {
            address: ip.map(|ip| ip.parse().unwrap()),
            ..user("u", &[], &[])
        };
        let ask = "repository:a/b:pull,push";
        assert_eq!(
            granted(&p, &from(Some("10.255.255.255")), ask),
            ["pull", "push"]
        );
        assert_eq!(
            granted(&p, &from(Some("2001:db8::7")), ask),
            ["pull", "push"]
        );
        assert_eq!(granted(&p, &from(Some("11.0.0.0")), ask), ["pull"]);
        assert_eq!(granted(&p, &from(Some("2001:db9::")), ask), ["pull"]);
        assert_eq!(granted(&p, &from(None), ask), ["pull"]);
    }

    #[test]
    fn an_address_deny_refuses_a_network() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"**","who":"anonymous","actions":["pull"]},
                {"effect":"deny","repository":"**","who":"anonymous","actions":["*"],"ip":["192.0.2.0/24"]}]}"#,
        );
        let from = |ip: &str| Subject {
            address: Some(ip.parse().unwrap()),
            ..Subject::default()
        };
        assert_eq!(
            granted(&p, &from("192.0.3.1"), "repository:x:pull"),
            ["pull"]
        );
        assert!(granted(&p, &from("192.0.2.1"), "repository:x:pull").is_empty());
        assert!(p.grants_anonymous());
    }

    #[test]
    fn attribute_rules_need_the_user_s_attribute_values() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"web/**","who":"authenticated","actions":["push"],"attributes":{"team":["web","platform"]}},
                {"repository":"**","who":"anonymous","actions":["pull"],"attributes":{"team":["web"]}}]}"#,
        );
        let with_team = |team: &str| Subject {
            attributes: [("team".to_string(), vec![team.to_string()])].into(),
            ..user("u", &[], &[])
        };
        assert_eq!(
            granted(&p, &with_team("platform"), "repository:web/app:push"),
            ["push"]
        );
        assert!(granted(&p, &with_team("db"), "repository:web/app:push").is_empty());
        assert_eq!(
            granted(&p, &with_team("web"), "repository:x:pull"),
            ["pull"]
        );
        let anonymous = Subject::default();
        assert!(granted(&p, &anonymous, "repository:x:pull").is_empty());
        assert!(
            !p.grants_anonymous(),
            "attribute rules need a signed-in user"
        );
    }

    #[test]
    fn policies_stored_before_deny_address_and_attributes_load_and_save_unchanged() {
        let stored = r#"{"mode":"rules","rules":[{"repository":"**","who":"authenticated","actions":["pull"]},{"repository":"${username}/*","who":"role:pusher","actions":["pull","push"]},{"catalog":true,"who":"group:/ops","actions":["*"]}]}"#;
        let p = policy(stored);
        assert!(p.rules().iter().all(|r| r.effect == Effect::Allow
            && r.networks.is_empty()
            && r.attributes.is_empty()));
        assert_eq!(serde_json::to_string(&p).unwrap(), stored);
        let full = r#"{"mode":"rules","rules":[{"effect":"deny","repository":"a/**","who":"authenticated","actions":["push"],"ip":["10.0.0.0/8","::1"],"attributes":{"team":["a","b"]}}]}"#;
        assert_eq!(serde_json::to_string(&policy(full)).unwrap(), full);
    }

    #[test]
    fn new_conditions_are_refused_with_a_reason() {
        for (json, needle) in [
            (
                r#"{"effect":"allow","repository":"a","who":"authenticated","actions":[]}"#,
                "at least one action",
            ),
            (
                r#"{"effect":"maybe","repository":"a","who":"authenticated","actions":["pull"]}"#,
                "maybe",
            ),
            (
                r#"{"repository":"a","who":"authenticated","actions":["pull"],"ip":["10.0.0.0/40"]}"#,
                "prefix length",
            ),
            (
                r#"{"repository":"a","who":"authenticated","actions":["pull"],"ip":["example.com"]}"#,
                "not an IP",
            ),
            (
                r#"{"repository":"a","who":"authenticated","actions":["pull"],"attributes":{"team":[]}}"#,
                "at least one value",
            ),
        ] {
            let err = serde_json::from_str::<AccessPolicy>(&format!(
                r#"{{"mode":"rules","rules":[{json}]}}"#
            ))
            .unwrap_err()
            .to_string();
            assert!(err.contains(needle), "{err}");
        }
        let many: Vec<String> = (0..=MAX_NETWORKS_PER_RULE)
            .map(|i| format!("\"10.0.0.{i}\""))
            .collect();
        let json = format!(
            r#"{{"mode":"rules","rules":[{{"repository":"a","who":"anonymous","actions":["pull"],"ip":[{}]}}]}}"#,
            many.join(",")
        );
        assert!(serde_json::from_str::<AccessPolicy>(&json)
            .unwrap_err()
            .to_string()
            .contains("at most 32"));
    }

    #[test]
    fn decisions_name_the_rule_that_decided() {
        let p = policy(
            r#"{"mode":"rules","rules":[
                {"repository":"team/*","who":"role:dev","actions":["pull"]},
                {"repository":"team/*","who":"role:lead","actions":["*"]}]}"#,
        );
        let d = p.decide(
            &user("alice", &["dev"], &[]),
            &ask("repository:team/app:pull,push"),
        );
        assert_eq!(d[0].verdicts, [Verdict::Allowed(0), Verdict::NotGranted]);
        let d = AccessPolicy::AllowAll.decide(&Subject::default(), &ask("repository:x:pull"));
        assert_eq!(d[0].verdicts, [Verdict::NotGranted]);
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
                effect: Effect::Allow,
                networks: Vec::new(),
                attributes: AttributeConditions::new(),
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
