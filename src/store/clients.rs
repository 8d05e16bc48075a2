//! Clients, with their JSON-encoded lists, attributes and docker access policy.

use sqlx::SqliteExecutor;

use super::{conflict_on_unique, from_json, to_json, Db, StoreError};
use crate::domain::{Client, ClientIdName, ClientUuid, Protocol, RealmId};

struct ClientRow {
    id: ClientUuid,
    realm_id: RealmId,
    client_id: ClientIdName,
    name: Option<String>,
    description: Option<String>,
    protocol: String,
    enabled: bool,
    public_client: bool,
    secret: Option<String>,
    root_url: Option<String>,
    base_url: Option<String>,
    redirect_uris: String,
    web_origins: String,
    standard_flow_enabled: bool,
    direct_access_grants_enabled: bool,
    service_accounts_enabled: bool,
    attributes: String,
    access_policy: Option<String>,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            protocol: Protocol::parse(&row.protocol)
                .ok_or_else(|| StoreError::Corrupt(format!("client.protocol: {}", row.protocol)))?,
            redirect_uris: from_json("client.redirect_uris", &row.redirect_uris)?,
            web_origins: from_json("client.web_origins", &row.web_origins)?,
            attributes: from_json("client.attributes", &row.attributes)?,
            access_policy: row
                .access_policy
                .as_deref()
                .map(|p| from_json("client.access_policy", p))
                .transpose()?,
            id: row.id,
            realm_id: row.realm_id,
            client_id: row.client_id,
            name: row.name,
            description: row.description,
            enabled: row.enabled,
            public_client: row.public_client,
            secret: row.secret,
            root_url: row.root_url,
            base_url: row.base_url,
            standard_flow_enabled: row.standard_flow_enabled,
            direct_access_grants_enabled: row.direct_access_grants_enabled,
            service_accounts_enabled: row.service_accounts_enabled,
        })
    }
}

/// Inserts a client; a taken clientId is a conflict with Keycloak's message.
pub async fn insert(db: impl SqliteExecutor<'_>, client: &Client) -> Result<(), StoreError> {
    let protocol = client.protocol.as_str();
    let redirect_uris = to_json(&client.redirect_uris);
    let web_origins = to_json(&client.web_origins);
    let attributes = to_json(&client.attributes);
    let access_policy = client.access_policy.as_ref().map(to_json);
    sqlx::query!(
        "INSERT INTO client (id, realm_id, client_id, name, description, protocol, enabled,
            public_client, secret, root_url, base_url, redirect_uris, web_origins,
            standard_flow_enabled, direct_access_grants_enabled, service_accounts_enabled,
            attributes, access_policy)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        client.id,
        client.realm_id,
        client.client_id,
        client.name,
        client.description,
        protocol,
        client.enabled,
        client.public_client,
        client.secret,
        client.root_url,
        client.base_url,
        redirect_uris,
        web_origins,
        client.standard_flow_enabled,
        client.direct_access_grants_enabled,
        client.service_accounts_enabled,
        attributes,
        access_policy,
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique(format!(
        "Client {} already exists",
        client.client_id
    )))
    .map(drop)
}

