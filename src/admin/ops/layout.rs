//! The clients and roles Keycloak 26 makes with every realm (`RealmManager.createRealm`):
//! `account`, `account-console`, `admin-cli`, `broker`, `security-admin-console`, the admin
//! roles on `realm-management` (on `master-realm` in master), `default-roles-{realm}`, and in
//! master one `{realm}-realm` client per realm whose roles administer that realm, all held by
//! master's `admin` role.
//!
//! `ensure` adds whatever a realm lacks and is what both a new realm and start-up run, so a
//! database made by an older keywarden is brought to the same layout once (`backfill`).

use std::collections::HashMap;

use crate::store::Conn;

use super::access::{
    CREATE_REALM_ROLE, DEFAULT_ROLES, MASTER_ADMIN_CLIENT, MASTER_ADMIN_ROLE,
    REALM_MANAGEMENT_CLIENT,
};
use super::realms::MASTER;
use super::OpsError;
use crate::domain::{Client, ClientIdName, Protocol, Realm, RealmId, Role, RoleId, UserId};
use crate::store::{self, Db};

/// The layout new realms are made at; start-up brings realms below it up to it.
pub const LAYOUT_VERSION: i64 = 1;

/// Keycloak's admin roles (`AdminRoles.ALL_REALM_ROLES`), as `realm-management` and master's
/// client of each realm hold them; `realm-management` adds `realm-admin` over all of them.
pub const ADMIN_ROLES: [&str; 21] = [
    "create-client",
    "impersonation",
    "manage-authorization",
    "manage-clients",
    "manage-events",
    "manage-identity-providers",
    "manage-organizations",
    "manage-realm",
    "manage-users",
    "query-clients",
    "query-groups",
    "query-organizations",
    "query-realms",
    "query-users",
    "view-authorization",
    "view-clients",
    "view-events",
    "view-identity-providers",
    "view-organizations",
    "view-realm",
    "view-users",
];

/// The composites among the admin roles: each `view-` role holds the `query-` roles behind it.
const ADMIN_COMPOSITES: [(&str, &[&str]); 3] = [
    ("view-clients", &["query-clients"]),
    ("view-users", &["query-users", "query-groups"]),
    ("view-organizations", &["query-organizations"]),
];

/// The roles of the `account` client (`AccountRoles`).
const ACCOUNT_ROLES: [&str; 8] = [
    "view-profile",
    "manage-account",
    "manage-account-links",
    "view-applications",
    "view-consent",
    "manage-consent",
    "delete-account",
    "view-groups",
];

const ACCOUNT_COMPOSITES: [(&str, &[&str]); 2] = [
    ("manage-account", &["manage-account-links"]),
    ("manage-consent", &["view-consent"]),
];

/// The `account` roles that `default-roles-{realm}` holds.
const DEFAULT_ACCOUNT_ROLES: [&str; 2] = ["view-profile", "manage-account"];

/// The clients every realm is made with, by clientId (which is also their built-in marker).
pub const LAYOUT_CLIENTS: [&str; 6] = [
    "account",
    "account-console",
    "admin-cli",
    "broker",
    REALM_MANAGEMENT_CLIENT,
    "security-admin-console",
];

/// Whether a clientId names one of the clients every realm is made with: a realm file's
/// client of that name does not replace it.
pub fn is_layout_client(client_id: &str) -> bool {
    LAYOUT_CLIENTS.contains(&client_id)
}

/// The description Keycloak gives a built-in role (a message key of its admin console).
fn description(name: &str) -> String {
    match name {
        "offline_access" => "${role_offline-access}".to_owned(),
        _ => format!("${{role_{name}}}"),
    }
}

