//! A user's live tokens as admins see them, and ending one of the user's sessions (the
//! sessions themselves are listed by `ops::sessions::of_user`).

use super::access::{authorize, Actor, ManageUsers, ViewUsers};
use super::audited::Change;
use super::OpsError;
use crate::state::AppState;
use crate::store::tokens::StoredToken;
use crate::store::{self};

/// A live token and the clientId of the client it was issued to.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub token: StoredToken,
    pub client_id: Option<String>,
}

/// The user's live refresh and docker identity tokens, with their clients' clientIds.
pub async fn tokens(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
) -> Result<Vec<TokenView>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let tokens = super::users::tokens(state, actor, realm, user_id).await?;
    let mut views = Vec::with_capacity(tokens.len());
    for token in tokens {
        let client =
            store::clients::find_by_id(state.db.read(), &granted.realm().id, &token.client_id)
                .await?
                .map(|c| c.client_id.to_string());
        views.push(TokenView {
            token,
            client_id: client,
        });
    }
    Ok(views)
}

/// Ends one of the user's sessions (its refresh tokens go with it).
pub async fn end(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
    session_id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = super::users::find_to_manage(state, &granted, user_id).await?;
    let owned = store::sessions::list_for_user(state.db.read(), &granted.realm().id, &user.id)
        .await?
        .iter()
        .any(|s| s.id == session_id);
    if !owned {
        return Err(OpsError::NotFound("Session"));
    }
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    store::sessions::delete(tx.conn(), &granted.realm().id, session_id).await?;
    tx.commit(Change::delete(
        "USER_SESSION",
        format!("sessions/{session_id}"),
    ))
    .await?;
    Ok(())
}
