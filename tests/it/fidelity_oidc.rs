//! OIDC tokens and answers as Keycloak 26 gives them: claims, lifespans, key order, error
//! wording, userinfo challenges, security headers, discovery and JWKS.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{jwt_payload, location_id, spawn_app, TestApp};

const TOKEN: &str = "/realms/shop/protocol/openid-connect/token";
const USERINFO: &str = "/realms/shop/protocol/openid-connect/userinfo";

/// Realm `shop`: confidential `web` (secret `s3cret`, web origins `+`), confidential `svc`
/// with a service account, public `spa`, client `api` with role `read`, and user `ann` / `pw`
/// (Ann Lee, ann@shop.test) holding `api`'s `read`.
async fn shop(app: &TestApp) -> String {
    app.create_realm("shop").await;
    for body in [
        json!({"clientId": "web", "publicClient": false, "secret": "s3cret",
               "redirectUris": ["http://app.test/*"], "webOrigins": ["+", "https://extra.test"]}),
        json!({"clientId": "svc", "publicClient": false, "secret": "svc-secret",
               "serviceAccountsEnabled": true}),
        json!({"clientId": "spa", "publicClient": true}),
        json!({"clientId": "noop", "publicClient": false, "secret": "n",
               "directAccessGrantsEnabled": false}),
    ] {
        let response = app.admin(Method::POST, "/shop/clients", Some(body)).await;
        assert_eq!(response.status(), 201);
    }
    let api = app
        .admin(
            Method::POST,
            "/shop/clients",
            Some(json!({"clientId": "api", "publicClient": false, "secret": "a"})),
        )
        .await;
    let api = location_id(&api);
    let response = app
        .admin(
            Method::POST,
            &format!("/shop/clients/{api}/roles"),
            Some(json!({"name": "read"})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let role: Value = app
        .admin(
            Method::GET,
            &format!("/shop/clients/{api}/roles/read"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
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
    let user = location_id(&user);
    let response = app
        .admin(
            Method::POST,
            &format!("/shop/users/{user}/role-mappings/clients/{api}"),
            Some(json!([role])),
        )
        .await;
    assert_eq!(response.status(), 204);
    user
}

async fn post_token(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(TOKEN))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn ann_tokens(app: &TestApp, scope: Option<&str>) -> Value {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", "web"),
        ("client_secret", "s3cret"),
        ("username", "ann"),
        ("password", "pw"),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = post_token(app, &form).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Status and body of a failed token request.
async fn token_error(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let response = post_token(app, form).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn oauth_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

#[tokio::test]
async fn access_tokens_carry_keycloaks_claims() {
    let app = spawn_app().await;
    let ann = shop(&app).await;
    let body = ann_tokens(&app, Some("openid")).await;
    let access = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(
        access["aud"],
        json!(["account", "api"]),
        "the clients whose roles it carries: account by the default roles, api by ann's"
    );
    assert_eq!(access["azp"], "web");
    assert_eq!(access["typ"], "Bearer");
    assert_eq!(access["sub"], ann.as_str());
    assert_eq!(access["acr"], "1", "a fresh login");
    assert_eq!(
        access["allowed-origins"],
        json!(["http://app.test", "https://extra.test"])
    );
    assert_eq!(access["resource_access"]["api"]["roles"], json!(["read"]));
    assert_eq!(access["scope"], "openid email profile");
    assert_eq!(access["sid"], body["session_state"]);
    assert!(
        access.get("session_state").is_none(),
        "Keycloak 26 dropped it"
    );
    assert_eq!(access["preferred_username"], "ann");
    assert_eq!(access["email_verified"], false);
    assert_eq!(access["name"], "Ann Lee");
    assert_eq!(access["given_name"], "Ann");
    assert_eq!(access["family_name"], "Lee");
    assert_eq!(access["email"], "ann@shop.test");
    assert!(access.get("auth_time").is_none(), "no browser login");
    assert!(
        access["jti"].as_str().unwrap().starts_with("onrtro:"),
        "{access}"
    );

    let plain = ann_tokens(&app, None).await;
    assert_eq!(plain["scope"], "email profile");
    assert!(plain.get("id_token").is_none());
    let access = jwt_payload(plain["access_token"].as_str().unwrap());
    assert_eq!(access["scope"], "email profile");
}

#[tokio::test]
async fn the_issuing_client_is_not_its_own_audience() {
    let app = spawn_app().await;
    shop(&app).await;
    let response = post_token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "api"),
            ("client_secret", "a"),
            ("username", "ann"),
            ("password", "pw"),
        ],
    )
    .await;
    let body: Value = response.json().await.unwrap();
    let access = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["resource_access"]["api"]["roles"], json!(["read"]));
    assert_eq!(
        access["aud"], "account",
        "one audience is a string, api left out"
    );
    assert!(access.get("allowed-origins").is_none(), "no web origins");
}

#[tokio::test]
async fn id_and_refresh_tokens_are_shaped_like_keycloaks() {
    let app = spawn_app().await;
    let ann = shop(&app).await;
    let body = ann_tokens(&app, Some("openid")).await;
    let access = jwt_payload(body["access_token"].as_str().unwrap());
    let id = jwt_payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["typ"], "ID");
    assert_eq!(id["aud"], "web");
    assert_eq!(id["azp"], "web");
    assert_eq!(id["sub"], ann.as_str());
    assert_eq!(id["acr"], "1");
    assert_eq!(id["sid"], body["session_state"]);
    assert!(id.get("auth_time").is_none(), "a password grant has none");
    assert!(access.get("auth_time").is_none());
    assert_eq!(id["at_hash"].as_str().unwrap().len(), 22);
    let refresh = jwt_payload(body["refresh_token"].as_str().unwrap());
    assert_eq!(refresh["typ"], "Refresh");
    assert_eq!(refresh["azp"], "web");
    assert_eq!(refresh["sid"], body["session_state"]);
    assert_eq!(refresh["scope"], "openid email profile");
    assert_eq!(refresh["aud"], access["iss"]);
}

#[tokio::test]
async fn the_token_response_keeps_keycloaks_key_order_and_cache_headers() {
    let app = spawn_app().await;
    shop(&app).await;
    let response = post_token(
        &app,
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
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let text = response.text().await.unwrap();
    let keys = [
        "access_token",
        "expires_in",
        "refresh_expires_in",
        "refresh_token",
        "token_type",
        "id_token",
        "not-before-policy",
        "session_state",
        "scope",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).expect(k))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["refresh_expires_in"], 1800);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["not-before-policy"], 0);
}

