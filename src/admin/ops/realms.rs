//! Creating a realm with everything Keycloak gives a new realm: a signing key and
//! certificate, the `admin-cli` and `realm-management` clients, and the default roles.

use sqlx::SqliteConnection;

use super::OpsError;
use crate::crypto::keys::generate_realm_key;
use crate::domain::{
    Client, ClientIdName, KeyId, Protocol, Realm, RealmKey, RealmName, Role, RoleId,
};
use crate::store;

/// The name of the realm that administers all others.
pub const MASTER: &str = "master";

/// The client roles of `realm-management`; `realm-admin` is a composite of all the others.
pub const REALM_MANAGEMENT_ROLES: [&str; 12] = [
    "view-realm",
    "manage-realm",
    "view-users",
    "manage-users",
    "query-users",
    "query-groups",
    "view-clients",
    "manage-clients",
    "query-clients",
    "create-client",
    "view-events",
    "manage-events",
];

/// Creates a realm with its key, default clients and roles, inside the caller's transaction.
/// The key is generated before any write so the transaction stays short.
pub async fn provision(conn: &mut SqliteConnection, realm: Realm) -> Result<Realm, OpsError> {
    let name = realm.name.as_str().to_owned();
    let generated = tokio::task::spawn_blocking(move || generate_realm_key(&name))
        .await
        .map_err(|e| anyhow::anyhow!("key generation stopped: {e}"))?
        .map_err(anyhow::Error::from)?;
    store::realms::insert(&mut *conn, &realm).await?;
    store::keys::insert(
        &mut *conn,
        &RealmKey {
            id: KeyId::new(),
            realm_id: realm.id.clone(),
            kid: generated.kid,
            algorithm: "RS256".into(),
            status: "ACTIVE".into(),
            private_key_der: generated.private_key_der,
            public_key_der: generated.public_key_der,
            certificate_der: generated.certificate_der,
            created_at: crate::clock::now_secs(),
        },
    )
    .await?;

    let admin_cli = Client {
        name: Some("${client_admin-cli}".into()),
        standard_flow_enabled: false,
        ..Client::new(
            realm.id.clone(),
            ClientIdName::parse("admin-cli")?,
            Protocol::OpenIdConnect,
        )
    };
    store::clients::insert(&mut *conn, &admin_cli).await?;

    let management = Client {
        name: Some("${client_realm-management}".into()),
        public_client: false,
        standard_flow_enabled: false,
        direct_access_grants_enabled: false,
        attributes: [("bearerOnly".to_owned(), "true".to_owned())].into(),
        ..Client::new(
            realm.id.clone(),
            ClientIdName::parse("realm-management")?,
            Protocol::OpenIdConnect,
        )
    };
    store::clients::insert(&mut *conn, &management).await?;
    let realm_admin = role(&realm, Some(&management), "realm-admin");
    store::roles::insert(&mut *conn, &realm_admin).await?;
    for name in REALM_MANAGEMENT_ROLES {
        let child = role(&realm, Some(&management), name);
        store::roles::insert(&mut *conn, &child).await?;
        store::roles::add_composite(&mut *conn, &realm_admin.id, &child.id).await?;
    }

    let default_roles = role(&realm, None, &format!("default-roles-{}", realm.name));
    store::roles::insert(&mut *conn, &default_roles).await?;
    for name in ["offline_access", "uma_authorization"] {
        let child = role(&realm, None, name);
        store::roles::insert(&mut *conn, &child).await?;
        store::roles::add_composite(&mut *conn, &default_roles.id, &child.id).await?;
    }
    if realm.name.as_str() == MASTER {
        for name in ["admin", "create-realm"] {
            store::roles::insert(&mut *conn, &role(&realm, None, name)).await?;
        }
    }
    Ok(realm)
}

fn role(realm: &Realm, client: Option<&Client>, name: &str) -> Role {
    Role {
        id: RoleId::new(),
        realm_id: realm.id.clone(),
        client_id: client.map(|c| c.id.clone()),
        name: name.to_owned(),
        description: None,
    }
}

/// Parses a realm name and provisions a realm with Keycloak's defaults.
pub async fn create(conn: &mut SqliteConnection, name: &str) -> Result<Realm, OpsError> {
    let name = RealmName::parse(name)?;
    provision(conn, Realm::new(name)).await
}
