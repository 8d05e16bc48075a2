//! Brute-force detection as admins see it (Keycloak's attack-detection): a user's failed
//! sign-ins and lock, and clearing them.

use super::access::{authorize, Actor, ManageUsers, ViewUsers};
use super::audited::Change;
use super::OpsError;
use crate::state::AppState;
use crate::store::{self, login_failures::LoginFailure};

/// The failure record of a user of the realm, if any.
pub async fn status(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
) -> Result<Option<LoginFailure>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let user = super::users::find(state, &granted, user_id).await?;
    Ok(
        store::login_failures::find(state.db.read(), &granted.realm().id, user.username.as_str())
            .await?,
    )
}

/// Forgets a user's failed sign-ins, lifting any lock.
pub async fn clear(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = super::users::find_to_manage(state, &granted, user_id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    store::login_failures::clear(tx.conn(), &granted.realm().id, user.username.as_str()).await?;
    tx.commit(Change::delete(
        "USER_LOGIN_FAILURE",
        format!("attack-detection/brute-force/users/{}", user.id),
    ))
    .await?;
    Ok(())
}
