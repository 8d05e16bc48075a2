//! Three replicas on one PostgreSQL database agree: a write acknowledged by one is honoured by
//! the next request on another, for every kind of write a token depends on; shared state
//! (brute-force records, console and SSO sessions, codes, events) crosses replicas; replicas
//! start together on an empty database; readiness follows the database, and a replica
//! reconnects by itself after PostgreSQL restarts.
//!
//! These tests run on PostgreSQL whatever `KEYWARDEN_TEST_BACKEND` says.

use std::time::{Duration, Instant};

use keywarden::store::DbOptions;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    basic, csrf_of, jwt_payload, location_id, spawn_app_with, TestApp, ADMIN_PASSWORD, ADMIN_USER,
};
use crate::postgres;

/// Alternations per kind of write.
const ROUNDS: usize = 200;
const DOCKER_AUTH: &str = "/realms/team/protocol/docker-v2/auth";
const OIDC_TOKEN: &str = "/realms/team/protocol/openid-connect/token";

/// Three servers on one database, and a master admin token all of them accept.
struct Replicas {
    apps: Vec<TestApp>,
    token: String,
}

/// Options for a replica of the database at `url` (a small pool: many replicas share the
/// test server).
fn replica_db(url: &str) -> DbOptions {
    DbOptions {
        pool_max_size: Some(8),
        ..DbOptions::url(url)
    }
}

async fn three_replicas() -> Replicas {
    let url = postgres::new_database().await;
    let mut apps = Vec::new();
    for _ in 0..3 {
        apps.push(spawn_app_with(|s| s.db = replica_db(&url)).await);
    }
    let mut replicas = Replicas {
        token: apps[0].admin_token().await,
        apps,
    };
    // Master tokens live a minute; the runs below take longer.
    let response = replicas
        .admin(
            0,
            Method::PUT,
            "/master",
            Some(json!({"accessTokenLifespan": 3600})),
        )
        .await;
    assert_eq!(response.status(), 204);
    replicas.token = replicas.apps[1].admin_token().await;
    replicas
}

