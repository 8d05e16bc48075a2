//! `spawn_app()`: a real server on port 0 over a fresh SQLite file, with helpers per endpoint.
//!
//! Every test server is watched for panics: a panic raised outside the test code while a
//! `TestApp` is alive fails its test when the `TestApp` is dropped, even when the request
//! that caused it got some answer.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Mutex, Once, PoisonError};

use keywarden::clock::Clock;
use keywarden::config::{BootstrapAdmin, Features, Settings};
use keywarden::Application;
use secrecy::SecretString;
use serde_json::{json, Value};

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password";

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    pub db_path: PathBuf,
    /// The database the server runs on: the SQLite file at `db_path`, or, when the suite
    /// runs on PostgreSQL, a database of its own.
    pub db_url: String,
    /// The server's clock: `app.clock.shift(-3600)` makes it mint tokens an hour old.
    pub clock: Clock,
    pub _dir: tempfile::TempDir,
    /// How many server panics had been seen when this server started.
    panics_before: usize,
}

/// Panics raised outside the test code (by a server, on any of its threads), in order.
static SERVER_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs, once per test process, the panic hook that records server panics. A panic
/// whose location is in `tests/` is the test's own (an assertion) and is not recorded.
pub fn watch_for_server_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location();
            if !location.is_some_and(|l| l.file().starts_with("tests/")) {
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let thread = std::thread::current();
                let place = location.map(|l| l.to_string()).unwrap_or_default();
                server_panics().push(format!(
                    "thread '{}' panicked at {place}: {payload}",
                    thread.name().unwrap_or("unnamed")
                ));
            }
            report(info);
        }));
    });
}

fn server_panics() -> std::sync::MutexGuard<'static, Vec<String>> {
    SERVER_PANICS.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for TestApp {
    /// Fails the test if a server panicked while this one ran (tests run in parallel, so a
    /// panic of another test's server fails this one too: either way the suite fails).
    fn drop(&mut self) {
        let panics = server_panics()
            .get(self.panics_before..)
            .unwrap_or_default()
            .join("\n");
        if panics.is_empty() {
            return;
        }
        if std::thread::panicking() {
            eprintln!("the server panicked while this test ran:\n{panics}");
        } else {
            panic!("the server panicked while this test ran:\n{panics}");
        }
    }
}

/// Settings for a test server: loopback, port 0, a fresh database, docker feature on.
pub fn test_settings(db_path: &std::path::Path) -> Settings {
    Settings {
        dev_mode: true,
        http_host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        http_port: 0,
        http_enabled: true,
        https: None,
        hostname: None,
        relative_path: None,
        features: Features { docker: true },
        proxy_headers: false,
        import_realm: false,
        db: keywarden::store::DbOptions::url(format!("sqlite://{}", db_path.display())),
        log_level: "warn".into(),
        bootstrap_admin: Some(BootstrapAdmin {
            username: ADMIN_USER.into(),
            password: SecretString::from(ADMIN_PASSWORD),
        }),
        shutdown_delay: std::time::Duration::ZERO,
        shutdown_timeout: std::time::Duration::ZERO,
        credential_cache_lifespan: std::time::Duration::from_secs(300),
    }
}

/// Starts a server with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust its settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    try_spawn_app_with(adjust).await.expect("server starts")
}

/// Starts a server after letting the test adjust its settings, or says why it did not start
/// (a port chosen beforehand may have been taken meanwhile).
pub async fn try_spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> anyhow::Result<TestApp> {
    watch_for_server_panics();
    let panics_before = server_panics().len();
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("keywarden.db");
    let mut settings = test_settings(&db_path);
    if crate::postgres::is_backend() {
        settings.db = keywarden::store::DbOptions {
            pool_max_size: Some(8),
            ..keywarden::store::DbOptions::url(crate::postgres::new_database().await)
        };
    }
    adjust(&mut settings);
    let db_url = settings.db.url.clone();
    let app = Application::build(settings).await?;
    let port = app.port();
    let clock = app.clock();
    tokio::spawn(app.run_until_stopped());
    Ok(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap(),
        db_path,
        db_url,
        clock,
        _dir: dir,
        panics_before,
    })
}

