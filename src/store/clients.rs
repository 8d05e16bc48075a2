//! Clients, with their JSON-encoded lists, attributes and docker access policy.

use super::{sql, Exec};

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
pub async fn insert(db: impl Into<Exec<'_>>, client: &Client) -> Result<(), StoreError> {
    let protocol = client.protocol.as_str();
    let redirect_uris = to_json(&client.redirect_uris);
    let web_origins = to_json(&client.web_origins);
    let attributes = to_json(&client.attributes);
    let access_policy = client.access_policy.as_ref().map(to_json);
    sql!(
        db,
        query!(
            "INSERT INTO client (id, realm_id, client_id, name, description, protocol, enabled,
            public_client, secret, root_url, base_url, redirect_uris, web_origins,
            standard_flow_enabled, direct_access_grants_enabled, service_accounts_enabled,
            attributes, access_policy)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
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
        .execute
    )
    .map_err(conflict_on_unique(format!(
        "Client {} already exists",
        client.client_id
    )))
    .map(drop)
}

/// Writes every field of an existing client.
pub async fn update(db: impl Into<Exec<'_>>, client: &Client) -> Result<bool, StoreError> {
    let protocol = client.protocol.as_str();
    let redirect_uris = to_json(&client.redirect_uris);
    let web_origins = to_json(&client.web_origins);
    let attributes = to_json(&client.attributes);
    let access_policy = client.access_policy.as_ref().map(to_json);
    let done = sql!(
        db,
        query!(
        "UPDATE client SET client_id = $1, name = $2, description = $3, protocol = $4, enabled = $5,
            public_client = $6, secret = $7, root_url = $8, base_url = $9, redirect_uris = $10,
            web_origins = $11, standard_flow_enabled = $12, direct_access_grants_enabled = $13,
            service_accounts_enabled = $14, attributes = $15, access_policy = $16
         WHERE id = $17 AND realm_id = $18",
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
        .execute
    )
    .map_err(conflict_on_unique(format!(
        "Client {} already exists",
        client.client_id
    )))?;
    Ok(done == 1)
}

pub async fn delete(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &ClientUuid,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM client WHERE id = $1 AND realm_id = $2",
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

pub async fn find_by_id(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &ClientUuid,
) -> Result<Option<Client>, StoreError> {
    sql!(
        db,
        query_as!(
            ClientRow,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE id = $1 AND realm_id = $2"#,
            id,
            realm
        )
        .fetch_optional
    )?
    .map(Client::try_from)
    .transpose()
}

pub async fn find_by_client_id(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    client_id: &str,
) -> Result<Option<Client>, StoreError> {
    sql!(
        db,
        query_as!(
            ClientRow,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE realm_id = $1 AND client_id = $2"#,
            realm,
            client_id
        )
        .fetch_optional
    )?
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
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    search: &str,
    first: i64,
    max: i64,
) -> Result<Vec<Client>, StoreError> {
    let pattern = format!("%{}%", search.trim());
    sql!(
        db,
        query_as!(
            ClientRow,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE realm_id = $1 AND client_id LIKE $2
         ORDER BY client_id LIMIT $3 OFFSET $4"#,
            realm,
            pattern,
            max,
            first
        )
        .fetch_all
    )?
    .into_iter()
    .map(Client::try_from)
    .collect()
}

/// Marks a client as built in: `what` names it for good, whatever its clientId becomes.
pub async fn mark_builtin(
    db: impl Into<Exec<'_>>,
    client: &ClientUuid,
    what: &str,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!("UPDATE client SET builtin = $1 WHERE id = $2", what, client).execute
    )?;
    Ok(())
}

/// What a client is when it is built in.
pub async fn builtin_of(
    db: impl Into<Exec<'_>>,
    client: &ClientUuid,
) -> Result<Option<String>, StoreError> {
    Ok(sql!(
        db,
        query_scalar!("SELECT builtin FROM client WHERE id = $1", client).fetch_optional
    )?
    .flatten())
}

/// The client representation's fields that keywarden keeps without implementing them.
pub async fn kept(
    db: impl Into<Exec<'_>>,
    id: &ClientUuid,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    let raw = sql!(
        db,
        query_scalar!("SELECT kept FROM client WHERE id = $1", id).fetch_optional
    )?
    .unwrap_or_default();
    if raw.is_empty() {
        return Ok(serde_json::Map::new());
    }
    from_json("client.kept", &raw)
}

/// Replaces the fields kept for a client.
pub async fn set_kept(
    db: impl Into<Exec<'_>>,
    id: &ClientUuid,
    kept: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), StoreError> {
    let raw = to_json(kept);
    sql!(
        db,
        query!("UPDATE client SET kept = $1 WHERE id = $2", raw, id).execute
    )?;
    Ok(())
}

/// The realm's built-in client `what` (its clientId may differ).
pub async fn find_builtin(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    what: &str,
) -> Result<Option<Client>, StoreError> {
    sql!(
        db,
        query_as!(
            ClientRow,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE realm_id = $1 AND builtin = $2 AND manages_realm_id IS NULL
         ORDER BY client_id LIMIT 1"#,
            realm,
            what
        )
        .fetch_optional
    )?
    .map(Client::try_from)
    .transpose()
}

/// The client of master whose roles administer `managed` (`master-realm`, `{realm}-realm`).
pub async fn find_managing(
    db: impl Into<Exec<'_>>,
    managed: &RealmId,
) -> Result<Option<Client>, StoreError> {
    sql!(
        db,
        query_as!(
            ClientRow,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name,
            description, protocol, enabled, public_client, secret, root_url, base_url,
            redirect_uris, web_origins, standard_flow_enabled, direct_access_grants_enabled,
            service_accounts_enabled, attributes, access_policy
         FROM client WHERE manages_realm_id = $1 LIMIT 1"#,
            managed
        )
        .fetch_optional
    )?
    .map(Client::try_from)
    .transpose()
}

/// Links a client of master to the realm its roles administer.
pub async fn link_managed_realm(
    db: impl Into<Exec<'_>>,
    client: &ClientUuid,
    managed: &RealmId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE client SET manages_realm_id = $1 WHERE id = $2",
            managed,
            client
        )
        .execute
    )?;
    Ok(())
}
