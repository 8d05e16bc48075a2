//! Password sign-in shared by every protocol: the same checks, the same timing, the same
//! answer for unknown users, wrong passwords and disabled users.

use std::collections::BTreeMap;
use std::time::Instant;

use secrecy::SecretString;

use crate::crypto::passwords::Verdict;
use crate::domain::{Realm, User, UserId, Username};
use crate::protocol::brute_force::{self, Slot};
use crate::state::AppState;
use crate::store::events::LoginEvent;
use crate::store::{self, StoreError};

/// Why a sign-in failed, as recorded in the event (never shown to the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    UserNotFound,
    InvalidCredentials,
    UserDisabled,
    /// Right password, but a required action (a temporary password) is pending.
    ActionRequired,
    /// Locked for a while by brute-force protection (whatever the password).
    TemporarilyLocked,
}

impl LoginFailure {
    /// Keycloak's event error code.
    pub fn code(self) -> &'static str {
        match self {
            LoginFailure::UserNotFound => "user_not_found",
            LoginFailure::InvalidCredentials => "invalid_user_credentials",
            LoginFailure::UserDisabled => "user_disabled",
            LoginFailure::ActionRequired => "resolve_required_actions",
            LoginFailure::TemporarilyLocked => "user_temporarily_disabled",
        }
    }
}

/// Every login event type keywarden records.
pub const EVENT_TYPES: &[&str] = &[
    "LOGIN",
    "LOGIN_ERROR",
    "CLIENT_LOGIN",
    "CODE_TO_TOKEN",
    "REFRESH_TOKEN",
    "LOGOUT",
];

/// Checks a username and password in `realm`. Credentials that verified recently against the
/// same stored hash, with no failure on record for the name, are not hashed again (see
/// `verified_credentials`). Unknown users cost the same time as wrong
/// passwords (a dummy hash is verified), the password is checked before `enabled` so a
/// disabled account is indistinguishable from a wrong password by timing, and the realm's
/// brute-force protection counts failures and refuses, unchecked, guesses at a locked name
/// or beyond what the guesses already being checked allow (see `brute_force`).
pub async fn verify_password(
    state: &AppState,
    realm: &Realm,
    username: &str,
    password: SecretString,
    ip: Option<&str>,
) -> Result<Result<User, (LoginFailure, Option<User>)>, StoreError> {
    let now_ms = crate::clock::now_ms();
    let user = find_user(state, realm, username).await?;
    // One failure budget per account, however it is named (username or email, any case).
    let key = match &user {
        Some(user) => user.username.to_string(),
        None => username.trim().to_lowercase(),
    };
    let slot = brute_force::take_slot(state, realm, &key, now_ms).await?;
    let slot = match slot {
        Ok(slot) => slot,
        Err(brute_force::Refused) => return Ok(Err((LoginFailure::TemporarilyLocked, user))),
    };
    let stored = match &user {
        Some(user) => store::users::password_hash_cached(&state.db, &user.id).await?,
        None => None,
    };
    let tag = state.verified.tag(&realm.id, username, &password);
    let now = Instant::now();
    let no_failures = slot.as_ref().is_none_or(Slot::no_failures_on_record);
    let recalled = match (&user, &stored) {
        (Some(user), Some(stored)) if no_failures => {
            state.verified.recalls(&tag, &user.id, stored, now)
        }
        _ => false,
    };
    let verdict = if recalled {
        Verdict::Right
    } else {
        state
            .passwords
            .check(password.clone(), stored.clone())
            .await
    };
    match (verdict, &user, stored) {
        (Verdict::Wrong, _, _) => state.verified.forget(&tag),
        (Verdict::Outdated, Some(user), Some(stored)) => {
            rehash_later(state, user.id.clone(), stored, password);
        }
        (Verdict::Right, Some(user), Some(stored)) if !recalled => {
            state.verified.remember(tag, &user.id, &stored, now);
        }
        _ => {}
    }
    let verified = verdict.is_right();
    let outcome = match user {
        None => Err((LoginFailure::UserNotFound, None)),
        Some(user) if !verified => Err((LoginFailure::InvalidCredentials, Some(user))),
        Some(user) if !user.enabled => Err((LoginFailure::UserDisabled, Some(user))),
        Some(user) if !user.required_actions.is_empty() => {
            Err((LoginFailure::ActionRequired, Some(user)))
        }
        Some(user) => Ok(user),
    };
    if let Some(slot) = slot {
        match &outcome {
            Ok(_) => slot.succeeded(state, realm).await?,
            Err((LoginFailure::UserNotFound | LoginFailure::InvalidCredentials, _)) => {
                slot.failed(state, realm, ip, now_ms).await?;
            }
            Err(_) => drop(slot),
        }
    }
    Ok(outcome)
}

