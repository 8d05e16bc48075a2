//! Password sign-in shared by every protocol: the same checks, the same timing, the same
//! answer for unknown users, wrong passwords and disabled users.

use std::collections::BTreeMap;

use secrecy::SecretString;

use crate::domain::{Realm, User, Username};
use crate::protocol::brute_force;
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

/// Checks a username and password in `realm`. Unknown users cost the same time as wrong
/// passwords (a dummy hash is verified), the password is checked before `enabled` so a
/// disabled account is indistinguishable from a wrong password by timing, and the realm's
/// brute-force protection counts failures and refuses locked names.
pub async fn verify_password(
    state: &AppState,
    realm: &Realm,
    username: &str,
    password: SecretString,
    ip: Option<&str>,
) -> Result<Result<User, (LoginFailure, Option<User>)>, StoreError> {
    let now_ms = crate::clock::now_ms();
    let locked = brute_force::locked(state, realm, username, now_ms).await?;
    let by_username = match Username::parse(username) {
        Ok(name) => store::users::find_by_username_cached(&state.db, &realm.id, &name).await?,
        Err(_) => None,
    };
    // As Keycloak allows by default, an email address signs in too.
    let user = match by_username {
        None if username.contains('@') => {
            store::users::find_by_email(state.db.read(), &realm.id, username).await?
        }
        found => found,
    };
    let stored = match &user {
        Some(user) => store::users::password_hash_cached(&state.db, &user.id).await?,
        None => None,
    };
    let verified = state.passwords.verify(password, stored).await;
    let outcome = match user {
        None => Err((LoginFailure::UserNotFound, None)),
        Some(user) if !verified => Err((LoginFailure::InvalidCredentials, Some(user))),
        Some(user) if locked => Err((LoginFailure::TemporarilyLocked, Some(user))),
        Some(user) if !user.enabled => Err((LoginFailure::UserDisabled, Some(user))),
        Some(user) if !user.required_actions.is_empty() => {
            Err((LoginFailure::ActionRequired, Some(user)))
        }
        Some(user) => Ok(user),
    };
    match &outcome {
        Ok(_) => brute_force::succeeded(state, realm, username).await?,
        Err((LoginFailure::UserNotFound | LoginFailure::InvalidCredentials, _)) => {
            brute_force::failed(state, realm, username, ip, now_ms).await?;
        }
        Err(_) => {}
    }
    Ok(outcome)
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