#[tokio::test]
async fn service_account_tokens_have_no_session_and_no_refresh_token() {
    let app = spawn_app().await;
    shop(&app).await;
    let response = post_token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", "svc-secret"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("session_state").is_none(), "{body}");
    assert_eq!(body["refresh_expires_in"], 0);
    assert_eq!(body["scope"], "email profile");
    let access_token = body["access_token"].as_str().unwrap();
    let access = jwt_payload(access_token);
    assert!(access.get("sid").is_none(), "{access}");
    assert_eq!(access["preferred_username"], "service-account-svc");
    assert_eq!(access["client_id"], "svc");
    assert_eq!(access["clientHost"], "127.0.0.1");
    assert_eq!(access["clientAddress"], "127.0.0.1");
    assert_eq!(access["acr"], "1");
    assert_eq!(access["azp"], "svc");
    assert!(access["jti"].as_str().unwrap().starts_with("trrtcc:"));
    assert_eq!(access["aud"], "account", "by the default roles: {access}");

    // The service account holds no admin role: the admin API refuses its live token with 403
    // and a dead one with 401. (Introspection would not tell: Keycloak 26.7 shows an access
    // token only to clients in its audience, never to the client it was issued to.)
    let admin_status = || async {
        app.client
            .get(app.url("/admin/realms/shop/users"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(admin_status().await, 403, "the token stays verifiable");
    let revoked = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/revoke"))
        .basic_auth("svc", Some("svc-secret"))
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(admin_status().await, 401, "and revocable");
}

#[tokio::test]
async fn a_client_can_ask_for_a_refresh_token_with_client_credentials() {
    let app = spawn_app().await;
    shop(&app).await;
    let clients: Value = app
        .admin(Method::GET, "/shop/clients?clientId=svc", None)
        .await
        .json()
        .await
        .unwrap();
    let svc = clients[0]["id"].as_str().unwrap();
    let attributes = json!({"attributes": {"client_credentials.use_refresh_token": "true"}});
    let response = app
        .admin(
            Method::PUT,
            &format!("/shop/clients/{svc}"),
            Some(attributes),
        )
        .await;
    assert_eq!(response.status(), 204);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "svc"),
        ("client_secret", "svc-secret"),
    ];
    let body: Value = post_token(&app, &form).await.json().await.unwrap();
    let refresh = body["refresh_token"].as_str().expect("a refresh token");
    assert!(body["session_state"].is_string(), "{body}");
    let refreshed = post_token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "svc"),
            ("client_secret", "svc-secret"),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(refreshed.status(), 200);
    let body: Value = refreshed.json().await.unwrap();
    let access = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["sid"], body["session_state"], "a kept session shows");
    assert_eq!(access["client_id"], "svc");
}

