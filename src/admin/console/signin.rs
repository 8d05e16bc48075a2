//! Signing in to and out of a realm's console. The sign-in form is protected by a
//! double-submit CSRF cookie (no session exists yet); passwords are checked by the shared
//! `login::verify_password` (same timing for unknown users), failures count towards the
//! realm's brute-force protection, and every attempt is a LOGIN or LOGIN_ERROR event.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::error::ConsoleError;
use super::form::{FormData, Posted};
use super::page::{html, see_other, Paths};
use super::session::{self, Console};
use crate::admin::ops::access::Actor;
use crate::domain::{Realm, User};
use crate::http::cookies::{self, CookieScope};
use crate::http::{csrf, Base};
use crate::protocol::brute_force;
use crate::protocol::login::{self, LoginFailure};
use crate::state::AppState;
use crate::store;

/// The double-submit cookie of the sign-in form.
const CSRF_COOKIE: &str = "KEYWARDEN_CONSOLE_SIGNIN";
/// The client id sign-in events are recorded under, as Keycloak's console.
const CONSOLE_CLIENT: &str = "security-admin-console";
const INVALID: &str = "Invalid username or password.";
/// The right password, but a temporary one (Keycloak's UPDATE_PASSWORD required action).
const TEMPORARY: &str = "This account has a temporary password. Choose a new one by signing in \
    to an application of this realm, or ask an administrator to set a permanent password.";

#[derive(Template)]
#[template(path = "console/signin.html")]
struct SignInPage<'a> {
    assets: &'a str,
    action: String,
    realm: &'a str,
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    /// On master's sign-in: where a team admin finds their realm's console.
    other_realm_action: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// Where to go after signing in: the page asked for, if it is a page of this console.
fn safe_next(paths: &Paths, next: Option<&str>) -> String {
    let root = format!("{}/", paths.root);
    match next {
        Some(next)
            if next.starts_with(&root)
                && !next.contains("//")
                && !next.contains('\\')
                && !next.contains("/signout") =>
        {
            next.to_owned()
        }
        _ => root,
    }
}

struct Context {
    paths: Paths,
    scope: CookieScope,
    realm: Realm,
}

async fn context(req: &HttpRequest, state: &AppState) -> Result<Context, ConsoleError> {
    let name = req.match_info().get("realm").unwrap_or_default();
    let base = Base::of(req, state);
    Ok(Context {
        paths: Paths::of(&base, name),
        scope: session::scope_of(&base, name),
        realm: session::home_realm(state, name).await?,
    })
}

fn page(
    ctx: &Context,
    csrf_token: &str,
    next: &str,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let realm = ctx
        .realm
        .display_name
        .clone()
        .unwrap_or_else(|| ctx.realm.name.to_string());
    let body = SignInPage {
        assets: &ctx.paths.assets,
        action: format!("{}/signin", ctx.paths.root),
        realm: &realm,
        csrf: csrf_token,
        next,
        username,
        error,
        notice,
        other_realm_action: (ctx.realm.name.as_str() == crate::admin::ops::realms::MASTER)
            .then(|| format!("{}/signin/realm", ctx.paths.root)),
    }
    .render()
    .map_err(|e| ConsoleError::Internal(e.into()))?;
    let mut response = html(status, body);
    cookies::set(
        &mut response,
        &cookies::build(CSRF_COOKIE, csrf_token.to_owned(), &ctx.scope),
    );
    Ok(response)
}

/// `GET signin`: the form (or straight on, when already signed in).
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SignInQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = context(&req, &state).await?;
    let next = safe_next(&ctx.paths, query.next.as_deref());
    if Console::extract(&req).await.is_ok() {
        return Ok(see_other(&next));
    }
    let token = cookies::get(&req, CSRF_COOKIE)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(csrf::new_token);
    let notice = query.signed_out.is_some().then_some("You have signed out.");
    page(&ctx, &token, &next, "", None, notice, StatusCode::OK)
}

