//! Reading a realm's events: login events (docker and OIDC sign-ins, the console's too) and
//! admin events (who changed what), filtered and paged, with usernames resolved for display.

use std::collections::HashMap;

use super::access::{authorize, Actor, ViewEvents};
use super::OpsError;
use crate::domain::{Realm, RealmId, UserId, Username};
use crate::state::AppState;
use crate::store::events::{
    AdminEventFilter, LoginEventFilter, StoredAdminEvent, StoredLoginEvent,
};
use crate::store::{self};

/// A login event and the username it concerns, when known.
#[derive(Debug, Clone)]
pub struct LoginEventView {
    pub event: StoredLoginEvent,
    pub username: Option<String>,
}

/// An admin event and the administrator's username, when known.
#[derive(Debug, Clone)]
pub struct AdminEventView {
    pub event: StoredAdminEvent,
    pub username: Option<String>,
}

/// The realm whose events the actor may read (`view-events` is enough).
pub async fn realm(state: &AppState, actor: &Actor, realm: &str) -> Result<Realm, OpsError> {
    Ok(authorize::<ViewEvents>(state, actor, realm)
        .await?
        .realm()
        .clone())
}

/// Login events of the realm, newest first. `filter.username` may name a user by username
/// or id; it also matches failed attempts of usernames that do not exist.
pub async fn login_events(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    filter: &LoginEventFilter,
    first: i64,
    max: i64,
) -> Result<Vec<LoginEventView>, OpsError> {
    let granted = authorize::<ViewEvents>(state, actor, realm).await?;
    let realm_id = &granted.realm().id;
    state.login_log.flush().await;
    let mut filter = filter.clone();
    if let Some(user) = filter.username.clone() {
        filter.user_id = resolve_user(state, &[realm_id], &user).await?;
        filter.username = Username::parse(&user).ok().map(|u| u.to_string());
    }
    let events = store::events::search_logins(
        state.db.read(),
        realm_id,
        &filter,
        first.max(0),
        max.clamp(0, 1000),
    )
    .await?;
    let mut names = Names::default();
    let mut views = Vec::with_capacity(events.len());
    for event in events {
        let recorded = serde_json::from_str::<HashMap<String, String>>(&event.details)
            .ok()
            .and_then(|d| d.get("username").cloned());
        let username = match recorded {
            Some(name) => Some(name),
            None => {
                names
                    .lookup(state, Some(realm_id.as_str()), &event.user_id)
                    .await?
            }
        };
        views.push(LoginEventView { event, username });
    }
    Ok(views)
}

/// Admin events of the realm, newest first. `filter.auth_user_id` may name the administrator
/// by username (of this realm or master) or id.
pub async fn admin_events(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    filter: &AdminEventFilter,
    first: i64,
    max: i64,
) -> Result<Vec<AdminEventView>, OpsError> {
    let granted = authorize::<ViewEvents>(state, actor, realm).await?;
    let realm_id = &granted.realm().id;
    let mut filter = filter.clone();
    if let Some(user) = filter.auth_user_id.clone() {
        let master = store::realms::find_by_name(state.db.read(), super::realms::MASTER)
            .await?
            .map(|r| r.id);
        let mut realms = vec![realm_id];
        realms.extend(master.as_ref());
        filter.auth_user_id = Some(
            resolve_user(state, &realms, &user)
                .await?
                .unwrap_or(user.clone()),
        );
    }
    let events = store::events::search_admin(
        state.db.read(),
        realm_id,
        &filter,
        first.max(0),
        max.clamp(0, 1000),
    )
    .await?;
    let mut names = Names::default();
    let mut views = Vec::with_capacity(events.len());
    for event in events {
        let username = names
            .lookup(state, event.auth_realm_id.as_deref(), &event.auth_user_id)
            .await?;
        views.push(AdminEventView { event, username });
    }
    Ok(views)
}

/// The id of the user `user` names (a user id, or a username in one of `realms`).
async fn resolve_user(
    state: &AppState,
    realms: &[&RealmId],
    user: &str,
) -> Result<Option<String>, OpsError> {
    if let Some(id) = UserId::parse(user) {
        return Ok(Some(id.to_string()));
    }
    let Ok(username) = Username::parse(user) else {
        return Ok(None);
    };
    for realm in realms {
        if let Some(found) =
            store::users::find_by_username(state.db.read(), realm, &username).await?
        {
            return Ok(Some(found.id.to_string()));
        }
    }
    Ok(None)
}

/// Usernames by user id, looked up once per page.
#[derive(Default)]
struct Names(HashMap<String, Option<String>>);

impl Names {
    async fn lookup(
        &mut self,
        state: &AppState,
        realm: Option<&str>,
        user: &Option<String>,
    ) -> Result<Option<String>, OpsError> {
        let (Some(realm), Some(user)) = (realm.and_then(RealmId::parse), user.as_deref()) else {
            return Ok(None);
        };
        if let Some(known) = self.0.get(user) {
            return Ok(known.clone());
        }
        let name = match UserId::parse(user) {
            Some(id) => store::users::find_by_id(state.db.read(), &realm, &id)
                .await?
                .map(|u| u.username.to_string()),
            None => None,
        };
        self.0.insert(user.to_owned(), name.clone());
        Ok(name)
    }
}
