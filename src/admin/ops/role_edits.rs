//! One role, found by name in the realm, by name in a client, or by id: read, replaced
//! (`PUT`) and deleted the same way wherever it is addressed. Realm roles need the realm
//! rights (`view-realm`, `manage-realm`), client roles the client rights, as in Keycloak.

use std::collections::BTreeMap;

use super::access::{
    authorize, visible_realm, Actor, Granted, ManageClients, ManageRealm, Powers, ViewClients,
    ViewRealm, DEFAULT_ROLES,
};
use super::audited::{Audited, Change};
use super::OpsError;
use crate::admin::repr::RoleRepr;
use crate::domain::{ClientUuid, Realm, Role, RoleId};
use crate::state::AppState;
use crate::store;

/// Where a role is addressed.
#[derive(Debug, Clone, Copy)]
pub enum RoleAt<'a> {
    /// `/roles/{name}`
    Realm(&'a str),
    /// `/clients/{client}/roles/{name}` (the client's internal id)
    Client { client: &'a str, name: &'a str },
    /// `/roles-by-id/{id}`
    Id(&'a str),
}

/// The most attribute names a role or group keeps, and values per name.
pub const MAX_ATTRIBUTES: usize = 256;

const NOT_FOUND: &str = "Could not find role";
const NOT_FOUND_BY_ID: &str = "Could not find role with id";

/// The right to change a role: `manage-realm` for realm roles, `manage-clients` for client
/// roles.
pub enum ManageRole {
    Realm(Granted<ManageRealm>),
    Client(Granted<ManageClients>),
}

impl ManageRole {
    pub fn realm(&self) -> &Realm {
        match self {
            ManageRole::Realm(g) => g.realm(),
            ManageRole::Client(g) => g.realm(),
        }
    }

    pub async fn begin(&self, state: &AppState) -> Result<Audited<'_>, OpsError> {
        match self {
            ManageRole::Realm(g) => g.begin(state).await,
            ManageRole::Client(g) => g.begin(state).await,
        }
    }

    /// Refuses unless the actor holds every power of `role` (its composites included).
    pub async fn require_covers(
        &self,
        conn: &mut crate::store::Conn,
        role: &Role,
    ) -> Result<(), OpsError> {
        let (actor, in_master, realm) = match self {
            ManageRole::Realm(g) => (g.actor(), g.in_master(), &g.realm().id),
            ManageRole::Client(g) => (g.actor(), g.in_master(), &g.realm().id),
        };
        let roles = store::roles::role_effective_roles(&mut *conn, &role.id).await?;
        if actor.covers(realm, &Powers::of(&roles, in_master)) {
            Ok(())
        } else {
            Err(OpsError::Forbidden)
        }
    }

    /// Whether the actor may also change roles of `role`'s kind (`manage-realm` for realm
    /// roles, `manage-clients` for client roles): what Keycloak asks of a composite's child.
    pub fn may_manage_kind_of(&self, role: &Role) -> bool {
        let (actor, realm) = match self {
            ManageRole::Realm(g) => (g.actor(), g.realm()),
            ManageRole::Client(g) => (g.actor(), g.realm()),
        };
        if role.client_id.is_some() {
            actor.may::<ManageClients>(realm)
        } else {
            actor.may::<ManageRealm>(realm)
        }
    }

    /// The admin event's resource type for `role`.
    pub fn resource_type(role: &Role) -> &'static str {
        if role.client_id.is_some() {
            "CLIENT_ROLE"
        } else {
            "REALM_ROLE"
        }
    }
}

/// The role at `at` in `realm`, or Keycloak's not-found answer for that address.
async fn locate(state: &AppState, realm: &Realm, at: RoleAt<'_>) -> Result<Role, OpsError> {
    let db = state.db.read();
    match at {
        RoleAt::Realm(name) => store::roles::find_realm_role(db, &realm.id, name)
            .await?
            .ok_or(OpsError::NotFound(NOT_FOUND)),
        RoleAt::Client { client, name } => {
            let client = ClientUuid::parse(client)
                .ok_or(OpsError::NotFound(super::clients::CLIENT_NOT_FOUND))?;
            store::clients::find_by_id(db, &realm.id, &client)
                .await?
                .ok_or(OpsError::NotFound(super::clients::CLIENT_NOT_FOUND))?;
            store::roles::find_client_role(db, &client, name)
                .await?
                .ok_or(OpsError::NotFound(NOT_FOUND))
        }
        RoleAt::Id(id) => {
            let id = RoleId::parse(id).ok_or(OpsError::NotFound(NOT_FOUND_BY_ID))?;
            store::roles::find_by_id(db, &realm.id, &id)
                .await?
                .ok_or(OpsError::NotFound(NOT_FOUND_BY_ID))
        }
    }
}

