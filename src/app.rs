//! Wiring: state, routes for the root and the legacy `/auth` layout, middleware.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use serde_json::json;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::passwords::PasswordHasher;
use crate::http::tls;
use crate::keyring::Keyring;
use crate::login_log::LoginLog;
use crate::protocol::verified_credentials::VerifiedCredentials;
use crate::shutdown::{Draining, Shutdown};
use crate::state::AppState;
use crate::token_touches::TokenTouches;
use crate::{admin, bootstrap, health, http, protocol, store};

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    https_port: Option<u16>,
    server: Server,
    login_log: LoginLog,
    clock: Clock,
    shutdown: Shutdown,
}

impl Application {
    /// Loads the TLS certificate, opens the store, binds the listeners (plain HTTP, HTTPS or
    /// both) and runs the first-start bootstrap.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let certificate = settings
            .https
            .as_ref()
            .map(tls::CertificateSlot::load)
            .transpose()?;
        let db = store::open_with(&settings.db).await?;
        let http = settings
            .http_enabled
            .then(|| bind(&settings, settings.http_port))
            .transpose()?;
        let https = match (&settings.https, certificate) {
            (Some(https), Some(certificate)) => Some((bind(&settings, https.port)?, certificate)),
            _ => None,
        };
        let http_port = http.as_ref().map(local_port).transpose()?;
        let https_port = https
            .as_ref()
            .map(|(listener, _)| local_port(listener))
            .transpose()?;
        let port = http_port
            .or(https_port)
            .context("neither HTTP nor HTTPS is enabled")?;
        let login_log = LoginLog::start(db.clone());
        let clock = Clock::system();
        let draining = Draining::default();
        let shutdown_delay = settings.shutdown_delay;
        let shutdown_timeout = settings.shutdown_timeout.as_secs_f64().ceil() as u64;
        crate::event_retention::start(db.clone());
        crate::key_rotation::start(db.clone(), clock.clone());
        let state = web::Data::new(AppState {
            login_log: login_log.clone(),
            keyring: Keyring::new(&db),
            touches: TokenTouches::start(db.clone()),
            db,
            passwords: PasswordHasher::per_core(),
            guesses: Default::default(),
            verified: VerifiedCredentials::new(settings.credential_cache_lifespan),
            draining: draining.clone(),
            settings,
            clock: clock.clone(),
        });
        bootstrap::run(&state).await?;
        let mut server = HttpServer::new(move || {
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
        // Signals are the binary's business (`Shutdown::on_signals`): readiness must go down
        // before the listeners close, which actix's own handling does not do.
        .disable_signals()
        .shutdown_timeout(shutdown_timeout);
        if let Some(listener) = http {
            server = server.listen(listener)?;
        }
        if let Some((listener, certificate)) = https {
            server =
                server.listen_rustls_0_23(listener, tls::server_config(certificate.clone())?)?;
            tls::watch(certificate);
        }
        let server = server.run();
        tracing::info!(http = http_port, https = https_port, "listening");
        let shutdown = Shutdown {
            handle: server.handle(),
            draining,
            delay: shutdown_delay,
        };
        Ok(Application {
            port,
            https_port,
            server,
            login_log,
            clock,
            shutdown,
        })
    }

    /// The plain HTTP port actually bound (useful with port 0), or the HTTPS port when plain
    /// HTTP is off.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The HTTPS port actually bound, when a certificate is configured.
    pub fn https_port(&self) -> Option<u16> {
        self.https_port
    }

    /// The server's clock; moving it moves the time every request sees.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Stops this server gracefully, readiness down first (see [`Shutdown`]).
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until the process is stopped, then stores the login events still queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.login_log.flush().await;
        served
    }
}

/// Listens on `port` of the configured address.
fn bind(settings: &Settings, port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind((settings.http_host, port))
        .with_context(|| format!("cannot listen on {}:{port}", settings.http_host))
}

fn local_port(listener: &TcpListener) -> anyhow::Result<u16> {
    Ok(listener.local_addr()?.port())
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