impl TestApp {
    /// A direct connection to the server's database, for tests that look behind the API.
    /// Statements use `$1` parameters, which both databases understand.
    pub async fn raw_db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.db_url).await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A master-realm admin access token (password grant on admin-cli).
    pub async fn admin_token(&self) -> String {
        self.password_token("master", "admin-cli", ADMIN_USER, ADMIN_PASSWORD)
            .await
    }

    /// An access token by the password grant.
    pub async fn password_token(
        &self,
        realm: &str,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> String {
        let response = self
            .client
            .post(self.url(&format!("/realms/{realm}/protocol/openid-connect/token")))
            .form(&[
                ("grant_type", "password"),
                ("client_id", client_id),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "token request failed");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Calls the admin REST API with a master admin token.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let token = self.admin_token().await;
        let mut request = self
            .client
            .request(method, self.url(&format!("/admin/realms{path}")))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Creates a realm through the admin API.
    pub async fn create_realm(&self, realm: &str) {
        let response = self
            .admin(
                reqwest::Method::POST,
                "",
                Some(json!({"realm": realm, "enabled": true})),
            )
            .await;
        assert_eq!(response.status(), 201, "create realm {realm}");
    }

    /// Switches on every kind of event in the realm (new realms store none, as in Keycloak).
    pub async fn enable_events(&self, realm: &str) {
        let response = self
            .admin(
                reqwest::Method::PUT,
                &format!("/{realm}/events/config"),
                Some(json!({"eventsEnabled": true, "adminEventsEnabled": true,
                            "adminEventsDetailsEnabled": true})),
            )
            .await;
        assert_eq!(response.status(), 204, "enable events in {realm}");
    }

    /// Gives `user` the admin roles named: of `realm-management`, or in master (which has
    /// none, as in Keycloak) of `master-realm`.
    pub async fn grant_management(&self, realm: &str, user: &str, roles: &[&str]) {
        let container = if realm == "master" {
            "master-realm"
        } else {
            "realm-management"
        };
        let clients: Value = self
            .admin(
                reqwest::Method::GET,
                &format!("/{realm}/clients?clientId={container}"),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        let management = clients[0]["id"].as_str().unwrap().to_owned();
        let body: Vec<Value> = roles.iter().map(|r| json!({"name": r})).collect();
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/{realm}/users/{user}/role-mappings/clients/{management}"),
                Some(json!(body)),
            )
            .await;
        assert_eq!(response.status(), 204, "grant {roles:?}");
    }

    /// Creates a user of `realm` holding the admin roles named (see `grant_management`);
    /// answers the user's id and admin token.
    pub async fn realm_admin(
        &self,
        realm: &str,
        username: &str,
        roles: &[&str],
    ) -> (String, String) {
        let id = self.create_user(realm, username, "pw").await;
        self.grant_management(realm, &id, roles).await;
        let token = self
            .password_token(realm, "admin-cli", username, "pw")
            .await;
        (id, token)
    }

    /// Creates a user with a password; returns the user's id.
    pub async fn create_user(&self, realm: &str, username: &str, password: &str) -> String {
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/{realm}/users"),
                Some(json!({
                    "username": username,
                    "enabled": true,
                    "credentials": [{"type": "password", "value": password, "temporary": false}],
                })),
            )
            .await;
        assert_eq!(response.status(), 201, "create user {username}");
        location_id(&response)
    }

    /// Creates a docker-v2 client (the registry's service); returns its internal id.
    pub async fn create_docker_client(&self, realm: &str, client_id: &str) -> String {
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/{realm}/clients"),
                Some(json!({"clientId": client_id, "protocol": "docker-v2"})),
            )
            .await;
        assert_eq!(response.status(), 201, "create docker client {client_id}");
        location_id(&response)
    }
}

/// The last path segment of a response's `Location` header.
pub fn location_id(response: &reqwest::Response) -> String {
    let location = response
        .headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .unwrap();
    location.rsplit('/').next().unwrap().to_owned()
}

/// `Authorization: Basic` for a username and password.
/// A loopback port that is free now, for a server a test starts on a port of its choosing.
/// It is drawn outside Linux's ephemeral range (32768-60999), where the kernel hands out the
/// ports of `bind(":0")` and of outgoing connections, so that no other test's connection can
/// take it before the server binds it.
pub fn free_port() -> u16 {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let port = rng.gen_range(20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between 20000 and 32000");
}

pub fn basic(username: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// The value of the sign-in page's hidden `csrf` field.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf field")
        .to_owned()
}

/// The claims of a JWT, unverified.
pub fn jwt_payload(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}
