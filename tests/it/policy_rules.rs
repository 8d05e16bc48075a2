//! The docker-v2 access policy's deny rules, address and attribute conditions: through the
//! admin API, a realm's export and import, the token endpoint (with and without
//! `--proxy-headers`), and the console's editor and tester.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::console::{master_admin, Browser};
use crate::helpers::{basic, jwt_payload, spawn_app, spawn_app_with, TestApp};

const AUTH: &str = "/realms/team/protocol/docker-v2/auth";

/// Realm `team`, docker client `registry`, users `alice` (attribute team=web, role `dev`) and
/// `bob` (no attributes), both with password `pw`; answers the client's id.
async fn team(app: &TestApp) -> String {
    app.create_realm("team").await;
    let client = app.create_docker_client("team", "registry").await;
    let response = app
        .admin(Method::POST, "/team/roles", Some(json!({"name": "dev"})))
        .await;
    assert_eq!(response.status(), 201);
    let alice = app.create_user("team", "alice", "pw").await;
    app.create_user("team", "bob", "pw").await;
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/users/{alice}"),
            Some(json!({"attributes": {"team": ["web"]}})),
        )
        .await;
    assert_eq!(response.status(), 204);
    let role: Value = app
        .admin(Method::GET, "/team/roles/dev", None)
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .admin(
            Method::POST,
            &format!("/team/users/{alice}/role-mappings/realm"),
            Some(json!([role])),
        )
        .await;
    assert_eq!(response.status(), 204);
    client
}

async fn put_policy(app: &TestApp, client: &str, policy: &Value) -> reqwest::Response {
    app.admin(
        Method::PUT,
        &format!("/team/clients/{client}/docker-access-policy"),
        Some(policy.clone()),
    )
    .await
}

async fn get_policy(app: &TestApp, client: &str) -> Value {
    app.admin(
        Method::GET,
        &format!("/team/clients/{client}/docker-access-policy"),
        None,
    )
    .await
    .json()
    .await
    .unwrap()
}

