//! A user's Role mapping tab: realm roles, and the `realm-management` client roles that make
//! the user an administrator of the realm (in master, those of `master-realm`, as in Keycloak).

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, UserPath, UserView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::Posted;
use crate::admin::console::page::{render, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops::{self, OpsError};

/// The client whose roles grant rights over the realm `target`.
fn management_client(target: &str) -> &'static str {
    if target == ops::realms::MASTER {
        "master-realm"
    } else {
        "realm-management"
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/users/{id}/roles", web::get().to(show))
        .route("/{target}/users/{id}/roles", web::post().to(change));
}

/// Role names split into the user's and the others.
struct Mapping {
    assigned: Vec<String>,
    available: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/users/roles.html")]
struct RolesPage {
    layout: Layout,
    tab: &'static str,
    user: UserView,
    realm_roles: Mapping,
    management_title: String,
    management_about: &'static str,
    management_roles: Mapping,
}

async fn show(console: Console, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let (target, user) = load(&console, &path).await?;
    let (state, actor) = (&console.state, &console.actor);
    let assigned: Vec<String> = ops::users::realm_roles(state, actor, &path.target, &path.id)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let all = match ops::roles::list(state, actor, &path.target).await {
        Ok(roles) => roles.into_iter().map(|(r, _)| r.name).collect(),
        Err(OpsError::Forbidden) => Vec::new(),
        Err(err) => return Err(err.into()),
    };
    let available = all
        .into_iter()
        .filter(|name: &String| !assigned.contains(name))
        .collect();
    let management = ops::client_role_mappings::of_user(
        state,
        actor,
        &path.target,
        &path.id,
        management_client(&path.target),
    )
    .await?;
    let names = |roles: Vec<crate::domain::Role>| roles.into_iter().map(|r| r.name).collect();
    let layout = console
        .layout(
            format!("User {} · Role mapping", user.username),
            Some(&target),
            "users",
        )
        .await?;
    let page = RolesPage {
        layout,
        tab: "roles",
        user,
        realm_roles: Mapping {
            assigned,
            available,
        },
        management_title: format!("Realm administration ({})", management_client(&path.target)),
        management_about: if path.target == ops::realms::MASTER {
            "Rights over master in the console and the admin API (each realm's are on its own client in master)."
        } else {
            "Rights over this realm in the console and the admin API. realm-admin includes all the others."
        },
        management_roles: Mapping {
            assigned: names(management.assigned),
            available: names(management.available),
        },
    };
    render(&console, &page)
}

async fn change(posted: Posted, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let roles = form.all("role");
    let add = form.get("action") == "add";
    let back = format!(
        "{}/users/{}/roles",
        console.paths.realm(&path.target),
        path.id
    );
    if roles.is_empty() {
        return Ok(console.done(&back, "Select at least one role first."));
    }
    let (state, actor) = (&console.state, &console.actor);
    if form.get("kind") == "client" {
        ops::client_role_mappings::map(
            state,
            actor,
            &path.target,
            &path.id,
            management_client(&path.target),
            &roles,
            add,
        )
        .await?;
    } else {
        let named: Vec<_> = roles.iter().map(|r| (None, Some(r.clone()))).collect();
        ops::users::map_realm_roles(state, actor, &path.target, &path.id, &named, add).await?;
    }
    let verb = if add { "assigned" } else { "removed" };
    Ok(console.done(&back, &format!("Roles {verb}: {}.", roles.join(", "))))
}
