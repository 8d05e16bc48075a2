//! Realm role operations.

use super::access::{authorize, Actor, Right};
use super::events::{self, Operation};
use super::OpsError;
use crate::admin::repr::RoleRepr;
use crate::domain::{Role, RoleId, User};
use crate::state::AppState;
use crate::store;

fn role_name(raw: Option<&str>) -> Result<String, OpsError> {
    let name = raw.unwrap_or_default().trim();
    if name.is_empty() {
        return Err(OpsError::Invalid("Role name must not be empty".into()));
    }
    if name.len() > 255 || name.contains('/') {
        return Err(OpsError::Invalid(
            "Role name must be at most 255 characters, without '/'".into(),
        ));
    }
    Ok(name.to_owned())
}

/// The realm's roles, with whether each is a composite.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<Vec<(Role, bool)>, OpsError> {
    let granted = authorize(state, actor, realm, Right::ViewRealm).await?;
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
    let granted = authorize(state, actor, realm, Right::ViewRealm).await?;
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
    let granted = authorize(state, actor, realm, Right::ViewRealm).await?;
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
    let granted = authorize(state, actor, realm, Right::ManageRealm).await?;
    let role = Role {
        id: RoleId::new(),
        realm_id: granted.realm().id.clone(),
        client_id: None,
        name: role_name(repr.name.as_deref())?,
        description: repr.description.clone().filter(|d| !d.trim().is_empty()),
    };
    let mut tx = state.db.begin().await?;
    store::roles::insert(&mut *tx, &role).await?;
    events::record(
        &mut tx,
        &granted,
        Operation::Create,
        "REALM_ROLE",
        format!("roles/{}", role.name),
        Some(&RoleRepr::of(&role, false)),
    )
    .await?;
    tx.commit().await?;
    Ok(role)
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    name: &str,
    repr: &RoleRepr,
) -> Result<(), OpsError> {
    let granted = authorize(state, actor, realm, Right::ManageRealm).await?;
    let mut role = store::roles::find_realm_role(state.db.read(), &granted.realm().id, name)
        .await?
        .ok_or(OpsError::NotFound("Could not find role"))?;
    if repr.name.is_some() {
        role.name = role_name(repr.name.as_deref())?;
    }
    if repr.description.is_some() {
        role.description = repr.description.clone().filter(|d| !d.trim().is_empty());
    }
    let mut tx = state.db.begin().await?;
    store::roles::update(&mut *tx, &role).await?;
    events::record(
        &mut tx,
        &granted,
        Operation::Update,
        "REALM_ROLE",
        format!("roles/{}", role.name),
        Some(&RoleRepr::of(&role, false)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    name: &str,
) -> Result<(), OpsError> {
    let granted = authorize(state, actor, realm, Right::ManageRealm).await?;
    let role = store::roles::find_realm_role(state.db.read(), &granted.realm().id, name)
        .await?
        .ok_or(OpsError::NotFound("Could not find role"))?;
    if role.name == format!("default-roles-{}", granted.realm().name) {
        return Err(OpsError::Invalid(
            "The default role cannot be deleted".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    store::roles::delete(&mut *tx, &granted.realm().id, &role.id).await?;
    events::record(
        &mut tx,
        &granted,
        Operation::Delete,
        "REALM_ROLE",
        format!("roles/{}", role.name),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Users holding the realm role directly.
pub async fn users_with(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    name: &str,
) -> Result<Vec<User>, OpsError> {
    let granted = authorize(state, actor, realm, Right::ViewUsers).await?;
    let role = store::roles::find_realm_role(state.db.read(), &granted.realm().id, name)
        .await?
        .ok_or(OpsError::NotFound("Could not find role"))?;
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
