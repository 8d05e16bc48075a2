//! Realm role operations.

use super::access::{authorize, Actor, ManageRealm, ViewRealm, ViewUsers};
use super::audited::Change;
use super::role_edits::RoleAt;
use super::OpsError;
use crate::admin::repr::RoleRepr;
use crate::domain::{Role, RoleId, User};
use crate::state::AppState;
use crate::store;

pub(super) fn role_name(raw: Option<&str>) -> Result<String, OpsError> {
    let name = raw.unwrap_or_default().trim();
    if name.is_empty() {
        return Err(OpsError::Refused("role has no name".into()));
    }
    if name.len() > 255 || name.contains('/') {
        return Err(OpsError::Invalid(
            "Role name must be at most 255 characters, without '/'".into(),
        ));
    }
    Ok(name.to_owned())
}

/// A docker access policy grants by role name, so renaming a role it names (or renaming a role
/// to a name it names) would change who gets registry rights: refused, the policy is changed
/// first.
pub(super) async fn refuse_if_a_policy_names(
    state: &AppState,
    realm: &crate::domain::RealmId,
    names: &[&str],
) -> Result<(), OpsError> {
    let clients = store::clients::search(state.db.read(), realm, "", 0, i64::MAX).await?;
    for client in clients {
        let Some(policy) = &client.access_policy else {
            continue;
        };
        if let Some(name) = names.iter().find(|name| policy.names_role(name)) {
            return Err(OpsError::Invalid(format!(
                "Role {name} is named by the access policy of client {}: change the policy first",
                client.client_id
            )));
        }
    }
    Ok(())
}

/// The realm's roles, with whether each is a composite.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<Vec<(Role, bool)>, OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let roles = store::roles::list_realm_roles(state.db.read(), &granted.realm().id).await?;
    let mut out = Vec::with_capacity(roles.len());
    for role in roles {
        let composite = store::roles::is_composite(state.db.read(), &role.id).await?;
        out.push((role, composite));
    }
    Ok(out)
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    name: &str,
) -> Result<(Role, bool), OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let role = store::roles::find_realm_role(state.db.read(), &granted.realm().id, name)
        .await?
        .ok_or(OpsError::NotFound("Could not find role"))?;
    let composite = store::roles::is_composite(state.db.read(), &role.id).await?;
    Ok((role, composite))
}

pub async fn get_by_id(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(Role, bool), OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let id = RoleId::parse(id).ok_or(OpsError::NotFound("Could not find role with id"))?;
    let role = store::roles::find_by_id(state.db.read(), &granted.realm().id, &id)
        .await?
        .ok_or(OpsError::NotFound("Could not find role with id"))?;
    let composite = store::roles::is_composite(state.db.read(), &role.id).await?;
    Ok((role, composite))
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &RoleRepr,
) -> Result<Role, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let role = Role {
        id: RoleId::new(),
        realm_id: granted.realm().id.clone(),
        client_id: None,
        name: role_name(repr.name.as_deref())?,
        description: repr.description.clone().filter(|d| !d.trim().is_empty()),
    };
    let attributes = repr
        .attributes
        .as_ref()
        .map(super::role_edits::checked_attributes)
        .transpose()?;
    let mut tx = granted.begin(state).await?;
    store::roles::insert(tx.conn(), &role).await?;
    if let Some(attributes) = &attributes {
        store::roles::set_attributes(tx.conn(), &role.id, attributes).await?;
    }
    tx.commit(
        Change::create("REALM_ROLE", format!("roles/{}", role.name))
            .with(&RoleRepr::of(&role, false)),
    )
    .await?;
    Ok(role)
}

/// Replaces a realm role (see `role_edits::update`).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    name: &str,
    repr: &RoleRepr,
) -> Result<(), OpsError> {
    super::role_edits::update(state, actor, realm, RoleAt::Realm(name), repr).await
}

/// Deletes a realm role (see `role_edits::delete`).
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    name: &str,
) -> Result<(), OpsError> {
    super::role_edits::delete(state, actor, realm, RoleAt::Realm(name)).await
}

/// Users holding the realm role directly.
pub async fn users_with(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    name: &str,
) -> Result<Vec<User>, OpsError> {
    holders(state, actor, realm, RoleAt::Realm(name)).await
}

/// Users holding the role at `at` directly (a realm or a client role).
pub async fn holders(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
) -> Result<Vec<User>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let (_, role) = super::role_edits::find_to_view(state, actor, realm, at).await?;
    let mut users = Vec::new();
    for id in store::roles::user_ids_with(state.db.read(), &role.id).await? {
        if let Some(user) =
            store::users::find_by_id(state.db.read(), &granted.realm().id, &id).await?
        {
            users.push(user);
        }
    }
    Ok(users)
}

/// The groups granted the role at `at` directly.
pub async fn groups_with(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
) -> Result<Vec<crate::domain::GroupId>, OpsError> {
    authorize::<ViewUsers>(state, actor, realm).await?;
    let (_, role) = super::role_edits::find_to_view(state, actor, realm, at).await?;
    Ok(store::roles::group_ids_with(state.db.read(), &role.id).await?)
}
