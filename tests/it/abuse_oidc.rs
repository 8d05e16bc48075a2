//! Attacks on the OIDC endpoints and on the settings they read: another client's tokens,
//! duplicated parameters, redirect URIs that cannot be followed, lifespans that overflow.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{csrf_of, jwt_payload, spawn_app, TestApp};

const TOKEN: &str = "/realms/yard/protocol/openid-connect/token";
const INTROSPECT: &str = "/realms/yard/protocol/openid-connect/token/introspect";
const REVOKE: &str = "/realms/yard/protocol/openid-connect/revoke";
const AUTH: &str = "/realms/yard/protocol/openid-connect/auth";

/// Realm `yard` with confidential clients `alpha` and `beta` (secrets `alpha-s`, `beta-s`)
/// and user `ann` / `pw`.
async fn yard(app: &TestApp) {
    app.create_realm("yard").await;
    for name in ["alpha", "beta"] {
        let body = json!({"clientId": name, "publicClient": false, "secret": format!("{name}-s")});
        let response = app.admin(Method::POST, "/yard/clients", Some(body)).await;
        assert_eq!(response.status(), 201);
    }
    app.create_user("yard", "ann", "pw").await;
}

/// Tokens for `ann` issued to `client`.
async fn tokens_of(app: &TestApp, client: &str) -> Value {
    let secret = format!("{client}-s");
    let response = app
        .client
        .post(app.url(TOKEN))
        .form(&[
            ("grant_type", "password"),
            ("client_id", client),
            ("client_secret", &secret),
            ("username", "ann"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn post_as(
    app: &TestApp,
    path: &str,
    client: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .basic_auth(client, Some(format!("{client}-s")))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn introspect(app: &TestApp, client: &str, token: &str) -> Value {
    let response = post_as(app, INTROSPECT, client, &[("token", token)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Whether an access token still opens anything: ann holds no admin role, so the admin API
/// refuses a live token with 403 and a dead one with 401.
async fn access_is_live(app: &TestApp, access: &str) -> bool {
    let response = app
        .client
        .get(app.url("/admin/realms/yard/users"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    match response.status() {
        StatusCode::FORBIDDEN => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn introspection_answers_inactive_for_a_token_of_another_client() {
    let app = spawn_app().await;
    yard(&app).await;
    let tokens = tokens_of(&app, "alpha").await;
    let access = tokens["access_token"].as_str().unwrap();
    for client in ["beta", "alpha"] {
        assert_eq!(
            introspect(&app, client, access).await,
            json!({"active": false}),
            "alpha's access token seen by {client}, outside its audience"
        );
    }
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let hinted = [("token", refresh), ("token_type_hint", "refresh_token")];
    let response = post_as(&app, INTROSPECT, "beta", &hinted).await;
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"active": false}),
        "alpha's refresh token seen by beta"
    );
    let response = post_as(&app, INTROSPECT, "alpha", &hinted).await;
    assert_eq!(response.json::<Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn introspection_answers_active_for_a_token_addressed_to_the_client() {
    let app = spawn_app().await;
    yard(&app).await;
    let beta = app
        .admin(Method::GET, "/yard/clients?clientId=beta", None)
        .await
        .json::<Value>()
        .await
        .unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .admin(
            Method::POST,
            &format!("/yard/clients/{beta}/roles"),
            Some(json!({"name": "reader"})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let role: Value = app
        .admin(
            Method::GET,
            &format!("/yard/clients/{beta}/roles/reader"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let users: Value = app
        .admin(Method::GET, "/yard/users?username=ann", None)
        .await
        .json()
        .await
        .unwrap();
    let user = users[0]["id"].as_str().unwrap();
    let response = app
        .admin(
            Method::POST,
            &format!("/yard/users/{user}/role-mappings/clients/{beta}"),
            Some(json!([role])),
        )
        .await;
    assert_eq!(response.status(), 204);

    let access = tokens_of(&app, "alpha").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let aud = jwt_payload(&access)["aud"].clone();
    assert!(aud.as_array().unwrap().contains(&json!("beta")), "{aud}");
    let seen = introspect(&app, "beta", &access).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], "alpha");
}

#[tokio::test]
async fn revoking_a_token_of_another_client_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    yard(&app).await;
    let tokens = tokens_of(&app, "alpha").await;
    for kind in ["refresh_token", "access_token"] {
        let token = tokens[kind].as_str().unwrap();
        let response = post_as(&app, REVOKE, "beta", &[("token", token)]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{kind}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{kind}");
        assert_eq!(body["error_description"], "Unmatching clients", "{kind}");
    }
    assert!(access_is_live(&app, tokens["access_token"].as_str().unwrap()).await);
}

#[tokio::test]
async fn revoking_an_id_token_is_refused_as_an_unsupported_type() {
    let app = spawn_app().await;
    yard(&app).await;
    let response = app
        .client
        .post(app.url(TOKEN))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "alpha"),
            ("client_secret", "alpha-s"),
            ("username", "ann"),
            ("password", "pw"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    let tokens: Value = response.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let response = post_as(&app, REVOKE, "alpha", &[("token", id_token)]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_token_type");
    let response = post_as(&app, INTROSPECT, "alpha", &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_description"], "Token not provided.");
}

#[tokio::test]
async fn a_duplicated_parameter_is_refused_by_the_token_endpoints() {
    let app = spawn_app().await;
    yard(&app).await;
    let tokens = tokens_of(&app, "alpha").await;
    let access = tokens["access_token"].as_str().unwrap();
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        (
            TOKEN,
            vec![
                ("grant_type", "password"),
                ("username", "ann"),
                ("password", "wrong"),
                ("password", "pw"),
            ],
        ),
        (
            TOKEN,
            vec![
                ("grant_type", "password"),
                ("grant_type", "password"),
                ("username", "ann"),
                ("password", "pw"),
            ],
        ),
        (INTROSPECT, vec![("token", "x"), ("token", access)]),
        (REVOKE, vec![("token", access), ("token", access)]),
    ];
    for (path, form) in cases {
        let response = post_as(&app, path, "alpha", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{path} {form:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{path}");
        assert_eq!(body["error_description"], "duplicated parameter", "{path}");
    }
    assert!(access_is_live(&app, access).await);
}

/// Creates an OIDC client of `yard` from `body`; returns the status.
async fn create_client(app: &TestApp, body: Value) -> StatusCode {
    app.admin(Method::POST, "/yard/clients", Some(body))
        .await
        .status()
}

/// Signs `ann` in through the sign-in page for `client`, without a `redirect_uri`; returns
/// the final response.
async fn sign_in_without_redirect_uri(app: &TestApp, client: &str) -> reqwest::Response {
    let query = format!("client_id={client}&response_type=code&state=s1");
    let page = app.get(&format!("{AUTH}?{query}")).await;
    assert_eq!(page.status(), 200, "the sign-in page");
    let csrf = csrf_of(&page.text().await.unwrap());
    app.client
        .post(app.url(AUTH))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", client),
            ("response_type", "code"),
            ("state", "s1"),
            ("username", "ann"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_relative_redirect_uri_resolves_against_the_root_url() {
    let app = spawn_app().await;
    yard(&app).await;
    let body =
        json!({"clientId": "rel", "rootUrl": "https://app.example/base", "redirectUris": ["/cb"]});
    assert_eq!(create_client(&app, body).await, 201);
    let response = sign_in_without_redirect_uri(&app, "rel").await;
    assert_eq!(response.status(), 302);
    let location = location(&response);
    assert!(
        location.starts_with("https://app.example/base/cb?state=s1&"),
        "{location}"
    );
    let wrong = app
        .get(&format!(
            "{AUTH}?client_id=rel&response_type=code&redirect_uri=https://evil.example/cb"
        ))
        .await;
    assert_eq!(wrong.status(), 400);
}

#[tokio::test]
async fn a_relative_redirect_uri_without_a_root_url_resolves_against_this_server() {
    let app = spawn_app().await;
    yard(&app).await;
    assert_eq!(
        create_client(&app, json!({"clientId": "rel", "redirectUris": ["/cb"]})).await,
        201
    );
    let response = sign_in_without_redirect_uri(&app, "rel").await;
    assert_eq!(response.status(), 302);
    let location = location(&response);
    assert!(
        location.starts_with(&format!("{}/cb?state=s1&", app.address)),
        "{location}"
    );
    let unsupported = app.get(&format!("{AUTH}?client_id=rel&state=s2")).await;
    assert_eq!(unsupported.status(), 302);
    let location = self::location(&unsupported);
    assert!(
        location.starts_with(&format!(
            "{}/cb?error=unsupported_response_type&",
            app.address
        )),
        "{location}"
    );
}

#[tokio::test]
async fn redirect_uris_that_cannot_be_followed_are_refused_when_written() {
    let app = spawn_app().await;
    yard(&app).await;
    for body in [
        json!({"clientId": "c1", "redirectUris": ["javascript:alert(1)"]}),
        json!({"clientId": "c2", "redirectUris": ["not a uri"]}),
        json!({"clientId": "c3", "redirectUris": ["https://app.example/cb#fragment"]}),
        json!({"clientId": "c4", "redirectUris": ["cb"]}),
        json!({"clientId": "c5", "rootUrl": "javascript:alert(1)//", "redirectUris": ["/cb"]}),
        json!({"clientId": "c6", "rootUrl": "/relative", "redirectUris": ["/cb"]}),
    ] {
        let response = app
            .admin(Method::POST, "/yard/clients", Some(body.clone()))
            .await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        let message = error["errorMessage"].as_str().unwrap_or_default();
        assert!(
            message.contains("URI") || message.contains("Root URL"),
            "{error}"
        );
    }
    assert_eq!(
        create_client(&app, json!({"clientId": "ok", "redirectUris": ["https://app.example/*", "/cb", "com.example.app:/cb"]})).await,
        201
    );
}

/// The realm's settings, as the admin API returns them.
async fn realm_settings(app: &TestApp) -> Value {
    app.admin(Method::GET, "/yard", None)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn lifespans_out_of_range_are_refused_when_written() {
    let app = spawn_app().await;
    yard(&app).await;
    let before = realm_settings(&app).await;
    for field in [
        "accessTokenLifespan",
        "ssoSessionIdleTimeout",
        "ssoSessionMaxLifespan",
        "offlineSessionIdleTimeout",
        "waitIncrementSeconds",
        "maxFailureWaitSeconds",
        "minimumQuickLoginWaitSeconds",
        "maxDeltaTimeSeconds",
    ] {
        for value in [i64::MAX, 315_360_001, -1] {
            let response = app
                .admin(Method::PUT, "/yard", Some(json!({ field: value })))
                .await;
            assert_eq!(response.status(), 400, "{field} = {value}");
            let error: Value = response.json().await.unwrap();
            assert!(
                error["errorMessage"]
                    .as_str()
                    .is_some_and(|m| m.contains(field)),
                "{error}"
            );
        }
    }
    assert_eq!(realm_settings(&app).await, before, "nothing was written");
    // An access token never outlives its session, as in Keycloak: both are ten years here.
    let ten_years =
        json!({"accessTokenLifespan": 315_360_000, "ssoSessionMaxLifespan": 315_360_000});
    let response = app.admin(Method::PUT, "/yard", Some(ten_years)).await;
    assert_eq!(response.status(), 204);
    let access = tokens_of(&app, "alpha").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = jwt_payload(&access);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        315_360_000
    );
}

#[tokio::test]
async fn a_stored_lifespan_too_large_for_the_calendar_never_expires_tokens_at_issue() {
    let app = spawn_app().await;
    yard(&app).await;
    let behind_the_api = app.raw_db().await;
    sqlx::query(
        "UPDATE realm SET access_token_lifespan = $1, sso_session_idle_timeout = $1 \
         WHERE name = 'yard'",
    )
    .bind(i64::MAX)
    .execute(&behind_the_api)
    .await
    .unwrap();
    // A write through the server makes it read the realm again.
    app.create_user("yard", "bob", "pw").await;
    let tokens = tokens_of(&app, "alpha").await;
    for kind in ["access_token", "refresh_token"] {
        let claims = jwt_payload(tokens[kind].as_str().unwrap());
        assert!(
            claims["exp"].as_i64().unwrap() >= claims["iat"].as_i64().unwrap(),
            "{kind}: {claims}"
        );
    }
    let access = tokens["access_token"].as_str().unwrap();
    assert!(access_is_live(&app, access).await);
}

#[tokio::test]
async fn a_token_minted_by_a_clock_an_hour_behind_is_expired() {
    let app = spawn_app().await;
    yard(&app).await;
    app.clock.shift(-3600);
    let access = tokens_of(&app, "alpha").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.shift(3600);
    assert_eq!(
        introspect(&app, "alpha", &access).await,
        json!({"active": false})
    );
}
