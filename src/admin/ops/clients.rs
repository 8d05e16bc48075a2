//! Client operations: create, update (merge), delete, secrets, and the docker access policy.

use super::access::{
    authorize, Actor, Granted, ManageClients, Powers, QueryClients, Right, ViewClients, ViewUsers,
};
use super::audited::{Change, MASKED};
use super::OpsError;
use crate::admin::repr::ClientRepr;
use crate::domain::{Client, ClientIdName, ClientUuid, Protocol, Realm, RealmId, User, Username};
use crate::protocol::docker::AccessPolicy;
use crate::state::AppState;
use crate::store;

/// Keycloak's answer for a client id that names no client of the realm.
pub const CLIENT_NOT_FOUND: &str = "Could not find client";

/// Finds a client of the granted realm by internal id.
pub async fn find<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    id: &str,
) -> Result<Client, OpsError> {
    let id = ClientUuid::parse(id).ok_or(OpsError::NotFound(CLIENT_NOT_FOUND))?;
    store::clients::find_by_id(state.db.read(), &granted.realm().id, &id)
        .await?
        .ok_or(OpsError::NotFound(CLIENT_NOT_FOUND))
}

/// The admin powers of the client's service-account user (none when it has none): whoever
/// holds the client's secret holds them.
async fn service_account_powers<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    client: &Client,
) -> Result<Powers, OpsError> {
    match store::users::find_service_account(state.db.read(), &granted.realm().id, &client.id)
        .await?
    {
        Some(user) => granted.powers_of(state, &user.id).await,
        None => Ok(Powers::default()),
    }
}

/// Finds a client the actor may change or take the secret of: one whose service account has
/// no admin power the actor lacks.
pub(super) async fn find_covered<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    id: &str,
) -> Result<Client, OpsError> {
    let client = find(state, granted, id).await?;
    granted.require_covers(&service_account_powers(state, granted, &client).await?)?;
    Ok(client)
}

/// Masks the secret of a client whose service account has powers the actor lacks (a master
/// admin holds every power, so nothing is looked up for them).
async fn hide_secret_unless_covered<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    client: &mut Client,
) -> Result<(), OpsError> {
    if client.secret.is_some()
        && !granted.actor().is_master_admin()
        && !granted.actor().covers(
            &granted.realm().id,
            &service_account_powers(state, granted, client).await?,
        )
    {
        client.secret = Some(MASKED.to_owned());
    }
    Ok(())
}

/// Clients found by a search, and whether the caller may see their settings: holding only
/// `query-clients` shows id, clientId and description, as in Keycloak.
#[derive(Debug)]
pub struct Listing {
    pub clients: Vec<Client>,
    pub settings_visible: bool,
}

/// Lists clients: exactly `client_id` when given, else those whose clientId contains `search`.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    client_id: Option<&str>,
    search: &str,
    first: i64,
    max: i64,
) -> Result<Listing, OpsError> {
    let granted = authorize::<QueryClients>(state, actor, realm).await?;
    let settings_visible = granted.also::<ViewClients>().is_some();
    let realm_id = &granted.realm().id;
    let clients = match client_id.filter(|c| !c.is_empty()) {
        Some(client_id) => store::clients::find_by_client_id(state.db.read(), realm_id, client_id)
            .await?
            .into_iter()
            .collect(),
        None => {
            store::clients::search(
                state.db.read(),
                realm_id,
                search,
                first.max(0),
                max.clamp(0, 1000),
            )
            .await?
        }
    };
    let mut clients = clients;
    if settings_visible {
        for client in &mut clients {
            hide_secret_unless_covered(state, &granted, client).await?;
        }
    }
    Ok(Listing {
        clients,
        settings_visible,
    })
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<Client, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let mut client = find(state, &granted, id).await?;
    hide_secret_unless_covered(state, &granted, &mut client).await?;
    Ok(client)
}

fn protocol_of(state: &AppState, raw: Option<&str>) -> Result<Protocol, OpsError> {
    let protocol = match raw {
        None | Some("") => Protocol::OpenIdConnect,
        Some(raw) => Protocol::parse(raw).ok_or_else(|| {
            OpsError::Invalid(format!(
                "Unsupported protocol '{raw}': expected openid-connect or docker-v2"
            ))
        })?,
    };
    if protocol == Protocol::DockerV2 && !state.settings.features.docker {
        return Err(OpsError::Invalid(
            "The docker-v2 protocol is not enabled on this server (start it with --features=docker)".into(),
        ));
    }
    Ok(protocol)
}

