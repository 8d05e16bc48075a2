//! The access policy form's rows: a rule as the form shows it, and back, with every error
//! named as the form names the field (never in the policy's JSON words).

use crate::admin::console::form::FormData;
use crate::protocol::docker::policy::{
    AttributeConditions, Effect, Network, Pattern, Rule, Target, Who, MAX_NETWORKS_PER_RULE,
    MAX_WHO_CHARS,
};

/// One rule as a form row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleRow {
    /// `allow` or `deny`.
    pub effect: String,
    /// `repository` or `catalog`.
    pub target: String,
    pub repository: String,
    /// `authenticated`, `anonymous`, `role` or `group`.
    pub who: String,
    /// The role or group name.
    pub name: String,
    pub pull: bool,
    pub push: bool,
    pub delete: bool,
    pub all: bool,
    /// Networks, separated by commas, spaces or lines.
    pub ip: String,
    /// One `name = value, value` per line.
    pub attributes: String,
    /// The field, as the form labels it, and what is wrong with it.
    pub error: Option<(&'static str, String)>,
    /// A remark that does not stop the rule being saved (an unknown role or group).
    pub warning: Option<String>,
}

impl RuleRow {
    /// An empty row: allow, repositories, any signed-in user.
    pub fn blank() -> RuleRow {
        RuleRow {
            effect: "allow".into(),
            target: "repository".into(),
            who: "authenticated".into(),
            ..RuleRow::default()
        }
    }

    /// A stored rule as a row.
    pub fn of(rule: &Rule) -> RuleRow {
        let (who, name) = match &rule.who {
            Who::Anonymous => ("anonymous", String::new()),
            Who::Authenticated => ("authenticated", String::new()),
            Who::Role(name) => ("role", name.clone()),
            Who::Group(name) => ("group", name.clone()),
        };
        let (target, repository) = match &rule.target {
            Target::Repository(pattern) => ("repository", pattern.as_str().to_owned()),
            Target::Catalog => ("catalog", String::new()),
        };
        let has = |action: &str| rule.actions.iter().any(|a| a == action);
        RuleRow {
            effect: match rule.effect {
                Effect::Allow => "allow".into(),
                Effect::Deny => "deny".into(),
            },
            target: target.into(),
            repository,
            who: who.into(),
            name,
            pull: has("pull"),
            push: has("push"),
            delete: has("delete"),
            all: has("*"),
            ip: rule
                .networks
                .iter()
                .map(Network::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            attributes: rule
                .attributes
                .iter()
                .map(|(name, values)| format!("{name} = {}", values.join(", ")))
                .collect::<Vec<_>>()
                .join("\n"),
            error: None,
            warning: None,
        }
    }

    /// Row `i` of a posted form.
    pub fn from_form(form: &FormData, i: usize) -> RuleRow {
        let field = |name: &str| form.get(&format!("rule{i}_{name}")).to_owned();
        let checked = |name: &str| form.checked(&format!("rule{i}_{name}"));
        RuleRow {
            effect: field("effect"),
            target: field("target"),
            repository: field("repository"),
            who: field("who"),
            name: field("name"),
            pull: checked("pull"),
            push: checked("push"),
            delete: checked("delete"),
            all: checked("all"),
            ip: field("ip"),
            attributes: form.raw(&format!("rule{i}_attributes")).trim().to_owned(),
            error: None,
            warning: None,
        }
    }

    /// Whether nothing was filled in (the row is skipped).
    pub fn is_blank(&self) -> bool {
        self.target != "catalog"
            && self.repository.is_empty()
            && self.name.is_empty()
            && self.ip.is_empty()
            && self.attributes.is_empty()
            && !(self.pull || self.push || self.delete || self.all)
    }

    /// The rule this row stands for, or the field that is wrong and why.
    pub fn rule(&self) -> Result<Rule, (&'static str, String)> {
        let effect = match self.effect.as_str() {
            "deny" => Effect::Deny,
            _ => Effect::Allow,
        };
        let target = if self.target == "catalog" {
            Target::Catalog
        } else {
            let pattern = Pattern::parse(&self.repository)
                .and_then(|p| p.check_length().map(|()| p))
                .map_err(|message| ("Repository pattern", message))?;
            Target::Repository(pattern)
        };
        let who = self.who()?;
        let actions: Vec<String> = [
            (self.pull, "pull"),
            (self.push, "push"),
            (self.delete, "delete"),
            (self.all, "*"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, action)| action.to_owned())
        .collect();
        if actions.is_empty() {
            let what = match effect {
                Effect::Allow => "tick at least one action to grant",
                Effect::Deny => "tick at least one action to deny",
            };
            return Err(("Actions", what.into()));
        }
        let rule = Rule {
            effect,
            target,
            who,
            actions,
            networks: self.networks()?,
            attributes: self.attribute_conditions()?,
        };
        if rule.who == Who::Anonymous && !rule.attributes.is_empty() {
            return Err((
                "User attributes",
                "a request without credentials has no attributes: choose “Any signed-in user” or leave this empty".into(),
            ));
        }
        Ok(rule)
    }

    fn who(&self) -> Result<Who, (&'static str, String)> {
        let name = self.name.trim();
        let named = |field: &'static str, kind: &str| {
            if name.is_empty() {
                Err((field, format!("enter the name of a {kind} of this realm")))
            } else if name.chars().count() > MAX_WHO_CHARS {
                Err((field, format!("at most {MAX_WHO_CHARS} characters")))
            } else {
                Ok(name.to_owned())
            }
        };
        match self.who.as_str() {
            "authenticated" => Ok(Who::Authenticated),
            "anonymous" => Ok(Who::Anonymous),
            "role" => Ok(Who::Role(named("Role name", "realm role")?)),
            "group" => Ok(Who::Group(named("Group name", "group")?)),
            _ => Err(("Who", "choose who the rule applies to".into())),
        }
    }

