//! What a confidential client authenticates with, beyond its secret: its service-account user
//! and the rotated secret Keycloak keeps under a rotation policy (keywarden has none, so there
//! is never a rotated secret to show).

use super::access::{authorize, Actor, ManageClients, ViewClients};
use super::audited::Change;
use super::OpsError;
use crate::domain::User;
use crate::state::AppState;
use crate::store;

/// The service-account user of a client, as `GET /clients/{id}/service-account-user`.
pub async fn service_account_user(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<User, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let client = super::clients::find(state, &granted, id).await?;
    let account =
        store::users::find_service_account(state.db.read(), &granted.realm().id, &client.id)
            .await?;
    match account {
        Some(user) if client.service_accounts_enabled => Ok(user),
        _ => Err(OpsError::Refused(format!(
            "Service account not enabled for the client '{}'",
            client.client_id
        ))),
    }
}

/// `GET /clients/{id}/client-secret/rotated`: without a rotation policy there is none.
pub async fn rotated_secret(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<String, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    super::clients::find_covered(state, &granted, id).await?;
    Err(OpsError::NotFound("Client does not have a rotated secret"))
}

/// `DELETE /clients/{id}/client-secret/rotated`: there is nothing to invalidate, and the
/// request is recorded as Keycloak records it.
pub async fn invalidate_rotated_secret(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    let client = super::clients::find_covered(state, &granted, id).await?;
    let tx = granted.begin(state).await?;
    tx.commit(Change::delete(
        "CLIENT",
        format!("clients/{}/client-secret/rotated", client.id),
    ))
    .await
}
