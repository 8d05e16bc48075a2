//! Who may do what. Master-realm admins manage every realm; a realm's own admins hold client
//! roles of its `realm-management` client and manage only that realm; a master user holding
//! roles of master's `{realm}-realm` client (`master-realm` for master) manages that one realm
//! with them, as Keycloak delegates a realm. Built-in roles and clients are known by the marker
//! they were created with (`builtin`), never by their editable names.
//!
//! Every operation starts from `authorize::<R>`, whose `Granted<R>` proves, in the type, that
//! the actor holds right `R` over one realm: a function that reads users takes a grant of a
//! right that sees users, and every write goes through `Granted::begin` (see `audited`), which
//! only rights that write can call and whose commit records the admin event.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use crate::domain::{Realm, RealmId, UserId};
use crate::state::AppState;
use crate::store;
use crate::store::roles::EffectiveRole;

use super::OpsError;

/// The `realm-management` roles keywarden implements; `realm-admin` is a composite of all of
/// Keycloak's admin roles (`layout::ADMIN_ROLES`). The others it makes are held but carry
/// nothing here (impersonation, identity providers, authorization, organizations).
pub const MANAGEMENT_ROLES: [&str; 13] = [
    "realm-admin",
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

/// The built-in marker of master's realm role that administers every realm.
pub const MASTER_ADMIN_ROLE: &str = "admin";
/// The built-in marker of master's realm role that may create realms.
pub const CREATE_REALM_ROLE: &str = "create-realm";
/// The built-in marker of a realm's default role (`default-roles-{realm}`).
pub const DEFAULT_ROLES: &str = "default-roles";
/// The built-in marker of the client whose roles administer a realm.
pub const REALM_MANAGEMENT_CLIENT: &str = "realm-management";
/// The built-in marker of the client administrators sign in with.
pub const ADMIN_CLI_CLIENT: &str = "admin-cli";
/// The built-in marker of master's clients whose roles administer one realm each
/// (`master-realm`, `{realm}-realm`; Keycloak's master admin client).
pub const MASTER_ADMIN_CLIENT: &str = "master-admin-client";

/// A set of `realm-management` roles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ManagementRoles(u16);

impl std::ops::BitOr for ManagementRoles {
    type Output = ManagementRoles;

    fn bitor(self, other: ManagementRoles) -> ManagementRoles {
        ManagementRoles(self.0 | other.0)
    }
}

impl ManagementRoles {
    /// The set holding the roles named (unknown names are ignored).
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut bits = 0;
        for name in names {
            if let Some(index) = MANAGEMENT_ROLES.iter().position(|r| *r == name) {
                bits |= 1 << index;
            }
        }
        ManagementRoles(bits)
    }

    pub fn contains(self, name: &str) -> bool {
        MANAGEMENT_ROLES
            .iter()
            .position(|r| *r == name)
            .is_some_and(|index| self.0 & (1 << index) != 0)
    }

    pub fn contains_all(self, other: ManagementRoles) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn holds_any(self, names: &[&str]) -> bool {
        names.iter().any(|name| self.contains(name))
    }
}

/// What a user may administer, from their effective roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Powers {
    /// Holds master's built-in `admin` role: manages every realm.
    pub master_admin: bool,
    /// Holds master's built-in `create-realm` role.
    pub create_realm: bool,
    /// The built-in `realm-management` roles held in the user's own realm.
    pub management: ManagementRoles,
    /// For a master user: the admin roles held on master's client of each realm
    /// (`master-realm`, `{realm}-realm`), by the realm they administer.
    pub delegated: BTreeMap<RealmId, ManagementRoles>,
}

impl Powers {
    /// The powers that `roles` (a user's, a group's or a role's effective roles) carry in a
    /// realm; only master's roles reach other realms.
    pub fn of(roles: &[EffectiveRole], in_master: bool) -> Powers {
        let realm_role = |what: &str| {
            roles
                .iter()
                .any(|r| r.client.is_none() && r.builtin.as_deref() == Some(what))
        };
        let mut delegated = BTreeMap::<RealmId, ManagementRoles>::new();
        for role in roles.iter().filter(|_| in_master) {
            if let (Some(MASTER_ADMIN_CLIENT), Some(realm), Some(name)) = (
                role.client_builtin.as_deref(),
                &role.managed_realm,
                role.builtin.as_deref(),
            ) {
                let held = delegated.entry(realm.clone()).or_default();
                *held = *held | ManagementRoles::of([name]);
            }
        }
        delegated.retain(|_, held| !held.is_empty());
        Powers {
            master_admin: in_master && realm_role(MASTER_ADMIN_ROLE),
            create_realm: in_master && realm_role(CREATE_REALM_ROLE),
            management: ManagementRoles::of(
                roles
                    .iter()
                    .filter(|r| r.client_builtin.as_deref() == Some(REALM_MANAGEMENT_CLIENT))
                    .filter_map(|r| r.builtin.as_deref()),
            ),
            delegated,
        }
    }