/// `POST signin`: checks the password and starts a session.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = context(&req, &state).await?;
    let form = FormData::parse(&body);
    let expected = cookies::get(&req, CSRF_COOKIE).unwrap_or_default();
    if csrf::cross_site(&req) || !csrf::matches(&expected, Some(form.raw(csrf::FIELD))) {
        return Err(ConsoleError::CsrfRefused);
    }
    let next = safe_next(&ctx.paths, form.opt("next").as_deref());
    let username = form.get("username");
    let ip = login::client_ip(&req, &state);
    let password = SecretString::from(form.raw("password").to_owned());
    let outcome =
        login::verify_password(&state, &ctx.realm, username, password, ip.as_deref()).await?;
    let user = match outcome {
        Ok(user) => user,
        Err((failure, user)) => {
            let code = failure.code();
            record(
                &state,
                &ctx.realm,
                user.as_ref(),
                username,
                ip.as_deref(),
                Some(code),
            )
            .await;
            let (message, status) = match failure {
                LoginFailure::ActionRequired => (TEMPORARY, StatusCode::FORBIDDEN),
                _ => (INVALID, StatusCode::UNAUTHORIZED),
            };
            return page(
                &ctx,
                &expected,
                &next,
                username,
                Some(message),
                None,
                status,
            );
        }
    };
    record(
        &state,
        &ctx.realm,
        Some(&user),
        username,
        ip.as_deref(),
        None,
    )
    .await;
    let actor = Actor::load(
        &state,
        &ctx.realm,
        &user.id,
        user.username.to_string(),
        ip.clone(),
    )
    .await?;
    if !actor.powers.any() {
        let message = "This account has no administrative rights in this realm.";
        return page(
            &ctx,
            &expected,
            &next,
            username,
            Some(message),
            None,
            StatusCode::FORBIDDEN,
        );
    }
    let next = landing(&state, &actor, &ctx.paths, next).await?;
    session::end(&state, &req, &ctx.realm).await?;
    let user_agent = login::user_agent(&req);
    let origin = store::sessions::Origin {
        ip_address: ip.as_deref(),
        user_agent: user_agent.as_deref(),
    };
    let cookie = session::start(&state, &ctx.realm, &user, origin, &ctx.scope).await?;
    let mut response = see_other(&next);
    cookies::set(&mut response, &cookie);
    cookies::set(&mut response, &cookies::removal(CSRF_COOKIE, &ctx.scope));
    Ok(response)
}

/// Where a sign-in that asked for no page in particular lands: an admin of one realm only (a
/// team admin) lands on that realm's pages, others on the list of realms.
async fn landing(
    state: &AppState,
    actor: &Actor,
    paths: &Paths,
    next: String,
) -> Result<String, ConsoleError> {
    if next != format!("{}/", paths.root) || actor.may_create_realms() {
        return Ok(next);
    }
    let realms = crate::admin::ops::realms::list(state, actor).await?;
    Ok(match realms.as_slice() {
        [only] => format!("{}/", paths.realm(only.name.as_str())),
        _ => next,
    })
}

/// `POST signout`: ends the session and forgets the cookie.
pub async fn sign_out(req: HttpRequest, posted: Posted) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    session::end(&console.state, &req, &console.home).await?;
    let mut response = see_other(&format!("{}/signin?signed_out=1", console.paths.root));
    cookies::set(
        &mut response,
        &cookies::removal(session::SESSION_COOKIE, &console.cookies),
    );
    Ok(response)
}

async fn record(
    state: &AppState,
    realm: &Realm,
    user: Option<&User>,
    username: &str,
    ip: Option<&str>,
    error: Option<&str>,
) {
    let details = BTreeMap::from([
        ("auth_method", "console".to_owned()),
        ("username", brute_force::key(username)),
    ]);
    let kind = if error.is_some() {
        "LOGIN_ERROR"
    } else {
        "LOGIN"
    };
    let mut event = login::event(realm, kind, user, Some(CONSOLE_CLIENT), ip, details);
    event.error = error.map(str::to_owned);
    login::record(state, realm, event).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_this_console_are_followed_after_sign_in() {
        let paths = Paths {
            root: "/admin/master/console".into(),
            assets: String::new(),
        };
        let ok = "/admin/master/console/team/users?q=a";
        assert_eq!(safe_next(&paths, Some(ok)), ok);
        for bad in [
            "https://evil.example/",
            "//evil.example/admin/master/console/",
            "/admin/master/console//evil",
            "/admin/other/console/x",
            "/admin/master/console/signout",
        ] {
            assert_eq!(
                safe_next(&paths, Some(bad)),
                "/admin/master/console/",
                "{bad}"
            );
        }
    }
}