#[tokio::test]
async fn lifespans_come_from_the_client_then_the_realm() {
    let app = spawn_app().await;
    shop(&app).await;
    let admin = jwt_payload(&app.admin_token().await);
    let audience = admin["aud"].as_array().cloned().unwrap_or_default();
    assert!(audience.contains(&json!("master-realm")), "{admin}");
    assert_eq!(
        admin["exp"].as_i64().unwrap() - admin["iat"].as_i64().unwrap(),
        60,
        "master's access tokens live a minute"
    );
    let master: Value = app
        .admin(Method::GET, "/master", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(master["accessTokenLifespan"], 60);

    let clients: Value = app
        .admin(Method::GET, "/shop/clients?clientId=web", None)
        .await
        .json()
        .await
        .unwrap();
    let web = clients[0]["id"].as_str().unwrap();
    let attributes = json!({"attributes": {
        "access.token.lifespan": "120",
        "client.session.idle.timeout": "600",
    }});
    let response = app
        .admin(
            Method::PUT,
            &format!("/shop/clients/{web}"),
            Some(attributes),
        )
        .await;
    assert_eq!(response.status(), 204);
    let body = ann_tokens(&app, None).await;
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["refresh_expires_in"], 600, "the client's idle timeout");
    let access = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        120
    );
}