/// The role at `at`, for a caller who may view it; with its realm.
pub async fn find_to_view(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
) -> Result<(Realm, Role), OpsError> {
    let seen = visible_realm(state, actor, realm).await?;
    let role = locate(state, &seen, at).await?;
    let realm = if role.client_id.is_some() {
        authorize::<ViewClients>(state, actor, realm)
            .await?
            .realm()
            .clone()
    } else {
        authorize::<ViewRealm>(state, actor, realm)
            .await?
            .realm()
            .clone()
    };
    Ok((realm, role))
}

/// The role at `at`, for a caller who may change it; with that right.
pub async fn find_to_manage(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
) -> Result<(ManageRole, Role), OpsError> {
    let seen = visible_realm(state, actor, realm).await?;
    let role = locate(state, &seen, at).await?;
    let grant = if role.client_id.is_some() {
        ManageRole::Client(authorize::<ManageClients>(state, actor, realm).await?)
    } else {
        ManageRole::Realm(authorize::<ManageRealm>(state, actor, realm).await?)
    };
    Ok((grant, role))
}

/// A role with whether it is a composite and its attributes.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
) -> Result<RoleRepr, OpsError> {
    let (_, role) = find_to_view(state, actor, realm, at).await?;
    full(state, &role).await
}

/// Keycloak's full representation of a role (attributes included).
pub async fn full(state: &AppState, role: &Role) -> Result<RoleRepr, OpsError> {
    let db = state.db.read();
    let composite = store::roles::is_composite(db, &role.id).await?;
    let attributes = store::roles::attributes_of(db, &role.id).await?;
    Ok(RoleRepr::full(role, composite, attributes))
}

/// Attributes as given, refused when they exceed the caps.
pub fn checked_attributes(
    attributes: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Vec<String>>, OpsError> {
    let too_big = attributes.len() > MAX_ATTRIBUTES
        || attributes.iter().any(|(name, values)| {
            name.len() > 255
                || values.len() > MAX_ATTRIBUTES
                || values.iter().any(|v| v.len() > 4096)
        });
    if too_big {
        return Err(OpsError::Invalid(format!(
            "At most {MAX_ATTRIBUTES} attributes of {MAX_ATTRIBUTES} values each, names up to 255 and values up to 4096 characters"
        )));
    }
    Ok(attributes.clone())
}

/// Replaces the role as Keycloak's `PUT` does: the name given (required), the description
/// given (absent clears it), the attributes given (absent leaves them).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
    repr: &RoleRepr,
) -> Result<(), OpsError> {
    let (grant, mut role) = find_to_manage(state, actor, realm, at).await?;
    let builtin = store::roles::builtin_of(state.db.read(), &role.id).await?;
    {
        let name = super::roles::role_name(repr.name.as_deref())?;
        if name != role.name && builtin.is_some() {
            return Err(OpsError::Invalid(format!(
                "Role {} is built in and cannot be renamed",
                role.name
            )));
        }
        if name != role.name && role.client_id.is_none() {
            super::roles::refuse_if_a_policy_names(state, &grant.realm().id, &[&role.name, &name])
                .await?;
        }
        role.name = name;
    }
    role.description = repr
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.chars().take(4096).collect());
    let attributes = repr
        .attributes
        .as_ref()
        .map(checked_attributes)
        .transpose()?;
    let mut tx = grant.begin(state).await?;
    grant.require_covers(tx.conn(), &role).await?;
    store::roles::update(tx.conn(), &role).await?;
    if let Some(attributes) = &attributes {
        store::roles::set_attributes(tx.conn(), &role.id, attributes).await?;
    }
    let composite = store::roles::is_composite(tx.conn(), &role.id).await?;
    tx.commit(
        Change::update(ManageRole::resource_type(&role), path_of(&role))
            .with(&RoleRepr::of(&role, composite)),
    )
    .await?;
    Ok(())
}

/// Deletes the role; the realm's default role and built-in roles stay.
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
) -> Result<(), OpsError> {
    let (grant, role) = find_to_manage(state, actor, realm, at).await?;
    match store::roles::builtin_of(state.db.read(), &role.id)
        .await?
        .as_deref()
    {
        None => {}
        Some(DEFAULT_ROLES) => {
            return Err(OpsError::Invalid(format!(
                "{} is default role of the realm and cannot be removed.",
                role.name
            )))
        }
        Some(_) => {
            return Err(OpsError::Invalid(format!(
                "Role {} is built in and cannot be deleted",
                role.name
            )))
        }
    }
    let mut tx = grant.begin(state).await?;
    grant.require_covers(tx.conn(), &role).await?;
    if !store::roles::delete(tx.conn(), &grant.realm().id, &role.id).await? {
        return Err(OpsError::NotFound("Role"));
    }
    tx.commit(Change::delete(
        ManageRole::resource_type(&role),
        path_of(&role),
    ))
    .await?;
    Ok(())
}

/// The admin path of a role, as its events record it.
pub fn path_of(role: &Role) -> String {
    match &role.client_id {
        Some(client) => format!("clients/{client}/roles/{}", role.name),
        None => format!("roles/{}", role.name),
    }
}
