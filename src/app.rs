//! Wiring: state, routes for the root and the legacy `/auth` layout, middleware.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use serde_json::json;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::passwords::PasswordHasher;
use crate::keyring::Keyring;
use crate::login_log::LoginLog;
use crate::state::AppState;
use crate::{admin, bootstrap, health, http, protocol, store};

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    login_log: LoginLog,
    clock: Clock,
}

impl Application {
    /// Opens the store, binds the listener and runs the first-start bootstrap.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = store::open_with(&settings.db).await?;
        let address = (settings.http_host, settings.http_port);
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "cannot listen on {}:{}",
                settings.http_host, settings.http_port
            )
        })?;
        let port = listener.local_addr()?.port();
        let login_log = LoginLog::start(db.clone());
        let clock = Clock::system();
        crate::event_retention::start(db.clone());
        let state = web::Data::new(AppState {
            login_log: login_log.clone(),
            db,
            passwords: PasswordHasher::per_core(),
            keyring: Keyring::default(),
            guesses: Default::default(),
            settings,
            clock: clock.clone(),
        });
        bootstrap::run(&state).await?;
        let server = HttpServer::new(move || {
            let layout = state.settings.relative_path.clone();
            let docker = state.settings.features.docker;
            App::new()
                .app_data(state.clone())
                .wrap(actix_web::middleware::from_fn(
                    http::trailing_slash::trim_admin_api,
                ))
                .wrap(actix_web::middleware::from_fn(
                    http::security_headers::security_headers,
                ))
                .wrap(actix_web::middleware::from_fn(http::read_epoch::read_epoch))
                .wrap(actix_web::middleware::from_fn(
                    http::request_span::request_span,
                ))
                .configure(|cfg| mount(cfg, layout.as_deref(), docker))
                .default_service(web::to(not_found))
        })
        .on_connect(http::client_gone::remember_socket)
        .listen(listener)?
        .run();
        tracing::info!(port, "listening");
        Ok(Application {
            port,
            server,
            login_log,
            clock,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's clock; moving it moves the time every request sees.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Serves until the process is stopped, then stores the login events still queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.login_log.flush().await;
        served
    }
}

/// Mounts the routes under the configured prefix, or under both `/` and `/auth` when none is set.
fn mount(cfg: &mut web::ServiceConfig, relative_path: Option<&str>, docker: bool) {
    let routes = move |cfg: &mut web::ServiceConfig| {
        // Token endpoints first: routes are tried in order, and these take the most traffic.
        if docker {
            protocol::docker::routes(cfg);
        }
        protocol::oidc::routes(cfg);
        health::routes(cfg);
        admin::api::routes(cfg);
        admin::console::routes(cfg);
    };
    match relative_path {
        Some("") => routes(cfg),
        Some(prefix) => {
            cfg.service(web::scope(prefix).configure(routes));
        }
        None => {
            cfg.service(web::scope("/auth").configure(routes));
            routes(cfg);
        }
    }
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": "Not Found"}))
}
