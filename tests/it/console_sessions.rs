//! Telling sign-ins apart: sessions and tokens record the address and user agent they were
//! made from (honouring `--proxy-headers`), the console shows them with the client, times to
//! the second and a short id, per user and realm-wide (paged, with revoke, under the
//! realm-management roles), and events show seconds. The Chromium walk through the same
//! pages is `tests/e2e/sessions.mjs`.

use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::Value;

use crate::chromium;
use crate::helpers::{basic, spawn_app, spawn_app_with, TestApp, ADMIN_PASSWORD, ADMIN_USER};

/// What a `docker login` of docker 28 sends as its user agent.
const DOCKER_AGENT: &str = "docker/28.2.2 go/go1.24.3 git-commit/e6534b4 kernel/6.1.0 \
    os/linux arch/amd64 UpstreamClient(Docker-Client/28.2.2 \\(linux\\))";

/// A browser of its own (cookie jar, no redirects) signed in to one realm's console.
pub struct Browser {
    client: reqwest::Client,
    address: String,
    root: String,
    csrf: String,
}

fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a form with a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

impl Browser {
    /// Signs `username` in to `realm`'s console.
    pub async fn signed_in(app: &TestApp, realm: &str, username: &str, password: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .user_agent("console-test/1.0")
            .build()
            .unwrap();
        let mut browser = Browser {
            client,
            address: app.address.clone(),
            root: format!("/admin/{realm}/console"),
            csrf: String::new(),
        };
        let (_, page) = browser.page("/signin").await;
        let response = browser
            .client
            .post(browser.url("/signin"))
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
        let (_, home) = browser.page("/").await;
        browser.csrf = csrf_of(&home);
        browser
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}{}", self.address, self.root, path)
    }

    /// GETs a console page: its status and HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// A docker identity token for `user` (a `docker login`), sent with `agent` and `headers`.
async fn docker_login(
    app: &TestApp,
    realm: &str,
    user: &str,
    agent: &str,
    headers: &[(&str, &str)],
) {
    let mut request = app
        .client
        .get(app.url(&format!(
            "/realms/{realm}/protocol/docker-v2/auth?service=registry&offline_token=true&client_id=docker"
        )))
        .header("Authorization", basic(user, "pw"))
        .header("User-Agent", agent);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "docker login of {user}");
}

/// A realm `team` with a docker client `registry` and a user `dev` (password `pw`).
async fn team(app: &TestApp) -> String {
    app.create_realm("team").await;
    app.create_docker_client("team", "registry").await;
    app.create_user("team", "dev", "pw").await
}

/// Whether `html` shows a UTC time to the second (`2026-11-30 22:20:05 UTC`).
fn has_seconds(html: &str) -> bool {
    html.split(" UTC").any(|before| {
        let tail: Vec<char> = before.chars().rev().take(19).collect();
        let text: String = tail.into_iter().rev().collect();
        text.len() == 19
            && text.chars().enumerate().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == ' ',
                13 | 16 => c == ':',
                _ => c.is_ascii_digit(),
            })
    })
}