fn attributes(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A bearer-only client: it only holds roles, nobody signs in with it.
fn bearer_only(mut client: Client) -> Client {
    client.public_client = false;
    client.direct_access_grants_enabled = false;
    client.attributes = attributes(&[("bearerOnly", "true"), ("realm_client", "true")]);
    client
}

/// Client `client_id` of the layout with Keycloak 26's settings for `realm`.
fn layout_client(realm: &Realm, client_id: &str) -> Result<Client, OpsError> {
    let name = realm.name.as_str();
    let mut client = Client::new(
        realm.id.clone(),
        ClientIdName::parse(client_id)?,
        Protocol::OpenIdConnect,
    );
    client.name = Some(format!("${{client_{client_id}}}"));
    Ok(match client_id {
        "account" | "account-console" => {
            client.root_url = Some("${authBaseUrl}".into());
            client.base_url = Some(format!("/realms/{name}/account/"));
            client.redirect_uris = vec![format!("/realms/{name}/account/*")];
            client.direct_access_grants_enabled = false;
            client.attributes = attributes(&[
                ("realm_client", "false"),
                ("post.logout.redirect.uris", "+"),
            ]);
            if client_id == "account-console" {
                client
                    .attributes
                    .insert("pkce.code.challenge.method".into(), "S256".into());
            }
            client
        }
        "admin-cli" => {
            client.standard_flow_enabled = false;
            client.attributes = attributes(&[
                ("realm_client", "false"),
                ("client.use.lightweight.access.token.enabled", "true"),
            ]);
            client
        }
        "security-admin-console" => {
            client.root_url = Some("${authAdminUrl}".into());
            client.base_url = Some(format!("/admin/{name}/console/"));
            client.redirect_uris = vec![format!("/admin/{name}/console/*")];
            client.web_origins = vec!["+".into()];
            client.direct_access_grants_enabled = false;
            client.attributes = attributes(&[
                ("realm_client", "false"),
                ("post.logout.redirect.uris", "+"),
                ("pkce.code.challenge.method", "S256"),
                ("client.use.lightweight.access.token.enabled", "true"),
            ]);
            client
        }
        _ => bearer_only(client),
    })
}

/// The client of master that administers `managed` (`master-realm`, `{realm}-realm`).
fn master_admin_client(master: &Realm, managed: &Realm) -> Result<Client, OpsError> {
    let client_id = ClientIdName::parse(&format!("{}-realm", managed.name))?;
    let mut client = bearer_only(Client::new(
        master.id.clone(),
        client_id,
        Protocol::OpenIdConnect,
    ));
    client.name = Some(format!("{} Realm", managed.name));
    Ok(client)
}

/// Brings `realm` to the current layout, adding only what it lacks, and records that it is
/// there. Master is made first; another realm also gets its client in master.
pub async fn ensure(conn: &mut Conn, realm: &Realm) -> Result<(), OpsError> {
    let account = ensure_client(conn, realm, "account").await?;
    let account_roles = match &account {
        Some(account) => {
            ensure_client_roles(conn, account, &ACCOUNT_ROLES, &ACCOUNT_COMPOSITES).await?
        }
        None => HashMap::new(),
    };
    ensure_client(conn, realm, "account-console").await?;
    ensure_client(conn, realm, "admin-cli").await?;
    if let Some(broker) = ensure_client(conn, realm, "broker").await? {
        ensure_client_roles(conn, &broker, &["read-token"], &[]).await?;
    }
    ensure_client(conn, realm, "security-admin-console").await?;

    if realm.name.as_str() == MASTER {
        let admin = ensure_realm_role(conn, realm, MASTER_ADMIN_ROLE, MASTER_ADMIN_ROLE).await?;
        let create = ensure_realm_role(conn, realm, CREATE_REALM_ROLE, CREATE_REALM_ROLE).await?;
        store::roles::add_composite(&mut *conn, &admin, &create).await?;
        ensure_master_admin_client(conn, realm, realm).await?;
    } else {
        ensure_realm_management(conn, realm).await?;
        if let Some(master) = store::realms::find_by_name(&mut *conn, MASTER).await? {
            ensure_master_admin_client(conn, &master, realm).await?;
        }
    }

    let default_name = format!("default-roles-{}", realm.name);
    let default_roles = ensure_realm_role(conn, realm, DEFAULT_ROLES, &default_name).await?;
    let mut held = Vec::new();
    for name in ["offline_access", "uma_authorization"] {
        held.push(ensure_realm_role(conn, realm, name, name).await?);
    }
    held.extend(
        DEFAULT_ACCOUNT_ROLES
            .iter()
            .filter_map(|name| account_roles.get(*name).cloned()),
    );
    for child in &held {
        store::roles::add_composite(&mut *conn, &default_roles, child).await?;
    }
    store::realms::set_layout_version(&mut *conn, &realm.id, LAYOUT_VERSION).await?;
    Ok(())
}

/// `realm-management` with every admin role, all held by its `realm-admin`.
async fn ensure_realm_management(conn: &mut Conn, realm: &Realm) -> Result<(), OpsError> {
    let Some(management) = ensure_client(conn, realm, REALM_MANAGEMENT_CLIENT).await? else {
        return Ok(());
    };
    let roles = ensure_client_roles(conn, &management, &ADMIN_ROLES, &ADMIN_COMPOSITES).await?;
    let realm_admin = ensure_client_role(conn, &management, "realm-admin").await?;
    for role in roles.values() {
        store::roles::add_composite(&mut *conn, &realm_admin, role).await?;
    }
    Ok(())
}

/// Master's client of `managed` with every admin role, all held by master's `admin`. A client
/// of master that merely has the clientId is never given the power: the realm then has none
/// (logged), as its roles may already be held by anyone.
async fn ensure_master_admin_client(
    conn: &mut Conn,
    master: &Realm,
    managed: &Realm,
) -> Result<(), OpsError> {
    let client = match store::clients::find_managing(&mut *conn, &managed.id).await? {
        Some(client) => client,
        None => {
            let client = master_admin_client(master, managed)?;
            if store::clients::find_by_client_id(&mut *conn, &master.id, client.client_id.as_str())
                .await?
                .is_some()
            {
                tracing::warn!(realm = %managed.name, client = %client.client_id,
                    "a client of master has the name of the realm's admin client; none made");
                return Ok(());
            }
            store::clients::insert(&mut *conn, &client).await?;
            store::clients::mark_builtin(&mut *conn, &client.id, MASTER_ADMIN_CLIENT).await?;
            store::clients::link_managed_realm(&mut *conn, &client.id, &managed.id).await?;
            client
        }
    };
    let roles = ensure_client_roles(conn, &client, &ADMIN_ROLES, &ADMIN_COMPOSITES).await?;
    if let Some(admin) =
        store::roles::find_builtin_realm_role(&mut *conn, &master.id, MASTER_ADMIN_ROLE).await?
    {
        for role in roles.values() {
            store::roles::add_composite(&mut *conn, &admin.id, role).await?;
        }
    }
    Ok(())
}

/// The realm's built-in client `what`, made if missing. A client that only has the name is
/// adopted, unless its roles would administer the realm (`realm-management`): then there is
/// none (logged).
async fn ensure_client(
    conn: &mut Conn,
    realm: &Realm,
    what: &str,
) -> Result<Option<Client>, OpsError> {
    if let Some(client) = store::clients::find_builtin(&mut *conn, &realm.id, what).await? {
        return Ok(Some(client));
    }
    if let Some(client) = store::clients::find_by_client_id(&mut *conn, &realm.id, what).await? {
        if what == REALM_MANAGEMENT_CLIENT {
            tracing::warn!(realm = %realm.name, "a client named realm-management is not the built-in one; left alone");
            return Ok(None);
        }
        store::clients::mark_builtin(&mut *conn, &client.id, what).await?;
        return Ok(Some(client));
    }
    let client = layout_client(realm, what)?;
    store::clients::insert(&mut *conn, &client).await?;
    store::clients::mark_builtin(&mut *conn, &client.id, what).await?;
    Ok(Some(client))
}

/// The client's roles `names` (made if missing) with the composites among them, by name.
async fn ensure_client_roles(
    conn: &mut Conn,
    client: &Client,
    names: &[&str],
    composites: &[(&str, &[&str])],
) -> Result<HashMap<String, RoleId>, OpsError> {
    let mut roles = HashMap::new();
    for name in names {
        let id = ensure_client_role(conn, client, name).await?;
        roles.insert((*name).to_owned(), id);
    }
    for (parent, children) in composites {
        for child in *children {
            if let (Some(parent), Some(child)) = (roles.get(*parent), roles.get(*child)) {
                store::roles::add_composite(&mut *conn, parent, child).await?;
            }
        }
    }
    Ok(roles)
}

/// A built-in client role, made if missing, marked and described as Keycloak does.
async fn ensure_client_role(
    conn: &mut Conn,
    client: &Client,
    name: &str,
) -> Result<RoleId, OpsError> {
    let role = match store::roles::find_client_role(&mut *conn, &client.id, name).await? {
        Some(role) => role,
        None => insert_role(conn, &client.realm_id, Some(client), name).await?,
    };
    mark(conn, &role, name).await?;
    Ok(role.id)
}

/// A built-in realm role known by marker `what`, made as `name` if missing.
async fn ensure_realm_role(
    conn: &mut Conn,
    realm: &Realm,
    what: &str,
    name: &str,
) -> Result<RoleId, OpsError> {
    let found = match store::roles::find_builtin_realm_role(&mut *conn, &realm.id, what).await? {
        Some(role) => Some(role),
        None => store::roles::find_realm_role(&mut *conn, &realm.id, name).await?,
    };
    let role = match found {
        Some(role) => role,
        None => insert_role(conn, &realm.id, None, name).await?,
    };
    mark(conn, &role, what).await?;
    Ok(role.id)
}

async fn insert_role(
    conn: &mut Conn,
    realm: &RealmId,
    client: Option<&Client>,
    name: &str,
) -> Result<Role, OpsError> {
    let role = Role {
        id: RoleId::new(),
        realm_id: realm.clone(),
        client_id: client.map(|c| c.id.clone()),
        name: name.to_owned(),
        description: None,
    };
    store::roles::insert(&mut *conn, &role).await?;
    Ok(role)
}

/// Marks a role built in as `what` (unless it already is) and describes it as Keycloak does
/// (unless it has a description).
async fn mark(conn: &mut Conn, role: &Role, what: &str) -> Result<(), OpsError> {
    if store::roles::builtin_of(&mut *conn, &role.id)
        .await?
        .is_none()
    {
        store::roles::mark_builtin(&mut *conn, &role.id, what).await?;
    }
    let described = if what == DEFAULT_ROLES {
        "default-roles"
    } else {
        what
    };
    store::roles::describe_if_blank(&mut *conn, &role.id, &description(described)).await?;
    Ok(())
}

/// Gives the creator of `realm` every role of its client in master, as Keycloak does for a
/// creator who is not a master admin (who holds them already).
pub async fn grant_to_creator(
    conn: &mut Conn,
    realm: &RealmId,
    creator: &UserId,
) -> Result<(), OpsError> {
    if let Some(client) = store::clients::find_managing(&mut *conn, realm).await? {
        for role in store::roles::list_client_roles(&mut *conn, &client.id).await? {
            store::roles::grant_to_user(&mut *conn, creator, &role.id).await?;
        }
    }
    Ok(())
}

/// Follows a realm's rename: its client in master takes the new name, and the console and
/// account clients' URLs point at the renamed realm (Keycloak's `renameRealm`).
pub async fn rename(conn: &mut Conn, old: &str, realm: &Realm) -> Result<(), OpsError> {
    let new = realm.name.as_str();
    if old == new {
        return Ok(());
    }
    if let Some(mut client) = store::clients::find_managing(&mut *conn, &realm.id).await? {
        client.client_id = ClientIdName::parse(&format!("{new}-realm"))?;
        store::clients::update(&mut *conn, &client).await?;
    }
    let replacements = [
        (format!("/realms/{old}/"), format!("/realms/{new}/")),
        (format!("/admin/{old}/"), format!("/admin/{new}/")),
    ];
    let moved = |url: &str| {
        replacements
            .iter()
            .fold(url.to_owned(), |url, (from, to)| url.replace(from, to))
    };
    for what in ["account", "account-console", "security-admin-console"] {
        if let Some(mut client) = store::clients::find_builtin(&mut *conn, &realm.id, what).await? {
            client.base_url = client.base_url.as_deref().map(moved);
            client.redirect_uris = client.redirect_uris.iter().map(|u| moved(u)).collect();
            store::clients::update(&mut *conn, &client).await?;
        }
    }
    Ok(())
}

/// Brings every realm made by an older keywarden to the current layout, master first, each
/// in its own transaction. Realms already there are not touched.
pub async fn backfill(db: &Db) -> anyhow::Result<()> {
    let mut realms = store::realms::list(db.read()).await?;
    realms.sort_by_key(|r| r.name.as_str() != MASTER);
    for realm in realms {
        if store::realms::layout_version(db.read(), &realm.id).await? >= LAYOUT_VERSION {
            continue;
        }
        let mut tx = db.begin().await?;
        ensure(&mut tx, &realm)
            .await
            .map_err(|e| anyhow::anyhow!("cannot bring realm {} to the layout: {e}", realm.name))?;
        tx.commit().await?;
        tracing::info!(realm = %realm.name, "added the built-in clients and roles it lacked");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::ops::access::MANAGEMENT_ROLES;

    #[test]
    fn every_role_keywarden_implements_is_one_keycloak_makes() {
        for name in MANAGEMENT_ROLES.iter().filter(|n| **n != "realm-admin") {
            assert!(ADMIN_ROLES.contains(name), "{name}");
        }
    }

    #[test]
    fn descriptions_are_keycloak_message_keys() {
        assert_eq!(description("offline_access"), "${role_offline-access}");
        assert_eq!(
            description("uma_authorization"),
            "${role_uma_authorization}"
        );
        assert_eq!(description("manage-users"), "${role_manage-users}");
    }
}
