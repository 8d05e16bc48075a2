//! OIDC answers as recorded on a live Keycloak 26.7.1: logout, introspection and revocation
//! errors, unknown protocols and realms.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const BASE: &str = "/realms/shop/protocol/openid-connect";

/// Realm `shop` with confidential `web` (secret `s3cret`), public `spa` and user `ann` / `pw`.
async fn shop(app: &TestApp) {
    app.create_realm("shop").await;
    for body in [
        json!({"clientId": "web", "publicClient": false, "secret": "s3cret"}),
        json!({"clientId": "spa", "publicClient": true}),
    ] {
        let response = app.admin(Method::POST, "/shop/clients", Some(body)).await;
        assert_eq!(response.status(), 201);
    }
    let user = app
        .admin(
            Method::POST,
            "/shop/users",
            Some(json!({
                "username": "ann", "enabled": true, "firstName": "Ann", "lastName": "Lee",
                "email": "ann@shop.test",
                "credentials": [{"type": "password", "value": "pw", "temporary": false}],
            })),
        )
        .await;
    assert_eq!(user.status(), 201);
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(&format!("{BASE}{path}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Status, content type and JSON body of an answer.
async fn answer(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.json().await.unwrap_or(Value::Null))
}

async fn tokens(app: &TestApp, client: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", "ann"),
        ("password", "pw"),
    ];
    form.extend_from_slice(client);
    let response = post(app, "/token", &form).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn oauth_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

const WEB: [(&str, &str); 2] = [("client_id", "web"), ("client_secret", "s3cret")];
const SPA: [(&str, &str); 1] = [("client_id", "spa")];

#[tokio::test]
async fn logout_by_post_answers_as_recorded() {
    let app = spawn_app().await;
    shop(&app).await;
    let (status, kind, body) = answer(post(&app, "/logout", &[("refresh_token", "x")]).await).await;
    assert_eq!(status, 401);
    assert!(kind.starts_with("application/json"), "{kind}");
    assert_eq!(
        body,
        oauth_error(
            "invalid_client",
            "Invalid client or Invalid client credentials"
        )
    );

    let mut form = WEB.to_vec();
    form.push(("refresh_token", "not-a-token"));
    let (status, _, body) = answer(post(&app, "/logout", &form).await).await;
    assert_eq!(status, 400);
    assert_eq!(body, oauth_error("invalid_grant", "Invalid refresh token"));

    let form = [("client_id", "web"), ("refresh_token", "x")];
    let (status, _, body) = answer(post(&app, "/logout", &form).await).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        oauth_error(
            "unauthorized_client",
            "Invalid client or Invalid client credentials"
        )
    );

    let response = app
        .client
        .get(app.url(&format!("{BASE}/logout?id_token_hint=not-a-token")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
    let page = response.text().await.unwrap();
    assert!(page.contains("Invalid parameter: id_token_hint"), "{page}");

    let spa = tokens(&app, &SPA).await;
    let mut form = WEB.to_vec();
    form.push(("refresh_token", spa["refresh_token"].as_str().unwrap()));
    let (status, _, body) = answer(post(&app, "/logout", &form).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        oauth_error(
            "invalid_grant",
            "Invalid refresh token. Token client and authorized client don't match"
        )
    );

    let web = tokens(&app, &WEB).await;
    let mut form = WEB.to_vec();
    form.push(("refresh_token", web["refresh_token"].as_str().unwrap()));
    let response = post(&app, "/logout", &form).await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(
        response.headers()["content-security-policy"],
        "frame-src 'self'; frame-ancestors 'self'; object-src 'none';"
    );
    let mut form = WEB.to_vec();
    form.push(("refresh_token", web["refresh_token"].as_str().unwrap()));
    form.push(("grant_type", "refresh_token"));
    let (status, _, body) = answer(post(&app, "/token", &form).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, oauth_error("invalid_grant", "Session not active"));
}

#[tokio::test]
async fn introspection_and_revocation_answer_as_recorded() {
    let app = spawn_app().await;
    shop(&app).await;
    let (status, _, body) = answer(post(&app, "/token/introspect", &[("token", "x")]).await).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        oauth_error(
            "invalid_client",
            "Invalid client or Invalid client credentials"
        )
    );
    let mut form = SPA.to_vec();
    form.push(("token", "x"));
    let (status, _, body) = answer(post(&app, "/token/introspect", &form).await).await;
    assert_eq!(status, 403);
    assert_eq!(body, oauth_error("invalid_request", "Client not allowed."));

    let mut form = WEB.to_vec();
    form.push(("token", "not-a-token"));
    let (status, _, body) = answer(post(&app, "/token/introspect", &form).await).await;
    assert_eq!((status, body), (200, json!({"active": false})));

    let (status, _, body) = answer(post(&app, "/revoke", &form).await).await;
    assert_eq!(status, 200);
    assert_eq!(body, oauth_error("invalid_token", "Invalid token"));

    let spa = tokens(&app, &SPA).await;
    let mut form = SPA.to_vec();
    form.push(("token", spa["access_token"].as_str().unwrap()));
    form.push(("token_type_hint", "access_token"));
    let response = post(&app, "/revoke", &form).await;
    assert_eq!(response.status(), 200, "a public client may revoke");
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(
        response.headers()["content-security-policy"],
        "frame-src 'self'; frame-ancestors 'self'; object-src 'none';"
    );
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn unknown_realms_and_protocols_answer_as_recorded() {
    let app = spawn_app().await;
    shop(&app).await;
    let (status, _, body) = answer(post(&app, "/token", &WEB).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        oauth_error("invalid_request", "Missing form parameter: grant_type")
    );
    for path in [
        "/realms/nosuch/protocol/openid-connect/certs",
        "/realms/nosuch/protocol/openid-connect/logout",
        "/realms/nosuch/protocol/nosuchproto",
        "/realms/nosuch/.well-known/openid-configuration",
        "/realms/nosuch",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let (status, kind, body) = answer(response).await;
        assert_eq!(status, 404, "{path}");
        assert!(kind.starts_with("application/json"), "{path}: {kind}");
        assert_eq!(body, json!({"error": "Realm does not exist"}), "{path}");
    }
    let response = app
        .client
        .get(app.url("/realms/shop/protocol/nosuchproto"))
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(response).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": "Protocol not found"}));
    let response = app
        .client
        .get(app.url(&format!("{BASE}/nosuchsub")))
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(response).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": "HTTP 404 Not Found"}));
}

#[tokio::test]
async fn userinfo_and_introspection_carry_keycloaks_cache_headers() {
    let app = spawn_app().await;
    shop(&app).await;
    let mut form = WEB.to_vec();
    form.push(("scope", "openid"));
    let web = tokens(&app, &form).await;
    let access = web["access_token"].as_str().unwrap();
    let response = app
        .client
        .get(app.url(&format!("{BASE}/userinfo")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cache: Vec<_> = response
        .headers()
        .get_all("cache-control")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cache.join(", "), "no-store, no-cache");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let text = response.text().await.unwrap();
    assert!(text.starts_with("{\"sub\":"), "{text}");
    assert!(
        text.ends_with(concat!(
            r#","email_verified":false,"name":"Ann Lee","preferred_username":"ann","#,
            r#""given_name":"Ann","family_name":"Lee","email":"ann@shop.test"}"#
        )),
        "{text}"
    );

    let plain = tokens(&app, &WEB).await;
    let response = app
        .client
        .get(app.url(&format!("{BASE}/userinfo")))
        .bearer_auth(plain["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"shop\", error=\"insufficient_scope\", error_description=\"Missing openid scope\""
    );
    assert_eq!(response.headers()["cache-control"], "no-store");

    let mut form = WEB.to_vec();
    form.push(("token", web["refresh_token"].as_str().unwrap()));
    form.push(("token_type_hint", "refresh_token"));
    let response = post(&app, "/token/introspect", &form).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let text = response.text().await.unwrap();
    assert!(
        text.ends_with(
            r#""client_id":"web","username":"ann","token_type":"Refresh","active":true}"#
        ),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["token_type"], "Refresh");
    assert_eq!(body["typ"], "Refresh");
    assert_eq!(body["client_id"], "web");
    assert_eq!(body["username"], "ann");
}

#[tokio::test]
async fn token_and_userinfo_failures_answer_as_recorded() {
    let app = spawn_app().await;
    shop(&app).await;
    let mut form = WEB.to_vec();
    form.extend([("grant_type", "refresh_token"), ("refresh_token", "x")]);
    let response = post(&app, "/token", &form).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let (status, _, body) = answer(response).await;
    assert_eq!(status, 400);
    assert_eq!(body, oauth_error("invalid_grant", "Invalid refresh token"));

    let mut form = WEB.to_vec();
    form.push(("grant_type", "nosuch"));
    let (status, _, body) = answer(post(&app, "/token", &form).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        oauth_error("unsupported_grant_type", "Unsupported grant_type")
    );

    let response = app
        .client
        .get(app.url(&format!("{BASE}/userinfo")))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let headers = response.headers();
    assert_eq!(
        headers["www-authenticate"],
        "Bearer realm=\"shop\", error=\"invalid_token\", error_description=\"Token verification failed\""
    );
    assert_eq!(headers["content-type"], "text/plain;charset=UTF-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.get("x-frame-options").is_none());
    assert_eq!(response.text().await.unwrap(), "");
}
