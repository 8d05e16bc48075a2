//! A realm in Keycloak's export format: the console's partial export (no users, client
//! secrets masked) and the full export of `keywarden export` (users with their passwords in
//! Keycloak's stored form, never in plain text). Both import back as they are.

use std::collections::{BTreeMap, HashMap};

use crate::store::Pool;

use super::access::{authorize, ManageRealm, DEFAULT_ROLES};
use super::audited::MASKED;
use super::OpsError;
use crate::admin::repr::{
    ClientRepr, CompositesRepr, CredentialRepr, GroupRepr, RealmRepr, RoleRepr, RolesRepr, UserRepr,
};
use crate::crypto::keycloak_credential::keycloak_from_phc;
use crate::domain::{Client, ClientUuid, Group, GroupId, Realm, Role, RoleId, UserId};
use crate::state::AppState;
use crate::store;
use crate::store::groups::GroupDetails;

/// What an export includes besides the realm's settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportParts {
    pub clients: bool,
    pub groups_and_roles: bool,
    /// Users with their credentials.
    pub users: bool,
    /// Client secrets shown as `**********`, as the console's export shows them.
    pub mask_secrets: bool,
}

impl ExportParts {
    /// Everything, as `kc.sh export` writes it.
    pub const FULL: ExportParts = ExportParts {
        clients: true,
        groups_and_roles: true,
        users: true,
        mask_secrets: false,
    };
}

/// Keycloak's partial export (`POST /admin/realms/{realm}/partial-export`).
pub async fn partial(
    state: &AppState,
    actor: &crate::admin::ops::access::Actor,
    realm: &str,
    clients: bool,
    groups_and_roles: bool,
) -> Result<RealmRepr, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let parts = ExportParts {
        clients,
        groups_and_roles,
        users: false,
        mask_secrets: true,
    };
    export(state.db.read(), granted.realm(), parts).await
}

/// The realm as a representation, with the parts asked for.
pub async fn export(db: &Pool, realm: &Realm, parts: ExportParts) -> Result<RealmRepr, OpsError> {
    let mut repr = RealmRepr::of(realm);
    let kept = store::realms::kept(db, &realm.id).await?;
    repr.kept = crate::admin::realm_defaults::realm_fields(&kept);
    for (key, value) in kept {
        repr.kept.entry(key).or_insert(value);
    }
    if parts.mask_secrets {
        crate::admin::realm_defaults::mask_secrets(&mut repr.kept);
    }
    let clients = store::clients::search(db, &realm.id, "", 0, i64::MAX).await?;
    let client_ids: HashMap<ClientUuid, String> = clients
        .iter()
        .map(|c| (c.id.clone(), c.client_id.to_string()))
        .collect();
    let roles = store::roles::list_all(db, &realm.id).await?;
    let names = RoleNames::new(&roles, &client_ids);
    if let Some(default) =
        store::roles::find_builtin_realm_role(db, &realm.id, DEFAULT_ROLES).await?
    {
        repr.default_role = Some(RoleRepr::of(&default, true));
    }
    if parts.groups_and_roles {
        repr.roles = Some(roles_of(db, realm, &roles, &clients, &names).await?);
        repr.groups = Some(groups_of(db, realm, &names).await?);
    }
    if parts.clients {
        let mut exported = Vec::with_capacity(clients.len());
        for client in &clients {
            exported.push(client_of(db, client, parts.mask_secrets).await?);
        }
        repr.clients = Some(exported);
    }
    if parts.users {
        repr.users = Some(users_of(db, realm, &client_ids, &names).await?);
    }
    Ok(repr)
}

async fn client_of(db: &Pool, client: &Client, mask: bool) -> Result<ClientRepr, OpsError> {
    let mut repr = ClientRepr::of(client);
    repr.kept = store::clients::kept(db, &client.id).await?;
    if mask && repr.secret.is_some() {
        repr.secret = Some(MASKED.into());
    }
    Ok(repr)
}

/// Role names by id, and the clientId of each client role.
struct RoleNames {
    by_id: HashMap<RoleId, (Option<String>, String)>,
}

impl RoleNames {
    fn new(roles: &[Role], client_ids: &HashMap<ClientUuid, String>) -> RoleNames {
        let by_id = roles
            .iter()
            .map(|r| {
                let client = r
                    .client_id
                    .as_ref()
                    .and_then(|c| client_ids.get(c))
                    .cloned();
                (r.id.clone(), (client, r.name.clone()))
            })
            .collect();
        RoleNames { by_id }
    }

    /// Realm role names and client role names by clientId, as Keycloak lists mappings.
    fn split<'a>(
        &self,
        ids: impl Iterator<Item = &'a RoleId>,
    ) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
        let mut realm = Vec::new();
        let mut client: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for id in ids {
            match self.by_id.get(id) {
                Some((None, name)) => realm.push(name.clone()),
                Some((Some(client_id), name)) => client
                    .entry(client_id.clone())
                    .or_default()
                    .push(name.clone()),
                None => {}
            }
        }
        realm.sort();
        client.values_mut().for_each(|names| names.sort());
        (realm, client)
    }
}

