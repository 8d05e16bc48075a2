//! The realm's sessions as Keycloak's admin API shows and ends them: per user, per client,
//! counted per client; ending one session, or all of a realm's. keywarden keeps no offline
//! sessions, so the offline reads are the empty answers Keycloak gives when there are none.

use std::collections::BTreeMap;

use super::access::{authorize, Actor, ManageClients, ManageRealm, ManageUsers, ViewClients};
use super::access::{ViewRealm, ViewUsers};
use super::audited::Change;
use super::OpsError;
use crate::domain::{ClientUuid, RealmId, UserId};
use crate::state::AppState;
use crate::store::sessions::{RealmSession, Session};
use crate::store::tokens::RealmToken;
use crate::store::{self};

/// A session with its user's name and its clients (internal id and clientId).
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: Session,
    pub username: String,
    pub clients: Vec<(ClientUuid, String)>,
}

/// A client's session counts.
#[derive(Debug, Clone)]
pub struct ClientStats {
    pub client_uuid: ClientUuid,
    pub client_id: String,
    pub active: usize,
}

/// The user's sessions (`view-users`).
pub async fn of_user(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
) -> Result<Vec<SessionView>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let user = super::users::find(state, &granted, user_id).await?;
    let sessions =
        store::sessions::list_for_user(state.db.read(), &granted.realm().id, &user.id).await?;
    views(state, &granted.realm().id, sessions).await
}

/// The user's offline sessions at a client (`view-users`): none, once the user and the
/// client are found.
pub async fn offline_of_user(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
    client: &str,
) -> Result<Vec<SessionView>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    super::users::find(state, &granted, user_id).await?;
    // Keycloak words this one lookup differently from the client resources.
    super::clients::find(state, &granted, client)
        .await
        .map_err(|err| match err {
            OpsError::NotFound(_) => OpsError::NotFound("Client"),
            other => other,
        })?;
    Ok(Vec::new())
}

/// The sessions a client takes part in, by session id (`view-clients`).
pub async fn of_client(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    client: &str,
) -> Result<Vec<SessionView>, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let client = find_client(state, &granted.realm().id, client).await?;
    let now = state.clock.now_secs();
    let mut sessions =
        store::revocations::sessions_of_client(state.db.read(), &granted.realm().id, &client, now)
            .await?;
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    views(state, &granted.realm().id, sessions).await
}

/// `max` of the realm's sessions from `first`, most recently used first, with their users'
/// names (`view-users`).
pub async fn page_of_realm(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    first: i64,
    max: i64,
) -> Result<Vec<RealmSession>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    Ok(store::sessions::list_for_realm(state.db.read(), &granted.realm().id, first, max).await?)
}

/// `max` of the realm's live refresh and docker identity tokens from `first`, most recently
/// used first, with their users' names and clients' clientIds (`view-users`).
pub async fn tokens_of_realm(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    first: i64,
    max: i64,
) -> Result<Vec<RealmToken>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let now = state.clock.now_secs();
    Ok(
        store::tokens::list_for_realm(state.db.read(), &granted.realm().id, now, first, max)
            .await?,
    )
}

/// A client's offline sessions (`view-clients`): none, once the client is found.
pub async fn offline_of_client(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    client: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    find_client(state, &granted.realm().id, client).await?;
    Ok(())
}

/// How many sessions each client of the realm takes part in (`view-realm`); clients in none
/// are left out.
pub async fn stats(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<Vec<ClientStats>, OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let now = state.clock.now_secs();
    let pairs =
        store::revocations::session_clients(state.db.read(), &granted.realm().id, now).await?;
    let mut counts: BTreeMap<String, ClientStats> = BTreeMap::new();
    for pair in pairs {
        counts
            .entry(pair.client_uuid.to_string())
            .or_insert_with(|| ClientStats {
                client_uuid: pair.client_uuid.clone(),
                client_id: pair.client_id.clone(),
                active: 0,
            })
            .active += 1;
    }
    Ok(counts.into_values().collect())
}

/// Ends one session of the realm (`manage-users`); an offline session id is never found.
pub async fn end(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    session_id: &str,
    offline: bool,
) -> Result<(), OpsError> {
    const NOT_FOUND: OpsError = OpsError::NotFound("Sesssion");
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    if offline {
        return Err(NOT_FOUND);
    }
    let session = store::sessions::find(state.db.read(), &granted.realm().id, session_id)
        .await?
        .ok_or(NOT_FOUND)?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&session.user_id).await?;
    store::sessions::delete(tx.conn(), &granted.realm().id, &session.id).await?;
    tx.commit(Change::delete(
        "USER_SESSION",
        format!("sessions/{}", session.id),
    ))
    .await
}

/// Ends every session of the realm (`manage-users`).
pub async fn end_all(state: &AppState, actor: &Actor, realm: &str) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let mut tx = granted.begin(state).await?;
    store::revocations::end_realm_sessions(tx.conn(), &granted.realm().id).await?;
    tx.commit(Change::action("REALM", "logout-all")).await
}

/// Checks the rights of the realm's push-revocation (`manage-realm`). No client has an
/// admin URL to push to, so there is nothing to send.
pub async fn push_revocation(state: &AppState, actor: &Actor, realm: &str) -> Result<(), OpsError> {
    authorize::<ManageRealm>(state, actor, realm).await?;
    Ok(())
}

/// The same for one client (`manage-clients`), once it is found.
pub async fn push_client_revocation(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    client: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    find_client(state, &granted.realm().id, client).await?;
    Ok(())
}

/// A client of the realm by internal id, or Keycloak's "Could not find client".
async fn find_client(state: &AppState, realm: &RealmId, id: &str) -> Result<ClientUuid, OpsError> {
    const NOT_FOUND: OpsError = OpsError::NotFound("Could not find client");
    let id = ClientUuid::parse(id).ok_or(NOT_FOUND)?;
    store::clients::find_by_id(state.db.read(), realm, &id)
        .await?
        .map(|client| client.id)
        .ok_or(NOT_FOUND)
}

/// Adds each session's username and clients.
async fn views(
    state: &AppState,
    realm: &RealmId,
    sessions: Vec<Session>,
) -> Result<Vec<SessionView>, OpsError> {
    let now = state.clock.now_secs();
    let mut clients: BTreeMap<String, Vec<(ClientUuid, String)>> = BTreeMap::new();
    if !sessions.is_empty() {
        for pair in store::revocations::session_clients(state.db.read(), realm, now).await? {
            clients
                .entry(pair.session_id)
                .or_default()
                .push((pair.client_uuid, pair.client_id));
        }
    }
    let mut names: BTreeMap<UserId, String> = BTreeMap::new();
    let mut views = Vec::with_capacity(sessions.len());
    for session in sessions {
        let username = match names.get(&session.user_id) {
            Some(name) => name.clone(),
            None => {
                let name = store::users::find_by_id(state.db.read(), realm, &session.user_id)
                    .await?
                    .map(|u| u.username.to_string())
                    .unwrap_or_default();
                names.insert(session.user_id.clone(), name.clone());
                name
            }
        };
        views.push(SessionView {
            clients: clients.remove(&session.id).unwrap_or_default(),
            username,
            session,
        });
    }
    Ok(views)
}
