//! The admin console: a server-rendered HTML face over the admin operations (`admin::ops`),
//! the same ones the REST API calls. Pages live under `/admin/{realm}/console/`, where
//! `{realm}` is the realm signed in to; pages about a realm are under `.../{target}/...`.
//! Everything works without JavaScript. Each file holds one page or resource: its handlers
//! and, side by side, the askama structs of its templates.

mod assets;
mod clients;
mod confirm;
mod error;
mod events;
mod form;
mod group_roles;
mod groups;
mod keys;
mod names;
mod page;
mod realms;
mod roles;
mod session;
mod sessions;
mod settings;
mod signin;
mod transfer;
mod users;

use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::http::Base;
use crate::state::AppState;

/// Only the console's own assets; no framing; no inline script or style.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// Registers the console (relative to a layout's prefix): the entry redirects, the assets,
/// and the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(to_master))
        .route("/admin", web::get().to(to_master))
        .route("/admin/", web::get().to(to_master))
        .configure(assets::routes)
        .service(
            web::scope("/admin/{realm}/console")
                .wrap(from_fn(error::pages))
                .wrap(security_headers())
                .route("", web::get().to(to_root))
                .route("/", web::get().to(realms::index))
                .route("/signin", web::get().to(signin::form))
                .route("/signin", web::post().to(signin::submit))
                .route("/signout", web::post().to(signin::sign_out))
                .route("/new-realm", web::get().to(realms::new_form))
                .route("/new-realm", web::post().to(realms::create))
                .route("/{target}/", web::get().to(realms::landing))
                .configure(settings::routes)
                .configure(keys::routes)
                .configure(transfer::routes)
                .configure(realms::routes)
                .configure(users::routes)
                .configure(clients::routes)
                .configure(roles::routes)
                .configure(groups::routes)
                .configure(group_roles::routes)
                .configure(events::routes)
                .configure(sessions::routes)
                .default_service(web::to(error::not_found)),
        );
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// `/` and `/admin/` lead to the master realm's console.
async fn to_master(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let base = Base::of(&req, &state);
    let paths = page::Paths::of(&base, crate::admin::ops::realms::MASTER);
    page::see_other(&format!("{}/", paths.root))
}

/// `/admin/{realm}/console` gains its slash.
async fn to_root(req: HttpRequest) -> HttpResponse {
    page::see_other(&format!("{}/", req.path()))
}
