//! What the console's access policy page needs beside the policy itself: the realm's role
//! and group names a rule may name (an unknown name is warned about, not refused), and the
//! tester, which asks the token endpoint's own engine what a user would get and which rule
//! decided it.

use std::net::IpAddr;

use super::access::{authorize, Actor, ViewClients, ViewRealm, ViewUsers};
use super::clients::find;
use super::OpsError;
use crate::domain::Protocol;
use crate::protocol::docker::conditions::parse_client_address;
use crate::protocol::docker::decision::ScopeDecision;
use crate::protocol::docker::policy::Who;
use crate::protocol::docker::{scope, subject, AccessPolicy};
use crate::protocol::login;
use crate::state::AppState;
use crate::store;

/// The longest scope text the tester reads, in bytes.
pub const MAX_TEST_SCOPE_BYTES: usize = 2048;

/// The realm's realm role names and group names and paths, each `None` when the caller may
/// not see them (roles need view-realm, groups view-users).
#[derive(Debug, Default)]
pub struct KnownNames {
    pub roles: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
}

impl KnownNames {
    /// Why `who` names nothing in the realm, when it names a role or group the caller can
    /// see is missing.
    pub fn unknown(&self, who: &Who) -> Option<String> {
        match who {
            Who::Role(name) if self.roles.as_ref().is_some_and(|r| !r.contains(name)) => Some(
                format!("this realm has no role “{name}”: the rule applies to nobody until it is created"),
            ),
            Who::Group(name) if self.groups.as_ref().is_some_and(|g| !g.contains(name)) => Some(
                format!("this realm has no group “{name}”: the rule applies to nobody until it is created"),
            ),
            _ => None,
        }
    }
}

/// The role and group names of `realm` that the caller may see.
pub async fn known_names(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<KnownNames, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let realm_id = &granted.realm().id;
    let mut names = KnownNames::default();
    if granted.also::<ViewRealm>().is_some() {
        let roles = store::roles::list_realm_roles(state.db.read(), realm_id).await?;
        names.roles = Some(roles.into_iter().map(|r| r.name).collect());
    }
    if granted.also::<ViewUsers>().is_some() {
        let groups = store::groups::list_all(state.db.read(), realm_id).await?;
        let mut all: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
        all.extend(
            groups
                .iter()
                .filter_map(|g| store::groups::path_of(&g.id, &groups)),
        );
        names.groups = Some(all);
    }
    Ok(names)
}

/// What the tester is asked: a username (none: a request without credentials), the scopes
/// as a registry sends them (a bare repository name asks for pull and push), and the
/// client's address.
#[derive(Debug, Default, Clone)]
pub struct TestRequest {
    pub username: String,
    pub scope: String,
    pub address: String,
}

/// The tester's answer.
#[derive(Debug)]
pub enum TestOutcome {
    /// An input is not valid: the field, as the form names it, and why.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// No such user: the sign-in fails with 401 before the policy is asked.
    UnknownUser,
    /// The user is disabled or must act first: the sign-in fails with 401.
    CannotSignIn,
    /// Without credentials, the endpoint asks for a sign-in (401): no rule grants anything
    /// to anonymous requests.
    SignInRequired,
    /// What the engine decided, with the roles and groups it saw.
    Decided {
        roles: Vec<String>,
        groups: Vec<String>,
        address: Option<IpAddr>,
        decisions: Vec<ScopeDecision>,
    },
}

/// Whether the caller may use the tester: it needs view-clients and view-users.
pub async fn may_test(state: &AppState, actor: &Actor, realm: &str) -> Result<bool, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    Ok(granted.also::<ViewUsers>().is_some())
}

/// Asks the stored policy of docker-v2 client `id` what `request` would get. Needs
/// view-clients and view-users: the answer shows a user's roles and groups.
pub async fn test(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    request: &TestRequest,
) -> Result<TestOutcome, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    if granted.also::<ViewUsers>().is_none() {
        return Err(OpsError::Forbidden);
    }
    let client = find(state, &granted, id).await?;
    if client.protocol != Protocol::DockerV2 {
        return Err(OpsError::Invalid(
            "Only docker-v2 clients have an access policy".into(),
        ));
    }
    let policy = client.access_policy.unwrap_or(AccessPolicy::AllowAll);
    let requested = match parse_scopes(&request.scope) {
        Ok(requested) => requested,
        Err(message) => {
            return Ok(TestOutcome::Invalid {
                field: "Scope",
                message,
            })
        }
    };
    let address = match request.address.trim() {
        "" => None,
        raw => match parse_client_address(raw) {
            Some(ip) => Some(ip),
            None => {
                return Ok(TestOutcome::Invalid {
                    field: "Address",
                    message: "enter an IPv4 or IPv6 address, such as 192.0.2.7 or 2001:db8::7"
                        .into(),
                })
            }
        },
    };
    let realm = granted.realm();
    let user = match request.username.trim() {
        "" => {
            if !policy.admits_anonymous(&requested) {
                return Ok(TestOutcome::SignInRequired);
            }
            None
        }
        name => match login::find_user(state, realm, name).await? {
            None => return Ok(TestOutcome::UnknownUser),
            Some(user) if !user.enabled || !user.required_actions.is_empty() => {
                return Ok(TestOutcome::CannotSignIn)
            }
            Some(user) => Some(user),
        },
    };
    let subject = subject::load(&state.db, realm, user.as_ref(), address, &policy).await?;
    Ok(TestOutcome::Decided {
        decisions: policy.decide(&subject, &requested),
        roles: subject.realm_roles,
        groups: subject.groups.into_iter().map(|g| g.path).collect(),
        address,
    })
}

/// The scopes typed in the tester: as a registry sends them, or bare repository names.
fn parse_scopes(raw: &str) -> Result<Vec<scope::Scope>, String> {
    if raw.len() > MAX_TEST_SCOPE_BYTES {
        return Err(format!("at most {MAX_TEST_SCOPE_BYTES} characters"));
    }
    let written: Vec<String> = raw
        .split_whitespace()
        .map(|s| {
            if s.contains(':') {
                s.to_owned()
            } else {
                format!("repository:{s}:pull,push")
            }
        })
        .collect();
    let scopes = scope::parse_all(written.iter().map(String::as_str)).map_err(|e| e.to_string())?;
    if scopes.is_empty() || scopes.iter().any(|s| s.actions.is_empty()) {
        return Err("enter a scope such as repository:team/app:pull,push".into());
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_ask_for_pull_and_push() {
        let scopes = parse_scopes("team/app registry:catalog:*").unwrap();
        assert_eq!(scopes[0].name, "team/app");
        assert_eq!(scopes[0].actions, ["pull", "push"]);
        assert!(scopes[1].is_catalog());
        assert!(parse_scopes("  ").is_err());
        assert!(parse_scopes(&"a ".repeat(2000)).is_err());
    }
}
