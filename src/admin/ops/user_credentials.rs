//! A user's credentials, as Keycloak's `UserResource` serves them: list (`view-users`),
//! delete, label and reorder (`manage-users`, on users whose every admin power the actor
//! holds). Only a deletion is an admin event in Keycloak; a label or a move records none.

use super::access::{authorize, Actor, ManageUsers, ViewUsers};
use super::audited::Change;
use super::users::{find, find_to_manage};
use super::OpsError;
use crate::state::AppState;
use crate::store::credentials::StoredCredential;
use crate::store::{self};

/// The longest label kept (Keycloak's `USER_LABEL` column).
pub const MAX_LABEL_CHARS: usize = 255;
/// The message of an empty label, as Keycloak words it.
pub const EMPTY_LABEL: &str = "Credential label must not be empty";

/// The user's credentials, in the user's order.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<Vec<StoredCredential>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let user = find(state, &granted, id).await?;
    Ok(store::credentials::list_for_user(state.db.read(), &user.id).await?)
}

/// Checks that the user exists and may be viewed (for the storage credential types, which
/// are none for keywarden's own users).
pub async fn require_viewable(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    find(state, &granted, id).await.map(drop)
}

/// Removes one of the user's credentials (an admin event of type ACTION, as in Keycloak).
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    credential: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    if !store::credentials::delete(tx.conn(), &user.id, credential).await? {
        return Err(OpsError::NotFound("Credential"));
    }
    tx.commit(Change::action(
        "USER",
        format!("users/{}/credentials/{credential}", user.id),
    ))
    .await
}

/// Labels one of the user's credentials. A missing credential is answered before an empty
/// label, as Keycloak checks them.
pub async fn set_label(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    credential: &str,
    label: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    if store::credentials::find(tx.conn(), &user.id, credential)
        .await?
        .is_none()
    {
        return Err(OpsError::NotFound("Credential"));
    }
    if label.trim().is_empty() {
        return Err(OpsError::Invalid(EMPTY_LABEL.into()));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(OpsError::Invalid(format!(
            "Credential label must not be longer than {MAX_LABEL_CHARS} characters"
        )));
    }
    store::credentials::set_label(tx.conn(), &user.id, credential, label).await?;
    tx.commit_unrecorded().await
}

/// Moves one of the user's credentials to the top of the list (`after` None) or just below
/// another; an `after` that is not the user's leaves the list as it is, as in Keycloak.
pub async fn move_after(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    credential: &str,
    after: Option<&str>,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    if store::credentials::find(tx.conn(), &user.id, credential)
        .await?
        .is_none()
    {
        return Err(OpsError::NotFound("Credential"));
    }
    store::credentials::move_after(tx.conn(), &user.id, credential, after).await?;
    tx.commit_unrecorded().await
}
