//! Who a token request is for, as the policy sees it: the user's realm roles, groups and
//! attributes, and the client's address. The token endpoint and the console's policy tester
//! both build it here, so the tester answers what the endpoint would.

use std::net::IpAddr;

use super::policy::{AccessPolicy, GroupRef, Subject};
use crate::domain::{Realm, User};
use crate::store::{self, Db, StoreError};

/// The subject for `user` (none: anonymous) asking from `address`. Allow-all needs no roles
/// or groups, so none are read for it.
pub async fn load(
    db: &Db,
    realm: &Realm,
    user: Option<&User>,
    address: Option<IpAddr>,
    policy: &AccessPolicy,
) -> Result<Subject, StoreError> {
    let mut subject = Subject {
        address,
        ..Subject::default()
    };
    let Some(user) = user else {
        return Ok(subject);
    };
    subject.username = Some(user.username.to_string());
    if matches!(policy, AccessPolicy::AllowAll) {
        return Ok(subject);
    }
    subject.attributes = user.attributes.clone();
    subject.realm_roles = store::roles::effective_roles(db.read(), &user.id)
        .await?
        .into_iter()
        .filter(|r| r.client.is_none())
        .map(|r| r.name)
        .collect();
    let memberships = store::users::group_ids(db.read(), &user.id).await?;
    if !memberships.is_empty() {
        let all = store::groups::list_all(db.read(), &realm.id).await?;
        subject.groups = memberships
            .iter()
            .filter_map(|id| {
                let group = all.iter().find(|g| &g.id == id)?;
                Some(GroupRef {
                    name: group.name.clone(),
                    path: store::groups::path_of(id, &all)?,
                })
            })
            .collect();
    }
    Ok(subject)
}