#[tokio::test]
async fn refresh_failures_are_worded_as_keycloaks() {
    let app = spawn_app().await;
    let ann = shop(&app).await;
    let refresh_with = |client: &'static str, secret: &'static str, token: String| {
        let app = &app;
        async move {
            token_error(
                app,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", client),
                    ("client_secret", secret),
                    ("refresh_token", token.as_str()),
                ],
            )
            .await
        }
    };
    let garbage = refresh_with("web", "s3cret", "garbage".into()).await;
    assert_eq!(
        garbage,
        (400, oauth_error("invalid_grant", "Invalid refresh token"))
    );
    let body = ann_tokens(&app, None).await;
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        refresh_with("web", "s3cret", access).await,
        (400, oauth_error("invalid_grant", "Invalid refresh token")),
        "an access token is no refresh token"
    );
    assert_eq!(
        refresh_with("api", "a", refresh.clone()).await,
        (
            400,
            oauth_error(
                "invalid_grant",
                "Invalid refresh token. Token client and authorized client don't match"
            )
        )
    );
    let renewed = post_token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("refresh_token", refresh.as_str()),
        ],
    )
    .await;
    assert_eq!(renewed.status(), 200);
    let renewed: Value = renewed.json().await.unwrap();
    assert_eq!(
        refresh_with("web", "s3cret", refresh).await,
        (
            400,
            oauth_error(
                "invalid_grant",
                "Maximum allowed refresh token reuse exceeded"
            )
        ),
        "a spent refresh token"
    );

    let next = renewed["refresh_token"].as_str().unwrap().to_owned();
    let disabled = app
        .admin(
            Method::PUT,
            &format!("/shop/users/{ann}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(disabled.status(), 204);
    assert_eq!(
        refresh_with("web", "s3cret", next).await,
        (400, oauth_error("invalid_grant", "Session not active"))
    );
}

#[tokio::test]
async fn a_refresh_after_logout_or_expiry_answers_as_keycloak() {
    let app = spawn_app().await;
    shop(&app).await;
    let body = ann_tokens(&app, None).await;
    let refresh = body["refresh_token"].as_str().unwrap();
    let logout = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/logout"))
        .form(&[
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("refresh_token", refresh),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "web"),
        ("client_secret", "s3cret"),
        ("refresh_token", refresh),
    ];
    assert_eq!(
        token_error(&app, &form).await,
        (400, oauth_error("invalid_grant", "Session not active"))
    );

    let body = ann_tokens(&app, None).await;
    let users: Value = app
        .admin(Method::GET, "/shop/users?username=ann&exact=true", None)
        .await
        .json()
        .await
        .unwrap();
    let ann = users[0]["id"].as_str().unwrap();
    let ended = app
        .admin(Method::POST, &format!("/shop/users/{ann}/logout"), None)
        .await;
    assert_eq!(ended.status(), 204);
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "web"),
        ("client_secret", "s3cret"),
        ("refresh_token", body["refresh_token"].as_str().unwrap()),
    ];
    assert_eq!(
        token_error(&app, &form).await,
        (400, oauth_error("invalid_grant", "Session not active")),
        "an admin ended the sessions"
    );

    app.clock.shift(-3600);
    let old = ann_tokens(&app, None).await;
    app.clock.shift(3600);
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "web"),
        ("client_secret", "s3cret"),
        ("refresh_token", old["refresh_token"].as_str().unwrap()),
    ];
    assert_eq!(
        token_error(&app, &form).await,
        (400, oauth_error("invalid_grant", "Token is not active"))
    );
    let missing = [
        ("grant_type", "refresh_token"),
        ("client_id", "web"),
        ("client_secret", "s3cret"),
    ];
    assert_eq!(
        token_error(&app, &missing).await,
        (400, oauth_error("invalid_request", "No refresh token"))
    );
}

