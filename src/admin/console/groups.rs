//! Groups: the tree (searchable, paged) with a create form, a group's page (rename,
//! subgroups, members added by username), and deleting a group with its subgroups.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::confirm::{self, Question};
use super::error::ConsoleError;
use super::form::{Errors, FormData, Posted};
use super::page::{render_status, Layout, Pager, Target};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::admin::repr::GroupRepr;
use crate::domain::{Group, GroupId};
use crate::store::groups::path_of;
use crate::store::users::UserFilter;

/// Groups (or members) per page.
const PAGE_SIZE: i64 = 50;
/// Which field an operation's message is about.
const FIELDS: [(&str, &str); 2] = [("group name", "name"), ("already exists", "name")];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/groups", web::get().to(list))
        .route("/{target}/groups", web::post().to(create))
        .route("/{target}/groups/{id}", web::get().to(show))
        .route("/{target}/groups/{id}", web::post().to(change))
        .route(
            "/{target}/groups/{id}/delete",
            web::get().to(confirm_delete),
        )
        .route("/{target}/groups/{id}/delete", web::post().to(delete));
}

#[derive(Debug, Deserialize)]
struct GroupPath {
    target: String,
    id: String,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

/// A group in the tree.
struct GroupRow {
    id: String,
    name: String,
    path: String,
    depth: usize,
}

/// The groups in tree order (each parent followed by its children, by name).
fn tree(all: &[Group]) -> Vec<GroupRow> {
    fn walk(all: &[Group], parent: Option<&GroupId>, depth: usize, out: &mut Vec<GroupRow>) {
        for group in all.iter().filter(|g| g.parent_id.as_ref() == parent) {
            out.push(GroupRow {
                id: group.id.to_string(),
                name: group.name.clone(),
                path: path_of(&group.id, all).unwrap_or_default(),
                depth,
            });
            if depth < all.len() {
                walk(all, Some(&group.id), depth + 1, out);
            }
        }
    }
    let mut out = Vec::with_capacity(all.len());
    walk(all, None, 0, &mut out);
    out
}

#[derive(Template)]
#[template(path = "console/groups/list.html")]
struct ListPage {
    layout: Layout,
    q: String,
    groups: Vec<GroupRow>,
    pager: Pager,
    form: FormData,
    errors: Errors,
}

async fn list_page(
    console: &Console,
    target: &str,
    query: &ListQuery,
    form: FormData,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let all = ops::groups::all(&console.state, &console.actor, target).await?;
    let q = query.q.clone().unwrap_or_default();
    let needle = q.to_lowercase();
    let (first, max, page) = Pager::window(query.page, PAGE_SIZE);
    let mut groups: Vec<GroupRow> = tree(&all)
        .into_iter()
        .filter(|g| g.path.to_lowercase().contains(&needle))
        .skip(first as usize)
        .take(max as usize)
        .collect();
    let target = console.target(target).await?;
    let pager = Pager::build(
        &format!("{}/groups", target.path),
        &[("q", &q)],
        page,
        PAGE_SIZE,
        &mut groups,
    );
    let layout = console.layout("Groups", Some(&target), "groups").await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = ListPage {
        layout,
        q,
        groups,
        pager,
        form,
        errors,
    };
    render_status(console, &page, status)
}

async fn list(
    console: Console,
    path: web::Path<RealmPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    list_page(
        &console,
        &path.target,
        &query,
        FormData::default(),
        Errors::default(),
    )
    .await
}

async fn create(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let repr = GroupRepr {
        name: Some(form.get("name").to_owned()),
        ..GroupRepr::default()
    };
    let all = ops::groups::all(&console.state, &console.actor, &path.target).await?;
    let siblings = all.iter().filter(|g| g.parent_id.is_none());
    super::names::ask_on_case_twin(
        &form,
        "group",
        siblings.map(|g| g.name.as_str()),
        form.get("name"),
    )?;
    match ops::groups::create(&console.state, &console.actor, &path.target, None, &repr).await {
        Ok(group) => Ok(console.done(
            &format!("{}/groups/{}", console.paths.realm(&path.target), group.id),
            &format!("Group {} created.", group.name),
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELDS)?;
            list_page(&console, &path.target, &ListQuery::default(), form, errors).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct MembersQuery {
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/groups/details.html")]
struct DetailsPage {
    layout: Layout,
    id: String,
    name: String,
    path: String,
    parent: Option<(String, String)>,
    children: Vec<(String, String)>,
    /// Ids and usernames.
    members: Vec<(String, String)>,
    pager: Pager,
    form: FormData,
    errors: Errors,
}

async fn details_page(
    console: &Console,
    path: &GroupPath,
    page: Option<i64>,
    form: FormData,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let (state, actor) = (&console.state, &console.actor);
    let (group, all) = ops::groups::get(state, actor, &path.target, &path.id).await?;
    let (first, max, page) = Pager::window(page, PAGE_SIZE);
    let mut members = ops::groups::members(state, actor, &path.target, &path.id, first, max)
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.username.to_string()))
        .collect();
    let target = console.target(&path.target).await?;
    let here = format!("{}/groups/{}", target.path, group.id);
    let pager = Pager::build(&here, &[], page, PAGE_SIZE, &mut members);
    let parent = group.parent_id.as_ref().and_then(|p| {
        all.iter()
            .find(|g| &g.id == p)
            .map(|g| (g.id.to_string(), g.name.clone()))
    });
    let children = all
        .iter()
        .filter(|g| g.parent_id.as_ref() == Some(&group.id))
        .map(|g| (g.id.to_string(), g.name.clone()))
        .collect();
    let layout = console
        .layout(format!("Group {}", group.name), Some(&target), "groups")
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = DetailsPage {
        layout,
        id: group.id.to_string(),
        path: path_of(&group.id, &all).unwrap_or_default(),
        name: group.name,
        parent,
        children,
        members,
        pager,
        form,
        errors,
    };
    render_status(console, &page, status)
}

async fn show(
    console: Console,
    path: web::Path<GroupPath>,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, ConsoleError> {
    details_page(
        &console,
        &path,
        query.page,
        FormData::default(),
        Errors::default(),
    )
    .await
}

/// The group page's forms: rename, add a subgroup, add or remove a member.
async fn change(posted: Posted, path: web::Path<GroupPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let (state, actor) = (&console.state, &console.actor);
    let (realm, id) = (&path.target, &path.id);
    let here = format!("{}/groups/{id}", console.paths.realm(realm));
    let named = || GroupRepr {
        name: Some(form.get("name").to_owned()),
        ..GroupRepr::default()
    };
    let outcome = match form.get("action") {
        "rename" => ops::groups::rename(state, actor, realm, id, &named())
            .await
            .map(|()| (here.clone(), "Group renamed.".to_owned())),
        "subgroup" => {
            let all = ops::groups::all(state, actor, realm).await?;
            let siblings = all.iter().filter(|g| {
                g.parent_id
                    .as_ref()
                    .is_some_and(|p| p.as_str() == id.as_str())
            });
            super::names::ask_on_case_twin(
                &form,
                "group",
                siblings.map(|g| g.name.as_str()),
                form.get("name"),
            )?;
            ops::groups::create(state, actor, realm, Some(id), &named())
                .await
                .map(|g| {
                    (
                        format!("{}/groups/{}", console.paths.realm(realm), g.id),
                        format!("Subgroup {} created.", g.name),
                    )
                })
        }
        "add-member" => {
            let filter = UserFilter {
                username: Some(form.get("username").to_owned()),
                exact: true,
                ..UserFilter::default()
            };
            let found = ops::users::list(state, actor, realm, &filter, 0, 1).await?;
            let Some(user) = found.into_iter().next() else {
                let mut errors = Errors::default();
                errors.add("username", "No user with this username.");
                return details_page(&console, &path, None, form, errors).await;
            };
            ops::users::set_membership(state, actor, realm, user.id.as_str(), id, true)
                .await
                .map(|()| {
                    (
                        here.clone(),
                        format!("{} added to the group.", user.username),
                    )
                })
        }
        "remove-member" => {
            ops::users::set_membership(state, actor, realm, form.get("user"), id, false)
                .await
                .map(|()| (here.clone(), "Member removed.".to_owned()))
        }
        _ => return Err(ConsoleError::BadRequest("Unknown action.".into())),
    };
    match outcome {
        Ok((location, message)) => Ok(console.done(&location, &message)),
        Err(err) => {
            let field = if form.get("action") == "rename" {
                "name"
            } else {
                "subgroup"
            };
            let mut errors = Errors::from_ops(err, &[])?;
            if let Some(message) = errors.general.take() {
                errors.add(field, message);
            }
            details_page(&console, &path, None, form, errors).await
        }
    }
}

fn delete_question(target: &Target, id: &str, path: &str) -> Question {
    Question {
        heading: format!("Delete group {path}"),
        message: "The group and all its subgroups are deleted; members lose the roles the \
                  groups granted. This cannot be undone."
            .into(),
        action: format!("{}/groups/{id}/delete", target.path),
        button: "Delete group".into(),
        cancel: format!("{}/groups/{id}", target.path),
        type_to_confirm: None,
    }
}

async fn confirm_delete(
    console: Console,
    path: web::Path<GroupPath>,
) -> Result<HttpResponse, ConsoleError> {
    let (group, all) =
        ops::groups::get(&console.state, &console.actor, &path.target, &path.id).await?;
    let target = console.target(&path.target).await?;
    if !target.manage_users {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout("Delete group", Some(&target), "groups")
        .await?;
    let group_path = path_of(&group.id, &all).unwrap_or(group.name);
    confirm::ask(
        &console,
        layout,
        &delete_question(&target, &path.id, &group_path),
        None,
    )
}

async fn delete(posted: Posted, path: web::Path<GroupPath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let (group, _) =
        ops::groups::get(&console.state, &console.actor, &path.target, &path.id).await?;
    ops::groups::delete(&console.state, &console.actor, &path.target, &path.id).await?;
    Ok(console.done(
        &format!("{}/groups", console.paths.realm(&path.target)),
        &format!("Group {} deleted.", group.name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RealmId;

    #[test]
    fn the_tree_lists_children_under_their_parent() {
        let realm = RealmId::new();
        let group = |name: &str, parent: Option<&Group>| Group {
            id: GroupId::new(),
            realm_id: realm.clone(),
            parent_id: parent.map(|p| p.id.clone()),
            name: name.into(),
        };
        let a = group("a", None);
        let b = group("b", None);
        let a1 = group("a1", Some(&a));
        let rows = tree(&[a.clone(), b.clone(), a1.clone()]);
        let paths: Vec<_> = rows.iter().map(|r| (r.path.as_str(), r.depth)).collect();
        assert_eq!(paths, [("/a", 0), ("/a/a1", 1), ("/b", 0)]);
    }
}