async fn roles_of(
    db: &Pool,
    realm: &Realm,
    roles: &[Role],
    clients: &[Client],
    names: &RoleNames,
) -> Result<RolesRepr, OpsError> {
    let mut parts: HashMap<RoleId, Vec<RoleId>> = HashMap::new();
    for link in store::roles::composite_links(db, &realm.id).await? {
        parts.entry(link.from).or_default().push(link.to);
    }
    let attributes = store::roles::attributes_in(db, &realm.id).await?;
    let role_repr = |role: &Role| {
        let children = parts.get(&role.id);
        let mut repr = RoleRepr::full(
            role,
            children.is_some(),
            attributes.get(&role.id).cloned().unwrap_or_default(),
        );
        if let Some(children) = children {
            let (realm, client) = names.split(children.iter());
            repr.composites = Some(CompositesRepr {
                realm: Some(realm).filter(|r| !r.is_empty()),
                client: Some(client).filter(|c| !c.is_empty()),
            });
        }
        repr
    };
    let realm_roles = roles
        .iter()
        .filter(|r| r.client_id.is_none())
        .map(role_repr)
        .collect();
    let client_roles = clients
        .iter()
        .map(|client| {
            let of_client = roles
                .iter()
                .filter(|r| r.client_id.as_ref() == Some(&client.id))
                .map(role_repr)
                .collect();
            (client.client_id.to_string(), of_client)
        })
        .collect();
    Ok(RolesRepr {
        realm: Some(realm_roles),
        client: Some(client_roles),
    })
}

async fn groups_of(
    db: &Pool,
    realm: &Realm,
    names: &RoleNames,
) -> Result<Vec<GroupRepr>, OpsError> {
    let groups = store::groups::list_all(db, &realm.id).await?;
    let mut mappings: HashMap<GroupId, Vec<RoleId>> = HashMap::new();
    for link in store::roles::group_links(db, &realm.id).await? {
        mappings.entry(link.from).or_default().push(link.to);
    }
    let details = store::groups::details_in(db, &realm.id).await?;
    let of = GroupsOf {
        all: &groups,
        mappings: &mappings,
        details: &details,
        names,
    };
    Ok(groups
        .iter()
        .filter(|g| g.parent_id.is_none())
        .map(|g| of.group(g))
        .collect())
}

/// What a group of the export is made from: every group of the realm, their role mappings,
/// descriptions and attributes.
struct GroupsOf<'a> {
    all: &'a [Group],
    mappings: &'a HashMap<GroupId, Vec<RoleId>>,
    details: &'a BTreeMap<GroupId, GroupDetails>,
    names: &'a RoleNames,
}

impl GroupsOf<'_> {
    /// A group as Keycloak exports it: with its attributes (`{}` when none), its description
    /// when it has one, its role mappings and its subgroups.
    fn group(&self, group: &Group) -> GroupRepr {
        let mut repr = GroupRepr::of(group, self.all, 0);
        let details = self.details.get(&group.id);
        repr.description = details.and_then(|d| d.description.clone());
        repr.attributes = Some(details.map(|d| d.attributes.clone()).unwrap_or_default());
        let (realm, client) = self
            .names
            .split(self.mappings.get(&group.id).into_iter().flatten());
        repr.realm_roles = Some(realm);
        repr.client_roles = Some(client);
        repr.parent_id = None;
        repr.sub_group_count = None;
        repr.sub_groups = Some(
            self.all
                .iter()
                .filter(|g| g.parent_id.as_ref() == Some(&group.id))
                .map(|child| self.group(child))
                .collect(),
        );
        repr
    }
}

async fn users_of(
    db: &Pool,
    realm: &Realm,
    client_ids: &HashMap<ClientUuid, String>,
    names: &RoleNames,
) -> Result<Vec<UserRepr>, OpsError> {
    let users = store::users::list_all(db, &realm.id).await?;
    let mut passwords: HashMap<UserId, store::users::StoredPassword> =
        store::users::passwords_in_realm(db, &realm.id)
            .await?
            .into_iter()
            .map(|p| (p.user_id.clone(), p))
            .collect();
    let service_accounts: HashMap<UserId, ClientUuid> =
        store::users::service_account_links(db, &realm.id)
            .await?
            .into_iter()
            .collect();
    let mut mappings: HashMap<UserId, Vec<RoleId>> = HashMap::new();
    for link in store::roles::user_links(db, &realm.id).await? {
        mappings.entry(link.from).or_default().push(link.to);
    }
    let groups = store::groups::list_all(db, &realm.id).await?;
    let mut memberships: HashMap<UserId, Vec<String>> = HashMap::new();
    for (user, group) in store::groups::memberships(db, &realm.id).await? {
        if let Some(path) = store::groups::path_of(&group, &groups) {
            memberships.entry(user).or_default().push(path);
        }
    }
    let mut exported = Vec::with_capacity(users.len());
    for user in &users {
        let mut repr = UserRepr::of(user);
        let (realm_roles, client_roles) = names.split(mappings.get(&user.id).into_iter().flatten());
        repr.realm_roles = Some(realm_roles);
        repr.client_roles = Some(client_roles).filter(|c| !c.is_empty());
        let mut paths = memberships.remove(&user.id).unwrap_or_default();
        paths.sort();
        repr.groups = Some(paths);
        repr.service_account_client_id = service_accounts
            .get(&user.id)
            .and_then(|c| client_ids.get(c))
            .cloned();
        repr.credentials = Some(
            passwords
                .remove(&user.id)
                .and_then(|p| credential_of(&p))
                .into_iter()
                .collect(),
        );
        exported.push(repr);
    }
    Ok(exported)
}

/// A stored password in Keycloak's form; `None` (with a warning) for a hash Keycloak cannot
/// express, so that nothing but a hash ever leaves.
fn credential_of(password: &store::users::StoredPassword) -> Option<CredentialRepr> {
    let Some(stored) = keycloak_from_phc(&password.phc) else {
        tracing::warn!(user = %password.user_id, "a password hash Keycloak cannot read is left out of the export");
        return None;
    };
    Some(CredentialRepr {
        kind: Some("password".into()),
        temporary: Some(true).filter(|_| password.temporary),
        user_label: password.user_label.clone(),
        created_date: Some(password.created_at.saturating_mul(1000)),
        secret_data: Some(stored.secret_data),
        credential_data: Some(stored.credential_data),
        ..CredentialRepr::default()
    })
}
