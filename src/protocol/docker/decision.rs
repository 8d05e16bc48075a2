//! Evaluating a policy for one request, keeping which rule decided each action: the token
//! endpoint takes the granted scopes, the console's tester shows the whole decision.
//!
//! For each requested scope the rules are walked once, in order. A rule is looked at only
//! when it could still change an action (an allow rule for an action neither granted nor
//! denied yet, a deny rule for one not denied yet), its subject conditions are checked before
//! its pattern, and its pattern is matched at most once per scope. The walk stops when every
//! action is denied or granted with no deny rule left to come.

use super::pattern::{Binding, Name};
use super::policy::{AccessPolicy, Effect, Rule, Subject, Target};
use super::scope::Scope;

/// How one requested action was decided. Rule numbers are indexes into the policy's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Granted by the allow-all policy to a signed-in user.
    AllowAll,
    /// Granted by this (first) matching allow rule.
    Allowed(usize),
    /// Removed by this (first) matching deny rule; `allowed_by` is the allow rule that
    /// granted it before, if any.
    Denied {
        rule: usize,
        allowed_by: Option<usize>,
    },
    /// No rule grants it.
    NotGranted,
}

impl Verdict {
    /// Whether the action is in the token.
    pub fn granted(&self) -> bool {
        matches!(self, Verdict::AllowAll | Verdict::Allowed(_))
    }
}

/// One requested scope and how each of its actions was decided.
#[derive(Debug, Clone)]
pub struct ScopeDecision {
    pub scope: Scope,
    /// One per action of `scope`, in order.
    pub verdicts: Vec<Verdict>,
}

impl ScopeDecision {
    /// The scope with only its granted actions; `None` when none is.
    pub fn granted(&self) -> Option<Scope> {
        let actions: Vec<String> = self
            .scope
            .actions
            .iter()
            .zip(&self.verdicts)
            .filter(|(_, verdict)| verdict.granted())
            .map(|(action, _)| action.clone())
            .collect();
        (!actions.is_empty()).then(|| Scope {
            actions,
            ..self.scope.clone()
        })
    }
}

impl AccessPolicy {
    /// What `subject` gets of `requested`: scopes with no granted action are left out.
    pub fn grant(&self, subject: &Subject, requested: &[Scope]) -> Vec<Scope> {
        self.decide(subject, requested)
            .iter()
            .filter_map(ScopeDecision::granted)
            .collect()
    }

    /// How each action of each requested scope is decided for `subject`.
    pub fn decide(&self, subject: &Subject, requested: &[Scope]) -> Vec<ScopeDecision> {
        requested
            .iter()
            .map(|scope| ScopeDecision {
                scope: scope.clone(),
                verdicts: match self {
                    AccessPolicy::AllowAll => {
                        let verdict = if subject.username.is_some() {
                            Verdict::AllowAll
                        } else {
                            Verdict::NotGranted
                        };
                        vec![verdict; scope.actions.len()]
                    }
                    AccessPolicy::Rules { rules } => decide_scope(rules, subject, scope),
                },
            })
            .collect()
    }
}

fn decide_scope(rules: &[Rule], subject: &Subject, scope: &Scope) -> Vec<Verdict> {
    let count = scope.actions.len();
    let mut allowed: Vec<Option<usize>> = vec![None; count];
    let mut denied: Vec<Option<usize>> = vec![None; count];
    let last_deny = rules.iter().rposition(|r| r.effect == Effect::Deny);
    let mut name = None;
    for (index, rule) in rules.iter().enumerate() {
        let changes = |k: usize| match rule.effect {
            Effect::Allow => allowed[k].is_none() && denied[k].is_none(),
            Effect::Deny => denied[k].is_none(),
        };
        let useful = scope
            .actions
            .iter()
            .enumerate()
            .any(|(k, action)| changes(k) && rule.covers(action));
        if !useful || !rule.applies_to(subject) {
            continue;
        }
        let name = name.get_or_insert_with(|| Name::new(&scope.name));
        if !targets(rule, subject, scope, name) {
            continue;
        }
        for (k, action) in scope.actions.iter().enumerate() {
            if !rule.covers(action) {
                continue;
            }
            let slot = match rule.effect {
                Effect::Allow if denied[k].is_none() => &mut allowed[k],
                Effect::Allow => continue,
                Effect::Deny => &mut denied[k],
            };
            slot.get_or_insert(index);
        }
        let no_deny_left = last_deny.is_none_or(|last| last <= index);
        let settled =
            (0..count).all(|k| denied[k].is_some() || (no_deny_left && allowed[k].is_some()));
        if settled {
            break;
        }
    }
    allowed
        .into_iter()
        .zip(denied)
        .map(|(allowed_by, denied_by)| match (allowed_by, denied_by) {
            (allowed_by, Some(rule)) => Verdict::Denied { rule, allowed_by },
            (Some(rule), None) => Verdict::Allowed(rule),
            (None, None) => Verdict::NotGranted,
        })
        .collect()
}

fn targets(rule: &Rule, subject: &Subject, scope: &Scope, name: &Name) -> bool {
    match &rule.target {
        Target::Catalog => scope.is_catalog(),
        Target::Repository(pattern) if scope.is_repository() => {
            let username = subject.username.as_deref();
            match pattern.binding() {
                Binding::None => pattern.matches(name, username, None),
                Binding::Group => subject
                    .groups
                    .iter()
                    .any(|g| pattern.matches(name, username, Some(&g.name))),
                Binding::Attribute(attribute) => subject
                    .attributes
                    .get(attribute)
                    .into_iter()
                    .flatten()
                    .any(|value| pattern.matches(name, username, Some(value))),
            }
        }
        Target::Repository(_) => false,
    }
}