    /// Whether these powers hold every power of `before` (a master admin's hold everything).
    pub fn keeps(&self, before: &Powers) -> bool {
        self.master_admin
            || (!before.master_admin
                && (self.create_realm || !before.create_realm)
                && self.management.contains_all(before.management)
                && before.delegated.iter().all(|(realm, held)| {
                    self.delegated
                        .get(realm)
                        .is_some_and(|kept| kept.contains_all(*held))
                }))
    }

    /// Whether these powers administer anything at all.
    pub fn any(&self) -> bool {
        self.master_admin
            || self.create_realm
            || !self.management.is_empty()
            || !self.delegated.is_empty()
    }

    /// The admin roles these powers hold over `realm`, for a user of `own` realm: those of
    /// `realm-management` in their own realm, and those delegated through master's clients.
    pub fn over(&self, own: &RealmId, realm: &RealmId) -> ManagementRoles {
        let local = if own == realm {
            self.management
        } else {
            ManagementRoles::default()
        };
        local | self.delegated.get(realm).copied().unwrap_or_default()
    }

    /// Whether these powers (of a user of `own` realm) include every power in `other`, the
    /// powers of a user, role or group of realm `realm`.
    pub fn covers(&self, own: &RealmId, realm: &RealmId, other: &Powers) -> bool {
        self.master_admin
            || (!other.master_admin
                && (self.create_realm || !other.create_realm)
                && self.over(own, realm).contains_all(other.management)
                && other
                    .delegated
                    .iter()
                    .all(|(managed, held)| self.over(own, managed).contains_all(*held)))
    }
}

/// A right over a realm, and the `realm-management` roles that carry it (`realm-admin` is a
/// composite of them all).
pub trait Right {
    const CARRIED_BY: &'static [&'static str];
}

/// A right that lets its holder read users one by one (not only query them).
pub trait SeesUsers: Right {}
/// A right that lets its holder read clients with their settings.
pub trait SeesClients: Right {}
/// A right whose holder may change the realm; only these open an audited write.
pub trait Writes: Right {}

macro_rules! right {
    ($(#[$doc:meta])* $name:ident: $($role:literal),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl Right for $name {
            const CARRIED_BY: &'static [&'static str] = &["realm-admin", $($role),+];
        }
    };
}

right!(/** Read the realm's settings, roles and keys. */ ViewRealm: "view-realm", "manage-realm");
right!(/** Change the realm's settings, roles and keys. */ ManageRealm: "manage-realm");
right!(/** Search users: only those the caller may view come back. */
    QueryUsers: "query-users", "view-users", "manage-users");
right!(/** Read users, their roles, groups and sessions. */ ViewUsers: "view-users", "manage-users");
right!(/** Change users, groups and their mappings. */ ManageUsers: "manage-users");
right!(/** List clients by id and clientId. */
    QueryClients: "query-clients", "view-clients", "manage-clients");
right!(/** Read clients with their settings and secrets. */
    ViewClients: "view-clients", "manage-clients");
right!(/** Change clients. */ ManageClients: "manage-clients");
right!(/** Read login and admin events. */ ViewEvents: "view-events", "manage-events");
right!(/** Change the event settings and clear events. */ ManageEvents: "manage-events");

impl SeesUsers for ViewUsers {}
impl SeesUsers for ManageUsers {}
impl SeesClients for ViewClients {}
impl SeesClients for ManageClients {}
impl Writes for ManageRealm {}
impl Writes for ManageUsers {}
impl Writes for ManageClients {}
impl Writes for ManageEvents {}

