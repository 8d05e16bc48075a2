//! Production: moving an installation from SQLite to PostgreSQL with `keywarden
//! copy-database`, run as the real binary between a server on the SQLite file and a server
//! on the PostgreSQL database; and `export`/`import` on PostgreSQL.

use std::collections::BTreeMap;
use std::path::Path;

use reqwest::blocking::{Client, Response};
use reqwest::Method;
use serde_json::{json, Value};

use crate::cli::{run, Server};
use crate::helpers::basic;
use crate::postgres;

const ADMIN_ENV: [(&str, &str); 2] = [
    ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
    ("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin-pw"),
];
const DOCKER_AUTH: &str = "/realms/team/protocol/docker-v2/auth";

/// Runs a future to its end from a blocking test.
fn block_on<F: std::future::Future>(work: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(work)
}

/// Keycloak's JDBC form of a `postgres://user@host:port/db` URL.
fn jdbc_url(postgres_url: &str) -> String {
    let url = url::Url::parse(postgres_url).unwrap();
    format!(
        "jdbc:postgresql://{}:{}{}?user={}",
        url.host_str().unwrap(),
        url.port().unwrap(),
        url.path(),
        url.username()
    )
}

/// The password grant on `admin-cli`: the whole token response, or the refusing status.
fn password_grant(base: &str, realm: &str, username: &str, password: &str) -> Result<Value, u16> {
    let response = Client::new()
        .post(format!(
            "{base}/realms/{realm}/protocol/openid-connect/token"
        ))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .unwrap();
    match response.status().as_u16() {
        200 => Ok(response.json().unwrap()),
        status => Err(status),
    }
}

/// The master admin's REST calls on one server.
struct Admin {
    base: String,
    token: String,
}

impl Admin {
    fn new(server: &Server) -> Admin {
        let base = server.url("");
        let token = password_grant(&base, "master", "admin", "admin-pw").unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        Admin { base, token }
    }

    fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = Client::new()
            .request(method, format!("{}/admin/realms{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().unwrap()
    }

    /// Creates something; answers the id at the end of its `Location`.
    fn create(&self, path: &str, body: Value) -> String {
        let response = self.send(Method::POST, path, Some(body.clone()));
        assert_eq!(response.status(), 201, "POST {path} {body}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location.rsplit('/').next().unwrap().to_owned()
    }

    fn get(&self, path: &str) -> Value {
        let response = self.send(Method::GET, path, None);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().unwrap()
    }

    /// The values of `field` in the list at `path`, sorted.
    fn names(&self, path: &str, field: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .get(path)
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[field].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }
}

/// Rotates the team realm's key in the master console, as an admin does.
fn rotate_key(server: &Server) {
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let console = server.url("/admin/master/console");
    let csrf_of = |html: String| {
        let marker = r#"name="csrf" value=""#;
        let start = html.find(marker).expect("a CSRF field") + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    };
    let page = browser.get(format!("{console}/signin")).send().unwrap();
    let csrf = csrf_of(page.text().unwrap());
    let signed_in = browser
        .post(format!("{console}/signin"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "admin"),
            ("password", "admin-pw"),
        ])
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let home = browser.get(format!("{console}/")).send().unwrap();
    let csrf = csrf_of(home.text().unwrap());
    let rotated = browser
        .post(format!("{console}/team/settings/keys/rotate"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(rotated.status(), 303);
}

/// The kids of a realm's JWKS, sorted.
fn kids(server: &Server, realm: &str) -> Vec<String> {
    let jwks: Value = reqwest::blocking::get(
        server.url(&format!("/realms/{realm}/protocol/openid-connect/certs")),
    )
    .unwrap()
    .json()
    .unwrap();
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    kids
}

/// `docker login`: the identity token of `dev`.
fn identity_token(server: &Server) -> String {
    let response = Client::new()
        .get(server.url(&format!(
            "{DOCKER_AUTH}?account=dev&client_id=docker&offline_token=true&service=registry"
        )))
        .header("Authorization", basic("dev", "dev-pw"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().unwrap()["refresh_token"]
        .as_str()
        .expect("an identity token")
        .to_owned()
}

/// `docker pull` with a stored identity token: the status and, on success, the access token.
fn docker_token(server: &Server, identity_token: &str) -> (u16, Value) {
    let response = Client::new()
        .post(server.url(DOCKER_AUTH))
        .form(&[
            ("client_id", "docker"),
            ("grant_type", "refresh_token"),
            ("refresh_token", identity_token),
            ("scope", "repository:dev/app:pull"),
            ("service", "registry"),
        ])
        .send()
        .unwrap();
    (
        response.status().as_u16(),
        response.json().unwrap_or(Value::Null),
    )
}

/// The refresh grant of `admin-cli` in the team realm.
fn refresh_status(server: &Server, refresh_token: &str) -> u16 {
    Client::new()
        .post(server.url("/realms/team/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "admin-cli"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// What the admin API shows of an installation.
fn listing(admin: &Admin) -> Value {
    json!({
        "realms": admin.names("", "realm"),
        "users": admin.names("/team/users", "username"),
        "clients": admin.names("/team/clients", "clientId"),
        "groups": admin.names("/team/groups", "name"),
        "members": admin.names(&format!("/team/groups/{}/members", admin.names("/team/groups", "id")[0]), "username"),
        "events": admin.get("/team/events?max=1000").as_array().unwrap().iter().map(|e| e["id"].clone()).collect::<Vec<_>>(),
        "admin_events": admin.get("/team/admin-events?max=1000").as_array().unwrap().len(),
    })
}

/// Every table of the SQLite file (but the migrator's own) with its row count.
fn sqlite_counts(file: &Path) -> BTreeMap<String, u64> {
    block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut counts = BTreeMap::new();
        for table in tables {
            let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\""))
                .fetch_one(&pool)
                .await
                .unwrap();
            counts.insert(table, count as u64);
        }
        pool.close().await;
        counts
    })
}

/// Every table of the PostgreSQL database (but the migrator's own) with its row count.
fn postgres_counts(url: &str) -> BTreeMap<String, u64> {
    block_on(async {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
             AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut counts = BTreeMap::new();
        for table in tables {
            let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\""))
                .fetch_one(&pool)
                .await
                .unwrap();
            counts.insert(table, count as u64);
        }
        pool.close().await;
        counts
    })
}

/// The `table rows` lines `copy-database` prints.
fn printed_counts(stdout: &[u8]) -> BTreeMap<String, u64> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            let mut words = line.split_whitespace();
            let table = words.next().unwrap().to_owned();
            let rows = words.next().and_then(|n| n.parse().ok()).expect(line);
            (table, rows)
        })
        .collect()
}