impl Replicas {
    /// Calls the admin REST API of replica `i`.
    async fn admin(
        &self,
        i: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let app = &self.apps[i];
        let mut request = app
            .client
            .request(method, app.url(&format!("/admin/realms{path}")))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Realm `team`, docker client `registry`, user `dev` / `pw`; answers the user's id and
    /// the client's id.
    async fn team(&self) -> (String, String) {
        let created = self
            .admin(
                0,
                Method::POST,
                "",
                Some(json!({"realm": "team", "enabled": true})),
            )
            .await;
        assert_eq!(created.status(), 201);
        let client = self
            .admin(
                1,
                Method::POST,
                "/team/clients",
                Some(json!({"clientId": "registry", "protocol": "docker-v2"})),
            )
            .await;
        assert_eq!(client.status(), 201);
        let user = self
            .admin(
                2,
                Method::POST,
                "/team/users",
                Some(json!({"username": "dev", "enabled": true, "credentials":
                    [{"type": "password", "value": "pw", "temporary": false}]})),
            )
            .await;
        assert_eq!(user.status(), 201);
        (location_id(&user), location_id(&client))
    }
}

/// A docker identity token for `dev`, issued by `app`.
async fn identity_token(app: &TestApp, password: &str) -> String {
    let response = app
        .client
        .post(app.url(DOCKER_AUTH))
        .form(&[
            ("grant_type", "password"),
            ("service", "registry"),
            ("username", "dev"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// A docker token for `identity`, issued by `app`.
async fn docker_refresh(app: &TestApp, identity: &str) -> reqwest::Response {
    app.client
        .post(app.url(DOCKER_AUTH))
        .form(&[
            ("grant_type", "refresh_token"),
            ("service", "registry"),
            ("refresh_token", identity),
            ("scope", "repository:team/app:pull"),
        ])
        .send()
        .await
        .unwrap()
}

/// An OIDC token request to `app` (client `admin-cli` of `team`).
async fn oidc_token(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    let mut form = form.to_vec();
    form.push(("client_id", "admin-cli"));
    app.client
        .post(app.url(OIDC_TOKEN))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Runs `ROUNDS` alternations of `round(k, writer, reader)`, which answers whether the reader
/// honoured the write; asserts none was stale and reports the time taken.
async fn alternate<F, Fut>(kind: &str, mut round: F)
where
    F: FnMut(usize, usize, usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    let mut stale = 0;
    for k in 0..ROUNDS {
        if !round(k, k % 3, (k + 1) % 3).await {
            stale += 1;
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "replicas: {kind}: {ROUNDS} alternations, {stale} stale, {:.1} s ({:.1} ms each)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / ROUNDS as f64
    );
    assert_eq!(stale, 0, "{kind}: stale answers");
}

#[tokio::test]
async fn a_disabled_user_is_refused_by_every_replica() {
    let r = three_replicas().await;
    let (user, _) = r.team().await;
    // Disabling a user also revokes their identity tokens, so each round signs in with the
    // password (Basic), which reads the user and the password hash through the cache.
    let dev = basic("dev", "pw");
    let sign_in = |app: &TestApp| {
        let request = app
            .client
            .get(app.url(&format!("{DOCKER_AUTH}?service=registry")))
            .header("Authorization", &dev);
        async move { request.send().await.unwrap().status() }
    };
    for app in &r.apps {
        assert_eq!(sign_in(app).await, 200);
    }
    alternate("user disabled", |k, w, c| {
        let (r, user) = (&r, &user);
        let read = sign_in(&r.apps[c]);
        async move {
            let enabled = k % 2 == 1;
            let path = format!("/team/users/{user}");
            let written = r
                .admin(w, Method::PUT, &path, Some(json!({"enabled": enabled})))
                .await;
            assert_eq!(written.status(), 204);
            (read.await == StatusCode::OK) == enabled
        }
    })
    .await;
}

#[tokio::test]
async fn a_changed_password_is_honoured_by_every_replica() {
    let r = three_replicas().await;
    let (user, _) = r.team().await;
    let password = |k: usize| format!("pw-{k}");
    let reset = |w: usize, k: usize| {
        let (r, path) = (&r, format!("/team/users/{user}/reset-password"));
        async move {
            let body = json!({"type": "password", "value": password(k), "temporary": false});
            let response = r.admin(w, Method::PUT, &path, Some(body)).await;
            assert_eq!(response.status(), 204);
        }
    };
    reset(2, 0).await;
    // Round k sets pw-(k+1) on the writer; the reader must refuse pw-k, which it accepted
    // (and so cached) in the round before; a third replica then accepts pw-(k+1), warming
    // its cache for the next round, whose reader it is.
    assert_eq!(grant_status(&r.apps[1], &password(0)).await, 200);
    alternate("password changed", |k, w, c| {
        let r = &r;
        let reset = &reset;
        async move {
            reset(w, k + 1).await;
            let old_refused = grant_status(&r.apps[c], &password(k)).await == 400;
            let next = (c + 1) % 3;
            let new_accepted = grant_status(&r.apps[next], &password(k + 1)).await == 200;
            old_refused && new_accepted
        }
    })
    .await;
}

/// The status of a password grant for `dev` on `app`.
async fn grant_status(app: &TestApp, password: &str) -> u16 {
    oidc_token(
        app,
        &[
            ("grant_type", "password"),
            ("username", "dev"),
            ("password", password),
        ],
    )
    .await
    .status()
    .as_u16()
}

/// `count` identity tokens of `dev` with their ids, in order.
async fn identity_tokens(r: &Replicas, user: &str, count: usize) -> Vec<(String, String)> {
    let path = format!("/team/users/{user}/identity-tokens");
    let mut known = std::collections::HashSet::new();
    let mut tokens = Vec::new();
    for k in 0..count {
        let token = identity_token(&r.apps[k % 3], "pw").await;
        let list: Vec<Value> = r
            .admin(k % 3, Method::GET, &path, None)
            .await
            .json()
            .await
            .unwrap();
        let id = list
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .find(|id| !known.contains(id))
            .expect("the new token is listed");
        known.insert(id.clone());
        tokens.push((token, id));
    }
    tokens
}

#[tokio::test]
async fn a_revoked_identity_token_is_refused_by_every_replica() {
    let r = three_replicas().await;
    let (user, _) = r.team().await;
    let tokens = identity_tokens(&r, &user, ROUNDS).await;
    alternate("identity token revoked", |k, w, c| {
        let (r, user, (token, id)) = (&r, &user, &tokens[k]);
        async move {
            // The reader has just honoured the token (so it is cached there) ...
            let live = docker_refresh(&r.apps[c], token).await.status() == 200;
            let path = format!("/team/users/{user}/identity-tokens/{id}");
            let revoked = r.admin(w, Method::DELETE, &path, None).await;
            assert_eq!(revoked.status(), 204);
            // ... and refuses it once another replica acknowledged its revocation.
            live && docker_refresh(&r.apps[c], token).await.status() == 401
        }
    })
    .await;
}

/// A session of `dev` on client `admin-cli`: its refresh token and id.
async fn session(app: &TestApp) -> (String, String) {
    let response = oidc_token(
        app,
        &[
            ("grant_type", "password"),
            ("username", "dev"),
            ("password", "pw"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["refresh_token"].as_str().unwrap().to_owned(),
        body["session_state"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    oidc_token(
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

#[tokio::test]
async fn an_ended_session_is_refused_by_every_replica() {
    let r = three_replicas().await;
    r.team().await;
    let mut sessions = Vec::new();
    for k in 0..ROUNDS {
        sessions.push(session(&r.apps[k % 3]).await);
    }
    alternate("session ended", |k, w, c| {
        let (r, (token, id)) = (&r, &sessions[k]);
        async move {
            let warm = refresh(&r.apps[c], token).await;
            let live = warm.status() == 200;
            let body: Value = warm.json().await.unwrap_or_default();
            let token = body["refresh_token"].as_str().unwrap_or(token).to_owned();
            // Even rounds end it through the admin API, odd ones by the user's logout.
            let ended = if k % 2 == 0 {
                r.admin(w, Method::DELETE, &format!("/team/sessions/{id}"), None)
                    .await
                    .status()
            } else {
                let app = &r.apps[w];
                app.client
                    .post(app.url("/realms/team/protocol/openid-connect/logout"))
                    .form(&[("client_id", "admin-cli"), ("refresh_token", &token)])
                    .send()
                    .await
                    .unwrap()
                    .status()
            };
            assert_eq!(ended, 204);
            live && refresh(&r.apps[c], &token).await.status() == 400
        }
    })
    .await;
}

/// A browser signed in to the master console of `app`; answers it, the CSRF token and the
/// session cookie (`name=value`).
async fn console(app: &TestApp) -> (reqwest::Client, String, String) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let page = browser
        .get(app.url("/admin/master/console/signin"))
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    let signed_in = browser
        .post(app.url("/admin/master/console/signin"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "console sign-in");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| !c.ends_with('='))
        .expect("a session cookie");
    let home = browser
        .get(app.url("/admin/master/console/"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let csrf = csrf_of(&home.text().await.unwrap());
    (browser, csrf, cookie)
}

/// Rotates `team`'s keys through the console of `app`.
async fn rotate(app: &TestApp, browser: &reqwest::Client, csrf: &str) -> u16 {
    browser
        .post(app.url("/admin/master/console/team/settings/keys/rotate"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_rotated_key_signs_the_next_token_of_every_replica() {
    let r = three_replicas().await;
    r.team().await;
    let identity = identity_token(&r.apps[0], "pw").await;
    let (browser, csrf, _) = console(&r.apps[0]).await;
    let kid = |response: reqwest::Response| async move {
        let body: Value = response.json().await.unwrap();
        jsonwebtoken::decode_header(body["token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    for app in &r.apps {
        docker_refresh(app, &identity).await;
    }
    alternate("key rotated", |_, w, c| {
        let (r, browser, csrf, identity) = (&r, &browser, &csrf, &identity);
        async move {
            assert_eq!(rotate(&r.apps[w], browser, csrf).await, 303);
            let keys: Value = r
                .admin(w, Method::GET, "/team/keys", None)
                .await
                .json()
                .await
                .unwrap();
            let active = keys["active"]["RS256"].as_str().unwrap().to_owned();
            kid(docker_refresh(&r.apps[c], identity).await).await == active
        }
    })
    .await;
}

#[tokio::test]
async fn a_changed_access_policy_grants_on_every_replica() {
    let r = three_replicas().await;
    let (_, client) = r.team().await;
    let anonymous_pull = |repository: &str| {
        json!({"mode": "rules", "rules":
            [{"repository": repository, "who": "anonymous", "actions": ["pull"]}]})
    };
    let granted = |app: &TestApp| {
        let request = app.client.get(app.url(&format!(
            "{DOCKER_AUTH}?service=registry&scope=repository:team/app:pull"
        )));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            jwt_payload(body["token"].as_str().unwrap())["access"].clone()
        }
    };
    alternate("access policy changed", |k, w, c| {
        let (r, client) = (&r, &client);
        let grants = k % 2 == 0;
        let policy = anonymous_pull(if grants { "team/*" } else { "library/*" });
        let read = granted(&r.apps[c]);
        async move {
            let path = format!("/team/clients/{client}/docker-access-policy");
            let written = r.admin(w, Method::PUT, &path, Some(policy)).await;
            assert_eq!(written.status(), 204);
            let access = read.await;
            let pulls = access
                .as_array()
                .is_some_and(|a| a.iter().any(|g| g["actions"] == json!(["pull"])));
            pulls == grants
        }
    })
    .await;
}

#[tokio::test]
async fn a_deleted_realm_is_gone_from_every_replica() {
    let r = three_replicas().await;
    alternate("realm deleted", |k, w, c| {
        let r = &r;
        async move {
            let exists = k % 2 == 0;
            let written = if exists {
                r.admin(
                    w,
                    Method::POST,
                    "",
                    Some(json!({"realm": "gone", "enabled": true})),
                )
                .await
                .status()
            } else {
                r.admin(w, Method::DELETE, "/gone", None).await.status()
            };
            assert_eq!(written, if exists { 201 } else { 204 });
            let seen = r.apps[c].get("/realms/gone").await.status();
            (seen == 200) == exists
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_passwords_spread_over_the_replicas_lock_the_user_on_all() {
    let r = three_replicas().await;
    r.team().await;
    let settings = json!({"bruteForceProtected": true, "permanentLockout": true,
        "failureFactor": 3});
    let updated = r.admin(0, Method::PUT, "/team", Some(settings)).await;
    assert_eq!(updated.status(), 204);
    for app in &r.apps {
        assert_eq!(grant_status(app, "wrong").await, 400);
    }
    for app in &r.apps {
        assert_eq!(
            grant_status(app, "pw").await,
            400,
            "the right password is refused once three replicas saw three failures"
        );
    }
}

#[tokio::test]
async fn a_console_session_works_on_every_replica() {
    let r = three_replicas().await;
    r.team().await;
    let (browser, csrf, cookie) = console(&r.apps[0]).await;
    let home = browser
        .get(r.apps[1].url("/admin/master/console/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        home.status(),
        200,
        "the session cookie is honoured by another replica"
    );
    assert_eq!(
        rotate(&r.apps[2], &browser, &csrf).await,
        303,
        "and so is its CSRF token"
    );
    let signed_out = browser
        .post(r.apps[1].url("/admin/master/console/signout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 303);
    // The browser forgot the cookie; one kept from before is refused by the other replicas.
    for app in &r.apps[1..] {
        let after = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url("/admin/master/console/"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 303, "signed out everywhere");
        assert!(after.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/signin"));
    }
}

/// The code a sign-in or SSO redirect carries.
fn code_of(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned()
}

#[tokio::test]
async fn a_code_is_redeemed_and_a_browser_signed_in_on_other_replicas() {
    let r = three_replicas().await;
    r.team().await;
    let web = json!({"clientId": "web", "publicClient": false, "secret": "s3cret",
        "redirectUris": ["http://app.test/cb"]});
    assert_eq!(
        r.admin(0, Method::POST, "/team/clients", Some(web))
            .await
            .status(),
        201
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let auth = "/realms/team/protocol/openid-connect/auth";
    let query = "client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code&scope=openid&state=s";
    let page = browser
        .get(r.apps[0].url(&format!("{auth}?{query}")))
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    let signed_in = browser
        .post(r.apps[1].url(auth))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", "web"),
            ("redirect_uri", "http://app.test/cb"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
            ("username", "dev"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    let redeem = |i: usize, code: String| {
        let app = &r.apps[i];
        async move {
            app.client
                .post(app.url(OIDC_TOKEN))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", "web"),
                    ("client_secret", "s3cret"),
                    ("code", &code),
                    ("redirect_uri", "http://app.test/cb"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let code = code_of(&signed_in);
    assert_eq!(
        redeem(2, code.clone()).await,
        200,
        "issued on 1, redeemed on 2"
    );
    assert_eq!(redeem(0, code).await, 400, "and only once, on any replica");
    let sso = browser
        .get(r.apps[2].url(&format!("{auth}?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        redeem(0, code_of(&sso)).await,
        200,
        "single sign-on on another replica"
    );
}

#[tokio::test]
async fn login_events_of_one_replica_are_listed_by_another() {
    let r = three_replicas().await;
    r.team().await;
    let config = json!({"eventsEnabled": true});
    let enabled = r
        .admin(0, Method::PUT, "/team/events/config", Some(config))
        .await;
    assert_eq!(enabled.status(), 204);
    assert_eq!(grant_status(&r.apps[1], "pw").await, 200);
    let answered = Instant::now();
    let logins = loop {
        let events: Vec<Value> = r
            .admin(2, Method::GET, "/team/events?type=LOGIN", None)
            .await
            .json()
            .await
            .unwrap();
        if !events.is_empty() || answered.elapsed() > Duration::from_secs(5) {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    eprintln!(
        "replicas: a login event was listed by another replica {} ms after the token",
        answered.elapsed().as_millis()
    );
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0]["clientId"], "admin-cli");
}

#[tokio::test]
async fn replicas_starting_together_on_an_empty_database_bootstrap_once() {
    let url = postgres::new_database().await;
    let build = || {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::helpers::test_settings(&dir.path().join("unused.db"));
        settings.db = replica_db(&url);
        async move { (keywarden::Application::build(settings).await, dir) }
    };
    let (a, b, c) = tokio::join!(build(), build(), build());
    let mut ports = Vec::new();
    for (app, _dir) in [a, b, c] {
        let app = app.expect("every replica starts");
        ports.push(app.port());
        tokio::spawn(app.run_until_stopped());
    }
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let admins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app_user u JOIN realm r ON r.id = u.realm_id \
         WHERE r.name = 'master'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(admins, 1, "one bootstrap admin");
    let masters: i64 = sqlx::query_scalar("SELECT count(*) FROM realm WHERE name = 'master'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(masters, 1);
    let migrations: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&db)
            .await
            .unwrap();
    let mut expected: Vec<(i64, bool)> = std::fs::read_dir("migrations/postgres")
        .unwrap()
        .map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            (name[..4].parse().unwrap(), true)
        })
        .collect();
    expected.sort();
    assert_eq!(migrations, expected, "each migration once");
    let client = reqwest::Client::new();
    for port in ports {
        let token = client
            .post(format!(
                "http://127.0.0.1:{port}/realms/master/protocol/openid-connect/token"
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", ADMIN_USER),
                ("password", ADMIN_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            token.status(),
            200,
            "replica on port {port} serves the admin"
        );
    }
}

/// A PostgreSQL server of the test's own, stopped (and its directory removed) when dropped.
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnPostgres {
    fn script(args: &[&str]) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/temp-postgres.sh");
        let out = std::process::Command::new(script)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "temp-postgres.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn start(&self) -> String {
        let dir = self.dir.path().display().to_string();
        Self::script(&["start", &dir, &self.port.to_string()])
    }

    fn stop(&self) {
        Self::script(&["stop", &self.dir.path().display().to_string()]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/temp-postgres.sh");
        let _ = std::process::Command::new(script)
            .args(["stop", &self.dir.path().display().to_string()])
            .output();
    }
}

#[tokio::test]
async fn readiness_follows_the_database_and_a_restart_needs_no_action() {
    let server = OwnPostgres {
        dir: tempfile::Builder::new()
            .prefix("keywarden-pg-")
            .tempdir()
            .unwrap(),
        port: std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
    };
    let url = server.start();
    let app = spawn_app_with(|s| s.db = replica_db(&url)).await;
    let ready = || async {
        let started = Instant::now();
        let response = app.get("/health/ready").await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (
            status,
            body["status"].as_str().unwrap().to_owned(),
            started.elapsed(),
        )
    };
    let (status, up, _) = ready().await;
    assert_eq!((status, up.as_str()), (StatusCode::OK, "UP"));
    app.admin_token().await;

    server.stop();
    let (status, down, took) = ready().await;
    eprintln!(
        "replicas: /health/ready answered {status} in {} ms with PostgreSQL down",
        took.as_millis()
    );
    assert_eq!(
        (status, down.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "DOWN")
    );
    assert!(
        took < Duration::from_secs(3),
        "the probe is bounded: {took:?}"
    );
    let (status, _, took) = ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < Duration::from_secs(3), "every time: {took:?}");

    server.start();
    let restarted = Instant::now();
    loop {
        let (status, _, _) = ready().await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(15),
            "ready again after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "replicas: ready again {} ms after PostgreSQL restarted",
        restarted.elapsed().as_millis()
    );
    for _ in 0..3 {
        let token = app.admin_token().await;
        assert!(!token.is_empty());
    }
}

/// What the cross-replica guarantee costs: one read of `cache_version` per request. Prints
/// the time of a cached lookup that reads it (the first of a request), of one that does not
/// (the later lookups of the same request), and of the row read without the cache.
#[tokio::test]
async fn the_shared_cache_version_costs_one_read_per_request() {
    use keywarden::domain::{Realm, RealmName};
    use keywarden::store::{cache::request_scope, realms};

    const N: u32 = 2000;
    let url = postgres::new_database().await;
    let db = keywarden::store::open_with(&replica_db(&url))
        .await
        .unwrap();
    realms::insert(db.write(), &Realm::new(RealmName::parse("team").unwrap()))
        .await
        .unwrap();
    let lookup = || async {
        let realm = realms::find_by_name_cached(&db, "team").await.unwrap();
        assert!(realm.is_some());
    };
    lookup().await;

    let started = Instant::now();
    for _ in 0..N {
        request_scope(lookup()).await;
    }
    let first_of_request = started.elapsed() / N;
    let started = Instant::now();
    request_scope(async {
        for _ in 0..N {
            lookup().await;
        }
    })
    .await;
    let later_in_request = started.elapsed() / N;
    let started = Instant::now();
    for _ in 0..N {
        realms::find_by_name(db.read(), "team").await.unwrap();
    }
    let uncached = started.elapsed() / N;
    eprintln!(
        "replicas: cached lookup with the version read {:.1} µs, without {:.1} µs \
         (the guarantee costs {:.1} µs per request); the row read uncached {:.1} µs",
        first_of_request.as_secs_f64() * 1e6,
        later_in_request.as_secs_f64() * 1e6,
        (first_of_request.saturating_sub(later_in_request)).as_secs_f64() * 1e6,
        uncached.as_secs_f64() * 1e6,
    );
    assert!(
        later_in_request * 5 < first_of_request,
        "a request reads the version once, not at every lookup"
    );
}

/// A write on one replica drops, on another, only the cached rows it changed: a new user and
/// a change to another user leave a cached user warm; a change to that user is seen by the
/// next request.
#[tokio::test]
async fn writes_drop_only_the_rows_they_change_on_every_replica() {
    use keywarden::domain::{Realm, RealmName, User, Username};
    use keywarden::store::{cache::request_scope, realms, users};

    let url = postgres::new_database().await;
    let options = replica_db(&url);
    let open = || keywarden::store::open_with(&options);
    let (reader, writer) = (open().await.unwrap(), open().await.unwrap());
    let realm = Realm::new(RealmName::parse("team").unwrap());
    realms::insert(writer.write(), &realm).await.unwrap();
    let user = |name: &str| User::new(realm.id.clone(), Username::parse(name).unwrap());
    let (mut cached, mut other) = (user("cached"), user("other"));
    users::insert(writer.write(), &cached).await.unwrap();
    users::insert(writer.write(), &other).await.unwrap();
    let (realm_id, cached_id) = (realm.id.clone(), cached.id.clone());
    let first_name = || {
        let (reader, realm, id) = (&reader, &realm_id, &cached_id);
        request_scope(async move {
            let user = users::find_by_id_cached(reader, realm, id).await.unwrap();
            user.unwrap().first_name
        })
    };
    assert_eq!(first_name().await, None);

    // Changed behind the caches, with the change log's triggers off for this session: only
    // a cache can still answer the old name.
    let behind = sqlx::PgPool::connect(&url).await.unwrap();
    let mut conn = behind.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE app_user SET first_name = 'behind' WHERE username = 'cached'")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    behind.close().await;

    users::insert(writer.write(), &user("new")).await.unwrap();
    assert_eq!(first_name().await, None, "a new row leaves it warm");
    other.first_name = Some("changed".into());
    users::update(writer.write(), &other).await.unwrap();
    assert_eq!(first_name().await, None, "so does a change to another row");
    cached.first_name = Some("written".into());
    users::update(writer.write(), &cached).await.unwrap();
    assert_eq!(
        first_name().await.as_deref(),
        Some("written"),
        "its own row's change is seen by the next request"
    );
}
