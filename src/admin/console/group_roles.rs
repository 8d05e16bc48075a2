//! A group's Role mapping page: the realm roles and client roles the group grants its
//! members (and the members of its subgroups), assigned and removed as Keycloak's
//! `/groups/{id}/role-mappings` does, through the same operations as the admin API.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::form::Posted;
use super::page::{render, Layout};
use super::session::Console;
use crate::admin::ops::role_mappings::{self, MapperAt, View};
use crate::admin::ops::{self, OpsError};
use crate::admin::repr::RoleRepr;
use crate::domain::Role;
use crate::store::groups::path_of;

/// The most clients whose roles the page offers.
const MAX_CLIENTS: i64 = 200;
/// The most roles one form maps or unmaps.
const MAX_ROLES: usize = 500;
/// The container part of a realm role's value (`realm/{role id}`).
const REALM: &str = "realm";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/groups/{id}/roles", web::get().to(show))
        .route("/{target}/groups/{id}/roles", web::post().to(change));
}

#[derive(Debug, Deserialize)]
struct GroupPath {
    target: String,
    id: String,
}

/// A role as the page lists it: the form value (`{container}/{role id}`) and its name.
struct Choice {
    value: String,
    name: String,
}

/// The roles of one container (the realm or a client), split into assigned and available.
struct Mapping {
    title: String,
    assigned: Vec<Choice>,
    available: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "console/groups/roles.html")]
struct RolesPage {
    layout: Layout,
    id: String,
    name: String,
    path: String,
    mappings: Vec<Mapping>,
}

fn choices(container: &str, roles: Vec<(Role, bool)>) -> Vec<Choice> {
    roles
        .into_iter()
        .map(|(role, _)| Choice {
            value: format!("{container}/{}", role.id),
            name: role.name,
        })
        .collect()
}

async fn show(console: Console, path: web::Path<GroupPath>) -> Result<HttpResponse, ConsoleError> {
    let (state, actor, realm) = (&console.state, &console.actor, path.target.as_str());
    let (group, all) = ops::groups::get(state, actor, realm, &path.id).await?;
    let at = MapperAt::Group(&path.id);
    let roles = |client: Option<String>, view| async move {
        role_mappings::roles(state, actor, realm, at, client.as_deref(), view).await
    };
    let mut mappings = vec![Mapping {
        title: "Realm roles".into(),
        assigned: choices(REALM, roles(None, View::Direct).await?),
        available: choices(REALM, roles(None, View::Available).await?),
    }];
    let clients = match ops::clients::list(state, actor, realm, None, "", 0, MAX_CLIENTS).await {
        Ok(listing) => listing.clients,
        Err(OpsError::Forbidden) => Vec::new(),
        Err(err) => return Err(err.into()),
    };
    let direct = role_mappings::all(state, actor, realm, at).await?;
    let mut by_client: BTreeMap<String, Mapping> = BTreeMap::new();
    for (client, assigned) in direct.clients {
        let uuid = client.id.to_string();
        by_client.insert(
            client.client_id.to_string(),
            Mapping {
                title: format!("Client roles of {}", client.client_id),
                assigned: choices(&uuid, assigned),
                available: choices(&uuid, roles(Some(uuid.clone()), View::Available).await?),
            },
        );
    }
    for client in clients {
        if by_client.contains_key(client.client_id.as_str()) {
            continue;
        }
        let uuid = client.id.to_string();
        let available = roles(Some(uuid.clone()), View::Available).await?;
        if available.is_empty() {
            continue;
        }
        by_client.insert(
            client.client_id.to_string(),
            Mapping {
                title: format!("Client roles of {}", client.client_id),
                assigned: Vec::new(),
                available: choices(&uuid, available),
            },
        );
    }
    mappings.extend(by_client.into_values());
    let target = console.target(realm).await?;
    let layout = console
        .layout(
            format!("Group {} · Role mapping", group.name),
            Some(&target),
            "groups",
        )
        .await?;
    let page = RolesPage {
        layout,
        id: group.id.to_string(),
        path: path_of(&group.id, &all).unwrap_or_default(),
        name: group.name,
        mappings,
    };
    render(&console, &page)
}

/// The ticked roles by container: `None` for the realm, else the client's id.
fn by_container(
    values: &[String],
) -> Result<BTreeMap<Option<String>, Vec<RoleRepr>>, ConsoleError> {
    let mut out: BTreeMap<Option<String>, Vec<RoleRepr>> = BTreeMap::new();
    for value in values {
        let (container, id) = value
            .split_once('/')
            .ok_or_else(|| ConsoleError::BadRequest("Unknown role.".into()))?;
        let container = (container != REALM).then(|| container.to_owned());
        out.entry(container).or_default().push(RoleRepr {
            id: Some(id.to_owned()),
            ..RoleRepr::default()
        });
    }
    Ok(out)
}

async fn change(posted: Posted, path: web::Path<GroupPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let back = format!(
        "{}/groups/{}/roles",
        console.paths.realm(&path.target),
        path.id
    );
    let values = form.all("role");
    if values.is_empty() {
        return Ok(console.done(&back, "Select at least one role first."));
    }
    if values.len() > MAX_ROLES {
        return Err(ConsoleError::BadRequest(format!(
            "At most {MAX_ROLES} roles at once."
        )));
    }
    let add = match form.get("action") {
        "add" => true,
        "remove" => false,
        _ => return Err(ConsoleError::BadRequest("Unknown action.".into())),
    };
    let (state, actor) = (&console.state, &console.actor);
    let at = MapperAt::Group(&path.id);
    let mut count = 0;
    for (client, roles) in by_container(&values)? {
        count += roles.len();
        role_mappings::change(
            state,
            actor,
            &path.target,
            at,
            client.as_deref(),
            Some(roles.as_slice()),
            add,
        )
        .await?;
    }
    let message = match (add, count) {
        (true, 1) => "1 role assigned to the group.".to_owned(),
        (true, n) => format!("{n} roles assigned to the group."),
        (false, 1) => "1 role removed from the group.".to_owned(),
        (false, n) => format!("{n} roles removed from the group."),
    };
    Ok(console.done(&back, &message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticked_roles_are_sorted_by_container() {
        let values = [
            "realm/a".to_owned(),
            "c1/b".to_owned(),
            "realm/c".to_owned(),
        ];
        let grouped = by_container(&values).unwrap();
        let ids = |k: Option<&str>| -> Vec<String> {
            grouped[&k.map(str::to_owned)]
                .iter()
                .map(|r| r.id.clone().unwrap())
                .collect()
        };
        assert_eq!(ids(None), ["a", "c"]);
        assert_eq!(ids(Some("c1")), ["b"]);
        assert!(by_container(&["no-slash".to_owned()]).is_err());
    }
}
