//! The access policy tester: "what would alice get for repository:team/app:pull,push, and
//! which rule decided it", answered by the token endpoint's own engine (see
//! `ops::docker_policy::test`) from the saved policy. A GET form: testing changes nothing.

use serde::Deserialize;

use super::ClientPath;
use crate::admin::console::error::ConsoleError;
use crate::admin::console::session::Console;
use crate::admin::ops::docker_policy::{self, TestOutcome, TestRequest};
use crate::admin::ops::OpsError;
use crate::protocol::docker::decision::Verdict;

/// The tester's fields, from the query string.
#[derive(Debug, Default, Deserialize)]
pub struct TesterQuery {
    test_user: Option<String>,
    test_scope: Option<String>,
    test_address: Option<String>,
}

/// The tester as the page shows it: its inputs and, once asked, its answer.
#[derive(Debug, Default)]
pub struct Tester {
    pub user: String,
    pub scope: String,
    pub address: String,
    /// Whether the caller may use it (it needs view-users).
    pub allowed: bool,
    pub answer: Option<Answer>,
}

/// The tester's answer in words.
#[derive(Debug)]
pub enum Answer {
    /// A field that is not valid, as the form names it, and why.
    Invalid(&'static str, String),
    /// The request never reaches the policy (401), and why.
    Refused(String),
    /// The roles and groups seen, and one line per requested action.
    Decided {
        who: String,
        roles: String,
        groups: String,
        address: String,
        lines: Vec<Line>,
    },
}

/// One requested action and its verdict.
#[derive(Debug)]
pub struct Line {
    pub scope: String,
    pub action: String,
    pub granted: bool,
    pub reason: String,
}

impl Tester {
    /// Runs the tester when its form was sent; the inputs are kept for the page.
    pub async fn run(
        console: &Console,
        path: &ClientPath,
        query: TesterQuery,
    ) -> Result<Tester, ConsoleError> {
        let mut tester = Tester {
            user: query.test_user.unwrap_or_default(),
            scope: query.test_scope.clone().unwrap_or_default(),
            address: query.test_address.unwrap_or_default(),
            allowed: true,
            answer: None,
        };
        if query.test_scope.is_none() {
            tester.allowed =
                docker_policy::may_test(&console.state, &console.actor, &path.target).await?;
            return Ok(tester);
        }
        let request = TestRequest {
            username: tester.user.clone(),
            scope: tester.scope.clone(),
            address: tester.address.clone(),
        };
        let outcome = docker_policy::test(
            &console.state,
            &console.actor,
            &path.target,
            &path.id,
            &request,
        )
        .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(OpsError::Forbidden) => {
                tester.allowed = false;
                return Ok(tester);
            }
            Err(err) => return Err(err.into()),
        };
        tester.answer = Some(answer(&tester, outcome));
        Ok(tester)
    }
}

fn answer(tester: &Tester, outcome: TestOutcome) -> Answer {
    let user = tester.user.trim();
    match outcome {
        TestOutcome::Invalid { field, message } => Answer::Invalid(field, message),
        TestOutcome::UnknownUser => Answer::Refused(format!(
            "This realm has no user “{user}”: the registry's sign-in fails (401) before the policy is asked."
        )),
        TestOutcome::CannotSignIn => Answer::Refused(format!(
            "“{user}” cannot sign in (disabled, or with actions to complete first): the sign-in fails (401)."
        )),
        TestOutcome::SignInRequired => Answer::Refused(
            "Without credentials the registry is asked to sign in (401): no rule grants anything to anonymous requests."
                .into(),
        ),
        TestOutcome::Decided {
            roles,
            groups,
            address,
            decisions,
        } => {
            let mut lines = Vec::new();
            for decision in &decisions {
                let scope = format!("{}:{}", decision.scope.resource_type, decision.scope.name);
                for (action, verdict) in decision.scope.actions.iter().zip(&decision.verdicts) {
                    lines.push(Line {
                        scope: scope.clone(),
                        action: action.clone(),
                        granted: verdict.granted(),
                        reason: reason(verdict),
                    });
                }
            }
            let list = |items: Vec<String>| {
                if items.is_empty() {
                    "none".to_owned()
                } else {
                    items.join(", ")
                }
            };
            Answer::Decided {
                who: if user.is_empty() {
                    "A request without credentials".into()
                } else {
                    format!("User “{user}”")
                },
                roles: list(roles),
                groups: list(groups),
                address: address.map_or_else(
                    || "unknown (rules with addresses do not apply)".into(),
                    |ip| ip.to_string(),
                ),
                lines,
            }
        }
    }
}

fn reason(verdict: &Verdict) -> String {
    match verdict {
        Verdict::AllowAll => "granted: the policy allows all signed-in users".into(),
        Verdict::Allowed(rule) => format!("granted by rule {}", rule + 1),
        Verdict::Denied {
            rule,
            allowed_by: Some(allowed),
        } => format!(
            "denied by rule {} (granted by rule {}, then removed)",
            rule + 1,
            allowed + 1
        ),
        Verdict::Denied {
            rule,
            allowed_by: None,
        } => format!("denied by rule {}", rule + 1),
        Verdict::NotGranted => "not granted: no rule grants it".into(),
    }
}