/// The longest client attribute value kept: room for a certificate chain in PEM.
const MAX_ATTRIBUTE_VALUE: usize = 32 * 1024;

/// Applies the present fields of `repr` to `client`, validated.
pub(super) fn merge(
    state: &AppState,
    client: &mut Client,
    repr: &ClientRepr,
) -> Result<(), OpsError> {
    if let Some(client_id) = &repr.client_id {
        client.client_id = ClientIdName::parse(client_id)?;
    }
    if repr.protocol.is_some() {
        client.protocol = protocol_of(state, repr.protocol.as_deref())?;
    }
    let text = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    if repr.name.is_some() {
        client.name = text(&repr.name);
    }
    if repr.description.is_some() {
        client.description = text(&repr.description);
    }
    if repr.root_url.is_some() {
        client.root_url = text(&repr.root_url);
    }
    if repr.base_url.is_some() {
        client.base_url = text(&repr.base_url);
    }
    if let Some(v) = repr.enabled {
        client.enabled = v;
    }
    if let Some(v) = repr.public_client {
        client.public_client = v;
    }
    if let Some(secret) = text(&repr.secret).filter(|s| s != MASKED) {
        client.secret = Some(secret);
    }
    if let Some(uris) = &repr.redirect_uris {
        client.redirect_uris = uris
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
    }
    if let Some(origins) = &repr.web_origins {
        client.web_origins = origins
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
    }
    if let Some(v) = repr.standard_flow_enabled {
        client.standard_flow_enabled = v;
    }
    if let Some(v) = repr.direct_access_grants_enabled {
        client.direct_access_grants_enabled = v;
    }
    if let Some(v) = repr.service_accounts_enabled {
        client.service_accounts_enabled = v;
    }
    if let Some(attributes) = &repr.attributes {
        client.attributes.extend(attributes.clone());
        let too_big = client.attributes.len() > super::role_edits::MAX_ATTRIBUTES
            || attributes
                .iter()
                .any(|(name, value)| name.len() > 255 || value.len() > MAX_ATTRIBUTE_VALUE);
        if too_big {
            return Err(OpsError::Invalid(format!(
                "At most {} attributes, names up to 255 and values up to {MAX_ATTRIBUTE_VALUE} characters",
                super::role_edits::MAX_ATTRIBUTES
            )));
        }
        crate::domain::token_settings::check(&client.attributes).map_err(OpsError::Invalid)?;
    }
    // Not bearer-only is the absence of the attribute, so that `"bearerOnly": false` (as
    // every export writes it) stores the same client as a representation without it.
    match repr.bearer_only {
        Some(true) => {
            client.attributes.insert("bearerOnly".into(), "true".into());
        }
        Some(false) => {
            client.attributes.remove("bearerOnly");
        }
        None => {}
    }
    if let Some(policy) = &repr.docker_access_policy {
        set_policy(client, policy.clone())?;
    }
    if !client.public_client && client.secret.is_none() {
        client.secret = Some(crate::crypto::random_token());
    }
    crate::domain::client_urls::check(client.root_url.as_deref(), &client.redirect_uris)
        .map_err(|e| OpsError::Invalid(e.to_string()))?;
    Ok(())
}

/// A built-in client keeps what every administrator depends on: its clientId, its protocol,
/// its kind (public, confidential or bearer-only), its grants, where its sign-ins may
/// redirect (so it cannot send an admin's code elsewhere) and being enabled.
fn keep_builtin_usable(builtin: &str, before: &Client, after: &Client) -> Result<(), OpsError> {
    let kept = after.client_id == before.client_id
        && after.protocol == before.protocol
        && after.public_client == before.public_client
        && after.direct_access_grants_enabled == before.direct_access_grants_enabled
        && after.standard_flow_enabled == before.standard_flow_enabled
        && after.redirect_uris == before.redirect_uris
        && after.service_accounts_enabled == before.service_accounts_enabled
        && after.attributes.get("bearerOnly") == before.attributes.get("bearerOnly")
        && after.enabled;
    if kept {
        Ok(())
    } else {
        Err(OpsError::Invalid(format!(
            "Client {builtin} is built in: its clientId, protocol, access type, grants and redirect URIs cannot change and it cannot be disabled"
        )))
    }
}