/// The hidden values of `field` in the page's forms, in order.
fn hidden_values(html: &str, field: &str) -> Vec<String> {
    let marker = format!(r#"name="{field}" value=""#);
    html.split(&marker)
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_docker_login_shows_its_client_address_agent_seconds_and_short_id() {
    let app = spawn_app().await;
    let user = team(&app).await;
    docker_login(&app, "team", "dev", DOCKER_AGENT, &[]).await;
    let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;
    let (status, page) = admin.page(&format!("/team/users/{user}/sessions")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Docker identity token"), "{page}");
    assert!(page.contains(">registry<"), "the client: {page}");
    assert!(page.contains(">127.0.0.1<"), "the address: {page}");
    // askama escapes the agent's parentheses and backslashes as it should.
    assert!(
        page.contains("docker/28.2.2 go/go1.24.3"),
        "the agent: {page}"
    );
    assert!(has_seconds(&page), "times to the second: {page}");
    let token = &hidden_values(&page, "token")[0];
    let short = &token[..8];
    assert!(
        page.contains(&format!(r#"title="{token}">{short}</span>"#)),
        "a short id with the full one on hover: {page}"
    );
}

#[tokio::test]
async fn an_oidc_sign_in_records_the_agent_and_the_api_keeps_keycloaks_session_shape() {
    let app = spawn_app().await;
    let user = team(&app).await;
    let response = app
        .client
        .post(app.url("/realms/team/protocol/openid-connect/token"))
        .header("User-Agent", "python-keycloak/5.1")
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "dev"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let sessions: Value = app
        .admin(
            reqwest::Method::GET,
            &format!("/team/users/{user}/sessions"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let session = &sessions[0];
    assert_eq!(session["ipAddress"], "127.0.0.1", "{sessions}");
    assert_eq!(session["username"], "dev");
    assert!(session["start"].as_i64().unwrap() % 1000 == 0 && session["start"].as_i64() > Some(0));
    assert!(session["lastAccess"].as_i64() >= session["start"].as_i64());
    let clients: Vec<&Value> = session["clients"].as_object().unwrap().values().collect();
    assert_eq!(clients, [&Value::from("admin-cli")], "{sessions}");
    let keys: Vec<&String> = session.as_object().unwrap().keys().collect();
    assert!(
        !keys.iter().any(|k| k.as_str() == "userAgent"),
        "Keycloak's keys only: {keys:?}"
    );

    let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;
    let (_, page) = admin.page(&format!("/team/users/{user}/sessions")).await;
    assert!(page.contains("python-keycloak/5.1"), "{page}");
    assert!(page.contains(">admin-cli<"), "{page}");
    assert!(page.contains("Refresh token"), "{page}");
}

#[tokio::test]
async fn a_long_user_agent_is_stored_cut_to_256_characters() {
    let app = spawn_app().await;
    let user = team(&app).await;
    let agent = format!("{}{}", "a".repeat(256), "OVERFLOW".repeat(100));
    docker_login(&app, "team", "dev", &agent, &[]).await;
    let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;
    let (_, page) = admin.page(&format!("/team/users/{user}/sessions")).await;
    assert!(page.contains(&"a".repeat(256)), "{page}");
    assert!(!page.contains("OVERFLOW"), "the rest is dropped");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_recorded() {
    let app = spawn_app_with(|s| s.proxy_headers = true).await;
    let user = team(&app).await;
    let forwarded = [("X-Forwarded-For", "203.0.113.7")];
    docker_login(&app, "team", "dev", DOCKER_AGENT, &forwarded).await;
    let response = app
        .client
        .post(app.url("/realms/team/protocol/openid-connect/token"))
        .header("X-Forwarded-For", "198.51.100.9")
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "dev"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let sessions: Value = app
        .admin(
            reqwest::Method::GET,
            &format!("/team/users/{user}/sessions"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions[0]["ipAddress"], "198.51.100.9", "{sessions}");
    let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;
    let (_, page) = admin.page("/team/sessions?show=tokens").await;
    assert!(page.contains(">203.0.113.7<"), "{page}");
    assert!(page.contains(">198.51.100.9<"), "{page}");
}

#[tokio::test]
async fn without_proxy_headers_a_forwarded_address_is_ignored() {
    let app = spawn_app().await;
    team(&app).await;
    docker_login(
        &app,
        "team",
        "dev",
        DOCKER_AGENT,
        &[("X-Forwarded-For", "203.0.113.7")],
    )
    .await;
    let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;
    let (_, page) = admin.page("/team/sessions?show=tokens").await;
    assert!(!page.contains("203.0.113.7"), "{page}");
    assert!(page.contains(">127.0.0.1<"), "{page}");
}

#[tokio::test]
async fn the_realm_sessions_page_lists_everyone_paged_and_revokes() {
    let app = spawn_app().await;
    team(&app).await;
    app.create_user("team", "ops", "pw").await;
    for i in 0..26 {
        let user = if i % 2 == 0 { "dev" } else { "ops" };
        docker_login(&app, "team", user, &format!("docker/{i}"), &[]).await;
    }
    let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;

    let (status, realm_home) = admin.page("/team/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        realm_home.contains(r#"/team/sessions">Sessions</a>"#),
        "a sidebar link"
    );

    let (_, first) = admin.page("/team/sessions?show=tokens").await;
    assert_eq!(hidden_values(&first, "token").len(), 25, "a page of 25");
    assert!(
        first.contains(">dev</a>") && first.contains(">ops</a>"),
        "{first}"
    );
    assert!(
        first.contains("show=tokens&amp;page=2") || first.contains("show=tokens&#38;page=2"),
        "a next link: {first}"
    );
    let (_, second) = admin.page("/team/sessions?show=tokens&page=2").await;
    let last = hidden_values(&second, "token");
    assert_eq!(last.len(), 1);

    let user = hidden_values(&second, "user")[0].clone();
    let response = admin
        .post(
            "/team/sessions",
            &[
                ("action", "revoke-token"),
                ("user", &user),
                ("token", &last[0]),
                ("show", "tokens"),
                ("page", "2"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        back.ends_with("/team/sessions?show=tokens&page=2"),
        "{back}"
    );
    let (_, after) = admin.page("/team/sessions?show=tokens&page=2").await;
    assert!(after.contains("Token revoked."), "{after}");
    assert!(hidden_values(&after, "token").is_empty());

    let (_, sessions) = admin.page("/team/sessions").await;
    assert!(sessions.contains("No active session."), "{sessions}");
    let (_, master) = admin.page("/master/sessions").await;
    assert!(
        master.contains("this session") && master.contains("security-admin-console"),
        "{master}"
    );
    assert!(
        master.contains("console-test/1.0"),
        "the console's own agent: {master}"
    );
    let own = master
        .split("<tr>")
        .find(|row| row.contains("this session"))
        .expect("the console's own session is listed");
    let session = hidden_values(own, "session")[0].clone();
    let admin_id = hidden_values(own, "user")[0].clone();
    let response = admin
        .post(
            "/master/sessions",
            &[
                ("action", "end-session"),
                ("user", &admin_id),
                ("session", &session),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, _) = admin.page("/master/sessions").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "ending one's own session signs out"
    );
}

#[tokio::test]
async fn the_realm_sessions_page_honours_the_realm_management_roles() {
    let app = spawn_app().await;
    team(&app).await;
    app.create_realm("other").await;
    docker_login(&app, "team", "dev", DOCKER_AGENT, &[]).await;
    let viewer = app.create_user("team", "viewer", "pw").await;
    app.grant_management("team", &viewer, &["view-users"]).await;
    let manager = app.create_user("team", "manager", "pw").await;
    app.grant_management("team", &manager, &["manage-users", "view-users"])
        .await;
    let clients = app.create_user("team", "clients", "pw").await;
    app.grant_management("team", &clients, &["view-clients"])
        .await;

    let viewer = Browser::signed_in(&app, "team", "viewer", "pw").await;
    let (status, page) = viewer.page("/team/sessions?show=tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("docker/28.2.2"), "{page}");
    assert!(!page.contains(">Revoke<"), "no revoke without manage-users");
    let token = {
        let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;
        let (_, page) = admin.page("/team/sessions?show=tokens").await;
        (
            hidden_values(&page, "user")[0].clone(),
            hidden_values(&page, "token")[0].clone(),
        )
    };
    let revoke = [
        ("action", "revoke-token"),
        ("user", token.0.as_str()),
        ("token", token.1.as_str()),
    ];
    let refused = viewer.post("/team/sessions", &revoke).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (status, _) = viewer.page("/other/sessions").await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "another realm: {status}"
    );

    let outsider = Browser::signed_in(&app, "team", "clients", "pw").await;
    let (status, _) = outsider.page("/team/sessions").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "view-users is needed");
    let (_, clients_page) = outsider.page("/team/clients").await;
    assert!(
        !clients_page.contains("/team/sessions\""),
        "no link without view-users"
    );

    let manager = Browser::signed_in(&app, "team", "manager", "pw").await;
    let (_, page) = manager.page("/team/sessions?show=tokens").await;
    assert!(page.contains(">Revoke<"), "{page}");
    let done = manager.post("/team/sessions", &revoke).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, page) = manager.page("/team/sessions?show=tokens").await;
    assert!(
        page.contains("Token revoked.") && page.contains("No live token"),
        "{page}"
    );
    let forged = manager
        .client
        .post(manager.url("/team/sessions"))
        .form(&revoke)
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token, no change"
    );
}

#[tokio::test]
async fn login_and_admin_events_show_seconds() {
    let app = spawn_app().await;
    team(&app).await;
    app.enable_events("team").await;
    docker_login(&app, "team", "dev", DOCKER_AGENT, &[]).await;
    app.create_user("team", "later", "pw").await;
    let admin = Browser::signed_in(&app, "master", ADMIN_USER, ADMIN_PASSWORD).await;
    let (_, logins) = admin.page("/team/events").await;
    assert!(logins.contains("LOGIN") && has_seconds(&logins), "{logins}");
    let (_, changes) = admin.page("/team/events/admin").await;
    assert!(
        changes.contains("CREATE") && has_seconds(&changes),
        "{changes}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_pages_in_chromium_tell_docker_logins_apart() {
    let app = spawn_app().await;
    team(&app).await;
    docker_login(&app, "team", "dev", DOCKER_AGENT, &[]).await;
    docker_login(&app, "team", "dev", "skopeo/1.13.3", &[]).await;
    let artifacts = chromium::artifacts_dir("sessions");
    chromium::run_script("sessions.mjs", &app.address, &artifacts, &[]).await;
}
