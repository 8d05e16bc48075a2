//! The admin console, handler by handler: sign-in and sessions, CSRF, security headers,
//! permissions (a team realm's admin sees nothing else, however the URL is guessed), and
//! every form's validation, kept input and success.

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{basic, spawn_app, TestApp, ADMIN_PASSWORD, ADMIN_USER};

/// A browser of its own (cookie jar, no redirects) signed in to one realm's console.
pub(crate) struct Browser {
    pub(crate) client: reqwest::Client,
    address: String,
    /// `/admin/{realm}/console`
    root: String,
    csrf: String,
}

fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a form with a CSRF field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .expect("closing quote")
        .to_owned()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .expect("Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

impl Browser {
    pub(crate) fn new(app: &TestApp, realm: &str) -> Browser {
        Browser {
            client: browser_client(),
            address: app.address.clone(),
            root: format!("/admin/{realm}/console"),
            csrf: String::new(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}{}", self.address, self.root, path)
    }

    /// Submits the sign-in form; returns the answer.
    async fn try_sign_in(&mut self, username: &str, password: &str) -> reqwest::Response {
        let page = self.get("/signin").await;
        let csrf = csrf_of(&page.text().await.unwrap());
        self.client
            .post(self.url("/signin"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs in and remembers the session's CSRF token.
    pub(crate) async fn sign_in(&mut self, username: &str, password: &str) {
        let response = self.try_sign_in(username, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
        let home = self.get("/").await;
        assert_eq!(home.status(), StatusCode::OK);
        self.csrf = csrf_of(&home.text().await.unwrap());
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub(crate) async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a form with the session's CSRF token.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Posts and follows the redirect to the page with its banner.
    pub(crate) async fn post_and_follow(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let response = self.post(path, fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "POST {path}");
        let next = location(&response);
        let page = self
            .client
            .get(format!("{}{next}", self.address))
            .send()
            .await
            .unwrap();
        page.text().await.unwrap()
    }
}

pub(crate) async fn master_admin(app: &TestApp) -> Browser {
    let mut browser = Browser::new(app, "master");
    browser.sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
    browser
}

/// A realm whose user `lead` holds the `realm-management` role `role`, granted through the
/// master console's role mapping tab; returns the user's id.
pub(crate) async fn team_realm_with(
    app: &TestApp,
    admin: &Browser,
    realm: &str,
    role: &str,
) -> String {
    app.create_realm(realm).await;
    let id = app.create_user(realm, "lead", "lead-password").await;
    let response = admin
        .post(
            &format!("/{realm}/users/{id}/roles"),
            &[("kind", "client"), ("action", "add"), ("role", role)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    id
}

#[tokio::test]
async fn the_root_and_admin_lead_to_the_master_console_in_both_layouts() {
    let app = spawn_app().await;
    for (path, target) in [
        ("/", "/admin/master/console/"),
        ("/admin/", "/admin/master/console/"),
        ("/auth/", "/auth/admin/master/console/"),
        ("/admin/master/console", "/admin/master/console/"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), target, "{path}");
    }
    let response = app.get("/auth/admin/master/console/").await;
    assert_eq!(
        location(&response),
        "/auth/admin/master/console/signin?next=%2Fauth%2Fadmin%2Fmaster%2Fconsole%2F"
    );
}

#[tokio::test]
async fn console_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/admin/master/console/signin").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(
        !html.contains("<style") && !html.contains(" style="),
        "no inline styles"
    );
    let css = html
        .split('"')
        .find(|s| s.ends_with("/console.css"))
        .expect("a stylesheet link");
    let asset = app.get(css).await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
    assert!(asset.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
}

#[tokio::test]
async fn signing_in_issues_a_new_http_only_lax_session_cookie() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app, "master");
    let planted = "KEYWARDEN_CONSOLE=planted-by-an-attacker; Path=/admin/master/console";
    browser
        .client
        .get(browser.url("/signin"))
        .header(COOKIE, planted)
        .send()
        .await
        .unwrap();
    let response = browser.try_sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/master/console/");
    let cookies = set_cookies(response.headers());
    let session = cookies
        .iter()
        .find(|c| c.starts_with("KEYWARDEN_CONSOLE="))
        .expect("a session cookie");
    assert!(!session.contains("planted"), "{session}");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/admin/master/console"), "{session}");
    assert!(!session.contains("Secure"), "plain http: {session}");
}

#[tokio::test]
async fn pages_need_a_sign_in_and_return_to_the_page_asked_for() {
    let app = spawn_app().await;
    let browser = Browser::new(&app, "master");
    let response = browser.get("/master/users?q=adm").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let signin = location(&response);
    assert_eq!(
        signin,
        "/admin/master/console/signin?next=%2Fadmin%2Fmaster%2Fconsole%2Fmaster%2Fusers%3Fq%3Dadm"
    );
    let page = browser
        .client
        .get(format!("{}{signin}", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let response = browser
        .client
        .post(browser.url("/signin"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
            ("next", "/admin/master/console/master/users?q=adm"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&response),
        "/admin/master/console/master/users?q=adm"
    );
    let (status, html) = browser.page("/master/users?q=adm").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(">admin</a>"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_like_an_unknown_user_and_recorded() {
    let app = spawn_app().await;
    app.enable_events("master").await;
    let mut browser = Browser::new(&app, "master");
    let wrong = browser.try_sign_in(ADMIN_USER, "wrong").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = browser.try_sign_in("nobody", "wrong").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains("Invalid username or password."));
    assert!(unknown.contains("Invalid username or password."));
    assert!(wrong.contains(r#"value="admin""#), "the username is kept");

    let admin = master_admin(&app).await;
    let (_, events) = admin.page("/master/events?type=LOGIN_ERROR").await;
    assert!(events.contains("invalid_user_credentials"), "{events}");
    assert!(events.contains("user_not_found"), "{events}");
    assert!(events.contains("security-admin-console"));
    let (_, mine) = admin.page("/master/events?type=LOGIN&user=admin").await;
    assert!(
        mine.contains(r#"<span class="badge ok">LOGIN</span>"#),
        "{mine}"
    );
    assert!(!mine.contains("invalid_user_credentials"), "{mine}");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    let signin = Browser::new(&app, "master");
    let response = signin
        .client
        .post(signin.url("/signin"))
        .form(&[("username", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = admin
        .client
        .post(admin.url("/new-realm"))
        .form(&[("name", "sneaky"), ("enabled", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = admin
        .client
        .post(admin.url("/new-realm"))
        .form(&[("csrf", "forged"), ("name", "sneaky"), ("enabled", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = admin
        .client
        .post(admin.url("/new-realm"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf", admin.csrf.as_str()), ("name", "sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("Form refused"));
    let (status, _) = admin.page("/sneaky/settings").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no realm was created");
}

#[tokio::test]
async fn repeated_failures_lock_the_username_until_an_admin_unlocks_it() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.enable_events("team").await;
    let id = app.create_user("team", "dev", "dev-password").await;
    let response = app
        .admin(
            reqwest::Method::PUT,
            "/team",
            Some(json!({"bruteForceProtected": true, "failureFactor": 2,
                        "waitIncrementSeconds": 600, "maxFailureWaitSeconds": 900})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let admin = master_admin(&app).await;
    let team = format!("/team/users/{id}/roles");
    admin
        .post(
            &team,
            &[
                ("kind", "client"),
                ("action", "add"),
                ("role", "view-users"),
            ],
        )
        .await;

    let mut browser = Browser::new(&app, "team");
    for _ in 0..2 {
        let response = browser.try_sign_in("dev", "wrong").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = browser.try_sign_in("dev", "dev-password").await;
    assert_eq!(locked.status(), StatusCode::UNAUTHORIZED, "locked out");

    let (_, details) = admin.page(&format!("/team/users/{id}")).await;
    assert!(details.contains("Temporarily locked after 2 failed sign-ins"));
    let page = admin
        .post_and_follow(&format!("/team/users/{id}/unlock"), &[])
        .await;
    assert!(page.contains("Failed sign-ins cleared"));
    let response = browser.try_sign_in("dev", "dev-password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, events) = admin.page("/team/events?type=LOGIN_ERROR").await;
    assert!(events.contains("user_temporarily_disabled"), "{events}");
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    let response = admin.post("/signout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/admin/master/console/signin?signed_out=1"
    );
    let cookies = set_cookies(response.headers());
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("KEYWARDEN_CONSOLE=;") && c.contains("Max-Age=0")));
    let (status, _) = admin.page("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_idle_session_ends_after_the_realm_idle_timeout() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    team_realm_with(&app, &admin, "team", "realm-admin").await;
    let response = app
        .admin(
            reqwest::Method::PUT,
            "/team",
            Some(json!({"ssoSessionIdleTimeout": 1})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let mut lead = Browser::new(&app, "team");
    lead.sign_in("lead", "lead-password").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = lead.get("/team/users").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/admin/team/console/signin"));
}

#[tokio::test]
async fn a_team_admin_sees_and_changes_only_their_realm() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    team_realm_with(&app, &admin, "team-a", "realm-admin").await;
    app.create_realm("team-b").await;
    let victim = app.create_user("team-b", "victim", "pw").await;

    let mut lead = Browser::new(&app, "team-a");
    lead.sign_in("lead", "lead-password").await;
    let (status, home) = lead.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("/admin/team-a/console/team-a/"));
    assert!(
        !home.contains("team-b") && !home.contains("/master/"),
        "{home}"
    );
    assert_eq!(lead.page("/team-a/users").await.0, StatusCode::OK);
    for guessed in [
        "/master/users",
        "/team-b/users",
        "/team-b/settings",
        &format!("/team-b/users/{victim}"),
        "/no-such-realm/users",
        "/new-realm",
    ] {
        assert_eq!(
            lead.page(guessed).await.0,
            StatusCode::FORBIDDEN,
            "{guessed}"
        );
    }
    let response = lead
        .post(
            "/team-b/users/new",
            &[("username", "mole"), ("enabled", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = lead
        .post(&format!("/team-b/users/{victim}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = lead
        .post("/team-a/settings/delete", &[("confirm_name", "team-a")])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "only master admins delete realms"
    );

    let mut stranger = Browser::new(&app, "master");
    let response = stranger.try_sign_in("lead", "lead-password").await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "not a master user"
    );
}

#[tokio::test]
async fn in_master_the_role_mapping_tab_hands_out_master_realm_roles() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    let id = app.create_user("master", "helper", "helper-password").await;
    let (status, html) = admin.page(&format!("/master/users/{id}/roles")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Realm administration (master-realm)"));
    assert!(html.contains(r#"value="impersonation""#));
    assert!(!html.contains(r#"value="realm-admin""#));
    let response = admin
        .post(
            &format!("/master/users/{id}/roles"),
            &[
                ("kind", "client"),
                ("action", "add"),
                ("role", "view-users"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mut helper = Browser::new(&app, "master");
    helper.sign_in("helper", "helper-password").await;
    let (status, _) = helper.page(&format!("/master/users/{id}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "master-realm view-users shows master's users"
    );
}

#[tokio::test]
async fn a_view_users_holder_sees_users_but_cannot_change_them() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    let lead = team_realm_with(&app, &admin, "team", "view-users").await;
    let mut viewer = Browser::new(&app, "team");
    viewer.sign_in("lead", "lead-password").await;
    let (status, users) = viewer.page("/team/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!users.contains("Create user"));
    assert!(
        !users.contains(">Clients<"),
        "no clients link without view-clients"
    );
    let (status, details) = viewer.page(&format!("/team/users/{lead}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(details.contains("<fieldset disabled>"));
    assert_eq!(
        viewer.page("/team/users/new").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(viewer.page("/team/clients").await.0, StatusCode::FORBIDDEN);
    let response = viewer
        .post(
            &format!("/team/users/{lead}"),
            &[("email", "x@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = viewer
        .post(
            &format!("/team/users/{lead}/roles"),
            &[
                ("kind", "client"),
                ("action", "add"),
                ("role", "realm-admin"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "no self-promotion"
    );
}

#[tokio::test]
async fn users_without_administrative_rights_cannot_use_the_console() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "dev-password").await;
    let mut browser = Browser::new(&app, "team");
    let response = browser.try_sign_in("dev", "dev-password").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("no administrative rights"));
}

#[tokio::test]
async fn creating_a_realm_validates_and_keeps_the_input() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    let response = admin
        .post(
            "/new-realm",
            &[("name", "bad name"), ("display_name", "Kept <b>")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("Realm name may contain only"), "{html}");
    assert!(html.contains(r#"value="bad name""#));
    assert!(
        html.contains("Kept &#60;b&#62;") || html.contains("Kept &lt;b&gt;"),
        "escaped"
    );
    assert!(html.contains(r#"aria-invalid="true""#));

    let page = admin
        .post_and_follow("/new-realm", &[("name", "team"), ("enabled", "on")])
        .await;
    assert!(page.contains("Realm team created."));
    let response = admin.post("/new-realm", &[("name", "team")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("A realm with this name already exists."));
}

#[tokio::test]
async fn deleting_a_realm_needs_its_name_typed() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("doomed").await;
    let (status, page) = admin.page("/doomed/settings/delete").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Type <strong class=\"mono\">doomed</strong> to confirm"));
    let response = admin
        .post("/doomed/settings/delete", &[("confirm_name", "Doomed")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(admin.page("/doomed/settings").await.0, StatusCode::OK);
    let page = admin
        .post_and_follow("/doomed/settings/delete", &[("confirm_name", "doomed")])
        .await;
    assert!(page.contains("Realm doomed deleted."));
    assert_eq!(
        admin.page("/doomed/settings").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .post("/master/settings/delete", &[("confirm_name", "master")])
            .await
            .status(),
        StatusCode::BAD_REQUEST,
        "master stays"
    );
}

#[tokio::test]
async fn realm_settings_tabs_validate_numbers_and_save() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let response = admin
        .post(
            "/team/settings/tokens",
            &[
                ("access_token_lifespan", "abc"),
                ("sso_session_idle_timeout", "-5"),
                ("sso_session_max_lifespan", "36000"),
                ("offline_session_idle_timeout", "2592000"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("Access token lifespan: enter a duration"));
    assert!(html.contains(r#"value="abc""#), "kept input");
    let response = admin
        .post(
            "/team/settings/tokens",
            &[
                ("access_token_lifespan", "120"),
                ("sso_session_idle_timeout", "0"),
                ("sso_session_max_lifespan", "36000"),
                ("offline_session_idle_timeout", "2592000"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("SSO session idle must be a positive number of seconds"));
    let page = admin
        .post_and_follow(
            "/team/settings/security",
            &[
                ("brute_force_protected", "on"),
                ("failure_factor", "5"),
                ("wait_increment_seconds", "30"),
                ("max_failure_wait_seconds", "600"),
                ("quick_login_check_milli_seconds", "1000"),
                ("minimum_quick_login_wait_seconds", "60"),
                ("max_delta_time_seconds", "43200"),
            ],
        )
        .await;
    assert!(page.contains("Security defenses settings saved."));
    let realm: Value = app
        .admin(reqwest::Method::GET, "/team", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(realm["bruteForceProtected"], true);
    assert_eq!(realm["failureFactor"], 5);
    let page = admin
        .post_and_follow("/team/settings", &[("display_name", "Team A")])
        .await;
    assert!(page.contains("General settings saved."));
    assert!(page.contains("Team A"));
    assert!(!page.contains(r#"id="enabled" name="enabled" type="checkbox" checked"#));
}

#[tokio::test]
async fn the_events_tab_switches_events_on_and_needs_manage_events() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    team_realm_with(&app, &admin, "team", "view-events").await;
    let (_, events) = admin.page("/team/events").await;
    assert!(events.contains("does not save user events"), "{events}");
    let (status, page) = admin.page("/team/settings/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="events_enabled""#), "{page}");
    let refused = admin
        .post(
            "/team/settings/events",
            &[("events_enabled", "on"), ("events_expiration", "-1")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = admin
        .post_and_follow(
            "/team/settings/events",
            &[
                ("events_enabled", "on"),
                ("events_expiration", "86400"),
                ("enabled_event_types", "LOGIN"),
                ("enabled_event_types", "LOGIN_ERROR"),
                ("admin_events_enabled", "on"),
            ],
        )
        .await;
    assert!(page.contains("Events settings saved."), "{page}");
    let config: Value = app
        .admin(reqwest::Method::GET, "/team/events/config", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["eventsEnabled"], true);
    assert_eq!(config["eventsExpiration"], 86400);
    assert_eq!(config["enabledEventTypes"], json!(["LOGIN", "LOGIN_ERROR"]));
    assert_eq!(config["adminEventsEnabled"], true);
    assert_eq!(config["adminEventsDetailsEnabled"], false);
    let (_, events) = admin.page("/team/events").await;
    assert!(!events.contains("does not save"), "{events}");

    let mut viewer = Browser::new(&app, "team");
    viewer.sign_in("lead", "lead-password").await;
    let (status, page) = viewer.page("/team/settings/events").await;
    assert_eq!(status, StatusCode::OK, "view-events reads the settings");
    assert!(page.contains("needs the manage-events role"), "{page}");
    let refused = viewer
        .post("/team/settings/events", &[("events_expiration", "0")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn creating_a_user_shows_inline_errors_and_keeps_the_input() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let response = admin
        .post(
            "/team/users/new",
            &[
                ("username", "alice"),
                ("email", "not-an-email"),
                ("first_name", "Alice"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<p class="field-error" id="email-error">Invalid email address.</p>"#));
    assert!(html.contains(r#"value="alice""#) && html.contains(r#"value="Alice""#));
    let page = admin
        .post_and_follow(
            "/team/users/new",
            &[
                ("username", "Alice"),
                ("email", "alice@example.com"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert!(page.contains("User alice created."), "{page}");
    let response = admin
        .post("/team/users/new", &[("username", "alice")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("User exists with same username"));
}

#[tokio::test]
async fn setting_a_password_checks_the_confirmation_and_works() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let id = app.create_user("team", "dev", "old-password").await;
    let path = format!("/team/users/{id}/credentials");
    let response = admin
        .post(
            &path,
            &[
                ("password", "new-password"),
                ("password_confirmation", "typo"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("The passwords do not match."));
    let page = admin
        .post_and_follow(
            &path,
            &[
                ("password", "new-password"),
                ("password_confirmation", "new-password"),
            ],
        )
        .await;
    assert!(page.contains("Password set."));
    app.password_token("team", "admin-cli", "dev", "new-password")
        .await;
    admin
        .post_and_follow(
            &path,
            &[
                ("password", "temp-password"),
                ("password_confirmation", "temp-password"),
                ("temporary", "on"),
            ],
        )
        .await;
    let response = Browser::new(&app, "team")
        .try_sign_in("dev", "temp-password")
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("This account has a temporary password."));
}

#[tokio::test]
async fn users_are_searched_and_paged_twenty_at_a_time() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let token = app.admin_token().await;
    for i in 0..23 {
        let response = app
            .client
            .post(app.url("/admin/realms/team/users"))
            .bearer_auth(&token)
            .json(&json!({"username": format!("user-{i:02}"), "enabled": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let (_, first) = admin.page("/team/users").await;
    assert_eq!(
        first.matches("/team/users/").count() - first.matches("/team/users/new").count(),
        20
    );
    assert!(first.contains(r#"href="/admin/master/console/team/users?page=2" rel="next""#));
    let (_, second) = admin.page("/team/users?page=2").await;
    assert!(second.contains(">user-22</a>") && !second.contains(">user-00</a>"));
    let (_, found) = admin.page("/team/users?q=user-1").await;
    assert!(found.contains(">user-10</a>") && found.contains(">user-19</a>"));
    assert!(!found.contains(">user-20</a>"));
    let (_, none) = admin.page("/team/users?q=zzz").await;
    assert!(none.contains("No user matches “zzz”."));
}

#[tokio::test]
async fn the_access_policy_form_validates_each_rule() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let client = app.create_docker_client("team", "registry").await;
    let path = format!("/team/clients/{client}/access-policy");
    let (status, page) = admin.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"value="allow-all" checked"#));
    let response = admin
        .post(
            &path,
            &[
                ("mode", "rules"),
                ("rows", "2"),
                ("rule0_target", "repository"),
                ("rule0_repository", "team/**"),
                ("rule0_who", "role"),
                ("rule0_name", "pusher"),
                ("rule0_pull", "on"),
                ("rule1_target", "repository"),
                ("rule1_repository", "open/*"),
                ("rule1_who", "anonymous"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Rule 2 · Actions: tick at least one action to grant"),
        "{html}"
    );
    assert!(html.contains(r#"value="team/**""#), "kept input");
    let page = admin
        .post_and_follow(
            &path,
            &[
                ("mode", "rules"),
                ("rows", "2"),
                ("rule0_target", "repository"),
                ("rule0_repository", "team/**"),
                ("rule0_who", "role"),
                ("rule0_name", "pusher"),
                ("rule0_pull", "on"),
                ("rule0_push", "on"),
                ("rule1_target", "catalog"),
                ("rule1_who", "authenticated"),
                ("rule1_all", "on"),
            ],
        )
        .await;
    assert!(page.contains("Access policy saved."));
    let policy: Value = app
        .admin(
            reqwest::Method::GET,
            &format!("/team/clients/{client}/docker-access-policy"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        policy,
        json!({"mode": "rules", "rules": [
            {"repository": "team/**", "who": "role:pusher", "actions": ["pull", "push"]},
            {"catalog": true, "who": "authenticated", "actions": ["*"]},
        ]})
    );
}

#[tokio::test]
async fn a_docker_client_s_web_origins_are_set_in_the_console() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let client = app.create_docker_client("team", "registry").await;
    let path = format!("/team/clients/{client}");
    let (status, page) = admin.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="web_origins""#), "{page}");
    let response = admin
        .post(
            &path,
            &[
                ("client_id", "registry"),
                ("enabled", "on"),
                ("web_origins", "https://registry-ui.example.com\n"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stored: Value = app
        .admin(
            reqwest::Method::GET,
            &format!("/team/clients/{client}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        stored["webOrigins"],
        json!(["https://registry-ui.example.com"])
    );
}

#[tokio::test]
async fn installation_downloads_are_served_for_both_protocols() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let docker = app.create_docker_client("team", "registry").await;
    let (status, page) = admin
        .page(&format!("/team/clients/{docker}/installation"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("service: registry"));
    let config = admin
        .get(&format!(
            "/team/clients/{docker}/installation/docker-v2-registry-config-file"
        ))
        .await;
    assert_eq!(config.status(), StatusCode::OK);
    assert!(config.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("config.yml"));
    let text = config.text().await.unwrap();
    assert!(text.contains(&format!("issuer: {}/realms/team", app.address)));
    let bundle = admin
        .get(&format!(
            "/team/clients/{docker}/installation/docker-v2-compose-yaml"
        ))
        .await;
    assert_eq!(bundle.headers()["content-type"], "application/zip");
    assert_eq!(
        admin
            .get(&format!("/team/clients/{docker}/installation/nonsense"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let page = admin
        .post_and_follow(
            "/team/clients/new",
            &[
                ("client_id", "web"),
                ("protocol", "openid-connect"),
                ("confidential", "on"),
            ],
        )
        .await;
    assert!(page.contains("Client web created."));
    let id = page
        .split("/team/clients/")
        .nth(1)
        .and_then(|s| s.split(['/', '"']).next())
        .unwrap()
        .to_owned();
    let json: Value = admin
        .get(&format!(
            "/team/clients/{id}/installation/keycloak-oidc-keycloak-json"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["resource"], "web");
    assert!(json["credentials"]["secret"].is_string());
}

#[tokio::test]
async fn client_forms_validate_and_secrets_regenerate_after_asking() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let response = admin
        .post(
            "/team/clients/new",
            &[("client_id", "has space"), ("protocol", "openid-connect")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Client ID may contain only"));
    let token = app.admin_token().await;
    let created = app
        .client
        .post(app.url("/admin/realms/team/clients"))
        .bearer_auth(&token)
        .json(&json!({"clientId": "api", "publicClient": false}))
        .send()
        .await
        .unwrap();
    let id = crate::helpers::location_id(&created);
    let (_, credentials) = admin.page(&format!("/team/clients/{id}/credentials")).await;
    let secret: Value = app
        .admin(
            reqwest::Method::GET,
            &format!("/team/clients/{id}/client-secret"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let old = secret["value"].as_str().unwrap();
    assert!(credentials.contains(old));
    let (status, ask) = admin
        .page(&format!("/team/clients/{id}/credentials/regenerate"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ask.contains("Regenerate secret"));
    let page = admin
        .post_and_follow(&format!("/team/clients/{id}/credentials/regenerate"), &[])
        .await;
    assert!(page.contains("New secret generated.") && !page.contains(old));
    let page = admin
        .post_and_follow(
            &format!("/team/clients/{id}"),
            &[
                ("client_id", "api"),
                ("enabled", "on"),
                ("confidential", "on"),
                (
                    "redirect_uris",
                    "https://app.example/*\n\nhttps://other.example/cb",
                ),
            ],
        )
        .await;
    assert!(page.contains("Client api saved."));
    let client: Value = app
        .admin(reqwest::Method::GET, &format!("/team/clients/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        client["redirectUris"],
        json!(["https://app.example/*", "https://other.example/cb"])
    );
    let page = admin
        .post_and_follow(&format!("/team/clients/{id}/delete"), &[])
        .await;
    assert!(page.contains("Client api deleted."));
}

#[tokio::test]
async fn key_rotation_keeps_the_old_key_passive_until_removed() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let page = admin
        .post_and_follow("/team/settings/keys/rotate", &[])
        .await;
    assert!(page.contains("now signs"));
    assert_eq!(
        page.matches(r#"<span class="badge ok">Active</span>"#)
            .count(),
        1
    );
    assert_eq!(
        page.matches(r#"<span class="badge">Passive</span>"#)
            .count(),
        1
    );
    assert_eq!(
        page.matches(r#"<span class="badge docker">Next</span>"#)
            .count(),
        1
    );
    let certs: Value = app
        .get("/realms/team/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(certs["keys"].as_array().unwrap().len(), 3);
    let passive_row = page
        .split("<tr>")
        .find(|row| row.contains(r#"<span class="badge">Passive</span>"#))
        .expect("the passive key's row");
    let remove = passive_row
        .split('"')
        .find(|s| s.ends_with("/remove"))
        .expect("a remove link for the passive key")
        .to_owned();
    let certificate = remove.replace("/remove", "/certificate");
    let pem = app.get(&certificate).await;
    assert_eq!(
        pem.status(),
        StatusCode::SEE_OTHER,
        "the app client is not signed in"
    );
    let pem = admin
        .client
        .get(format!("{}{certificate}", app.address))
        .send()
        .await
        .unwrap();
    assert!(pem
        .text()
        .await
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    let response = admin
        .client
        .post(format!("{}{remove}", app.address))
        .form(&[("csrf", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let certs: Value = app
        .get("/realms/team/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(certs["keys"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn roles_groups_and_memberships_are_managed_from_their_pages() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    let user = app.create_user("team", "dev", "pw").await;

    let response = admin.post("/team/roles", &[("name", "")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("role has no name"));
    let page = admin
        .post_and_follow(
            "/team/roles",
            &[("name", "pusher"), ("description", "Pushes")],
        )
        .await;
    assert!(page.contains("Role pusher created."));
    let page = admin
        .post_and_follow(
            &format!("/team/users/{user}/roles"),
            &[("kind", "realm"), ("action", "add"), ("role", "pusher")],
        )
        .await;
    assert!(page.contains("Roles assigned: pusher."));
    let (_, roles) = admin.page("/team/roles?q=push").await;
    let role = roles
        .split("/team/roles/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let (_, details) = admin.page(&format!("/team/roles/{role}")).await;
    assert!(details.contains(">dev</a>"), "holders listed");

    let page = admin
        .post_and_follow("/team/groups", &[("name", "ops")])
        .await;
    assert!(page.contains("Group ops created."));
    let group = page
        .split("/team/groups/")
        .nth(1)
        .and_then(|s| s.split(['"', '/']).next())
        .unwrap()
        .to_owned();
    let path = format!("/team/groups/{group}");
    let response = admin
        .post(&path, &[("action", "add-member"), ("username", "ghost")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("No user with this username."));
    let page = admin
        .post_and_follow(&path, &[("action", "add-member"), ("username", "dev")])
        .await;
    assert!(page.contains("dev added to the group."));
    let page = admin
        .post_and_follow(&path, &[("action", "subgroup"), ("name", "oncall")])
        .await;
    assert!(page.contains("Subgroup oncall created."));
    let (_, memberships) = admin.page(&format!("/team/users/{user}/groups")).await;
    assert!(memberships.contains("/ops"));
    let (_, tree) = admin.page("/team/groups").await;
    assert!(tree.contains("/ops/oncall"));

    let page = admin
        .post_and_follow(&format!("/team/groups/{group}/delete"), &[])
        .await;
    assert!(page.contains("Group ops deleted."));
    let page = admin
        .post_and_follow(&format!("/team/roles/{role}/delete"), &[])
        .await;
    assert!(page.contains("Role pusher deleted."));
    let page = admin
        .post_and_follow(&format!("/team/users/{user}/delete"), &[])
        .await;
    assert!(page.contains("User dev deleted."));
}

#[tokio::test]
async fn docker_identity_tokens_are_listed_and_revoked() {
    let app = spawn_app().await;
    let admin = master_admin(&app).await;
    app.create_realm("team").await;
    app.enable_events("team").await;
    app.create_docker_client("team", "registry").await;
    let user = app.create_user("team", "dev", "pw").await;
    let response = app
        .client
        .get(app.url(
            "/realms/team/protocol/docker-v2/auth?service=registry&offline_token=true&client_id=docker",
        ))
        .header("Authorization", basic("dev", "pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let path = format!("/team/users/{user}/sessions");
    let (_, page) = admin.page(&path).await;
    assert!(page.contains("Docker identity token"), "{page}");
    assert!(page.contains(">registry<"));
    let token = page
        .split(r#"name="token" value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let page = admin
        .post_and_follow(
            &path,
            &[("action", "revoke-token"), ("token", token.as_str())],
        )
        .await;
    assert!(page.contains("Token revoked.") && page.contains("No live token."));
    let (_, events) = admin.page("/team/events/admin?resource=USER_TOKEN").await;
    assert!(
        events.contains("DELETE") && events.contains(">admin<"),
        "{events}"
    );
}
