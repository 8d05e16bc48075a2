//! The clients of an imported realm: the ones the realm was made with are updated (the
//! built-in ones keep their settings), the others are created. A client without
//! `publicClient` is confidential, as in Keycloak; a masked secret (`**********`) is never
//! stored, a new one is made instead. Clients of a protocol keywarden does not speak (SAML)
//! are left out and reported, and so are master's `{realm}-realm` clients, which keywarden
//! makes for each realm it holds.

use std::collections::{HashMap, HashSet};

use crate::store::Conn;

use crate::admin::ops::realms::MASTER;
use crate::admin::ops::{clients as client_ops, OpsError};
use crate::admin::repr::{ClientRepr, RealmRepr};
use crate::domain::{Client, ClientIdName, Protocol, Realm};
use crate::state::AppState;
use crate::store;

/// The realm's clients once imported, by clientId.
pub(super) struct Clients {
    by_client_id: HashMap<String, Client>,
    left_out: HashSet<String>,
}

impl Clients {
    pub(super) fn get(&self, client_id: &str) -> Option<&Client> {
        self.by_client_id.get(client_id)
    }

    /// Whether the client was left out of the import (its roles and mappings are too).
    pub(super) fn is_left_out(&self, client_id: &str) -> bool {
        self.left_out.contains(client_id)
    }

    /// The client, or an error naming `path` when the realm has none by that clientId.
    pub(super) fn require(&self, client_id: &str, path: &str) -> Result<&Client, OpsError> {
        self.get(client_id)
            .ok_or_else(|| OpsError::Invalid(format!("{path}: no client '{client_id}'")))
    }
}

/// Creates or updates every client of the representation, with its kept fields.
pub(super) async fn import(
    state: &AppState,
    conn: &mut Conn,
    realm: &Realm,
    repr: &RealmRepr,
    left_out: &mut Vec<String>,
) -> Result<Clients, OpsError> {
    let mut clients = Clients {
        by_client_id: store::clients::search(&mut *conn, &realm.id, "", 0, i64::MAX)
            .await?
            .into_iter()
            .map(|c| (c.client_id.to_string(), c))
            .collect(),
        left_out: HashSet::new(),
    };
    for (index, client_repr) in repr.clients.iter().flatten().enumerate() {
        let path = format!("clients[{index}]");
        let client_id = ClientIdName::parse(client_repr.client_id.as_deref().unwrap_or_default())
            .map_err(|e| OpsError::Invalid(format!("{path}.clientId: {e}")))?;
        let protocol_name = client_repr.protocol.as_deref().unwrap_or("openid-connect");
        let Some(protocol) = Protocol::parse(protocol_name) else {
            left_out.push(format!(
                "{path}: the {protocol_name} client {client_id} is left out"
            ));
            clients.left_out.insert(client_id.to_string());
            continue;
        };
        let settings = ClientRepr {
            client_id: None,
            protocol: None,
            ..client_repr.clone()
        };
        let at_path = |e: OpsError| match e {
            OpsError::Invalid(message) => OpsError::Invalid(format!("{path}: {message}")),
            other => other,
        };
        let client = match clients.by_client_id.remove(client_id.as_str()) {
            Some(existing) => {
                let builtin = store::clients::builtin_of(&mut *conn, &existing.id).await?;
                if builtin.is_some() {
                    existing
                } else {
                    let mut updated = existing;
                    client_ops::merge(state, &mut updated, &settings).map_err(at_path)?;
                    store::clients::update(&mut *conn, &updated).await?;
                    updated
                }
            }
            None if realm.name.as_str() == MASTER && client_id.as_str().ends_with("-realm") => {
                left_out.push(format!(
                    "{path}: {client_id} is made by keywarden for the realm it administers"
                ));
                clients.left_out.insert(client_id.to_string());
                continue;
            }
            None => {
                let mut created = Client::new(realm.id.clone(), client_id.clone(), protocol);
                created.public_client = false;
                client_ops::merge(state, &mut created, &settings).map_err(at_path)?;
                store::clients::insert(&mut *conn, &created).await?;
                created
            }
        };
        store::clients::set_kept(&mut *conn, &client.id, &client_repr.kept).await?;
        clients.by_client_id.insert(client_id.to_string(), client);
    }
    Ok(clients)
}

/// Every confidential client with service accounts gets its service-account user, unless
/// the import brought it (a user with `serviceAccountClientId`).
pub(super) async fn ensure_service_accounts(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
) -> Result<(), OpsError> {
    for client in clients.by_client_id.values() {
        if client.service_accounts_enabled && !client.public_client {
            client_ops::ensure_service_account(&mut *conn, &realm.id, client).await?;
        }
    }
    Ok(())
}