    fn networks(&self) -> Result<Vec<Network>, (&'static str, String)> {
        const FIELD: &str = "From addresses";
        let written: Vec<&str> = self
            .ip
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect();
        if written.len() > MAX_NETWORKS_PER_RULE {
            return Err((
                FIELD,
                format!("at most {MAX_NETWORKS_PER_RULE} addresses or networks"),
            ));
        }
        written
            .into_iter()
            .map(|raw| {
                Network::parse(raw).map_err(|message| {
                    (
                        FIELD,
                        format!("{message}; write an address or a network such as 10.0.0.0/8 or 2001:db8::/32"),
                    )
                })
            })
            .collect()
    }

    fn attribute_conditions(&self) -> Result<AttributeConditions, (&'static str, String)> {
        const FIELD: &str = "User attributes";
        let mut conditions = AttributeConditions::new();
        for (line_number, line) in self.attributes.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some((name, values)) = line.split_once('=') else {
                return Err((
                    FIELD,
                    format!(
                        "line {}: write the attribute, “=”, then its values, as in team = web, ops",
                        line_number + 1
                    ),
                ));
            };
            let values = values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            let held = conditions.entry(name.trim().to_owned()).or_default();
            for value in values {
                if !held.contains(&value) {
                    held.push(value);
                }
            }
        }
        crate::protocol::docker::conditions::check_attributes(&conditions)
            .map_err(|message| (FIELD, message))?;
        Ok(conditions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_rules() {
        let row = RuleRow {
            repository: "team/${username}/**".into(),
            who: "role".into(),
            name: "pusher".into(),
            pull: true,
            push: true,
            ip: "10.0.0.0/8, 2001:db8::/32".into(),
            attributes: "team = web, ops\ntier = gold".into(),
            ..RuleRow::blank()
        };
        let rule = row.rule().unwrap();
        assert_eq!(RuleRow::of(&rule), row);
        let deny = RuleRow {
            effect: "deny".into(),
            target: "catalog".into(),
            all: true,
            ..RuleRow::blank()
        };
        assert_eq!(RuleRow::of(&deny.rule().unwrap()), deny);
    }

    #[test]
    fn errors_name_the_field_as_the_form_shows_it() {
        let check = |row: RuleRow, field: &str, needle: &str| {
            let (f, message) = row.rule().unwrap_err();
            assert_eq!(f, field, "{message}");
            assert!(message.contains(needle), "{message}");
            assert!(!message.contains("'who'"), "{message}");
        };
        let base = RuleRow {
            repository: "x".into(),
            pull: true,
            ..RuleRow::blank()
        };
        check(
            RuleRow {
                pull: false,
                ..base.clone()
            },
            "Actions",
            "at least one action",
        );
        check(
            RuleRow {
                who: "group".into(),
                ..base.clone()
            },
            "Group name",
            "name of a group",
        );
        check(
            RuleRow {
                repository: String::new(),
                ..base.clone()
            },
            "Repository pattern",
            "empty",
        );
        check(
            RuleRow {
                ip: "10.0.0.0/40".into(),
                ..base.clone()
            },
            "From addresses",
            "10.0.0.0/8",
        );
        check(
            RuleRow {
                attributes: "team web".into(),
                ..base.clone()
            },
            "User attributes",
            "line 1",
        );
        check(
            RuleRow {
                who: "anonymous".into(),
                attributes: "team = web".into(),
                ..base.clone()
            },
            "User attributes",
            "without credentials",
        );
        check(
            RuleRow {
                ip: "10.0.0.1 ".repeat(33),
                ..base
            },
            "From addresses",
            "at most 32",
        );
    }
}