#[tokio::test]
async fn token_endpoint_errors_have_keycloaks_status_and_words() {
    let app = spawn_app().await;
    let ann = shop(&app).await;
    let password = |client: &'static str, secret: &'static str, user: &'static str, pw| {
        vec![
            ("grant_type", "password"),
            ("client_id", client),
            ("client_secret", secret),
            ("username", user),
            ("password", pw),
        ]
    };
    let invalid_user = (
        400,
        oauth_error("invalid_grant", "Invalid user credentials"),
    );
    assert_eq!(
        token_error(&app, &password("web", "s3cret", "ann", "no")).await,
        invalid_user
    );
    assert_eq!(
        token_error(&app, &password("web", "s3cret", "nobody", "no")).await,
        invalid_user
    );
    let bad_client = oauth_error(
        "invalid_client",
        "Invalid client or Invalid client credentials",
    );
    let bad_secret = oauth_error(
        "unauthorized_client",
        "Invalid client or Invalid client credentials",
    );
    assert_eq!(
        token_error(&app, &password("web", "nope", "ann", "pw")).await,
        (401, bad_secret.clone())
    );
    assert_eq!(
        token_error(
            &app,
            &[
                ("grant_type", "password"),
                ("client_id", "web"),
                ("username", "ann"),
                ("password", "pw"),
            ]
        )
        .await,
        (401, bad_secret),
        "a confidential client without its secret"
    );
    assert_eq!(
        token_error(&app, &password("ghost", "x", "ann", "pw")).await,
        (401, bad_client)
    );
    assert_eq!(
        token_error(&app, &[("grant_type", "password")]).await,
        (
            400,
            oauth_error("invalid_client", "Missing client_id parameter")
        )
    );
    assert_eq!(
        token_error(&app, &[("grant_type", "implicit"), ("client_id", "web")]).await,
        (
            400,
            oauth_error("unsupported_grant_type", "Unsupported grant_type")
        )
    );
    assert_eq!(
        token_error(&app, &[("client_id", "web")]).await,
        (
            400,
            oauth_error("invalid_request", "Missing form parameter: grant_type")
        )
    );
    assert_eq!(
        token_error(&app, &password("noop", "n", "ann", "pw")).await,
        (
            400,
            oauth_error(
                "unauthorized_client",
                "Client not allowed for direct access grants"
            )
        )
    );
    assert_eq!(
        token_error(
            &app,
            &[("grant_type", "client_credentials"), ("client_id", "spa")]
        )
        .await,
        (
            401,
            oauth_error(
                "unauthorized_client",
                "Public client not allowed to retrieve service account"
            )
        )
    );
    assert_eq!(
        token_error(
            &app,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "web"),
                ("client_secret", "s3cret"),
            ]
        )
        .await,
        (
            401,
            oauth_error(
                "unauthorized_client",
                "Client not enabled to retrieve service account"
            )
        )
    );
    let disabled = app
        .admin(
            Method::PUT,
            &format!("/shop/users/{ann}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(disabled.status(), 204);
    assert_eq!(
        token_error(&app, &password("web", "s3cret", "ann", "pw")).await,
        (400, oauth_error("invalid_grant", "Account disabled"))
    );
    let negotiate = app
        .client
        .post(app.url(TOKEN))
        .header("Authorization", "Negotiate abc")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(negotiate.status(), 401);
    assert_eq!(
        negotiate.headers()["www-authenticate"],
        "Basic realm=\"shop\""
    );
    let mut unknown = password("web", "s3cret", "ann", "pw");
    unknown.push(("scope", "openid foo"));
    assert_eq!(
        token_error(&app, &unknown).await,
        (
            400,
            oauth_error("invalid_scope", "Invalid scopes: openid foo")
        )
    );
    let realm_off = app
        .admin(Method::PUT, "/shop", Some(json!({"enabled": false})))
        .await;
    assert_eq!(realm_off.status(), 204);
    assert_eq!(
        token_error(&app, &password("web", "s3cret", "ann", "pw")).await,
        (403, oauth_error("access_denied", "Realm not enabled"))
    );
}

#[tokio::test]
async fn userinfo_challenges_as_keycloak_does() {
    let app = spawn_app().await;
    shop(&app).await;
    let none = app.get(USERINFO).await;
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer realm=\"shop\"");
    assert!(none.text().await.unwrap().is_empty());

    let bad = app
        .client
        .get(app.url(USERINFO))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.headers()["www-authenticate"],
        "Bearer realm=\"shop\", error=\"invalid_token\", error_description=\"Token verification failed\""
    );
    assert!(bad.text().await.unwrap().is_empty());

    let plain = ann_tokens(&app, None).await;
    let narrow = app
        .client
        .get(app.url(USERINFO))
        .bearer_auth(plain["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(narrow.status(), 403);
    assert!(narrow.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"insufficient_scope\""));

    let openid = ann_tokens(&app, Some("openid")).await;
    let info: Value = app
        .client
        .get(app.url(USERINFO))
        .bearer_auth(openid["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["preferred_username"], "ann");
    assert_eq!(info["email"], "ann@shop.test");
    let by_form: Value = app
        .client
        .post(app.url(USERINFO))
        .form(&[("access_token", openid["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_form["sub"], info["sub"], "the token as a form field");

    let logout = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/logout"))
        .form(&[
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("refresh_token", openid["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let ended = app
        .client
        .get(app.url(USERINFO))
        .bearer_auth(openid["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 401);
    assert_eq!(
        ended.headers()["www-authenticate"],
        "Bearer realm=\"shop\", error=\"invalid_token\", error_description=\"user_session_not_found\""
    );
}

#[tokio::test]
async fn single_sign_on_tokens_say_acr_zero() {
    let app = spawn_app().await;
    shop(&app).await;
    let query = "client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code&scope=openid&state=s";
    let page = app
        .get(&format!(
            "/realms/shop/protocol/openid-connect/auth?{query}"
        ))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = crate::helpers::csrf_of(&html);
    let response = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/auth"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", "web"),
            ("redirect_uri", "http://app.test/cb"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("username", "ann"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let fresh = exchange(&app, &response).await;
    assert_eq!(
        jwt_payload(fresh["access_token"].as_str().unwrap())["acr"],
        "1"
    );
    assert_eq!(jwt_payload(fresh["id_token"].as_str().unwrap())["acr"], "1");

    let again = app
        .get(&format!(
            "/realms/shop/protocol/openid-connect/auth?{query}"
        ))
        .await;
    assert_eq!(again.status(), 302, "single sign-on");
    let sso = exchange(&app, &again).await;
    assert_eq!(
        jwt_payload(sso["access_token"].as_str().unwrap())["acr"],
        "0"
    );
    assert_eq!(jwt_payload(sso["id_token"].as_str().unwrap())["acr"], "0");
    let refreshed: Value = post_token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("refresh_token", sso["refresh_token"].as_str().unwrap()),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let access = jwt_payload(refreshed["access_token"].as_str().unwrap());
    assert_eq!(access["acr"], "0", "a refresh keeps the login's acr");
    let login_time = jwt_payload(fresh["id_token"].as_str().unwrap())["auth_time"].clone();
    assert!(login_time.is_i64(), "a browser login has an auth_time");
    assert_eq!(
        jwt_payload(sso["access_token"].as_str().unwrap())["auth_time"],
        login_time
    );
    assert_eq!(access["auth_time"], login_time, "and a refresh keeps it");
}

/// Trades the code of an authorization redirect for tokens.
async fn exchange(app: &TestApp, redirect: &reqwest::Response) -> Value {
    let location = redirect.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let response = post_token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
            ("code", code.as_str()),
            ("redirect_uri", "http://app.test/cb"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_answer_carries_keycloaks_security_headers() {
    let app = spawn_app().await;
    shop(&app).await;
    let json_answer = post_token(&app, &[("grant_type", "password")]).await;
    let headers = json_answer.headers();
    assert_eq!(headers["x-frame-options"], "SAMEORIGIN");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "HSTS over plain HTTP (production_tls checks it over HTTPS)"
    );
    assert_eq!(headers["x-robots-tag"], "none");
    assert!(headers.get("content-security-policy").is_none());

    let discovery = app
        .get("/realms/shop/.well-known/openid-configuration")
        .await;
    assert_eq!(discovery.headers()["x-robots-tag"], "none");
    let missing = app.get("/no/such/path").await;
    assert_eq!(missing.headers()["x-content-type-options"], "nosniff");

    let login = app
        .get("/realms/shop/protocol/openid-connect/auth?client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code")
        .await;
    assert_eq!(login.status(), 200);
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("frame-src 'self'; frame-ancestors 'self'; object-src 'none';"),
        "{csp}"
    );
    assert_eq!(login.headers()["x-frame-options"], "SAMEORIGIN");
    assert_eq!(login.headers()["referrer-policy"], "no-referrer");

    let console = app.get("/admin/master/console/signin").await;
    let csp = console.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'"),
        "the console keeps its own: {csp}"
    );
    assert_eq!(console.headers()["x-frame-options"], "DENY");
    assert_eq!(console.headers()["x-robots-tag"], "none");
}

#[tokio::test]
async fn discovery_and_jwks_match_keycloaks_documents() {
    let app = spawn_app().await;
    let text = app
        .get("/realms/master/.well-known/openid-configuration")
        .await
        .text()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let issuer = format!("{}/realms/master", app.address);
    assert_eq!(body["issuer"], issuer.as_str());
    assert!(
        text.starts_with("{\"issuer\":"),
        "issuer first, as Keycloak"
    );
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
        "end_session_endpoint",
        "frontchannel_logout_session_supported",
        "frontchannel_logout_supported",
        "jwks_uri",
        "grant_types_supported",
        "acr_values_supported",
        "response_types_supported",
        "subject_types_supported",
        "prompt_values_supported",
        "id_token_signing_alg_values_supported",
        "userinfo_signing_alg_values_supported",
        "response_modes_supported",
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "claims_supported",
        "claim_types_supported",
        "claims_parameter_supported",
        "scopes_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "code_challenge_methods_supported",
        "tls_client_certificate_bound_access_tokens",
        "revocation_endpoint",
        "revocation_endpoint_auth_methods_supported",
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
        "require_pushed_authorization_requests",
        "authorization_response_iss_parameter_supported",
    ] {
        assert!(body.get(key).is_some(), "{key}");
    }
    assert_eq!(body["acr_values_supported"], json!(["0", "1"]));
    assert!(body["claims_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("acr")));

    let jwks: Value = app
        .get("/realms/master/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    for field in [
        "kid", "kty", "alg", "use", "n", "e", "x5c", "x5t", "x5t#S256",
    ] {
        assert!(key.get(field).is_some(), "{field}");
    }
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(key["x5c"][0].as_str().unwrap())
        .unwrap();
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let b64 = |d: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d);
    assert_eq!(key["x5t"], b64(sha1.as_ref()).as_str());
    assert_eq!(key["x5t#S256"], b64(sha256.as_ref()).as_str());
}

#[tokio::test]
async fn code_exchange_failures_are_worded_as_keycloaks() {
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let app = spawn_app().await;
    shop(&app).await;
    let query = format!(
        "client_id=web&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code\
         &code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let auth = format!("/realms/shop/protocol/openid-connect/auth?{query}");
    let refused = app.get(&format!("{auth}&scope=openid%20foo")).await;
    assert_eq!(refused.status(), 302);
    let location = refused.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("error=invalid_scope")
            && location.contains("error_description=Invalid+scopes%3A+openid+foo"),
        "{location}"
    );
    let html = app.get(&auth).await.text().await.unwrap();
    let csrf = crate::helpers::csrf_of(&html);
    let signed_in = app
        .client
        .post(app.url("/realms/shop/protocol/openid-connect/auth"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", "web"),
            ("redirect_uri", "http://app.test/cb"),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("username", "ann"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 302);
    let mut redirect = signed_in;
    let cases = [
        ("web", "s3cret", None, "PKCE code verifier not specified"),
        (
            "web",
            "s3cret",
            Some("too-short"),
            "PKCE verification failed: Invalid code verifier",
        ),
        (
            "web",
            "s3cret",
            Some("a-well-formed-verifier-that-is-not-the-right-one"),
            "PKCE verification failed: Code mismatch",
        ),
        (
            "api",
            "a",
            None,
            "Auth error: Found different client_id in clientSession",
        ),
    ];
    for (client, secret, verifier, description) in cases {
        let location = redirect.headers()["location"].to_str().unwrap();
        let code = url::Url::parse(location)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("a code");
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("client_secret", secret),
            ("code", code.as_str()),
            ("redirect_uri", "http://app.test/cb"),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        assert_eq!(
            token_error(&app, &form).await,
            (400, oauth_error("invalid_grant", description)),
            "{description}"
        );
        let reused = token_error(&app, &form).await;
        assert_eq!(
            reused,
            (400, oauth_error("invalid_grant", "Code not valid"))
        );
        redirect = app.get(&auth).await;
        assert_eq!(redirect.status(), 302, "single sign-on gives the next code");
    }
}
