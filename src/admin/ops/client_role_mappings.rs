//! Client role mappings of users, above all the `realm-management` roles that make a user an
//! administrator of their realm (`realm-admin`, `manage-users`, `view-users`, ...).
//!
//! Granting or taking away a role needs, besides `manage-users`, every power that role carries
//! (a `realm-management` role, or a composite holding one): nobody hands out more than they
//! have.

use super::access::{authorize, Actor, Granted, ManageUsers, Right, ViewUsers};
use super::audited::{Change, Operation};
use super::OpsError;
use crate::domain::{Client, Role};
use crate::state::AppState;
use crate::store;

/// A client's roles as mapped to one user.
#[derive(Debug, Clone)]
pub struct ClientRoles {
    pub client: Client,
    /// Granted to the user directly.
    pub assigned: Vec<Role>,
    /// The client's other roles.
    pub available: Vec<Role>,
}

async fn client<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    client_id: &str,
) -> Result<Client, OpsError> {
    store::clients::find_by_client_id(state.db.read(), &granted.realm().id, client_id)
        .await?
        .ok_or(OpsError::NotFound("Client"))
}

/// The roles of the client `client_id` (its clientId), split into the user's and the rest.
pub async fn of_user(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
    client_id: &str,
) -> Result<ClientRoles, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let user = super::users::find(state, &granted, user_id).await?;
    let client = client(state, &granted, client_id).await?;
    let assigned = store::roles::user_client_roles(state.db.read(), &client.id, &user.id).await?;
    let available = store::roles::list_client_roles(state.db.read(), &client.id)
        .await?
        .into_iter()
        .filter(|r| !assigned.iter().any(|a| a.id == r.id))
        .collect();
    Ok(ClientRoles {
        client,
        assigned,
        available,
    })
}

/// Grants (`add`) or takes away roles of the client `client_id`, by role name.
pub async fn map(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user_id: &str,
    client_id: &str,
    roles: &[String],
    add: bool,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = super::users::find_to_manage(state, &granted, user_id).await?;
    let client = client(state, &granted, client_id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    for name in roles {
        let role = store::roles::find_client_role(tx.conn(), &client.id, name)
            .await?
            .ok_or(OpsError::NotFound("Role"))?;
        granted.require_covers(&super::users::role_powers(tx.conn(), &granted, &role).await?)?;
        if add {
            store::roles::grant_to_user(tx.conn(), &user.id, &role.id).await?;
        } else {
            store::roles::revoke_from_user(tx.conn(), &user.id, &role.id).await?;
        }
    }
    let operation = if add {
        Operation::Create
    } else {
        Operation::Delete
    };
    tx.commit(Change::new(
        operation,
        "CLIENT_ROLE_MAPPING",
        format!("users/{}/role-mappings/clients/{}", user.id, client.id),
    ))
    .await?;
    Ok(())
}