fn set_policy(client: &mut Client, policy: AccessPolicy) -> Result<(), OpsError> {
    if client.protocol != Protocol::DockerV2 {
        return Err(OpsError::Invalid(
            "Only docker-v2 clients have an access policy".into(),
        ));
    }
    policy.check_limits().map_err(OpsError::Invalid)?;
    client.access_policy = Some(policy).filter(|p| *p != AccessPolicy::AllowAll);
    Ok(())
}

/// Creates a client in `realm` from a representation (the granted or importing path).
pub async fn insert_from(
    state: &AppState,
    conn: &mut crate::store::Conn,
    realm: &Realm,
    repr: &ClientRepr,
) -> Result<Client, OpsError> {
    let client_id = ClientIdName::parse(repr.client_id.as_deref().unwrap_or_default())?;
    let protocol = protocol_of(state, repr.protocol.as_deref())?;
    // Ids are always fresh: an exported realm can be imported next to its original.
    let mut client = Client::new(realm.id.clone(), client_id, protocol);
    merge(
        state,
        &mut client,
        &ClientRepr {
            client_id: None,
            protocol: None,
            ..repr.clone()
        },
    )?;
    store::clients::insert(&mut *conn, &client).await?;
    if client.service_accounts_enabled && !client.public_client {
        ensure_service_account(conn, &realm.id, &client).await?;
    }
    Ok(client)
}

/// The `service-account-{clientId}` user that client_credentials tokens are issued for,
/// linked to the client (renamed with it) and, as in Keycloak, given the realm's default
/// roles when made. A user who already has the name is never adopted: the write fails with a
/// conflict.
pub(super) async fn ensure_service_account(
    conn: &mut crate::store::Conn,
    realm: &RealmId,
    client: &Client,
) -> Result<(), OpsError> {
    let name = Username::parse(&format!("service-account-{}", client.client_id))?;
    match store::users::find_service_account(&mut *conn, realm, &client.id).await? {
        Some(user) if user.username == name => {}
        Some(mut user) => {
            user.username = name;
            store::users::update(&mut *conn, &user).await?;
        }
        None => {
            let user = User::new(realm.clone(), name);
            store::users::insert(&mut *conn, &user).await?;
            store::users::link_service_account(&mut *conn, &user.id, &client.id).await?;
            let default_roles = store::roles::find_builtin_realm_role(
                &mut *conn,
                realm,
                super::access::DEFAULT_ROLES,
            )
            .await?;
            if let Some(role) = default_roles {
                store::roles::grant_to_user(&mut *conn, &user.id, &role.id).await?;
            }
        }
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &ClientRepr,
) -> Result<Client, OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    let mut tx = granted.begin(state).await?;
    let client = insert_from(state, tx.conn(), granted.realm(), repr).await?;
    tx.commit(
        Change::create("CLIENT", format!("clients/{}", client.id)).with(&ClientRepr::of(&client)),
    )
    .await?;
    Ok(client)
}

/// Merges a partial representation into a client.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    repr: &ClientRepr,
) -> Result<Client, OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    let mut client = find_covered(state, &granted, id).await?;
    let before = client.clone();
    merge(state, &mut client, repr)?;
    if let Some(builtin) = store::clients::builtin_of(state.db.read(), &client.id).await? {
        keep_builtin_usable(&builtin, &before, &client)?;
    }
    let mut tx = granted.begin(state).await?;
    tx.require_covers_service_account(&client.id).await?;
    store::clients::update(tx.conn(), &client).await?;
    if client.service_accounts_enabled && !client.public_client {
        ensure_service_account(tx.conn(), &granted.realm().id, &client).await?;
    }
    tx.commit(
        Change::update("CLIENT", format!("clients/{}", client.id)).with(&ClientRepr::of(&client)),
    )
    .await?;
    Ok(client)
}

pub async fn delete(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    let client = find_covered(state, &granted, id).await?;
    if store::clients::builtin_of(state.db.read(), &client.id)
        .await?
        .is_some()
    {
        return Err(OpsError::Invalid(format!(
            "Client {} is built in and cannot be deleted",
            client.client_id
        )));
    }
    let mut tx = granted.begin(state).await?;
    tx.require_covers_service_account(&client.id).await?;
    store::clients::delete(tx.conn(), &granted.realm().id, &client.id).await?;
    tx.commit(Change::delete("CLIENT", format!("clients/{}", client.id)))
        .await?;
    Ok(())
}

