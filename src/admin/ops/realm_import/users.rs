//! The groups (with their descriptions and attributes) and users of an imported realm. Users
//! keep their ids (unless another user has it already), attributes, required actions,
//! creation time, role mappings, groups and password; a user with `serviceAccountClientId`
//! becomes that client's service account. As in Keycloak, imported users get exactly the
//! roles they list (not the realm's default role on top), and a role a mapping names is
//! created when missing. Users are written a batch at a time, each role a mapping names
//! looked up once.

use std::collections::{HashMap, HashSet};

use crate::store::Conn;
use futures_util::future::BoxFuture;

use super::attributes_at;
use super::clients::Clients;
use super::passwords::Password;
use super::roles::find_or_create;
use crate::admin::ops::groups::details_of;
use crate::admin::ops::{users as user_ops, OpsError};
use crate::admin::repr::{GroupRepr, RealmRepr, UserRepr};
use crate::domain::{Client, ClientUuid, Group, GroupId, Realm, RoleId, User, UserId, Username};
use crate::store;
use crate::store::groups::GroupDetails;
use crate::store::user_batches::{self, NewPassword};

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
    let reprs = repr.users.as_deref().unwrap_or_default();
    let mut taken = taken_ids(conn, reprs).await?;
    let mut roles = RoleIds::default();
    let mut batch = Batch::default();
    for ((index, user_repr), password) in reprs.iter().enumerate().zip(passwords) {
        let path = format!("users[{index}]");
        let user = user_of(realm, user_repr, password.as_ref(), &mut taken, &path)?;
        if let Some(client_id) = &user_repr.service_account_client_id {
            let client = clients.require(client_id, &format!("{path}.serviceAccountClientId"))?;
            batch
                .service_accounts
                .push((user.id.clone(), client.id.clone()));
        }
        for role_name in user_repr.realm_roles.iter().flatten() {
            let role = roles.find_or_create(conn, realm, None, role_name).await?;
            batch.roles.push((user.id.clone(), role));
        }
        for (client_id, names) in user_repr.client_roles.iter().flatten() {
            if clients.is_left_out(client_id) {
                continue;
            }
            let client = clients.require(client_id, &format!("{path}.clientRoles"))?;
            for role_name in names {
                let role = roles
                    .find_or_create(conn, realm, Some(client), role_name)
                    .await?;
                batch.roles.push((user.id.clone(), role));
            }
        }
        for group_path in user_repr.groups.iter().flatten() {
            let wanted = format!("/{}", group_path.trim().trim_start_matches('/'));
            let group = group_paths.get(&wanted).ok_or_else(|| {
                OpsError::Invalid(format!("{path}.groups: no group '{group_path}'"))
            })?;
            batch.groups.push((user.id.clone(), group.clone()));
        }
        if let Some(password) = password {
            batch.passwords.push((user.id.clone(), password));
        }
        batch.users.push(user);
        if batch.users.len() == user_batches::BATCH {
            batch.write(conn).await?;
        }
    }
    batch.write(conn).await
}

/// The ids of the file's users that a user of another realm has already: those users get
/// new ids, as does the second of two users of the file with the same id.
async fn taken_ids(conn: &mut Conn, reprs: &[UserRepr]) -> Result<HashSet<String>, OpsError> {
    let ids: Vec<&str> = reprs
        .iter()
        .filter_map(|u| u.id.as_deref())
        .filter(|id| UserId::parse(id).is_some())
        .collect();
    let mut taken = HashSet::new();
    for chunk in ids.chunks(user_batches::BATCH) {
        taken.extend(user_batches::taken_ids(&mut *conn, chunk).await?);
    }
    Ok(taken)
}

/// The user a representation describes, checked; `taken` gains its id.
fn user_of(
    realm: &Realm,
    repr: &UserRepr,
    password: Option<&Password>,
    taken: &mut HashSet<String>,
    path: &str,
) -> Result<User, OpsError> {
    let username = Username::parse(repr.username.as_deref().unwrap_or_default())
        .map_err(|e| OpsError::Invalid(format!("{path}.username: {e}")))?;
    let mut user = User::new(realm.id.clone(), username);
    if let Some(id) = repr.id.as_deref().and_then(UserId::parse) {
        if taken.insert(id.as_str().to_owned()) {
            user.id = id;
        }
    }
    taken.insert(user.id.as_str().to_owned());
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
    if password.is_some_and(|p| p.temporary) {
        user_ops::require_password_update(&mut user, true);
    }
    Ok(user)
}

/// The ids of the roles the users' mappings name, each looked up (or created) once.
#[derive(Default)]
struct RoleIds(HashMap<(Option<ClientUuid>, String), RoleId>);

impl RoleIds {
    async fn find_or_create(
        &mut self,
        conn: &mut Conn,
        realm: &Realm,
        client: Option<&Client>,
        name: &str,
    ) -> Result<RoleId, OpsError> {
        let name = name.trim();
        let key = (client.map(|c| c.id.clone()), name.to_owned());
        if let Some(id) = self.0.get(&key) {
            return Ok(id.clone());
        }
        let role = find_or_create(conn, realm, client, name, None).await?;
        self.0.insert(key, role.id.clone());
        Ok(role.id)
    }
}

/// Users read but not yet written, with their passwords, mappings and memberships.
#[derive(Default)]
struct Batch {
    users: Vec<User>,
    passwords: Vec<(UserId, Password)>,
    roles: Vec<(UserId, RoleId)>,
    groups: Vec<(UserId, GroupId)>,
    service_accounts: Vec<(UserId, ClientUuid)>,
}

impl Batch {
    /// Writes the users and what goes with them, and empties the batch.
    async fn write(&mut self, conn: &mut Conn) -> Result<(), OpsError> {
        for users in self.users.chunks(user_batches::BATCH) {
            user_batches::insert_users(&mut *conn, users).await?;
        }
        let passwords: Vec<NewPassword> = self
            .passwords
            .iter()
            .map(|(user_id, password)| NewPassword {
                user_id,
                secret_data: &password.phc,
                temporary: password.temporary,
                user_label: password.label.as_deref(),
            })
            .collect();
        for passwords in passwords.chunks(user_batches::BATCH) {
            user_batches::insert_passwords(&mut *conn, passwords).await?;
        }
        let roles: Vec<(&UserId, &RoleId)> = self.roles.iter().map(|(u, r)| (u, r)).collect();
        for roles in roles.chunks(user_batches::BATCH) {
            user_batches::grant_roles(&mut *conn, roles).await?;
        }
        let groups: Vec<(&UserId, &GroupId)> = self.groups.iter().map(|(u, g)| (u, g)).collect();
        for groups in groups.chunks(user_batches::BATCH) {
            user_batches::add_members(&mut *conn, groups).await?;
        }
        for (user, client) in &self.service_accounts {
            store::users::link_service_account(&mut *conn, user, client).await?;
        }
        *self = Batch::default();
        Ok(())
    }
}
