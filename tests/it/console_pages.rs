//! The console's pages and rough edges of issue 13 (section 5), over HTTP: group role
//! mappings (console and admin API, down to members' tokens), the event settings, durations
//! typed as `5m`, the warning before an admin removes their own rights, names that differ
//! only by case, the team admin's sign-in address and landing, the HTML 404, and the
//! Security defenses text checked against what the server counts.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    basic, csrf_of, jwt_payload, location_id, spawn_app, TestApp, ADMIN_PASSWORD, ADMIN_USER,
};

/// A browser of its own (cookie jar, no redirects) signed in to one realm's console.
struct Browser {
    client: reqwest::Client,
    address: String,
    root: String,
    csrf: String,
}

impl Browser {
    fn new(app: &TestApp, realm: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
            address: app.address.clone(),
            root: format!("/admin/{realm}/console"),
            csrf: String::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}{}", self.address, self.root, path)
    }

    /// Signs in; answers where the sign-in led.
    async fn sign_in(&mut self, username: &str, password: &str) -> String {
        let page = self.get("/signin").await.text().await.unwrap();
        let response = self
            .client
            .post(self.url("/signin"))
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
        let landed = location(&response);
        let home = self.get("/").await;
        assert_eq!(home.status(), StatusCode::OK);
        self.csrf = csrf_of(&home.text().await.unwrap());
        landed
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
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

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

async fn master_admin(app: &TestApp) -> Browser {
    let mut browser = Browser::new(app, "master");
    browser.sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
    browser
}

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.admin(Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

/// The internal id of a client of `realm` by clientId.
async fn client_uuid(app: &TestApp, realm: &str, client_id: &str) -> String {
    let clients = json_of(app, &format!("/{realm}/clients?clientId={client_id}")).await;
    clients[0]["id"].as_str().unwrap().to_owned()
}

/// Creates a realm role; answers its id.
async fn create_role(app: &TestApp, realm: &str, name: &str) -> String {
    let response = app
        .admin(
            Method::POST,
            &format!("/{realm}/roles"),
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(app, &format!("/{realm}/roles/{name}")).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create_group(app: &TestApp, realm: &str, name: &str) -> String {
    let response = app
        .admin(
            Method::POST,
            &format!("/{realm}/groups"),
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "group {name}");
    location_id(&response)
}

async fn join(app: &TestApp, realm: &str, user: &str, group: &str) {
    let response = app
        .admin(
            Method::PUT,
            &format!("/{realm}/users/{user}/groups/{group}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

fn names(roles: &Value) -> Vec<String> {
    let mut names: Vec<String> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn unknown_console_paths_answer_the_console_s_html_404() {
    let app = spawn_app().await;
    for path in [
        "/admin/master/console/no-such-page",
        "/admin/master/console/master/no/such/page",
        "/auth/admin/master/console/nothing-here",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        assert!(response.headers().contains_key("content-security-policy"));
        let html = response.text().await.unwrap();
        assert!(html.contains("<h1>Not found</h1>"), "{html}");
        assert!(html.contains("Back to the console"));
    }
    let api = app.get("/admin/realms-nothing").await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert!(api.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn failures_at_docker_and_oidc_count_towards_the_console_s_lock_as_the_page_says() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_docker_client("team", "registry").await;
    let lead = app.create_user("team", "lead", "lead-password").await;
    app.grant_management("team", &lead, &["realm-admin"]).await;
    let response = app
        .admin(
            Method::PUT,
            "/team",
            Some(
                json!({"bruteForceProtected": true, "permanentLockout": true,
                        "failureFactor": 2}),
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let admin = master_admin(&app).await;
    let (status, html) = admin.page("/team/settings/security").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("OIDC sign-in page and password grant"),
        "{html}"
    );
    assert!(html.contains("docker login"));

    let oidc = app
        .client
        .post(app.url("/realms/team/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "lead"),
            ("password", "wrong-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(oidc.status(), StatusCode::BAD_REQUEST, "invalid_grant");
    let docker =
        app.client
            .get(app.url(
                "/realms/team/protocol/docker-v2/auth?service=registry&scope=repository:a/b:pull",
            ))
            .header("Authorization", basic("lead", "wrong-2"))
            .send()
            .await
            .unwrap();
    assert_eq!(docker.status(), StatusCode::UNAUTHORIZED);

    let mut browser = Browser::new(&app, "team");
    let page = browser.get("/signin").await.text().await.unwrap();
    let response = browser
        .client
        .post(browser.url("/signin"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("username", "lead"),
            ("password", "lead-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "two failures elsewhere lock the console sign-in too"
    );
    browser.csrf.clear();
}

#[tokio::test]
async fn group_role_mappings_are_set_in_the_console_and_reach_members_tokens() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let deployer = create_role(&app, "team", "deployer").await;
    let group = create_group(&app, "team", "ops").await;
    let member = app.create_user("team", "dev", "dev-password").await;
    join(&app, "team", &member, &group).await;
    let management = client_uuid(&app, "team", "realm-management").await;
    let admin = master_admin(&app).await;

    let (status, html) = admin.page(&format!("/team/groups/{group}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("/team/groups/{group}/roles")));
    let (status, html) = admin.page(&format!("/team/groups/{group}/roles")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"value="realm/{deployer}""#)),
        "{html}"
    );
    assert!(html.contains("Client roles of realm-management"));

    let refused = admin
        .client
        .post(admin.url(&format!("/team/groups/{group}/roles")))
        .form(&[("action", "add"), ("role", &format!("realm/{deployer}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "no CSRF token");

    let view_users_id = json_of(
        &app,
        &format!("/team/clients/{management}/roles/view-users"),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = admin
        .post(
            &format!("/team/groups/{group}/roles"),
            &[
                ("action", "add"),
                ("role", &format!("realm/{deployer}")),
                ("role", &format!("{management}/{view_users_id}")),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let realm = json_of(&app, &format!("/team/groups/{group}/role-mappings/realm")).await;
    assert_eq!(names(&realm), ["deployer"]);
    let client = json_of(
        &app,
        &format!("/team/groups/{group}/role-mappings/clients/{management}"),
    )
    .await;
    assert_eq!(names(&client), ["view-users"]);
    let all = json_of(&app, &format!("/team/groups/{group}/role-mappings")).await;
    assert_eq!(names(&all["realmMappings"]), ["deployer"]);
    let mapped = &all["clientMappings"]["realm-management"];
    assert_eq!(mapped["client"], "realm-management");
    assert_eq!(mapped["id"], management.as_str());
    assert_eq!(names(&mapped["mappings"]), ["view-users"]);

    let token = app
        .password_token("team", "admin-cli", "dev", "dev-password")
        .await;
    let claims = jwt_payload(&token);
    let realm_roles = claims["realm_access"]["roles"].as_array().unwrap();
    assert!(realm_roles.contains(&json!("deployer")), "{claims}");
    let held = json_of(
        &app,
        &format!("/team/users/{member}/role-mappings/realm/composite"),
    )
    .await;
    assert!(names(&held).contains(&"deployer".to_owned()));

    let response = admin
        .post(
            &format!("/team/groups/{group}/roles"),
            &[("action", "remove"), ("role", &format!("realm/{deployer}"))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let realm = json_of(&app, &format!("/team/groups/{group}/role-mappings/realm")).await;
    assert_eq!(names(&realm), Vec::<String>::new());
    let token = app
        .password_token("team", "admin-cli", "dev", "dev-password")
        .await;
    let claims = jwt_payload(&token);
    assert!(!claims["realm_access"]["roles"]
        .as_array()
        .unwrap()
        .contains(&json!("deployer")));
}

#[tokio::test]
async fn the_group_role_mapping_api_answers_as_keycloak_s() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    create_role(&app, "team", "deployer").await;
    let group = create_group(&app, "team", "ops").await;
    let base = format!("/team/groups/{group}/role-mappings");
    let empty = json_of(&app, &base).await;
    assert_eq!(empty, json!({}), "Keycloak leaves out empty parts");
    let response = app
        .admin(
            Method::POST,
            &format!("{base}/realm"),
            Some(json!([{"name": "deployer"}])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let effective = json_of(&app, &format!("{base}/realm/composite")).await;
    assert!(names(&effective).contains(&"deployer".to_owned()));
    let available = json_of(&app, &format!("{base}/realm/available")).await;
    assert!(!names(&available).contains(&"deployer".to_owned()));
    let missing = app
        .admin(
            Method::GET,
            "/team/groups/00000000-0000-0000-0000-000000000000/role-mappings",
            None,
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let response = app
        .admin(
            Method::DELETE,
            &format!("{base}/realm"),
            Some(json!([{"name": "deployer"}])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(json_of(&app, &base).await, json!({}));
}

#[tokio::test]
async fn a_realm_admin_cannot_give_a_group_more_than_they_hold() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let lead = app.create_user("team", "lead", "lead-password").await;
    app.grant_management("team", &lead, &["manage-users", "view-users"])
        .await;
    let group = create_group(&app, "team", "ops").await;
    let management = client_uuid(&app, "team", "realm-management").await;
    let realm_admin = json_of(
        &app,
        &format!("/team/clients/{management}/roles/realm-admin"),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browser = Browser::new(&app, "team");
    browser.sign_in("lead", "lead-password").await;
    let (status, html) = browser.page(&format!("/team/groups/{group}/roles")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains(&format!(r#"value="{management}/{realm_admin}""#)),
        "realm-admin is not offered to a manage-users holder"
    );
    let response = browser
        .post(
            &format!("/team/groups/{group}/roles"),
            &[
                ("action", "add"),
                ("role", &format!("{management}/{realm_admin}")),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mapped = json_of(&app, &format!("/team/groups/{group}/role-mappings")).await;
    assert_eq!(mapped, json!({}));
    app.create_realm("other").await;
    let elsewhere = create_group(&app, "other", "ops").await;
    let response = browser
        .get(&format!("/other/groups/{elsewhere}/roles"))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn durations_are_typed_with_units_shown_back_and_refused_by_label() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let admin = master_admin(&app).await;
    let response = admin
        .post(
            "/team/settings/tokens",
            &[
                ("access_token_lifespan", "5m"),
                ("sso_session_idle_timeout", "1h"),
                ("sso_session_max_lifespan", "2d"),
                ("offline_session_idle_timeout", "2592000"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let realm = json_of(&app, "/team").await;
    assert_eq!(realm["accessTokenLifespan"], 300);
    assert_eq!(realm["ssoSessionIdleTimeout"], 3600);
    assert_eq!(realm["ssoSessionMaxLifespan"], 172_800);
    assert_eq!(realm["offlineSessionIdleTimeout"], 2_592_000);
    let (_, html) = admin.page("/team/settings/tokens").await;
    for shown in [
        r#"value="5m""#,
        r#"value="1h""#,
        r#"value="2d""#,
        r#"value="30d""#,
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    assert!(html.contains("Access token lifespan"));

    let response = admin
        .post(
            "/team/settings/tokens",
            &[
                ("access_token_lifespan", "5x"),
                ("sso_session_idle_timeout", "0"),
                ("sso_session_max_lifespan", "2d"),
                ("offline_session_idle_timeout", "30d"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Access token lifespan: enter a duration such as 30s, 5m, 1h or 2d"),
        "{html}"
    );
    assert!(html.contains(r#"value="5x""#), "what was typed is kept");

    let response = admin
        .post(
            "/team/settings/tokens",
            &[
                ("access_token_lifespan", "5m"),
                ("sso_session_idle_timeout", "0"),
                ("sso_session_max_lifespan", "2d"),
                ("offline_session_idle_timeout", "30d"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("SSO session idle must be a positive number of seconds"),
        "the refusal names the field as the form does: {html}"
    );
    assert!(!html.contains("ssoSessionIdleTimeout"));
    assert_eq!(json_of(&app, "/team").await["ssoSessionIdleTimeout"], 3600);

    let response = admin
        .post(
            "/team/settings/security",
            &[
                ("brute_force_protected", "on"),
                ("failure_factor", "5"),
                ("wait_increment_seconds", "1m"),
                ("max_failure_wait_seconds", "15m"),
                ("quick_login_check_milli_seconds", "1000"),
                ("minimum_quick_login_wait_seconds", "1m"),
                ("max_delta_time_seconds", "12h"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let realm = json_of(&app, "/team").await;
    assert_eq!(realm["maxFailureWaitSeconds"], 900);
    assert_eq!(realm["maxDeltaTimeSeconds"], 43_200);
}

#[tokio::test]
async fn the_event_settings_page_sets_types_expiration_and_admin_events() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let admin = master_admin(&app).await;
    let (status, html) = admin.page("/team/settings/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"value="CLIENT_LOGIN""#));
    let response = admin
        .post(
            "/team/settings/events",
            &[
                ("events_enabled", "on"),
                ("events_expiration", "2d"),
                ("enabled_event_types", "LOGIN"),
                ("enabled_event_types", "LOGIN_ERROR"),
                ("admin_events_enabled", "on"),
                ("admin_events_details_enabled", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let config = json_of(&app, "/team/events/config").await;
    assert_eq!(config["eventsEnabled"], true);
    assert_eq!(config["eventsExpiration"], 172_800);
    assert_eq!(config["enabledEventTypes"], json!(["LOGIN", "LOGIN_ERROR"]));
    assert_eq!(config["adminEventsEnabled"], true);
    assert_eq!(config["adminEventsDetailsEnabled"], true);
    let (_, html) = admin.page("/team/settings/events").await;
    assert!(html.contains(r#"value="2d""#));
    assert!(html.contains(r#"value="LOGIN_ERROR" checked"#));
    assert!(!html.contains(r#"value="CLIENT_LOGIN" checked"#));

    let response = admin
        .post(
            "/team/settings/events",
            &[("events_enabled", "on"), ("events_expiration", "1h")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("tick at least one type"));
    assert_eq!(
        json_of(&app, "/team/events/config").await["eventsExpiration"],
        172_800
    );

    let viewer = app.create_user("team", "viewer", "viewer-password").await;
    app.grant_management("team", &viewer, &["view-events"])
        .await;
    let mut browser = Browser::new(&app, "team");
    browser.sign_in("viewer", "viewer-password").await;
    let (status, html) = browser.page("/team/settings/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("needs the manage-events role"));
    let response = browser
        .post(
            "/team/settings/events",
            &[("events_enabled", "on"), ("events_expiration", "0")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn removing_your_own_admin_role_asks_first() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let lead = app.create_user("team", "lead", "lead-password").await;
    app.grant_management("team", &lead, &["realm-admin"]).await;
    let other = app.create_user("team", "other", "other-password").await;
    app.grant_management("team", &other, &["view-users"]).await;
    let mut browser = Browser::new(&app, "team");
    browser.sign_in("lead", "lead-password").await;

    let response = browser
        .post(
            &format!("/team/users/{other}/roles"),
            &[
                ("kind", "client"),
                ("action", "remove"),
                ("role", "view-users"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "someone else's role goes without a question"
    );

    let fields = [
        ("kind", "client"),
        ("action", "remove"),
        ("role", "realm-admin"),
    ];
    let response = browser
        .post(&format!("/team/users/{lead}/roles"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(html.contains("Remove your own admin rights?"), "{html}");
    assert!(html.contains(r#"name="confirm_own" value="1""#));
    assert!(html.contains(r#"name="role" value="realm-admin""#));
    let management = client_uuid(&app, "team", "realm-management").await;
    let held = json_of(
        &app,
        &format!("/team/users/{lead}/role-mappings/clients/{management}"),
    )
    .await;
    assert_eq!(
        names(&held),
        ["realm-admin"],
        "nothing changed before the answer"
    );

    let group = create_group(&app, "team", "admins").await;
    let response = app
        .admin(
            Method::POST,
            &format!("/team/groups/{group}/role-mappings/clients/{management}"),
            Some(json!([{"name": "manage-users"}])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    join(&app, "team", &lead, &group).await;
    let response = browser
        .post(
            &format!("/team/groups/{group}"),
            &[("action", "remove-member"), ("user", &lead)],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "realm-admin still carries manage-users: nothing is lost"
    );

    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm_own", "1"));
    let response = browser
        .post(&format!("/team/users/{lead}/roles"), &confirmed)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let held = json_of(
        &app,
        &format!("/team/users/{lead}/role-mappings/clients/{management}"),
    )
    .await;
    assert_eq!(names(&held), Vec::<String>::new());

    let response = app
        .admin(
            Method::DELETE,
            &format!("/team/users/{other}/role-mappings/clients/{management}"),
            Some(json!([{"name": "view-users"}])),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "the API never asks"
    );
}

#[tokio::test]
async fn removing_yourself_from_the_group_that_makes_you_admin_asks_first() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let lead = app.create_user("team", "lead", "lead-password").await;
    let group = create_group(&app, "team", "admins").await;
    let management = client_uuid(&app, "team", "realm-management").await;
    let response = app
        .admin(
            Method::POST,
            &format!("/team/groups/{group}/role-mappings/clients/{management}"),
            Some(json!([{"name": "realm-admin"}])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    join(&app, "team", &lead, &group).await;
    let mut browser = Browser::new(&app, "team");
    browser.sign_in("lead", "lead-password").await;
    let response = browser
        .post(
            &format!("/team/groups/{group}"),
            &[("action", "remove-member"), ("user", &lead)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let members = json_of(&app, &format!("/team/groups/{group}/members")).await;
    assert_eq!(members.as_array().unwrap().len(), 1);
    let realm_admin = json_of(
        &app,
        &format!("/team/clients/{management}/roles/realm-admin"),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = browser
        .post(
            &format!("/team/groups/{group}/roles"),
            &[
                ("action", "remove"),
                ("role", &format!("{management}/{realm_admin}")),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "unmapping the group's admin role asks too"
    );
}

#[tokio::test]
async fn names_that_differ_only_by_case_are_distinct_as_in_keycloak_after_a_warning() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let admin = master_admin(&app).await;
    let fields = [("name", "TEAM-A"), ("enabled", "on")];
    let response = admin.post("/new-realm", &fields).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("There is already a realm named team-a"),
        "{html}"
    );
    assert!(html.contains(r#"name="confirm_case" value="1""#));
    assert_eq!(
        app.get("/realms/TEAM-A").await.status(),
        StatusCode::NOT_FOUND
    );
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm_case", "1"));
    let response = admin.post("/new-realm", &confirmed).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/realms/TEAM-A").await.status(), StatusCode::OK);
    assert_eq!(app.get("/realms/team-a").await.status(), StatusCode::OK);

    create_group(&app, "team-a", "ops").await;
    let response = admin.post("/team-a/groups", &[("name", "OPS")]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    create_role(&app, "team-a", "deployer").await;
    let response = admin
        .post(
            "/team-a/roles",
            &[("name", "Deployer"), ("description", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    app.create_docker_client("team-a", "registry").await;
    let response = admin
        .post(
            "/team-a/clients/new",
            &[("client_id", "Registry"), ("protocol", "docker-v2")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = app
        .admin(
            Method::POST,
            "/team-a/roles",
            Some(json!({"name": "DEPLOYER"})),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "role names are case-sensitive in Keycloak"
    );

    app.create_user("team-a", "alice", "pw").await;
    let response = app
        .admin(
            Method::POST,
            "/team-a/users",
            Some(json!({"username": "Alice", "enabled": true})),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "usernames are lowercased, as in Keycloak"
    );
}

#[tokio::test]
async fn a_team_admin_finds_their_sign_in_address_and_lands_on_their_realm() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let admin = master_admin(&app).await;
    let (status, html) = admin.page("/team/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"value="{}/admin/team/console/""#, app.address)),
        "{html}"
    );

    let signin = app.get("/admin/master/console/signin").await;
    assert!(signin.text().await.unwrap().contains("Your realm"));
    let response = app
        .get("/admin/master/console/signin/realm?realm=team")
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/team/console/");
    let response = app
        .get("/admin/master/console/signin/realm?realm=..%2Fx")
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let lead = app.create_user("team", "lead", "lead-password").await;
    app.grant_management("team", &lead, &["manage-users", "view-users"])
        .await;
    let mut browser = Browser::new(&app, "team");
    let landed = browser.sign_in("lead", "lead-password").await;
    assert_eq!(landed, "/admin/team/console/team/");
    let response = browser.get("/team/").await;
    assert_eq!(location(&response), "/admin/team/console/team/users");

    let mut master = Browser::new(&app, "master");
    let landed = master.sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(
        landed, "/admin/master/console/",
        "master admins see the realm list"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_in_chromium_at_1440_and_390_px() {
    let app = spawn_app().await;
    let artifacts = crate::chromium::artifacts_dir("pages");
    crate::chromium::run_script("pages.mjs", &app.address, &artifacts, &[]).await;
    for shot in ["07-group-roles-390.png", "10-not-found-1440.png"] {
        assert!(artifacts.join(shot).exists(), "{shot}");
    }
}

#[tokio::test]
async fn partial_import_adds_skips_or_overwrites_as_keycloak_s() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    create_role(&app, "team", "deployer").await;
    let file = |policy: &str| {
        json!({
            "ifResourceExists": policy,
            "roles": {"realm": [{"name": "deployer", "description": "ships"},
                                {"name": "reader"}]},
            "groups": [{"name": "ops"}],
            "clients": [{"clientId": "registry", "protocol": "docker-v2"}],
            "users": [{"username": "Dev", "enabled": true}],
        })
    };
    let response = app
        .admin(Method::POST, "/team/partialImport", Some(file("FAIL")))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Realm role 'deployer' already exists"),
        "{body}"
    );
    let missing = app.admin(Method::GET, "/team/roles/reader", None).await;
    assert_eq!(
        missing.status(),
        StatusCode::NOT_FOUND,
        "FAIL imports nothing"
    );

    let response = app
        .admin(Method::POST, "/team/partialImport", Some(file("SKIP")))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let results: Value = response.json().await.unwrap();
    assert_eq!(results["added"], 4, "{results}");
    assert_eq!(results["skipped"], 1);
    assert_eq!(results["overwritten"], 0);
    let dev = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceType"] == "USER")
        .unwrap();
    assert_eq!(dev["resourceName"], "dev");
    assert_eq!(dev["action"], "ADDED");
    assert_eq!(
        json_of(&app, "/team/roles/deployer").await["description"],
        Value::Null
    );

    let response = app
        .admin(Method::POST, "/team/partialImport", Some(file("OVERWRITE")))
        .await;
    let results: Value = response.json().await.unwrap();
    assert_eq!(results["overwritten"], 5, "{results}");
    assert_eq!(
        json_of(&app, "/team/roles/deployer").await["description"],
        "ships"
    );

    let response = app
        .admin(
            Method::POST,
            "/team/partialImport",
            Some(json!({"ifResourceExists": "SOMETIMES"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let (_, token) = app
        .realm_admin("team", "helper", &["manage-users", "view-users"])
        .await;
    let response = app
        .client
        .post(app.url("/admin/realms/team/partialImport"))
        .bearer_auth(token)
        .json(&json!({"clients": [{"clientId": "sneaky"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a realm admin imports only what they could create"
    );
}

#[tokio::test]
async fn the_console_exports_and_imports_part_of_a_realm() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    create_role(&app, "team", "deployer").await;
    let admin = master_admin(&app).await;
    let (status, html) = admin.page("/team/settings/transfer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Partial import"));

    let response = admin
        .post(
            "/team/settings/transfer/export",
            &[("export_groups_and_roles", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("realm-export.json"));
    let exported: Value = response.json().await.unwrap();
    assert_eq!(exported["realm"], "team");
    assert!(names(&exported["roles"]["realm"]).contains(&"deployer".to_owned()));
    assert!(exported.get("users").is_none());

    let file = json!({"roles": {"realm": [{"name": "deployer"}, {"name": "pusher"}]},
                      "groups": [{"name": "ops"}]})
    .to_string();
    let response = admin
        .post(
            "/team/settings/transfer/import",
            &[("json", &file), ("if_resource_exists", "FAIL")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("deployer&#39; already exists")
            || html.contains("deployer&#x27; already exists"),
        "{html}"
    );
    let response = admin
        .post(
            "/team/settings/transfer/import",
            &[("json", &file), ("if_resource_exists", "SKIP")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("2 added, 1 skipped, 0 overwritten"), "{html}");
    assert_eq!(
        app.admin(Method::GET, "/team/roles/pusher", None)
            .await
            .status(),
        200
    );

    let response = admin
        .post(
            "/team/settings/transfer/import",
            &[("json", "{\"roles\": 5}")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("line 1, column"));
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(1024 * 1024 + 1));
    let response = admin
        .post("/team/settings/transfer/import", &[("json", &big)])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("larger than 1024 KiB"));
    let refused = admin
        .client
        .post(admin.url("/team/settings/transfer/import"))
        .form(&[("json", &file)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "no CSRF token");
}
