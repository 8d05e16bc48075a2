//! Console sign-in sessions: the cookie, the idle and absolute timeouts (the realm's SSO
//! session settings), and [`Console`], the signed-in context every page handler receives.

use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::future::LocalBoxFuture;

use super::error::ConsoleError;
use super::page::{Layout, Paths, Target};
use crate::admin::ops::{self, access::Actor};
use crate::crypto;
use crate::domain::{Realm, User};
use crate::http::cookies::{self, CookieScope};
use crate::http::{csrf, Base};
use crate::protocol::login;
use crate::state::AppState;
use crate::store;

/// The session cookie; its value is a random token whose digest is stored.
pub const SESSION_COOKIE: &str = "KEYWARDEN_CONSOLE";
/// The one-time success message shown after a redirect.
const FLASH_COOKIE: &str = "KEYWARDEN_CONSOLE_FLASH";
/// A session's last access is written at most this often (seconds).
const TOUCH_INTERVAL: i64 = 15;

/// A one-time message for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub message: String,
}

/// The signed-in administrator, the console they signed in to, and what pages need.
pub struct Console {
    pub state: web::Data<AppState>,
    pub actor: Actor,
    /// The realm signed in to (the `{realm}` of `/admin/{realm}/console`).
    pub home: Realm,
    pub session_id: String,
    pub csrf: String,
    pub base: Base,
    pub paths: Paths,
    pub cookies: CookieScope,
    pub flash: Option<Flash>,
}

impl Console {
    /// The realm `name` with the actor's rights over it. Realms the actor cannot see answer
    /// Forbidden whether or not they exist; master admins learn that a realm is missing.
    pub async fn target(&self, name: &str) -> Result<Target, ConsoleError> {
        let realm = ops::access::visible_realm(&self.state, &self.actor, name).await?;
        Ok(Target::new(self, &realm))
    }

    /// The frame of a page; `target` is the realm the page is about.
    pub async fn layout(
        &self,
        title: impl Into<String>,
        target: Option<&Target>,
        section: &'static str,
    ) -> Result<Layout, ConsoleError> {
        let realms = ops::realms::list(&self.state, &self.actor)
            .await?
            .into_iter()
            .map(|r| r.name.to_string())
            .collect();
        Ok(Layout {
            title: title.into(),
            paths: self.paths.clone(),
            csrf: self.csrf.clone(),
            username: self.actor.username.clone(),
            home_realm: self.home.name.to_string(),
            realms,
            may_create_realms: self.actor.may_create_realms(),
            target: target.cloned(),
            section,
            flash: self.flash.clone(),
        })
    }

    /// A cookie carrying `message` to the next page (base64url, so any text fits).
    pub fn flash_cookie(&self, message: &str) -> cookie::Cookie<'static> {
        let value = URL_SAFE_NO_PAD.encode(message.as_bytes());
        cookies::build(FLASH_COOKIE, value, &self.cookies)
    }

    /// The cookie that consumes the flash message once shown.
    pub fn flash_removal(&self) -> cookie::Cookie<'static> {
        cookies::removal(FLASH_COOKIE, &self.cookies)
    }

    /// `303` to `location`, with a success message for the page there.
    pub fn done(&self, location: &str, message: &str) -> actix_web::HttpResponse {
        let mut response = super::page::see_other(location);
        cookies::set(&mut response, &self.flash_cookie(message));
        response
    }
}

/// The cookie scope of `home`'s console.
pub fn scope_of(base: &Base, home: &str) -> CookieScope {
    CookieScope::under(base, &format!("/admin/{home}/console"))
}

/// The enabled realm whose console this is.
pub async fn home_realm(state: &AppState, name: &str) -> Result<Realm, ConsoleError> {
    store::realms::find_by_name(state.db.read(), name)
        .await?
        .filter(|r| r.enabled)
        .ok_or_else(|| ConsoleError::NotFound("Realm".into()))
}

