//! Attacks on the docker-v2 endpoint: policies that would make matching crash or run for
//! seconds, requests too large to process cheaply, and web pages of other origins trying to
//! read a token obtained with the browser's cached credentials.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{basic, spawn_app, TestApp};

const AUTH: &str = "/realms/team/protocol/docker-v2/auth";

/// A realm `team` with docker client `registry` and user `dev` / `pw`; returns the client's id.
async fn team(app: &TestApp) -> String {
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    app.create_docker_client("team", "registry").await
}

/// A token of a `team` admin who holds only `manage-clients` (and what it implies).
async fn client_manager(app: &TestApp) -> String {
    app.realm_admin("team", "manager", &["manage-clients"])
        .await
        .1
}

async fn put_policy(app: &TestApp, token: &str, client: &str, policy: &Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!(
            "/admin/realms/team/clients/{client}/docker-access-policy"
        )))
        .bearer_auth(token)
        .json(policy)
        .send()
        .await
        .unwrap()
}

fn anonymous_pull(repository: &str) -> Value {
    json!({"repository": repository, "who": "anonymous", "actions": ["pull"]})
}

async fn error_description(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["errorMessage"]
        .as_str()
        .or(body["error_description"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn token_get(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("{AUTH}?{query}")))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pattern_of_forty_thousand_stars_is_refused_and_the_server_keeps_answering() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let token = client_manager(&app).await;
    let policy = json!({"mode": "rules", "rules": [anonymous_pull(&"*".repeat(40_000))]});
    let response = put_policy(&app, &token, &client, &policy).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_description(response).await.contains("512 characters"));

    let response = token_get(&app, "service=registry&scope=repository:a:pull").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_policies_are_refused_on_every_write_path() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let token = client_manager(&app).await;

    let too_many_rules = json!({"mode": "rules", "rules": vec![anonymous_pull("a"); 257]});
    let response = put_policy(&app, &token, &client, &too_many_rules).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_description(response).await.contains("256 rules"));

    let repeated_actions = json!({"mode": "rules", "rules": [
        {"repository": "a", "who": "anonymous", "actions": vec!["pull"; 10_000]}]});
    let response = put_policy(&app, &token, &client, &repeated_actions).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_description(response).await.contains("4 actions"));

    let long_pattern = json!({"mode": "rules", "rules": [anonymous_pull(&"*".repeat(513))]});
    let response = app
        .client
        .put(app.url(&format!("/admin/realms/team/clients/{client}")))
        .bearer_auth(&token)
        .json(&json!({"clientId": "registry", "dockerAccessPolicy": long_pattern}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = app
        .client
        .post(app.url("/admin/realms/team/clients"))
        .bearer_auth(&token)
        .json(&json!({"clientId": "other", "protocol": "docker-v2", "dockerAccessPolicy": long_pattern}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let too_much_in_all =
        json!({"mode": "rules", "rules": vec![anonymous_pull(&"*?".repeat(256)); 17]});
    let response = put_policy(&app, &token, &client, &too_much_in_all).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_description(response).await.contains("in all"));

    let mut largest = vec![anonymous_pull(&"*?".repeat(256)); 15];
    largest.extend(vec![anonymous_pull("?"); 241]);
    let largest = json!({"mode": "rules", "rules": largest});
    let response = put_policy(&app, &token, &client, &largest).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_largest_policy_against_the_largest_request_still_answers() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let mut rules = vec![
        anonymous_pull("**/**/**/**/**/x"),
        anonymous_pull("**/cache/**/latest"),
    ];
    rules.extend(vec![anonymous_pull(&"*a".repeat(256)); 15]);
    rules.extend(vec![anonymous_pull("?"); 239]);
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{client}/docker-access-policy"),
            Some(json!({"mode": "rules", "rules": rules})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let name = format!("{}b", "a/".repeat(127));
    let scopes: Vec<String> = (0..32)
        .map(|i| format!("scope=repository:{}{i}:pull", &name[..name.len() - 2]))
        .collect();
    let response = token_get(&app, &format!("service=registry&{}", scopes.join("&"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["token"].is_string());
}

#[tokio::test]
async fn a_repository_name_longer_than_the_registry_allows_is_refused_first() {
    let app = spawn_app().await;
    team(&app).await;
    let name = "n".repeat(256);
    for service in ["registry", "unknown"] {
        let response = token_get(
            &app,
            &format!("service={service}&scope=repository:{name}:pull"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{service}");
        assert!(error_description(response).await.contains("at most 255"));
    }
    let response = token_get(
        &app,
        &format!("service=registry&scope=repository:{}:pull", "n".repeat(255)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn too_many_or_too_long_scopes_are_refused() {
    let app = spawn_app().await;
    team(&app).await;
    let many: Vec<String> = (0..33)
        .map(|i| format!("scope=repository:r{i}:pull"))
        .collect();
    let response = app
        .client
        .get(app.url(&format!("{AUTH}?service=registry&{}", many.join("&"))))
        .header("Authorization", basic("dev", "pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_description(response).await.contains("at most 32"));

    let long = format!("repository:a:{}", "pull,".repeat(200));
    let response = app
        .client
        .post(app.url(AUTH))
        .header("Authorization", basic("dev", "pw"))
        .form(&[("service", "registry"), ("scope", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_description(response).await.contains("at most 512"));
}

#[tokio::test]
async fn a_huge_body_or_query_is_refused_before_it_is_processed() {
    let app = spawn_app().await;
    team(&app).await;
    let scopes = "repository:a:pull ".repeat(220 * 1024 / 22);
    let response = app
        .client
        .post(app.url(AUTH))
        .form(&[("service", "registry"), ("scope", scopes.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let padding = "x".repeat(40 * 1024);
    let response = token_get(&app, &format!("service=registry&account={padding}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_description(response).await.contains("too long"));
}

/// Sets the docker client's web origins and redirect URIs.
async fn set_origins(app: &TestApp, client: &str, web_origins: &[&str], redirect_uris: &[&str]) {
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{client}"),
            Some(json!({"clientId": "registry", "webOrigins": web_origins, "redirectUris": redirect_uris})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// The `Access-Control-Allow-Origin` a page at `origin` gets on a GET and on a preflight.
async fn allowed_origin(app: &TestApp, origin: &str, service: &str) -> [Option<String>; 2] {
    let url = app.url(&format!(
        "{AUTH}?service={service}&scope=repository:a:pull,push"
    ));
    let get = app
        .client
        .get(&url)
        .header("Origin", origin)
        .header("Authorization", basic("dev", "pw"))
        .send()
        .await
        .unwrap();
    let preflight = app
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    [get, preflight].map(|response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned())
    })
}

#[tokio::test]
async fn a_page_of_another_origin_gets_no_cors_headers() {
    let app = spawn_app().await;
    let client = team(&app).await;
    set_origins(&app, &client, &["http://localhost:8080"], &[]).await;
    let allowed = Some("http://localhost:8080".to_owned());
    assert_eq!(
        allowed_origin(&app, "http://localhost:8080", "registry").await,
        [allowed.clone(), allowed]
    );
    for other in [
        "http://localhost:8081",
        "https://localhost:8080",
        "https://evil.example",
    ] {
        assert_eq!(
            allowed_origin(&app, other, "registry").await,
            [None, None],
            "{other}"
        );
    }
    assert_eq!(
        allowed_origin(&app, "http://localhost:8080", "unknown").await,
        [None, None]
    );
}

#[tokio::test]
async fn a_client_without_web_origins_allows_no_page() {
    let app = spawn_app().await;
    team(&app).await;
    assert_eq!(
        allowed_origin(&app, "https://ui.example.com", "registry").await,
        [None, None]
    );
}

#[tokio::test]
async fn plus_allows_the_origins_of_the_redirect_uris() {
    let app = spawn_app().await;
    let client = team(&app).await;
    set_origins(&app, &client, &["+"], &["https://ui.example.com:8443/*"]).await;
    let allowed = Some("https://ui.example.com:8443".to_owned());
    assert_eq!(
        allowed_origin(&app, "https://ui.example.com:8443", "registry").await,
        [allowed.clone(), allowed]
    );
    assert_eq!(
        allowed_origin(&app, "https://ui.example.com", "registry").await,
        [None, None]
    );
}

#[tokio::test]
async fn star_allows_every_origin() {
    let app = spawn_app().await;
    let client = team(&app).await;
    set_origins(&app, &client, &["*"], &[]).await;
    let origin = "https://anywhere.example";
    let allowed = Some(origin.to_owned());
    assert_eq!(
        allowed_origin(&app, origin, "registry").await,
        [allowed.clone(), allowed]
    );
}