/// A server on SQLite with a realm worth moving; answers the identity token and a refresh
/// token taken before the move, and what the admin API showed.
fn populate(server: &Server) -> (String, String, Value) {
    let admin = Admin::new(server);
    admin.create(
        "",
        json!({"realm": "team", "enabled": true, "eventsEnabled": true,
               "adminEventsEnabled": true, "adminEventsDetailsEnabled": true}),
    );
    admin.create(
        "/team/clients",
        json!({"clientId": "registry", "protocol": "docker-v2"}),
    );
    let mut users = BTreeMap::new();
    for (name, password) in [("dev", "dev-pw"), ("ops", "ops-pw")] {
        let id = admin.create(
            "/team/users",
            json!({"username": name, "enabled": true, "email": format!("{name}@example.test"),
                   "credentials": [{"type": "password", "value": password, "temporary": false}]}),
        );
        users.insert(name, id);
    }
    admin.create("/team/roles", json!({"name": "pusher"}));
    let role = admin.get("/team/roles/pusher");
    let group = admin.create("/team/groups", json!({"name": "developers"}));
    admin.create(
        &format!("/team/groups/{group}/children"),
        json!({"name": "frontend"}),
    );
    let mapped = admin.send(
        Method::POST,
        &format!("/team/groups/{group}/role-mappings/realm"),
        Some(json!([role])),
    );
    assert_eq!(mapped.status(), 204);
    let joined = admin.send(
        Method::PUT,
        &format!("/team/users/{}/groups/{group}", users["dev"]),
        None,
    );
    assert_eq!(joined.status(), 204);
    rotate_key(server);
    assert!(password_grant(&server.url(""), "team", "dev", "wrong").is_err());
    let identity = identity_token(server);
    assert_eq!(docker_token(server, &identity).0, 200);
    let refresh = password_grant(&server.url(""), "team", "ops", "ops-pw").unwrap()
        ["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (identity, refresh, listing(&admin))
}

#[test]
fn a_sqlite_installation_moves_to_postgresql_with_its_keys_users_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keywarden.db");
    let sqlite_url = format!("sqlite://{}", file.display());
    let serve_sqlite = ["start-dev", "--features=docker", "--db-url", &sqlite_url];
    let server = Server::start(dir.path(), &serve_sqlite, &ADMIN_ENV);
    let (identity, refresh, listed) = populate(&server);
    let kids_before = kids(&server, "team");
    assert_eq!(
        kids_before.len(),
        3,
        "the rotated-out key (passive), the active key and the next key"
    );
    drop(server);

    let postgres_url = block_on(postgres::new_database());
    let copied = run(
        dir.path(),
        &[
            "copy-database",
            "--db-url",
            &sqlite_url,
            "--to-db-url",
            &jdbc_url(&postgres_url),
        ],
        &[],
    );
    assert!(copied.status.success(), "{copied:?}");
    let printed = printed_counts(&copied.stdout);
    let mut in_sqlite = sqlite_counts(&file);
    in_sqlite.remove("cache_version");
    in_sqlite.remove("cache_change");
    assert_eq!(printed, in_sqlite, "one line per table, every row copied");
    for table in [
        "realm",
        "client",
        "app_user",
        "credential",
        "role",
        "app_group",
        "group_membership",
        "group_role_mapping",
        "realm_key",
        "refresh_token",
        "user_session",
        "console_session",
        "login_event",
        "admin_event",
    ] {
        assert!(printed[table] > 0, "{table} has rows to copy");
    }
    let mut in_postgres = postgres_counts(&postgres_url);
    in_postgres.remove("cache_version");
    in_postgres.remove("cache_change");
    assert_eq!(in_postgres, in_sqlite, "row counts per table");

    let serve_postgres = [
        "start-dev",
        "--features=docker",
        "--db=postgres",
        "--db-url",
        &postgres_url,
    ];
    let server = Server::start(dir.path(), &serve_postgres, &ADMIN_ENV);
    assert_eq!(kids(&server, "team"), kids_before, "both keys, same kids");
    let base = server.url("");
    for (user, password) in [("dev", "dev-pw"), ("ops", "ops-pw")] {
        assert!(
            password_grant(&base, "team", user, password).is_ok(),
            "{user}"
        );
    }
    assert!(password_grant(&base, "team", "dev", "wrong").is_err());
    let (status, body) = docker_token(&server, &identity);
    assert_eq!(status, 200, "the identity token still gets docker tokens");
    assert_eq!(
        body["token"].as_str().map(|t| t.split('.').count()),
        Some(3)
    );
    assert_eq!(
        refresh_status(&server, &refresh),
        200,
        "the refresh token works"
    );
    let admin = Admin::new(&server);
    let now = listing(&admin);
    assert_eq!(now["realms"], listed["realms"]);
    assert_eq!(now["users"], listed["users"]);
    assert_eq!(now["clients"], listed["clients"]);
    assert_eq!(now["groups"], listed["groups"]);
    assert_eq!(now["members"], json!(["dev"]));
    let events = now["events"].as_array().unwrap();
    let before = listed["events"].as_array().unwrap();
    assert_eq!(
        events[events.len() - before.len()..],
        before[..],
        "events keep their order, newest first"
    );
}

