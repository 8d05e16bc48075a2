//! Who may do what: master-realm admins manage every realm; a realm's own admins hold client
//! roles of its `realm-management` client and manage only that realm. An operation proceeds
//! only with a `Granted`, which only `authorize` makes.

use crate::domain::{Realm, RealmId, UserId};
use crate::state::AppState;
use crate::store;

use super::OpsError;

/// A right over a realm, as the `realm-management` client roles grant them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    ViewRealm,
    ManageRealm,
    ViewUsers,
    ManageUsers,
    ViewClients,
    ManageClients,
    ViewEvents,
    ManageEvents,
}

impl Right {
    /// The `realm-management` roles that carry this right.
    fn granted_by(self) -> &'static [&'static str] {
        match self {
            Right::ViewRealm => &["realm-admin", "view-realm", "manage-realm"],
            Right::ManageRealm => &["realm-admin", "manage-realm"],
            Right::ViewUsers => &["realm-admin", "view-users", "manage-users", "query-users"],
            Right::ManageUsers => &["realm-admin", "manage-users"],
            Right::ViewClients => &[
                "realm-admin",
                "view-clients",
                "manage-clients",
                "query-clients",
            ],
            Right::ManageClients => &["realm-admin", "manage-clients"],
            Right::ViewEvents => &["realm-admin", "view-events", "manage-events"],
            Right::ManageEvents => &["realm-admin", "manage-events"],
        }
    }
}

/// The signed-in administrator behind a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub realm_id: RealmId,
    pub realm_name: String,
    pub user_id: UserId,
    pub username: String,
    pub ip: Option<String>,
    /// Holds realm role `admin` in master: manages every realm.
    pub master_admin: bool,
    /// Holds `create-realm` in master (or is a master admin).
    pub may_create_realms: bool,
    /// Client roles of the actor's own realm's `realm-management` client.
    pub management_roles: Vec<String>,
}

impl Actor {
    /// Loads what the user may do from their effective roles.
    pub async fn load(
        state: &AppState,
        realm: &Realm,
        user_id: &UserId,
        username: String,
        ip: Option<String>,
    ) -> Result<Actor, OpsError> {
        let roles = store::roles::effective_roles(state.db.read(), user_id).await?;
        let in_master = realm.name.as_str() == super::realms::MASTER;
        let master_admin = in_master
            && roles
                .iter()
                .any(|r| r.client.is_none() && r.name == "admin");
        let may_create_realms = master_admin
            || (in_master
                && roles
                    .iter()
                    .any(|r| r.client.is_none() && r.name == "create-realm"));
        let management_roles = roles
            .into_iter()
            .filter(|r| r.client.as_deref() == Some("realm-management"))
            .map(|r| r.name)
            .collect();
        Ok(Actor {
            realm_id: realm.id.clone(),
            realm_name: realm.name.to_string(),
            user_id: user_id.clone(),
            username,
            ip,
            master_admin,
            may_create_realms,
            management_roles,
        })
    }

    /// Whether the actor holds `right` over `realm`.
    pub fn may(&self, realm: &Realm, right: Right) -> bool {
        self.master_admin
            || (realm.id == self.realm_id
                && self
                    .management_roles
                    .iter()
                    .any(|held| right.granted_by().contains(&held.as_str())))
    }

    /// Whether the actor can see the realm at all.
    pub fn sees(&self, realm: &Realm) -> bool {
        self.master_admin || (realm.id == self.realm_id && !self.management_roles.is_empty())
    }
}

/// Proof that an actor holds a right over a realm.
#[derive(Debug)]
pub struct Granted {
    realm: Realm,
    actor: Actor,
}

impl Granted {
    pub fn realm(&self) -> &Realm {
        &self.realm
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Whether the same actor also holds another right over this realm.
    pub fn also(&self, right: Right) -> bool {
        self.actor.may(&self.realm, right)
    }
}

/// The grant over a realm the actor has just created (creating realms is checked separately,
/// by `Actor::may_create_realms`).
pub(super) fn creator_of(actor: &Actor, realm: Realm) -> Granted {
    Granted {
        realm,
        actor: actor.clone(),
    }
}

/// Finds the realm and checks the right. A realm the actor cannot see answers Forbidden
/// whether or not it exists, so realm names do not leak across teams.
pub async fn authorize(
    state: &AppState,
    actor: &Actor,
    realm_name: &str,
    right: Right,
) -> Result<Granted, OpsError> {
    let realm = store::realms::find_by_name(state.db.read(), realm_name).await?;
    match realm {
        Some(realm) if actor.may(&realm, right) => Ok(Granted {
            realm,
            actor: actor.clone(),
        }),
        None if actor.master_admin => Err(OpsError::NotFound("Realm")),
        _ => Err(OpsError::Forbidden),
    }
}