/// The signed-in administrator behind a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub realm_id: RealmId,
    pub realm_name: String,
    pub user_id: UserId,
    pub username: String,
    pub ip: Option<String>,
    pub powers: Powers,
    /// Refuse writes that take admin powers away from the actor themself (the console sets
    /// this until the admin confirms; the REST API, as Keycloak's, never asks).
    pub keep_own_powers: bool,
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
        Ok(Actor {
            realm_id: realm.id.clone(),
            realm_name: realm.name.to_string(),
            user_id: user_id.clone(),
            username,
            ip,
            powers: Powers::of(&roles, realm.name.as_str() == super::realms::MASTER),
            keep_own_powers: false,
        })
    }

    /// Holds master's `admin` role.
    pub fn is_master_admin(&self) -> bool {
        self.powers.master_admin
    }

    /// May create realms (holds `create-realm` in master, or is a master admin).
    pub fn may_create_realms(&self) -> bool {
        self.powers.master_admin || self.powers.create_realm
    }

    /// Whether the actor holds right `R` over `realm`.
    pub fn may<R: Right>(&self, realm: &Realm) -> bool {
        self.powers.master_admin
            || self
                .powers
                .over(&self.realm_id, &realm.id)
                .holds_any(R::CARRIED_BY)
    }

    /// Whether the actor can see the realm at all.
    pub fn sees(&self, realm: &Realm) -> bool {
        self.powers.master_admin || !self.powers.over(&self.realm_id, &realm.id).is_empty()
    }

    /// Whether the actor may act on someone (or hand out something) of `realm` with `powers`:
    /// only with every one of those powers, so nobody acts above their own rights.
    pub fn covers(&self, realm: &RealmId, powers: &Powers) -> bool {
        self.powers.covers(&self.realm_id, realm, powers)
    }
}

/// Proof that an actor holds right `R` over a realm.
#[derive(Debug)]
pub struct Granted<R> {
    realm: Realm,
    actor: Actor,
    right: PhantomData<R>,
}

