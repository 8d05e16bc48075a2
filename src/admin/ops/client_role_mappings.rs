//! Client role mappings of users, above all the `realm-management` roles that make a user an
//! administrator of their realm (`realm-admin`, `manage-users`, `view-users`, ...).
//!
//! Granting or taking away a `realm-management` role needs, besides `manage-users`, that the
//! actor holds that role itself (or is a master admin): nobody hands out more than they have.

use super::access::{authorize, Actor, Granted, Right};
use super::events::{self, Operation};
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

async fn client(state: &AppState, granted: &Granted, client_id: &str) -> Result<Client, OpsError> {
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
    let granted = authorize(state, actor, realm, Right::ViewUsers).await?;
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
    let granted = authorize(state, actor, realm, Right::ManageUsers).await?;
    let user = super::users::find(state, &granted, user_id).await?;
    let client = client(state, &granted, client_id).await?;
    let mut tx = state.db.begin().await?;
    for name in roles {
        let role = store::roles::find_client_role(&mut *tx, &client.id, name)
            .await?
            .ok_or(OpsError::NotFound("Role"))?;
        if client.client_id.as_str() == "realm-management" && !holds(&granted, name) {
            return Err(OpsError::Forbidden);
        }
        if add {
            store::roles::grant_to_user(&mut *tx, &user.id, &role.id).await?;
        } else {
            store::roles::revoke_from_user(&mut *tx, &user.id, &role.id).await?;
        }
    }
    let operation = if add {
        Operation::Create
    } else {
        Operation::Delete
    };
    events::record(
        &mut tx,
        &granted,
        operation,
        "CLIENT_ROLE_MAPPING",
        format!("users/{}/role-mappings/clients/{}", user.id, client.id),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the actor may hand out the `realm-management` role `name` in the granted realm.
fn holds(granted: &Granted, name: &str) -> bool {
    let actor = granted.actor();
    actor.master_admin
        || (actor.realm_id == granted.realm().id
            && actor.management_roles.iter().any(|held| held == name))
}