/// A client's secret, if it has one (a public client may have been given one; Keycloak shows
/// it here while the client's representation hides it).
pub async fn secret(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<Option<String>, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let client = find_covered(state, &granted, id).await?;
    Ok(client.secret.filter(|s| !s.is_empty()))
}

/// Replaces a client's secret with a fresh one (public clients too, as in Keycloak: their
/// secret is never used to sign in).
pub async fn regenerate_secret(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<String, OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    let mut client = find_covered(state, &granted, id).await?;
    let secret = crate::crypto::random_token();
    client.secret = Some(secret.clone());
    let mut tx = granted.begin(state).await?;
    tx.require_covers_service_account(&client.id).await?;
    store::clients::update(tx.conn(), &client).await?;
    tx.commit(Change::action(
        "CLIENT",
        format!("clients/{}/client-secret", client.id),
    ))
    .await?;
    Ok(secret)
}

/// A docker-v2 client's access policy (allow-all when none is stored).
pub async fn policy(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<AccessPolicy, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let client = find(state, &granted, id).await?;
    if client.protocol != Protocol::DockerV2 {
        return Err(OpsError::Invalid(
            "Only docker-v2 clients have an access policy".into(),
        ));
    }
    Ok(client.access_policy.unwrap_or(AccessPolicy::AllowAll))
}

/// Replaces a docker-v2 client's access policy.
pub async fn set_access_policy(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    policy: AccessPolicy,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    let mut client = find_covered(state, &granted, id).await?;
    set_policy(&mut client, policy.clone())?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers_service_account(&client.id).await?;
    store::clients::update(tx.conn(), &client).await?;
    tx.commit(
        Change::update(
            "CLIENT",
            format!("clients/{}/docker-access-policy", client.id),
        )
        .with(&policy),
    )
    .await?;
    Ok(())
}

/// Authorizes a download of a client's installation files and returns the client.
pub async fn for_installation(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(Realm, Client), OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let client = find_covered(state, &granted, id).await?;
    Ok((granted.realm().clone(), client))
}

/// What the caller may do with the realm's clients, as Keycloak's `access` map.
pub async fn access(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<std::collections::BTreeMap<&'static str, bool>, OpsError> {
    let granted = authorize::<QueryClients>(state, actor, realm).await?;
    let manage = granted.also::<ManageClients>().is_some();
    Ok(std::collections::BTreeMap::from([
        ("view", granted.also::<ViewClients>().is_some()),
        ("configure", manage),
        ("manage", manage),
    ]))
}

/// The client's roles, with whether each is a composite.
pub async fn roles(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<Vec<(crate::domain::Role, bool)>, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let client = find(state, &granted, id).await?;
    let db = state.db.read();
    let composites = store::roles::composite_ids(db, &granted.realm().id).await?;
    Ok(store::roles::list_client_roles(db, &client.id)
        .await?
        .into_iter()
        .map(|role| {
            let composite = composites.contains(&role.id);
            (role, composite)
        })
        .collect())
}

/// Creates a client role.
pub async fn create_role(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    repr: &crate::admin::repr::RoleRepr,
) -> Result<crate::domain::Role, OpsError> {
    let granted = authorize::<ManageClients>(state, actor, realm).await?;
    let client = find(state, &granted, id).await?;
    let name = super::roles::role_name(repr.name.as_deref())?;
    let role = crate::domain::Role {
        id: crate::domain::RoleId::new(),
        realm_id: granted.realm().id.clone(),
        client_id: Some(client.id.clone()),
        name,
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
    let path = format!("clients/{}/roles/{}", client.id, role.name);
    tx.commit(Change::create("CLIENT_ROLE", path).with(repr))
        .await?;
    Ok(role)
}

/// The clientId of the client with internal id `id` (the admin API names clients by id).
pub async fn client_id_of(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<String, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    Ok(find(state, &granted, id).await?.client_id.to_string())
}

/// The fields of Keycloak's client representation kept for the client (by an import), for
/// its representation; a registration token is never shown.
pub async fn kept_fields(
    state: &AppState,
    client: &Client,
) -> Result<serde_json::Map<String, serde_json::Value>, OpsError> {
    let mut kept = store::clients::kept(state.db.read(), &client.id).await?;
    kept.remove("registrationAccessToken");
    Ok(kept)
}