/// The actions granted to `user` (none: anonymous) for `scope`, asking from the test's own
/// address with the extra headers given.
async fn granted(
    app: &TestApp,
    user: Option<&str>,
    scope: &str,
    headers: &[(&str, &str)],
) -> Vec<String> {
    let mut request = app
        .client
        .get(app.url(AUTH))
        .query(&[("service", "registry"), ("scope", scope)]);
    if let Some(user) = user {
        request = request.header("Authorization", basic(user, "pw"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    if response.status() == StatusCode::UNAUTHORIZED {
        return Vec::new();
    }
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let claims = jwt_payload(body["token"].as_str().unwrap());
    claims["access"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["actions"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn rich_policy() -> Value {
    json!({"mode": "rules", "rules": [
        {"repository": "**", "who": "authenticated", "actions": ["pull", "push"]},
        {"effect": "deny", "repository": "prod/**", "who": "authenticated", "actions": ["push"]},
        {"repository": "web/**", "who": "authenticated", "actions": ["delete"], "attributes": {"team": ["web", "platform"]}},
        {"effect": "deny", "repository": "**", "who": "anonymous", "actions": ["*"], "ip": ["192.0.2.0/24", "2001:db8::/32"]},
        {"repository": "library/*", "who": "anonymous", "actions": ["pull"], "ip": ["127.0.0.0/8", "::1"]},
    ]})
}

#[tokio::test]
async fn deny_address_and_attribute_rules_travel_through_the_admin_api() {
    let app = spawn_app().await;
    let client = team(&app).await;
    assert_eq!(
        put_policy(&app, &client, &rich_policy()).await.status(),
        204
    );
    assert_eq!(get_policy(&app, &client).await, rich_policy());
    let representation: Value = app
        .admin(Method::GET, &format!("/team/clients/{client}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(representation["dockerAccessPolicy"], rich_policy());

    let docker_auth_deny = json!({"mode": "rules", "rules": [
        {"repository": "secret/*", "who": "authenticated", "actions": []}]});
    assert_eq!(
        put_policy(&app, &client, &docker_auth_deny).await.status(),
        204
    );
    assert_eq!(
        get_policy(&app, &client).await["rules"][0],
        json!({"effect": "deny", "repository": "secret/*", "who": "authenticated", "actions": ["*"]}),
        "no actions denies everything, as in docker_auth"
    );

    for (rule, needle) in [
        (
            json!({"repository": "a", "who": "anonymous", "actions": ["pull"], "ip": ["10.0.0.0/33"]}),
            "prefix length",
        ),
        (
            json!({"repository": "a", "who": "anonymous", "actions": ["pull"], "ip": vec!["10.0.0.1"; 33]}),
            "at most 32",
        ),
        (
            json!({"repository": "a", "who": "authenticated", "actions": ["pull"], "attributes": {"team": []}}),
            "at least one value",
        ),
        (
            json!({"repository": "a", "who": "authenticated", "actions": ["pull"], "effect": "block"}),
            "block",
        ),
    ] {
        let response = put_policy(&app, &client, &json!({"mode": "rules", "rules": [rule]})).await;
        assert_eq!(response.status(), 400);
        let body = response.text().await.unwrap();
        assert!(body.contains(needle), "{body}");
    }
}

#[tokio::test]
async fn a_policy_stored_before_deny_and_conditions_still_loads() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let old = r#"{"mode":"rules","rules":[{"repository":"**","who":"authenticated","actions":["pull"]},{"catalog":true,"who":"role:dev","actions":["*"]}]}"#;
    let db = app.raw_db().await;
    sqlx::query("UPDATE client SET access_policy = $1 WHERE id = $2")
        .bind(old)
        .bind(&client)
        .execute(&db)
        .await
        .unwrap();
    let stored = get_policy(&app, &client).await;
    assert_eq!(stored, serde_json::from_str::<Value>(old).unwrap());
    assert_eq!(
        granted(&app, Some("bob"), "repository:x/y:pull,push", &[]).await,
        ["pull"]
    );
}

#[tokio::test]
async fn the_conditions_survive_a_realm_export_and_import() {
    let app = spawn_app().await;
    let client = team(&app).await;
    assert_eq!(
        put_policy(&app, &client, &rich_policy()).await.status(),
        204
    );
    let response = app
        .admin(
            Method::POST,
            "/team/partial-export?exportClients=true&exportGroupsAndRoles=true",
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut export: Value = response.json().await.unwrap();
    export["realm"] = json!("team-copy");
    export.as_object_mut().unwrap().remove("id");
    let response = app.admin(Method::POST, "", Some(export)).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let clients: Value = app
        .admin(Method::GET, "/team-copy/clients?clientId=registry", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clients[0]["dockerAccessPolicy"], rich_policy());
}

#[tokio::test]
async fn the_token_endpoint_applies_deny_address_and_attribute_rules() {
    let app = spawn_app().await;
    let client = team(&app).await;
    assert_eq!(
        put_policy(&app, &client, &rich_policy()).await.status(),
        204
    );
    let ask = "repository:prod/app:pull,push";
    assert_eq!(
        granted(&app, Some("bob"), ask, &[]).await,
        ["pull"],
        "deny beats allow"
    );
    assert_eq!(
        granted(&app, Some("bob"), "repository:dev/app:pull,push", &[]).await,
        ["pull", "push"]
    );
    let web = "repository:web/site:pull,delete";
    assert_eq!(
        granted(&app, Some("alice"), web, &[]).await,
        ["pull", "delete"]
    );
    assert_eq!(
        granted(&app, Some("bob"), web, &[]).await,
        ["pull"],
        "no team attribute"
    );
    assert_eq!(
        granted(&app, None, "repository:library/alpine:pull", &[]).await,
        ["pull"],
        "anonymous from 127.0.0.1"
    );
    assert_eq!(
        granted(
            &app,
            None,
            "repository:library/alpine:pull",
            &[("X-Forwarded-For", "192.0.2.9")]
        )
        .await,
        ["pull"],
        "without --proxy-headers a forwarded address is not believed"
    );
}

#[tokio::test]
async fn an_attribute_placeholder_gives_each_user_their_team_s_namespace() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let policy = json!({"mode": "rules", "rules": [
        {"repository": "${attr:team}/**", "who": "authenticated", "actions": ["pull", "push"]},
    ]});
    assert_eq!(put_policy(&app, &client, &policy).await.status(), 204);
    assert_eq!(
        get_policy(&app, &client).await["rules"][0]["repository"],
        "${attr:team}/**"
    );
    assert_eq!(
        granted(&app, Some("alice"), "repository:web/site:pull,push", &[]).await,
        ["pull", "push"]
    );
    assert_eq!(
        granted(&app, Some("alice"), "repository:ops/db:pull,push", &[]).await,
        Vec::<String>::new(),
        "another team's namespace"
    );
    assert_eq!(
        granted(&app, Some("bob"), "repository:web/site:pull", &[]).await,
        Vec::<String>::new(),
        "no attribute, no namespace"
    );

    let glob_value = app
        .admin(Method::GET, "/team/users?username=bob&exact=true", None)
        .await
        .json::<Value>()
        .await
        .unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/users/{glob_value}"),
            Some(json!({"attributes": {"team": ["*", "ops"]}})),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        granted(&app, Some("bob"), "repository:web/site:pull", &[]).await,
        Vec::<String>::new(),
        "a value is taken literally, never as a glob"
    );
    assert_eq!(
        granted(&app, Some("bob"), "repository:ops/db:pull", &[]).await,
        ["pull"],
        "each value of the attribute is tried"
    );

    for bad in ["${attr:}/x", "${group}/${attr:team}", "${labels:team}/*"] {
        let policy = json!({"mode": "rules", "rules": [
            {"repository": bad, "who": "authenticated", "actions": ["pull"]},
        ]});
        let response = put_policy(&app, &client, &policy).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn with_proxy_headers_the_forwarded_address_decides() {
    let app = spawn_app_with(|s| s.proxy_headers = true).await;
    let client = team(&app).await;
    assert_eq!(
        put_policy(&app, &client, &rich_policy()).await.status(),
        204
    );
    let pull = "repository:library/alpine:pull";
    assert_eq!(
        granted(&app, None, pull, &[("X-Forwarded-For", "127.0.0.1")]).await,
        ["pull"]
    );
    assert!(
        granted(&app, None, pull, &[("X-Forwarded-For", "192.0.2.9")])
            .await
            .is_empty()
    );
    assert!(
        granted(&app, None, pull, &[("X-Forwarded-For", "198.51.100.1")])
            .await
            .is_empty(),
        "outside the allowed networks"
    );
    assert!(granted(
        &app,
        None,
        pull,
        &[("Forwarded", "for=\"[2001:db8::5]:443\"")]
    )
    .await
    .is_empty());
    assert_eq!(
        granted(&app, None, pull, &[("Forwarded", "for=\"[::1]:443\"")]).await,
        ["pull"]
    );
}

async fn policy_page(admin: &Browser, client: &str) -> String {
    let (status, page) = admin
        .page(&format!("/team/clients/{client}/access-policy"))
        .await;
    assert_eq!(status, StatusCode::OK);
    page
}

/// The rules on the editor, not counting the blank one of the "Add rule" template.
fn rule_cards(html: &str) -> usize {
    let form = html
        .split(r#"<template id="rule-template">"#)
        .next()
        .unwrap_or_default();
    form.matches(r#"class="rule-card"#).count()
}

#[tokio::test]
async fn the_editor_adds_and_removes_rules_without_javascript_and_saves_nothing_until_asked() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let admin = master_admin(&app).await;
    let path = format!("/team/clients/{client}/access-policy");
    let page = policy_page(&admin, &client).await;
    assert_eq!(rule_cards(&page), 1, "one rule to fill in");
    assert!(page.contains(">Add rule</button>"));
    assert!(page.contains(r#"<template id="rule-template">"#));

    let first = [
        ("mode", "rules"),
        ("rows", "1"),
        ("rule0_effect", "allow"),
        ("rule0_target", "repository"),
        ("rule0_repository", "team/**"),
        ("rule0_who", "authenticated"),
        ("rule0_pull", "on"),
    ];
    let mut add = first.to_vec();
    add.push(("add", "rule"));
    let response = admin.post(&path, &add).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert_eq!(rule_cards(&html), 2);
    assert!(html.contains(r#"value="team/**""#), "kept input");
    assert!(html.contains(r#"id="rule1_repository""#));
    assert_eq!(
        get_policy(&app, &client).await,
        json!({"mode": "allow-all"}),
        "nothing saved"
    );

    let mut remove = first.to_vec();
    remove.push(("remove", "0"));
    let html = admin.post(&path, &remove).await.text().await.unwrap();
    assert!(!html.contains(r#"value="team/**""#));

    let response = admin
        .client
        .post(admin.url(&path))
        .form(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token, no save"
    );
    assert_eq!(
        get_policy(&app, &client).await,
        json!({"mode": "allow-all"})
    );
}

#[tokio::test]
async fn the_editor_saves_deny_address_and_attribute_fields_and_names_bad_fields() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let admin = master_admin(&app).await;
    let path = format!("/team/clients/{client}/access-policy");
    let rules = |ip: &'static str, group: &'static str, attributes: &'static str| {
        vec![
            ("mode", "rules"),
            ("rows", "3"),
            ("rule0_target", "repository"),
            ("rule0_repository", "**"),
            ("rule0_who", "authenticated"),
            ("rule0_pull", "on"),
            ("rule0_push", "on"),
            ("rule0_ip", ip),
            ("rule0_attributes", attributes),
            ("rule1_effect", "deny"),
            ("rule1_target", "repository"),
            ("rule1_repository", "prod/**"),
            ("rule1_who", "group"),
            ("rule1_name", group),
            ("rule1_push", "on"),
            ("rule2_target", "catalog"),
            ("rule2_who", "role"),
            ("rule2_name", "dev"),
            ("rule2_all", "on"),
        ]
    };
    let response = admin
        .post(&path, &rules("10.0.0.0/33", "", "team web"))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("Rule 1 · From addresses: "), "{html}");
    assert!(
        html.contains("Rule 2 · Group name: enter the name of a group"),
        "{html}"
    );
    assert!(
        !html.contains("&#39;who&#39;") && !html.contains("'who'"),
        "{html}"
    );
    assert!(html.contains(r#"value="10.0.0.0/33""#), "kept input");

    let html = admin
        .post(&path, &rules("10.0.0.0/8", "", "team = web"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Rule 1 ·"), "{html}");

    let page = admin
        .post_and_follow(
            &path,
            &rules("10.0.0.0/8, ::1", "contractors", "team = web, ops"),
        )
        .await;
    assert!(page.contains("Access policy saved."), "{page}");
    assert!(
        page.contains("Rule 2: this realm has no group “contractors”"),
        "an unknown group is saved with a warning: {page}"
    );
    assert!(!page.contains("no role “dev”"), "{page}");
    assert_eq!(
        get_policy(&app, &client).await,
        json!({"mode": "rules", "rules": [
            {"repository": "**", "who": "authenticated", "actions": ["pull", "push"],
             "ip": ["10.0.0.0/8", "::1"], "attributes": {"team": ["web", "ops"]}},
            {"effect": "deny", "repository": "prod/**", "who": "group:contractors", "actions": ["push"]},
            {"catalog": true, "who": "role:dev", "actions": ["*"]},
        ]})
    );
    assert!(page.contains(r#"<option value="deny" selected>"#));
    assert!(page.contains("team = web, ops"));
}

#[tokio::test]
async fn the_tester_answers_with_the_rule_that_decided() {
    let app = spawn_app().await;
    let client = team(&app).await;
    assert_eq!(
        put_policy(&app, &client, &rich_policy()).await.status(),
        204
    );
    let admin = master_admin(&app).await;
    let ask = |user: &str, scope: &str, address: &str| {
        let query = serde_urlencoded_pairs(&[
            ("test_user", user),
            ("test_scope", scope),
            ("test_address", address),
        ]);
        format!("/team/clients/{client}/access-policy?{query}")
    };
    let (status, page) = admin
        .page(&ask("alice", "repository:prod/app:pull,push", ""))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("User “alice”"), "{page}");
    assert!(page.contains("realm roles: "), "{page}");
    assert!(
        page.contains("<strong>pull</strong>: granted by rule 1"),
        "{page}"
    );
    assert!(
        page.contains("<strong>push</strong>: denied by rule 2 (granted by rule 1, then removed)"),
        "{page}"
    );
    let (_, page) = admin.page(&ask("", "library/alpine", "127.0.0.1")).await;
    assert!(page.contains("A request without credentials"), "{page}");
    assert!(
        page.contains("<strong>pull</strong>: granted by rule 5"),
        "{page}"
    );
    assert!(
        page.contains("<strong>push</strong>: not granted"),
        "{page}"
    );
    let (_, page) = admin.page(&ask("", "library/alpine", "192.0.2.1")).await;
    assert!(
        page.contains("<strong>pull</strong>: denied by rule 4"),
        "{page}"
    );
    let (_, page) = admin.page(&ask("nobody", "library/alpine", "")).await;
    assert!(page.contains("This realm has no user “nobody”"), "{page}");
    let (_, page) = admin.page(&ask("bob", "library/alpine", "not-an-ip")).await;
    assert!(
        page.contains("Address: enter an IPv4 or IPv6 address"),
        "{page}"
    );
    let (_, page) = admin.page(&ask("bob", "web/site:pull", "")).await;
    assert!(
        page.contains("Scope: "),
        "a scope needs type, name and actions: {page}"
    );

    put_policy(
        &app,
        &client,
        &json!({"mode": "rules", "rules": [
        {"repository": "**", "who": "authenticated", "actions": ["pull"]}]}),
    )
    .await;
    let (_, page) = admin.page(&ask("", "repository:x:pull", "")).await;
    assert!(page.contains("asked to sign in (401)"), "{page}");
}

#[tokio::test]
async fn a_realm_admin_without_view_users_cannot_test() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let lead = app.create_user("team", "lead", "lead-password").await;
    app.grant_management("team", &lead, &["view-clients"]).await;
    let mut browser = Browser::new(&app, "team");
    browser.sign_in("lead", "lead-password").await;
    let path = format!("/team/clients/{client}/access-policy");
    let (status, page) = browser.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("it needs the view-users role"), "{page}");
    let (status, page) = browser
        .page(&format!(
            "{path}?test_user=alice&test_scope=repository%3Ax%3Apull"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("User “alice”"), "{page}");
    assert!(
        !page.contains("<datalist id=\"policy-roles\"><option"),
        "no role names: {page}"
    );
}

/// `key=value&...`, percent-encoded.
fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_editor_and_tester_work_in_chromium_at_1440_and_390_px() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let artifacts = crate::chromium::artifacts_dir("policy");
    crate::chromium::run_script(
        "policy.mjs",
        &app.address,
        &artifacts,
        &[("CLIENT", &client)],
    )
    .await;
    let stored = get_policy(&app, &client).await;
    assert_eq!(stored["rules"][1]["effect"], "deny", "{stored}");
    assert_eq!(
        stored["rules"][2]["ip"],
        json!(["127.0.0.1", "::1"]),
        "{stored}"
    );
}