/// Re-hashes a right password whose stored hash is outdated (an imported Keycloak hash, or
/// argon2 with other parameters), as Keycloak's `rehashPasswordIfRequired` does at every
/// successful check: off the request, on the hashing pool, and written only if the stored
/// hash is still the one just verified, so a password changed meanwhile is never undone.
/// The credential keeps its id, label and creation date. A failure is logged; the next
/// sign-in tries again.
fn rehash_later(state: &AppState, user: UserId, verified: String, password: SecretString) {
    let (passwords, db) = (state.passwords.clone(), state.db.clone());
    tokio::spawn(async move {
        let Some(fresh) = passwords.rehash(password, &verified).await else {
            return;
        };
        let written = match fresh {
            Ok(phc) => {
                store::credentials::replace_password_hash(db.write(), &user, &verified, &phc)
                    .await
                    .map_err(anyhow::Error::from)
            }
            Err(err) => Err(err.into()),
        };
        if let Err(err) = written {
            tracing::warn!(error = format!("{err:#}"), "re-hashing a password failed");
        }
    });
}

/// The user `username` names: by username or, as Keycloak allows by default, by email.
pub async fn find_user(
    state: &AppState,
    realm: &Realm,
    username: &str,
) -> Result<Option<User>, StoreError> {
    let by_username = match Username::parse(username) {
        Ok(name) => store::users::find_by_username_cached(&state.db, &realm.id, &name).await?,
        Err(_) => None,
    };
    Ok(match by_username {
        None if username.contains('@') => {
            store::users::find_by_email(state.db.read(), &realm.id, username).await?
        }
        found => found,
    })
}

/// Records a login event (stored shortly after, see `login_log`) if the realm keeps events of
/// its type; never fails the request.
pub async fn record(state: &AppState, realm: &Realm, event: LoginEvent) {
    if realm.events_enabled && realm.enabled_event_types.allows(event.event_type) {
        state.login_log.record(event).await;
    }
}

/// A login event with the common fields filled in.
pub fn event(
    realm: &Realm,
    event_type: &'static str,
    user: Option<&User>,
    client_id: Option<&str>,
    ip: Option<&str>,
    details: BTreeMap<&'static str, String>,
) -> LoginEvent {
    LoginEvent {
        realm_id: realm.id.clone(),
        event_type,
        user_id: user.map(|u| u.id.to_string()),
        client_id: client_id.map(str::to_owned),
        ip_address: ip.map(str::to_owned),
        error: None,
        details,
    }
}

/// Who is calling, as a session or token records it: the address and the user agent.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Caller {
    /// The caller of `req` ([`client_ip`] and [`user_agent`]).
    pub fn of(req: &actix_web::HttpRequest, state: &AppState) -> Caller {
        Caller {
            ip: client_ip(req, state),
            user_agent: user_agent(req),
        }
    }

    /// The caller as the store records it.
    pub fn origin(&self) -> crate::store::sessions::Origin<'_> {
        crate::store::sessions::Origin {
            ip_address: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

/// The longest user agent stored with a session or token, in characters.
pub const USER_AGENT_MAX_CHARS: usize = 256;

/// The caller's `User-Agent`, cut to [`USER_AGENT_MAX_CHARS`] characters; none when absent,
/// empty or not text.
pub fn user_agent(req: &actix_web::HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)?
        .to_str()
        .ok()?
        .trim();
    let capped: String = value.chars().take(USER_AGENT_MAX_CHARS).collect();
    (!capped.is_empty()).then_some(capped)
}

/// The caller's address: the peer, or the proxy-reported client when proxy headers are trusted.
pub fn client_ip(req: &actix_web::HttpRequest, state: &AppState) -> Option<String> {
    if state.settings.proxy_headers {
        req.connection_info()
            .realip_remote_addr()
            .map(str::to_owned)
    } else {
        req.peer_addr().map(|a| a.ip().to_string())
    }
}