/// Writes every field of an existing client.
pub async fn update(db: impl SqliteExecutor<'_>, client: &Client) -> Result<bool, StoreError> {
    let protocol = client.protocol.as_str();
    let redirect_uris = to_json(&client.redirect_uris);
    let web_origins = to_json(&client.web_origins);
    let attributes = to_json(&client.attributes);
    let access_policy = client.access_policy.as_ref().map(to_json);
    let done = sqlx::query!(
        "UPDATE client SET client_id = ?, name = ?, description = ?, protocol = ?, enabled = ?,
            public_client = ?, secret = ?, root_url = ?, base_url = ?, redirect_uris = ?,
            web_origins = ?, standard_flow_enabled = ?, direct_access_grants_enabled = ?,
            service_accounts_enabled = ?, attributes = ?, access_policy = ?
         WHERE id = ? AND realm_id = ?",
        client.client_id,
        client.name,
        client.description,
        protocol,
        client.enabled,
        client.public_client,
        client.secret,
        client.root_url,
        client.base_url,
        redirect_uris,
        web_origins,
        client.standard_flow_enabled,
        client.direct_access_grants_enabled,
        client.service_accounts_enabled,
        attributes,
        access_policy,
        client.id,
        client.realm_id,
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique(format!(
        "Client {} already exists",
        client.client_id
    )))?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &ClientUuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "DELETE FROM client WHERE id = ? AND realm_id = ?",
        id,
        realm
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_by_id(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &ClientUuid,
) -> Result<Option<Client>, StoreError> {
    sqlx::query_as!(
        ClientRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE id = ? AND realm_id = ?"#,
        id,
        realm
    )
    .fetch_optional(db)
    .await?
    .map(Client::try_from)
    .transpose()
}

pub async fn find_by_client_id(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    client_id: &str,
) -> Result<Option<Client>, StoreError> {
    sqlx::query_as!(
        ClientRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE realm_id = ? AND client_id = ?"#,
        realm,
        client_id
    )
    .fetch_optional(db)
    .await?
    .map(Client::try_from)
    .transpose()
}

/// `find_by_client_id` through the read cache.
pub async fn find_by_client_id_cached(
    db: &Db,
    realm: &RealmId,
    client_id: &str,
) -> Result<Option<Client>, StoreError> {
    let cache = db.cache();
    let key = (realm.clone(), client_id.to_owned());
    cache
        .get_or_load(&cache.clients_by_client_id, key, || {
            find_by_client_id(db.read(), realm, client_id)
        })
        .await
}

/// A page of the realm's clients whose clientId contains `search`, ordered by clientId.
pub async fn search(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    search: &str,
    first: i64,
    max: i64,
) -> Result<Vec<Client>, StoreError> {
    let pattern = format!("%{}%", search.trim());
    sqlx::query_as!(
        ClientRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE realm_id = ? AND client_id LIKE ?
         ORDER BY client_id LIMIT ? OFFSET ?"#,
        realm,
        pattern,
        max,
        first
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(Client::try_from)
    .collect()
}

/// Marks a client as built in: `what` names it for good, whatever its clientId becomes.
pub async fn mark_builtin(
    db: impl SqliteExecutor<'_>,
    client: &ClientUuid,
    what: &str,
) -> Result<(), StoreError> {
    sqlx::query!("UPDATE client SET builtin = ? WHERE id = ?", what, client)
        .execute(db)
        .await?;
    Ok(())
}

/// What a client is when it is built in.
pub async fn builtin_of(
    db: impl SqliteExecutor<'_>,
    client: &ClientUuid,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar!("SELECT builtin FROM client WHERE id = ?", client)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

/// The realm's built-in client `what` (its clientId may differ).
pub async fn find_builtin(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    what: &str,
) -> Result<Option<Client>, StoreError> {
    sqlx::query_as!(
        ClientRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE realm_id = ? AND builtin = ? AND manages_realm_id IS NULL
         ORDER BY client_id LIMIT 1"#,
        realm,
        what
    )
    .fetch_optional(db)
    .await?
    .map(Client::try_from)
    .transpose()
}

/// The client of master whose roles administer `managed` (`master-realm`, `{realm}-realm`).
pub async fn find_managing(
    db: impl SqliteExecutor<'_>,
    managed: &RealmId,
) -> Result<Option<Client>, StoreError> {
    sqlx::query_as!(
        ClientRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE manages_realm_id = ? LIMIT 1"#,
        managed
    )
    .fetch_optional(db)
    .await?
    .map(Client::try_from)
    .transpose()
}

/// Links a client of master to the realm its roles administer.
pub async fn link_managed_realm(
    db: impl SqliteExecutor<'_>,
    client: &ClientUuid,
    managed: &RealmId,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE client SET manages_realm_id = ? WHERE id = ?",
        managed,
        client
    )
    .execute(db)
    .await?;
    Ok(())
}
