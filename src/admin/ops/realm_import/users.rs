//! The groups (with their descriptions and attributes) and users of an imported realm. Users
//! keep their ids (unless another user has it already), attributes, required actions,
//! creation time, role mappings, groups and password; a user with `serviceAccountClientId`
//! becomes that client's service account. As in Keycloak, imported users get exactly the
//! roles they list (not the realm's default role on top), and a role a mapping names is
//! created when missing.

use std::collections::HashMap;

use crate::store::Conn;
use futures_util::future::BoxFuture;

use super::attributes_at;
use super::clients::Clients;
use super::passwords::Password;
use super::roles::find_or_create;
use crate::admin::ops::groups::details_of;
use crate::admin::ops::{users as user_ops, OpsError};
use crate::admin::repr::{GroupRepr, RealmRepr, UserRepr};
use crate::domain::{Group, GroupId, Realm, User, UserId, Username};
use crate::store;
use crate::store::groups::GroupDetails;

pub(super) async fn import_groups(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
    repr: &RealmRepr,
) -> Result<(), OpsError> {
    for (index, group) in repr.groups.iter().flatten().enumerate() {
        import_group(
            conn,
            realm,
            clients,
            None,
            group,
            format!("groups[{index}]"),
        )
        .await?;
    }
    Ok(())
}

fn import_group<'a>(
    conn: &'a mut Conn,
    realm: &'a Realm,
    clients: &'a Clients,
    parent: Option<&'a GroupId>,
    repr: &'a GroupRepr,
    path: String,
) -> BoxFuture<'a, Result<(), OpsError>> {
    Box::pin(async move {
        let name = repr.name.as_deref().unwrap_or_default().trim();
        if name.is_empty() || name.contains('/') {
            return Err(OpsError::Invalid(format!(
                "{path}.name: invalid group name '{name}'"
            )));
        }
        let group = Group {
            id: GroupId::new(),
            realm_id: realm.id.clone(),
            parent_id: parent.cloned(),
            name: name.to_owned(),
        };
        store::groups::insert(&mut *conn, &group).await?;
        let details =
            details_of(repr, GroupDetails::default()).map_err(|e| attributes_at(e, &path))?;
        store::groups::set_details(&mut *conn, &group.id, &details).await?;
        for role_name in repr.realm_roles.iter().flatten() {
            let role = find_or_create(conn, realm, None, role_name.trim(), None).await?;
            store::roles::grant_to_group(&mut *conn, &group.id, &role.id).await?;
        }
        for (client_id, names) in repr.client_roles.iter().flatten() {
            if clients.is_left_out(client_id) {
                continue;
            }
            let client = clients.require(client_id, &format!("{path}.clientRoles"))?;
            for role_name in names {
                let role =
                    find_or_create(conn, realm, Some(client), role_name.trim(), None).await?;
                store::roles::grant_to_group(&mut *conn, &group.id, &role.id).await?;
            }
        }
        for (index, child) in repr.sub_groups.iter().flatten().enumerate() {
            let child_path = format!("{path}.subGroups[{index}]");
            import_group(conn, realm, clients, Some(&group.id), child, child_path).await?;
        }
        Ok(())
    })
}

pub(super) async fn import_users(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
    repr: &RealmRepr,
    passwords: Vec<Option<Password>>,
) -> Result<(), OpsError> {
    let all = store::groups::list_all(&mut *conn, &realm.id).await?;
    let group_paths: HashMap<String, GroupId> = all
        .iter()
        .filter_map(|g| Some((store::groups::path_of(&g.id, &all)?, g.id.clone())))
        .collect();
    let users = repr.users.iter().flatten().enumerate().zip(passwords);
    for ((index, user_repr), password) in users {
        let path = format!("users[{index}]");
        import_user(
            conn,
            realm,
            clients,
            &group_paths,
            user_repr,
            password,
            &path,
        )
        .await?;
    }
    Ok(())
}

async fn import_user(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
    group_paths: &HashMap<String, GroupId>,
    repr: &UserRepr,
    password: Option<Password>,
    path: &str,
) -> Result<(), OpsError> {
    let username = Username::parse(repr.username.as_deref().unwrap_or_default())
        .map_err(|e| OpsError::Invalid(format!("{path}.username: {e}")))?;
    let mut user = User::new(realm.id.clone(), username);
    if let Some(id) = repr.id.as_deref().and_then(UserId::parse) {
        if !store::users::id_taken(&mut *conn, &id).await? {
            user.id = id;
        }
    }
    user.email = repr
        .email
        .clone()
        .filter(|e| !e.is_empty())
        .map(|e| e.to_lowercase());
    user.first_name = repr.first_name.clone().filter(|n| !n.is_empty());
    user.last_name = repr.last_name.clone().filter(|n| !n.is_empty());
    user.enabled = repr.enabled.unwrap_or(true);
    user.email_verified = repr.email_verified.unwrap_or(false);
    if let Some(attributes) = &repr.attributes {
        user.attributes = crate::admin::ops::role_edits::checked_attributes(attributes)
            .map_err(|e| attributes_at(e, path))?;
    }
    user.required_actions = repr.required_actions.clone().unwrap_or_default();
    if let Some(created) = repr.created_timestamp.filter(|t| *t > 0) {
        user.created_timestamp_ms = created;
    }
    if password.as_ref().is_some_and(|p| p.temporary) {
        user_ops::require_password_update(&mut user, true);
    }
    store::users::insert(&mut *conn, &user)
        .await
        .map_err(|e| match OpsError::from(e) {
            OpsError::Conflict(message) => OpsError::Conflict(format!("{path}: {message}")),
            other => other,
        })?;
    if let Some(password) = password {
        store::users::set_password(&mut *conn, &user.id, &password.phc, password.temporary).await?;
        if let Some(label) = &password.label {
            let stored = store::credentials::list_for_user(&mut *conn, &user.id).await?;
            if let Some(credential) = stored.iter().find(|c| c.kind == "password") {
                store::credentials::set_label(&mut *conn, &user.id, &credential.id, label).await?;
            }
        }
    }
    if let Some(client_id) = &repr.service_account_client_id {
        let client = clients.require(client_id, &format!("{path}.serviceAccountClientId"))?;
        store::users::link_service_account(&mut *conn, &user.id, &client.id).await?;
    }
    for role_name in repr.realm_roles.iter().flatten() {
        let role = find_or_create(conn, realm, None, role_name.trim(), None).await?;
        store::roles::grant_to_user(&mut *conn, &user.id, &role.id).await?;
    }
    for (client_id, names) in repr.client_roles.iter().flatten() {
        if clients.is_left_out(client_id) {
            continue;
        }
        let client = clients.require(client_id, &format!("{path}.clientRoles"))?;
        for role_name in names {
            let role = find_or_create(conn, realm, Some(client), role_name.trim(), None).await?;
            store::roles::grant_to_user(&mut *conn, &user.id, &role.id).await?;
        }
    }
    for group_path in repr.groups.iter().flatten() {
        let wanted = format!("/{}", group_path.trim().trim_start_matches('/'));
        let group = group_paths
            .get(&wanted)
            .ok_or_else(|| OpsError::Invalid(format!("{path}.groups: no group '{group_path}'")))?;
        store::groups::add_member(&mut *conn, group, &user.id).await?;
    }
    Ok(())
}