impl<R: Right> Granted<R> {
    pub fn realm(&self) -> &Realm {
        &self.realm
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The same actor's grant of another right over this realm, if they hold it.
    pub fn also<S: Right>(&self) -> Option<Granted<S>> {
        self.actor.may::<S>(&self.realm).then(|| Granted {
            realm: self.realm.clone(),
            actor: self.actor.clone(),
            right: PhantomData,
        })
    }

    /// Refuses unless the actor holds every power that `powers` carry (those of a user acted
    /// on, or of a role or group handed out).
    pub fn require_covers(&self, powers: &Powers) -> Result<(), OpsError> {
        if self.actor.covers(&self.realm.id, powers) {
            Ok(())
        } else {
            Err(OpsError::Forbidden)
        }
    }

    /// The powers that `user` of this realm holds.
    pub async fn powers_of(&self, state: &AppState, user: &UserId) -> Result<Powers, OpsError> {
        let roles = store::roles::effective_roles(state.db.read(), user).await?;
        Ok(Powers::of(&roles, self.in_master()))
    }

    /// Whether this realm is master, whose roles reach every realm.
    pub fn in_master(&self) -> bool {
        self.realm.name.as_str() == super::realms::MASTER
    }
}

/// Proof that an actor may create realms.
#[derive(Debug)]
pub struct RealmCreation {
    actor: Actor,
}

impl RealmCreation {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The grant over a realm this actor has just created.
    pub fn creator_of(&self, realm: Realm) -> Granted<ManageRealm> {
        Granted {
            realm,
            actor: self.actor.clone(),
            right: PhantomData,
        }
    }
}

/// Checks that the actor may create realms.
pub fn authorize_realm_creation(actor: &Actor) -> Result<RealmCreation, OpsError> {
    if actor.may_create_realms() {
        Ok(RealmCreation {
            actor: actor.clone(),
        })
    } else {
        Err(OpsError::Forbidden)
    }
}

/// Finds the realm and checks right `R`. A realm the actor cannot see answers Forbidden
/// whether or not it exists, so realm names do not leak across teams.
pub async fn authorize<R: Right>(
    state: &AppState,
    actor: &Actor,
    realm_name: &str,
) -> Result<Granted<R>, OpsError> {
    let realm = find_realm(state, actor, realm_name, |realm| actor.may::<R>(realm)).await?;
    Ok(Granted {
        realm,
        actor: actor.clone(),
        right: PhantomData,
    })
}

/// A realm the actor can see (holds any right over), for pages that show what they may do.
pub async fn visible_realm(
    state: &AppState,
    actor: &Actor,
    realm_name: &str,
) -> Result<Realm, OpsError> {
    find_realm(state, actor, realm_name, |realm| actor.sees(realm)).await
}

/// The one realm lookup of every admin path: found and allowed, NotFound only for those who
/// could see any realm, Forbidden otherwise.
async fn find_realm(
    state: &AppState,
    actor: &Actor,
    realm_name: &str,
    allowed: impl Fn(&Realm) -> bool,
) -> Result<Realm, OpsError> {
    match store::realms::find_by_name(state.db.read(), realm_name).await? {
        Some(realm) if allowed(&realm) => Ok(realm),
        None if actor.is_master_admin() => Err(OpsError::NotFound("Realm not found.")),
        _ => Err(OpsError::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, builtin: Option<&str>, client: Option<&str>) -> EffectiveRole {
        EffectiveRole {
            name: name.into(),
            client: client.map(|c| c.to_owned()),
            builtin: builtin.map(|b| b.to_owned()),
            client_builtin: client.map(|c| c.to_owned()),
            managed_realm: None,
        }
    }

    #[test]
    fn admin_status_comes_from_the_builtin_marker_not_the_name() {
        let renamed = [role("admin", Some(DEFAULT_ROLES), None)];
        assert!(!Powers::of(&renamed, true).master_admin);
        let real = [role("renamed", Some(MASTER_ADMIN_ROLE), None)];
        assert!(Powers::of(&real, true).master_admin);
        assert!(!Powers::of(&real, false).master_admin);
    }

    #[test]
    fn an_ordinary_client_named_realm_management_carries_no_rights() {
        let fake = EffectiveRole {
            client_builtin: None,
            ..role("manage-users", None, Some("realm-management"))
        };
        assert!(Powers::of(&[fake], false).management.is_empty());
    }

    #[test]
    fn covering_needs_every_power() {
        let users = Powers {
            management: ManagementRoles::of(["manage-users", "view-users"]),
            ..Powers::default()
        };
        let admin = Powers {
            management: ManagementRoles::of(MANAGEMENT_ROLES),
            ..Powers::default()
        };
        let master = Powers {
            master_admin: true,
            ..Powers::default()
        };
        let realm = RealmId::new();
        let covers = |a: &Powers, b: &Powers| a.covers(&realm, &realm, b);
        assert!(covers(&admin, &users));
        assert!(!covers(&users, &admin));
        assert!(!covers(&admin, &master));
        assert!(covers(&master, &admin));
        assert!(covers(&users, &Powers::default()));
    }

    fn delegated(managed: &RealmId, name: &str) -> EffectiveRole {
        EffectiveRole {
            managed_realm: Some(managed.clone()),
            ..role(name, Some(name), Some(MASTER_ADMIN_CLIENT))
        }
    }

    #[test]
    fn a_master_client_role_manages_only_the_realm_it_names_and_only_from_master() {
        let (master, team_a, team_b) = (RealmId::new(), RealmId::new(), RealmId::new());
        let roles = [
            delegated(&team_a, "manage-users"),
            delegated(&team_a, "impersonation"),
        ];
        let powers = Powers::of(&roles, true);
        assert!(powers.over(&master, &team_a).contains("manage-users"));
        assert!(powers.over(&master, &team_b).is_empty());
        assert!(powers.over(&master, &master).is_empty());
        assert!(powers.management.is_empty() && !powers.master_admin);
        assert!(Powers::of(&roles, false).delegated.is_empty());
        let only_impersonation = Powers::of(&[delegated(&team_a, "impersonation")], true);
        assert!(
            !only_impersonation.any(),
            "unimplemented roles carry nothing"
        );
    }

    #[test]
    fn covering_delegated_powers_needs_them_over_the_same_realm() {
        let (master, team_a, team_b) = (RealmId::new(), RealmId::new(), RealmId::new());
        let team_a_users = Powers::of(&[delegated(&team_a, "manage-users")], true);
        let team_b_users = Powers::of(&[delegated(&team_b, "manage-users")], true);
        assert!(team_a_users.covers(&master, &master, &team_a_users));
        assert!(!team_a_users.covers(&master, &master, &team_b_users));
        let local = Powers {
            management: ManagementRoles::of(["manage-users"]),
            ..Powers::default()
        };
        assert!(team_a_users.covers(&master, &team_a, &local));
        assert!(!team_a_users.covers(&master, &team_b, &local));
    }
}