/// The client a console session is started through, as Keycloak names its admin console.
const CONSOLE_CLIENT: &str = "security-admin-console";

/// Starts a console session for `user`: a user session, a fresh cookie token (never one the
/// browser brought: a new id at every sign-in) and a CSRF token. Returns the cookie.
pub async fn start(
    state: &AppState,
    realm: &Realm,
    user: &User,
    origin: store::sessions::Origin<'_>,
    scope: &CookieScope,
) -> Result<cookie::Cookie<'static>, ConsoleError> {
    let token = crypto::random_token();
    let mut tx = state.db.begin().await?;
    let session =
        store::sessions::insert(&mut *tx, &realm.id, &user.id, CONSOLE_CLIENT, origin).await?;
    store::console_sessions::insert(
        &mut *tx,
        &crypto::token_digest(&token),
        &session,
        &csrf::new_token(),
    )
    .await?;
    tx.commit().await?;
    Ok(cookies::build(SESSION_COOKIE, token, scope))
}

/// Ends the session the request's cookie names, if any.
pub async fn end(state: &AppState, req: &HttpRequest, realm: &Realm) -> Result<(), ConsoleError> {
    if let Some(token) = cookies::get(req, SESSION_COOKIE) {
        let digest = crypto::token_digest(&token);
        if let Some(found) = store::console_sessions::find(state.db.read(), &digest).await? {
            store::sessions::delete(state.db.write(), &realm.id, &found.session_id).await?;
        }
    }
    Ok(())
}

/// Where to send a request that needs a sign-in: the sign-in page, coming back to the page
/// asked for when it was a GET.
fn sign_in_location(req: &HttpRequest, paths: &Paths) -> String {
    let signin = format!("{}/signin", paths.root);
    if req.method() != actix_web::http::Method::GET {
        return signin;
    }
    let wanted = match req.uri().query() {
        Some(query) => format!("{}?{query}", req.path()),
        None => req.path().to_owned(),
    };
    let next: String = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
    format!("{signin}?next={next}")
}

async fn load(req: HttpRequest) -> Result<Console, ConsoleError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered")
        .clone();
    let home_name = req.match_info().get("realm").unwrap_or_default().to_owned();
    let base = Base::of(&req, &state);
    let paths = Paths::of(&base, &home_name);
    let home = home_realm(&state, &home_name).await?;
    let sign_in = || ConsoleError::SignInRequired(sign_in_location(&req, &paths));
    let token = cookies::get(&req, SESSION_COOKIE).ok_or_else(sign_in)?;
    let session = store::console_sessions::find(state.db.read(), &crypto::token_digest(&token))
        .await?
        .filter(|s| s.realm_id == home.id)
        .ok_or_else(sign_in)?;
    let now = crate::clock::now_secs();
    let expired = now - session.started_at > home.sso_session_max_lifespan
        || now - session.last_access_at > home.sso_session_idle_timeout;
    let user = store::users::find_by_id(state.db.read(), &home.id, &session.user_id)
        .await?
        .filter(|u| u.enabled);
    let Some(user) = user.filter(|_| !expired) else {
        store::sessions::delete(state.db.write(), &home.id, &session.session_id).await?;
        return Err(sign_in());
    };
    if now - session.last_access_at >= TOUCH_INTERVAL {
        store::sessions::touch(state.db.write(), &session.session_id, now).await?;
    }
    let ip = login::client_ip(&req, &state);
    let actor = Actor::load(&state, &home, &user.id, user.username.to_string(), ip).await?;
    let flash = cookies::get(&req, FLASH_COOKIE)
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|m| !m.is_empty())
        .map(|message| Flash { message });
    Ok(Console {
        cookies: scope_of(&base, &home_name),
        actor,
        home,
        session_id: session.session_id,
        csrf: session.csrf_token,
        base,
        paths,
        flash,
        state,
    })
}

impl FromRequest for Console {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Console, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(load(req.clone()))
    }
}