#[test]
fn copy_database_refuses_a_target_with_a_realm_and_export_import_run_on_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keywarden.db");
    let sqlite_url = format!("sqlite://{}", file.display());
    drop(Server::start(
        dir.path(),
        &["start-dev", "--db-url", &sqlite_url],
        &ADMIN_ENV,
    ));
    let target = block_on(postgres::new_database());
    let copy = |target: &str| {
        run(
            dir.path(),
            &[
                "copy-database",
                "--db-url",
                &sqlite_url,
                "--to-db-url",
                target,
            ],
            &[],
        )
    };
    assert!(copy(&target).status.success());
    let before = postgres_counts(&target);
    let refused = copy(&jdbc_url(&target));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("already holds realms (master)"), "{stderr}");
    assert!(refused.stdout.is_empty());
    assert_eq!(postgres_counts(&target), before, "nothing written");
    let not_postgres = copy("sqlite://elsewhere.db");
    let stderr = String::from_utf8_lossy(&not_postgres.stderr);
    assert!(!not_postgres.status.success());
    assert!(
        stderr.starts_with("keywarden: error: invalid --to-db-url"),
        "{stderr}"
    );
    assert!(!dir.path().join("elsewhere.db").exists());

    let exported = dir.path().join("master.json");
    let export = run(
        dir.path(),
        &[
            "export",
            "--db=postgres",
            "--db-url",
            &target,
            "--realm",
            "master",
            "--file",
            exported.to_str().unwrap(),
        ],
        &[],
    );
    assert!(export.status.success(), "{export:?}");
    let realm: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    assert_eq!(realm["realm"], "master");
    assert!(realm["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["username"] == "admin"));

    let fresh = block_on(postgres::new_database());
    let import = run(
        dir.path(),
        &[
            "import",
            "--db=postgres",
            "--db-url",
            &jdbc_url(&fresh),
            "--file",
            exported.to_str().unwrap(),
        ],
        &[],
    );
    assert!(import.status.success(), "{import:?}");
    let imported = postgres_counts(&fresh);
    assert_eq!(imported["realm"], 1);
    assert_eq!(imported["app_user"], before["app_user"]);
}

#[test]
fn copy_database_streams_big_tables_in_batches_and_keeps_event_order_and_group_trees() {
    const EVENTS: usize = 1234;
    const GROUPS: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keywarden.db");
    let sqlite_url = format!("sqlite://{}", file.display());
    drop(Server::start(
        dir.path(),
        &["start-dev", "--db-url", &sqlite_url],
        &ADMIN_ENV,
    ));
    let written_order: Vec<String> = block_on(async {
        let pool = sqlx::SqlitePool::connect(&sqlite_url).await.unwrap();
        let realm: String = sqlx::query_scalar("SELECT id FROM realm WHERE name = 'master'")
            .fetch_one(&pool)
            .await
            .unwrap();
        // Ids sort against the order of writing, and all share one time: only the order
        // of writing can tell the events apart.
        for n in 0..EVENTS {
            sqlx::query(
                "INSERT INTO login_event (id, realm_id, time_ms, type, details)
                 VALUES ($1, $2, 1700000000000, 'LOGIN', '{\"n\":\"x\"}')",
            )
            .bind(format!("event-{:05}", EVENTS - n))
            .bind(&realm)
            .execute(&pool)
            .await
            .unwrap();
        }
        // The first group moved under the last, a batch later: rowid order alone would
        // insert the child in a statement before its parent's.
        for n in 0..GROUPS {
            sqlx::query("INSERT INTO app_group (id, realm_id, name) VALUES ($1, $2, $3)")
                .bind(format!("g-{n:04}"))
                .bind(&realm)
                .bind(format!("group {n}"))
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE app_group SET parent_id = $1 WHERE id = 'g-0000'")
            .bind(format!("g-{:04}", GROUPS - 1))
            .execute(&pool)
            .await
            .unwrap();
        let order = sqlx::query_scalar("SELECT id FROM login_event ORDER BY rowid")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        order
    });
    let target = block_on(postgres::new_database());
    let copied = run(
        dir.path(),
        &[
            "copy-database",
            "--db-url",
            &sqlite_url,
            "--to-db-url",
            &target,
        ],
        &[],
    );
    assert!(copied.status.success(), "{copied:?}");
    let printed = printed_counts(&copied.stdout);
    assert_eq!(printed["login_event"], EVENTS as u64);
    assert_eq!(printed["app_group"], GROUPS as u64);
    let (seq_order, parent): (Vec<String>, Option<String>) = block_on(async {
        let pool = sqlx::PgPool::connect(&target).await.unwrap();
        let order = sqlx::query_scalar("SELECT id FROM login_event ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
        let parent = sqlx::query_scalar("SELECT parent_id FROM app_group WHERE id = 'g-0000'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        (order, parent)
    });
    assert_eq!(seq_order, written_order, "seq follows the order of writing");
    assert_eq!(parent, Some(format!("g-{:04}", GROUPS - 1)));
}
