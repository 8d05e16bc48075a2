//! A user's Groups tab: the groups they belong to, joining and leaving.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, UserPath, UserView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::Posted;
use crate::admin::console::page::{render, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops;
use crate::store::groups::path_of;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/users/{id}/groups", web::get().to(show))
        .route("/{target}/users/{id}/groups", web::post().to(change));
}

/// A group by id and full path.
pub struct GroupOption {
    pub id: String,
    pub path: String,
}

#[derive(Template)]
#[template(path = "console/users/groups.html")]
struct GroupsPage {
    layout: Layout,
    tab: &'static str,
    user: UserView,
    member_of: Vec<GroupOption>,
    others: Vec<GroupOption>,
}

async fn show(console: Console, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let (target, user) = load(&console, &path).await?;
    let (ids, all) =
        ops::users::groups(&console.state, &console.actor, &path.target, &path.id).await?;
    let (mut member_of, mut others) = (Vec::new(), Vec::new());
    for group in &all {
        let option = GroupOption {
            id: group.id.to_string(),
            path: path_of(&group.id, &all).unwrap_or_else(|| group.name.clone()),
        };
        if ids.contains(&group.id) {
            member_of.push(option);
        } else {
            others.push(option);
        }
    }
    member_of.sort_by(|a, b| a.path.cmp(&b.path));
    others.sort_by(|a, b| a.path.cmp(&b.path));
    let layout = console
        .layout(
            format!("User {} · Groups", user.username),
            Some(&target),
            "users",
        )
        .await?;
    let page = GroupsPage {
        layout,
        tab: "groups",
        user,
        member_of,
        others,
    };
    render(&console, &page)
}

async fn change(posted: Posted, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let back = format!(
        "{}/users/{}/groups",
        console.paths.realm(&path.target),
        path.id
    );
    let Some(group) = form.opt("group") else {
        return Ok(console.done(&back, "Select a group first."));
    };
    let join = form.get("action") == "join";
    ops::users::set_membership(
        &console.state,
        &console.actor,
        &path.target,
        &path.id,
        &group,
        join,
    )
    .await?;
    let message = if join {
        "Joined the group."
    } else {
        "Left the group."
    };
    Ok(console.done(&back, message))
}
