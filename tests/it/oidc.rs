//! OIDC at the HTTP level: discovery, grants, userinfo, introspection, revocation, logout and
//! the code flow with PKCE through the sign-in page.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{location_id, spawn_app, TestApp};

/// Realm `shop` with a confidential client `web` (secret `s3cret`, redirect
/// `http://app.test/cb`), a service-account client `robot`, and user `ann` / `pw`.
async fn shop(app: &TestApp) -> String {
    app.create_realm("shop").await;
    for body in [
        json!({"clientId": "web", "publicClient": false, "secret": "s3cret", "redirectUris": ["http://app.test/cb"]}),
        json!({"clientId": "robot", "publicClient": false, "secret": "r0bot", "serviceAccountsEnabled": true}),
    ] {
        let response = app.admin(Method::POST, "/shop/clients", Some(body)).await;
        assert_eq!(response.status(), 201);
    }
    app.create_user("shop", "ann", "pw").await
}

async fn token(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/realms/shop/protocol/openid-connect/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn password_grant(app: &TestApp) -> Value {
    let response = token(
        app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("username", "ann"),
            ("password", "pw"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn payload(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

async fn userinfo(app: &TestApp, access: &str) -> reqwest::Response {
    app.client
        .get(app.url("/realms/shop/protocol/openid-connect/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn discovery_uses_the_layout_of_the_request() {
    let app = spawn_app().await;
    for prefix in ["", "/auth"] {
        let body: Value = app
            .get(&format!(
                "{prefix}/realms/master/.well-known/openid-configuration"
            ))
            .await
            .json()
            .await
            .unwrap();
        let issuer = format!("{}{prefix}/realms/master", app.address);
        assert_eq!(body["issuer"], issuer);
        assert_eq!(
            body["token_endpoint"],
            format!("{issuer}/protocol/openid-connect/token")
        );
        assert_eq!(
            body["jwks_uri"],
            format!("{issuer}/protocol/openid-connect/certs")
        );
        assert!(body["code_challenge_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("S256")));
    }
}

#[tokio::test]
async fn the_password_grant_issues_keycloak_shaped_tokens() {
    let app = spawn_app().await;
    let user = shop(&app).await;
    let body = password_grant(&app).await;
    for key in [
        "access_token",
        "refresh_token",
        "id_token",
        "session_state",
        "scope",
    ] {
        assert!(body.get(key).is_some(), "{key} missing: {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["not-before-policy"], 0);
    let access = payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], user);
    assert_eq!(access["typ"], "Bearer");
    assert_eq!(access["azp"], "web");
    assert_eq!(access["preferred_username"], "ann");
    assert!(access["realm_access"]["roles"]
        .as_array()
        .unwrap()
        .contains(&json!("default-roles-shop")));
    assert!(
        access["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("offline_access")),
        "composites expand"
    );
    let id = payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["typ"], "ID");
    assert_eq!(id["aud"], "web");
    assert!(id["at_hash"].is_string());
}

#[tokio::test]
async fn bad_credentials_and_clients_get_oauth_errors() {
    let app = spawn_app().await;
    shop(&app).await;
    let response = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("username", "ann"),
            ("password", "no"),
        ],
    )
    .await;
    assert_eq!(
        response.status(),
        400,
        "Keycloak 26 answers wrong credentials with 400"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let response = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "nope"),
            ("username", "ann"),
            ("password", "pw"),
        ],
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    let response = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/token"))
        .basic_auth("web", Some("s3cret"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ann"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "client secret by HTTP Basic");
    let response = token(
        &app,
        &[
            ("grant_type", "implicit"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate() {
    let app = spawn_app().await;
    shop(&app).await;
    let first = password_grant(&app).await;
    let old = first["refresh_token"].as_str().unwrap();
    let response = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("refresh_token", old),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let reused = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("refresh_token", old),
        ],
    )
    .await;
    assert_eq!(reused.status(), 400);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn userinfo_introspection_and_logout() {
    let app = spawn_app().await;
    shop(&app).await;
    let body = password_grant(&app).await;
    let access = body["access_token"].as_str().unwrap();
    let info: Value = userinfo(&app, access).await.json().await.unwrap();
    assert_eq!(info["preferred_username"], "ann");
    let introspected: Value = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/token/introspect"))
        .basic_auth("web", Some("s3cret"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        introspected,
        json!({"active": false}),
        "a client is not in its own access tokens' audience"
    );
    let introspected: Value = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/token/introspect"))
        .basic_auth("web", Some("s3cret"))
        .form(&[
            ("token", body["refresh_token"].as_str().unwrap()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["username"], "ann");
    let response = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/logout"))
        .form(&[
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = userinfo(&app, access).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
}

#[tokio::test]
async fn revocation_ends_the_session() {
    let app = spawn_app().await;
    shop(&app).await;
    let body = password_grant(&app).await;
    let response = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/revoke"))
        .basic_auth("web", Some("s3cret"))
        .form(&[
            ("token", body["refresh_token"].as_str().unwrap()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        userinfo(&app, body["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_disabled_users_sessions_end() {
    let app = spawn_app().await;
    let user = shop(&app).await;
    let body = password_grant(&app).await;
    app.admin(
        Method::PUT,
        &format!("/shop/users/{user}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(
        userinfo(&app, body["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn client_credentials_use_the_service_account() {
    let app = spawn_app().await;
    shop(&app).await;
    let response = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "robot"),
            ("client_secret", "r0bot"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert_eq!(
        payload(body["access_token"].as_str().unwrap())["preferred_username"],
        "service-account-robot"
    );
    let response = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

/// Pulls `name="csrf" value="..."` out of the sign-in page.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf field")
        .to_owned()
}

async fn sign_in_page(app: &TestApp, query: &str) -> String {
    let response = app
        .get(&format!(
            "/realms/shop/protocol/openid-connect/auth?{query}"
        ))
        .await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn auth_form<'a>(csrf: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("client_id", "web"),
        ("redirect_uri", "http://app.test/cb"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "xyz"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("username", "ann"),
        ("password", password),
    ]
}

#[tokio::test]
async fn the_code_flow_with_pkce_through_the_sign_in_page() {
    let app = spawn_app().await;
    shop(&app).await;
    let query = format!("client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code&scope=openid&state=xyz&nonce=n-1&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let html = sign_in_page(&app, &query).await;
    let csrf = csrf_of(&html);
    let url = app.url("/realms/shop/protocol/openid-connect/auth");

    let wrong = app
        .client
        .post(&url)
        .form(&auth_form(&csrf, "bad"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 200);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Invalid username or password."));

    let response = app
        .client
        .post(&url)
        .form(&auth_form(&csrf, "pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with("http://app.test/cb?"));
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz");
    assert_eq!(params["iss"], format!("{}/realms/shop", app.address));
    let code = params["code"].clone();

    let exchange = |verifier: &'static str| {
        let code = code.clone();
        let app = &app;
        async move {
            token(
                app,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", "web"),
                    ("client_secret", "s3cret"),
                    ("code", &code),
                    ("redirect_uri", "http://app.test/cb"),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let response = exchange(VERIFIER).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(payload(body["id_token"].as_str().unwrap())["nonce"], "n-1");
    assert_eq!(
        exchange(VERIFIER).await.status(),
        400,
        "codes are single use"
    );
}

#[tokio::test]
async fn the_code_flow_refuses_a_wrong_verifier_and_a_missing_csrf() {
    let app = spawn_app().await;
    shop(&app).await;
    let url = app.url("/realms/shop/protocol/openid-connect/auth");
    let response = app
        .client
        .post(&url)
        .form(&auth_form("forged", "pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "a form without the CSRF cookie is shown again"
    );
    assert!(response.text().await.unwrap().contains("expired"));

    let query = format!("client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let csrf = csrf_of(&sign_in_page(&app, &query).await);
    let response = app
        .client
        .post(&url)
        .form(&auth_form(&csrf, "pw"))
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let response = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("code", &code),
            ("redirect_uri", "http://app.test/cb"),
            ("code_verifier", "not-the-verifier"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_never_followed() {
    let app = spawn_app().await;
    shop(&app).await;
    let response = app.get("/realms/shop/protocol/openid-connect/auth?client_id=web&redirect_uri=http%3A%2F%2Fevil.test%2F&response_type=code").await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn rp_initiated_logout_returns_to_a_registered_uri() {
    let app = spawn_app().await;
    shop(&app).await;
    let body = password_grant(&app).await;
    let id_token = body["id_token"].as_str().unwrap();
    let response = app
        .get(&format!("/realms/shop/protocol/openid-connect/logout?id_token_hint={id_token}&post_logout_redirect_uri=http%3A%2F%2Fapp.test%2Fcb&state=s1"))
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "http://app.test/cb?state=s1"
    );
    assert_eq!(
        userinfo(&app, body["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    let response = app
        .get("/realms/shop/protocol/openid-connect/logout?client_id=web&post_logout_redirect_uri=http%3A%2F%2Fevil.test%2F")
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_deleted_client_id_path_is_not_found() {
    let app = spawn_app().await;
    shop(&app).await;
    let response = app
        .admin(
            Method::POST,
            "/shop/clients",
            Some(json!({"clientId": "temp"})),
        )
        .await;
    let id = location_id(&response);
    assert_eq!(
        app.admin(Method::DELETE, &format!("/shop/clients/{id}"), None)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.admin(Method::GET, &format!("/shop/clients/{id}"), None)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_temporary_password_must_be_replaced_before_tokens_are_issued() {
    let app = spawn_app().await;
    let user = shop(&app).await;
    let response = app
        .admin(
            Method::PUT,
            &format!("/shop/users/{user}/reset-password"),
            Some(json!({"type": "password", "value": "temp", "temporary": true})),
        )
        .await;
    assert_eq!(response.status(), 204);
    let repr: Value = app
        .admin(Method::GET, &format!("/shop/users/{user}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repr["requiredActions"], json!(["UPDATE_PASSWORD"]));
    let response = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("username", "ann"),
            ("password", "temp"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error_description"],
        "Account is not fully set up"
    );

    let query = format!("client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let csrf = csrf_of(&sign_in_page(&app, &query).await);
    let url = app.url("/realms/shop/protocol/openid-connect/auth");
    let page = app
        .client
        .post(&url)
        .form(&auth_form(&csrf, "temp"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Update your password"), "{page}");
    let action_token = page
        .split("name=\"action_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let mut form = auth_form(&csrf, "");
    form.retain(|(k, _)| *k != "password");
    form.extend([
        ("action_token", action_token.as_str()),
        ("password-new", "fresh"),
        ("password-confirm", "other"),
    ]);
    let mismatch = app
        .client
        .post(&url)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        mismatch.contains("Passwords don&#39;t match."),
        "{mismatch}"
    );
    form.retain(|(k, _)| *k != "password-confirm");
    form.push(("password-confirm", "fresh"));
    let response = app.client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .contains("code="));
    let replayed = app
        .client
        .post(&url)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        replayed.contains("expired"),
        "the action token dies with the temporary password"
    );
    let response = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("username", "ann"),
            ("password", "fresh"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn public_clients_may_not_introspect() {
    let app = spawn_app().await;
    shop(&app).await;
    let body = password_grant(&app).await;
    let response = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/token/introspect"))
        .form(&[
            ("client_id", "admin-cli"),
            ("token", body["access_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_client_can_demand_pkce() {
    let app = spawn_app().await;
    shop(&app).await;
    let clients: Value = app
        .admin(Method::GET, "/shop/clients?clientId=web", None)
        .await
        .json()
        .await
        .unwrap();
    let id = clients[0]["id"].as_str().unwrap();
    app.admin(
        Method::PUT,
        &format!("/shop/clients/{id}"),
        Some(json!({"attributes": {"pkce.code.challenge.method": "S256"}})),
    )
    .await;
    let response = app.get("/realms/shop/protocol/openid-connect/auth?client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code&state=s").await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("error=invalid_request") && location.contains("state=s"),
        "{location}"
    );
}

#[tokio::test]
async fn users_sign_in_with_their_email_too() {
    let app = spawn_app().await;
    let user = shop(&app).await;
    app.admin(
        Method::PUT,
        &format!("/shop/users/{user}"),
        Some(json!({"email": "Ann@Example.com"})),
    )
    .await;
    let response = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("username", "ann@example.com"),
            ("password", "pw"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_disabled_account_is_told_apart_only_with_the_right_password() {
    let app = spawn_app().await;
    let user = shop(&app).await;
    app.admin(
        Method::PUT,
        &format!("/shop/users/{user}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let response = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("username", "ann"),
            ("password", "pw"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error_description"],
        "Account disabled"
    );
    let response = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("username", "ann"),
            ("password", "bad"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error_description"],
        "Invalid user credentials"
    );
}

#[tokio::test]
async fn a_signed_in_browser_gets_codes_without_the_form_until_logout() {
    let app = spawn_app().await;
    shop(&app).await;
    let query = "client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code&state=a";
    let csrf = csrf_of(&sign_in_page(&app, query).await);
    let url = app.url("/realms/shop/protocol/openid-connect/auth");
    let form = [
        ("csrf", csrf.as_str()),
        ("client_id", "web"),
        ("redirect_uri", "http://app.test/cb"),
        ("response_type", "code"),
        ("username", "ann"),
        ("password", "pw"),
    ];
    let response = app.client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let again = app
        .get(&format!(
            "/realms/shop/protocol/openid-connect/auth?{query}"
        ))
        .await;
    assert_eq!(again.status(), 302, "single sign-on skips the form");
    assert!(again.headers()["location"]
        .to_str()
        .unwrap()
        .contains("code="));
    let forced = app
        .get(&format!(
            "/realms/shop/protocol/openid-connect/auth?{query}&prompt=login"
        ))
        .await;
    assert_eq!(forced.status(), 200, "prompt=login shows the form");
    let logout = app.get("/realms/shop/protocol/openid-connect/logout").await;
    assert_eq!(logout.status(), 200);
    let page = logout.text().await.unwrap();
    let code = page
        .split("name=\"session_code\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the logout asks for a confirmation");
    let confirmed = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/logout/logout-confirm"))
        .form(&[("session_code", code), ("confirmLogout", "Logout")])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    let after = app
        .get(&format!(
            "/realms/shop/protocol/openid-connect/auth?{query}"
        ))
        .await;
    assert_eq!(after.status(), 200, "signed out: the form again");
}
