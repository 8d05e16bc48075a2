//! Introspection, revocation, logout, the realm info document and the admin session
//! endpoints, as Keycloak 26.7 answers them.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{jwt_payload, spawn_app, TestApp};

const BASE: &str = "/realms/desk/protocol/openid-connect";

/// Realm `desk`: confidential clients `app` (secret `app-s`, redirect `http://app.test/cb`)
/// and `api` (secret `api-s`), public `spa`; user `ann` / `pw` holds `api`'s role `reader`,
/// so `api` is in the audience of her access tokens. Answers (ann's id, app's and api's
/// internal ids).
async fn desk(app: &TestApp) -> (String, String, String) {
    app.create_realm("desk").await;
    let mut ids = Vec::new();
    for body in [
        json!({"clientId": "app", "publicClient": false, "secret": "app-s",
               "redirectUris": ["http://app.test/cb"]}),
        json!({"clientId": "api", "publicClient": false, "secret": "api-s"}),
        json!({"clientId": "spa", "publicClient": true, "redirectUris": ["http://spa.test/*"]}),
    ] {
        let response = app.admin(Method::POST, "/desk/clients", Some(body)).await;
        assert_eq!(response.status(), 201);
        ids.push(crate::helpers::location_id(&response));
    }
    let api = ids[1].clone();
    let response = app
        .admin(
            Method::POST,
            &format!("/desk/clients/{api}/roles"),
            Some(json!({"name": "reader"})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let role: Value = app
        .admin(
            Method::GET,
            &format!("/desk/clients/{api}/roles/reader"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let ann = app.create_user("desk", "ann", "pw").await;
    let response = app
        .admin(
            Method::POST,
            &format!("/desk/users/{ann}/role-mappings/clients/{api}"),
            Some(json!([role])),
        )
        .await;
    assert_eq!(response.status(), 204);
    (ann, ids[0].clone(), api)
}

/// A form `POST` to an endpoint of `desk`, as `client` (its secret `{client}-s`, none for
/// `spa`).
async fn post(
    app: &TestApp,
    endpoint: &str,
    client: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let secret = format!("{client}-s");
    let mut fields = vec![("client_id", client)];
    if client != "spa" {
        fields.push(("client_secret", secret.as_str()));
    }
    fields.extend_from_slice(form);
    app.client
        .post(app.url(&format!("{BASE}{endpoint}")))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Ann's tokens from `client` by the password grant, with an ID token.
async fn tokens(app: &TestApp, client: &str) -> Value {
    let response = post(
        app,
        "/token",
        client,
        &[
            ("grant_type", "password"),
            ("username", "ann"),
            ("password", "pw"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn field<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name].as_str().unwrap()
}

/// What `api` (in the audience of ann's access tokens) learns of an access token.
async fn seen_by_api(app: &TestApp, access: &str) -> Value {
    let response = post(app, "/token/introspect", "api", &[("token", access)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The refresh grant's status for `client`.
async fn refresh_status(app: &TestApp, client: &str, refresh: &str) -> StatusCode {
    post(
        app,
        "/token",
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
    .status()
}

/// The top-level keys of a JSON object, in the order the text has them.
fn key_order(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            '"' => {
                let end = text[i + 1..].find('"').unwrap() + i + 1;
                let after = text[end + 1..].trim_start();
                if depth == 1 && after.starts_with(':') {
                    keys.push(text[i + 1..end].to_owned());
                }
                while chars.peek().is_some_and(|(j, _)| *j <= end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    keys
}

#[tokio::test]
async fn an_access_token_introspects_for_a_client_in_its_audience_as_its_claims_then_four_fields() {
    let app = spawn_app().await;
    let (_, app_id, api_id) = desk(&app).await;
    let access = field(&tokens(&app, "app").await, "access_token").to_owned();
    let response = post(&app, "/token/introspect", "api", &[("token", &access)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let claims = jwt_payload(&access);
    let mut expected: Vec<String> = key_order(
        &String::from_utf8(
            base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                access.split('.').nth(1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap(),
    );
    expected.extend(["client_id", "username", "token_type", "active"].map(String::from));
    assert_eq!(key_order(&text), expected);
    for (name, value) in claims.as_object().unwrap() {
        assert_eq!(&body[name], value, "{name}");
    }
    assert_eq!(body["client_id"], "app");
    assert_eq!(body["username"], "ann");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["active"], true);

    let response = app
        .admin(
            Method::PUT,
            &format!("/desk/clients/{api_id}"),
            Some(json!({"attributes": {
                "client.introspection.response.allow.jwt.claim.enabled": "true"}})),
        )
        .await;
    assert_eq!(response.status(), 204);
    let with_jwt: Value = app
        .client
        .post(app.url(&format!("{BASE}/token/introspect")))
        .basic_auth("api", Some("api-s"))
        .header("accept", "application/jwt")
        .form(&[("token", &access)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(with_jwt["jwt"], access.as_str());
    assert_eq!(with_jwt["active"], true);
    assert!(body.get("jwt").is_none(), "only when asked for and allowed");

    let own = post(&app, "/token/introspect", "app", &[("token", &access)]).await;
    assert_eq!(own.headers()["cache-control"], "no-cache");
    assert_eq!(
        own.text().await.unwrap(),
        r#"{"active":false}"#,
        "not in its own audience"
    );

    let response = app
        .admin(
            Method::PUT,
            &format!("/desk/clients/{app_id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        seen_by_api(&app, &access).await,
        json!({"active": false}),
        "issuer disabled"
    );
}

#[tokio::test]
async fn a_refresh_token_introspects_with_its_hint_as_the_access_token_it_stands_for() {
    let app = spawn_app().await;
    desk(&app).await;
    let tokens = tokens(&app, "app").await;
    let refresh = field(&tokens, "refresh_token");
    let own = jwt_payload(refresh);
    let response = post(
        &app,
        "/token/introspect",
        "app",
        &[("token", refresh), ("token_type_hint", "refresh_token")],
    )
    .await;
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["typ"], "Refresh");
    assert_eq!(body["token_type"], "Refresh");
    assert_eq!(body["client_id"], "app");
    assert_eq!(body["username"], "ann");
    assert_eq!(body["jti"], own["jti"]);
    assert_eq!(body["exp"], own["exp"]);
    assert_eq!(body["sid"], own["sid"]);
    assert_eq!(body["resource_access"]["api"]["roles"], json!(["reader"]));
    assert_eq!(body["preferred_username"], "ann");
    let keys = key_order(&text);
    assert_eq!(
        keys[keys.len() - 4..],
        ["client_id", "username", "token_type", "active"]
    );

    for (client, hint) in [("app", None), ("api", Some("refresh_token"))] {
        let mut form = vec![("token", refresh)];
        form.extend(hint.map(|h| ("token_type_hint", h)));
        let response = post(&app, "/token/introspect", client, &form).await;
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"active": false}),
            "{client}"
        );
    }
}

#[tokio::test]
async fn introspection_answers_keycloaks_refusals() {
    let app = spawn_app().await;
    desk(&app).await;
    let access = field(&tokens(&app, "app").await, "access_token").to_owned();
    let introspect = format!("{BASE}/token/introspect");
    let cases: Vec<(reqwest::RequestBuilder, u16, Value)> = vec![
        (
            app.client
                .post(app.url(&introspect))
                .form(&[("client_id", "spa"), ("token", &access)]),
            403,
            json!({"error": "invalid_request", "error_description": "Client not allowed."}),
        ),
        (
            app.client
                .post(app.url(&introspect))
                .basic_auth("api", Some("wrong"))
                .form(&[("token", &access)]),
            401,
            json!({"error": "invalid_request", "error_description": "Authentication failed."}),
        ),
        (
            app.client
                .post(app.url(&introspect))
                .form(&[("token", &access)]),
            401,
            json!({"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"}),
        ),
        (
            app.client
                .post(app.url(&introspect))
                .basic_auth("api", Some("api-s"))
                .form(&[("a", "b")]),
            400,
            json!({"error": "invalid_request", "error_description": "Token not provided."}),
        ),
        (
            app.client
                .post(app.url(&introspect))
                .basic_auth("api", Some("api-s"))
                .form(&[("token", access.as_str()), ("token_type_hint", "id_token")]),
            400,
            json!({"error": "invalid_request", "error_description": "Unsupported token type."}),
        ),
        (
            app.client
                .post(app.url(&introspect))
                .basic_auth("api", Some("api-s"))
                .form(&[("token", "not-a-token")]),
            200,
            json!({"active": false}),
        ),
        (
            app.client
                .post(app.url("/realms/nowhere/protocol/openid-connect/token/introspect"))
                .basic_auth("api", Some("api-s"))
                .form(&[("token", &access)]),
            404,
            json!({"error": "Realm does not exist"}),
        ),
    ];
    for (request, status, body) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(response.json::<Value>().await.unwrap(), body);
    }
    let response = app
        .admin(Method::PUT, "/desk", Some(json!({"enabled": false})))
        .await;
    assert_eq!(response.status(), 204);
    let response = post(&app, "/token/introspect", "api", &[("token", &access)]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "access_denied", "error_description": "Realm not enabled"})
    );
}

#[tokio::test]
async fn revoking_an_access_token_revokes_it_alone() {
    let app = spawn_app().await;
    desk(&app).await;
    let tokens = tokens(&app, "app").await;
    let access = field(&tokens, "access_token");
    assert_eq!(seen_by_api(&app, access).await["active"], true);
    let response = post(
        &app,
        "/revoke",
        "app",
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(seen_by_api(&app, access).await, json!({"active": false}));
    let userinfo = app
        .client
        .get(app.url(&format!("{BASE}/userinfo")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    assert_eq!(
        refresh_status(&app, "app", field(&tokens, "refresh_token")).await,
        200,
        "the session and its refresh token live on"
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_the_clients_tokens_and_the_session_with_its_last_client() {
    let app = spawn_app().await;
    let (ann, _, _) = desk(&app).await;
    let tokens = tokens(&app, "app").await;
    let response = post(
        &app,
        "/revoke",
        "app",
        &[
            ("token", field(&tokens, "refresh_token")),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        seen_by_api(&app, field(&tokens, "access_token")).await["active"],
        false
    );
    assert_eq!(
        refresh_status(&app, "app", field(&tokens, "refresh_token")).await,
        400
    );
    let sessions: Value = app
        .admin(Method::GET, &format!("/desk/users/{ann}/sessions"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions, json!([]));
    let again = post(
        &app,
        "/revoke",
        "app",
        &[("token", field(&tokens, "refresh_token"))],
    )
    .await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"error": "invalid_token", "error_description": "Invalid token"})
    );
}

#[tokio::test]
async fn revocation_answers_keycloaks_refusals_and_lets_public_clients_revoke() {
    let app = spawn_app().await;
    desk(&app).await;
    let tokens = tokens(&app, "app").await;
    for kind in ["refresh_token", "access_token"] {
        let response = post(&app, "/revoke", "api", &[("token", field(&tokens, kind))]).await;
        assert_eq!(response.status(), 400, "{kind}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": "invalid_request", "error_description": "Unmatching clients"})
        );
    }
    assert_eq!(
        seen_by_api(&app, field(&tokens, "access_token")).await["active"],
        true
    );
    let response = post(&app, "/revoke", "app", &[("token", "not-a-token")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "invalid_token", "error_description": "Invalid token"})
    );
    let response = post(&app, "/revoke", "app", &[]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "invalid_request", "error_description": "Token not provided"})
    );
    let spa = self::tokens(&app, "spa").await;
    let response = post(
        &app,
        "/revoke",
        "spa",
        &[("token", field(&spa, "refresh_token"))],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        refresh_status(&app, "spa", field(&spa, "refresh_token")).await,
        400
    );
}

#[tokio::test]
async fn backchannel_logout_ends_the_session_and_answers_204_again_on_a_replay() {
    let app = spawn_app().await;
    desk(&app).await;
    let tokens = tokens(&app, "app").await;
    let refresh = field(&tokens, "refresh_token");
    let refusals = [
        (
            "api",
            refresh,
            "Invalid refresh token. Token client and authorized client don't match",
        ),
        ("app", "not-a-token", "Invalid refresh token"),
        (
            "app",
            field(&tokens, "access_token"),
            "Invalid refresh token",
        ),
        ("app", field(&tokens, "id_token"), "Invalid refresh token"),
    ];
    for (client, token, description) in refusals {
        let response = post(&app, "/logout", client, &[("refresh_token", token)]).await;
        assert_eq!(response.status(), 400, "{description}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": "invalid_grant", "error_description": description})
        );
    }
    assert_eq!(
        seen_by_api(&app, field(&tokens, "access_token")).await["active"],
        true
    );
    for _ in 0..2 {
        let response = post(
            &app,
            "/logout",
            "app",
            &[
                ("refresh_token", refresh),
                ("post_logout_redirect_uri", "http://app.test/cb"),
            ],
        )
        .await;
        assert_eq!(response.status(), 204);
        assert_eq!(response.headers()["cache-control"], "no-cache");
    }
    assert_eq!(
        seen_by_api(&app, field(&tokens, "access_token")).await["active"],
        false
    );
    assert_eq!(refresh_status(&app, "app", refresh).await, 400);
}

async fn logout_get(app: &TestApp, query: &str) -> reqwest::Response {
    app.get(&format!("{BASE}/logout?{query}")).await
}

#[tokio::test]
async fn rp_initiated_logout_answers_keycloaks_pages_in_keycloaks_order() {
    let app = spawn_app().await;
    desk(&app).await;
    let tokens = tokens(&app, "app").await;
    let hint = field(&tokens, "id_token");
    let target = "post_logout_redirect_uri=http%3A%2F%2Fapp.test%2Fcb";
    let refusals = [
        (
            format!("id_token_hint=garbage&{target}x"),
            "Invalid parameter: id_token_hint",
        ),
        (
            format!(
                "id_token_hint={}&client_id=app",
                field(&tokens, "access_token")
            ),
            "Invalid parameter: id_token_hint",
        ),
        (
            format!("id_token_hint={hint}&client_id=api"),
            "Invalid parameter: id_token_hint",
        ),
        (target.to_owned(), "Missing parameters: id_token_hint"),
        (
            format!("id_token_hint={hint}&{target}x"),
            "Invalid redirect uri",
        ),
        (
            "redirect_uri=http%3A%2F%2Fapp.test%2Fcb".to_owned(),
            "Invalid parameter: redirect_uri",
        ),
    ];
    for (query, message) in refusals {
        let response = logout_get(&app, &query).await;
        assert_eq!(response.status(), 400, "{query}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(
            response.text().await.unwrap().contains(message),
            "{message}"
        );
    }
    assert_eq!(
        seen_by_api(&app, field(&tokens, "access_token")).await["active"],
        true,
        "a refused logout ends nothing"
    );

    let response = logout_get(
        &app,
        &format!("id_token_hint={hint}&{target}&state=s1&state=s2"),
    )
    .await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "http://app.test/cb?state=s1"
    );
    assert_eq!(
        seen_by_api(&app, field(&tokens, "access_token")).await["active"],
        false
    );
    let again = logout_get(&app, &format!("id_token_hint={hint}&{target}&state=")).await;
    assert_eq!(
        again.status(),
        302,
        "a hint of an ended session is still accepted"
    );
    assert_eq!(again.headers()["location"], "http://app.test/cb");

    let fresh = self::tokens(&app, "app").await;
    let response = logout_get(
        &app,
        &format!("id_token_hint={}", field(&fresh, "id_token")),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("<title>You are logged out</title>"));
    assert_eq!(
        refresh_status(&app, "app", field(&fresh, "refresh_token")).await,
        400
    );

    let response = logout_get(&app, &format!("client_id=app&{target}")).await;
    assert_eq!(
        response.status(),
        302,
        "no browser session: nothing to confirm"
    );
    let response = logout_get(&app, "").await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("<title>Logging out</title>"));
}

#[tokio::test]
async fn post_logout_redirect_uris_filter_the_redirect_uris() {
    let app = spawn_app().await;
    let (_, app_id, _) = desk(&app).await;
    let target = "client_id=app&post_logout_redirect_uri=http%3A%2F%2Fapp.test%2Fcb";
    for (attribute, status) in [
        ("", 302),
        ("+", 302),
        ("-", 400),
        ("http://other.test/*", 400),
    ] {
        let response = app
            .admin(
                Method::PUT,
                &format!("/desk/clients/{app_id}"),
                Some(json!({"attributes": {"post.logout.redirect.uris": attribute}})),
            )
            .await;
        assert_eq!(response.status(), 204);
        assert_eq!(
            logout_get(&app, target).await.status(),
            status,
            "{attribute:?}"
        );
    }
}

#[tokio::test]
async fn a_browser_session_is_ended_only_once_the_confirmation_is_posted() {
    let app = spawn_app().await;
    desk(&app).await;
    let auth = format!("{BASE}/auth");
    let query = "client_id=app&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&response_type=code";
    let page = app
        .get(&format!("{auth}?{query}"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_of(&page);
    let form = [
        ("csrf", csrf.as_str()),
        ("client_id", "app"),
        ("redirect_uri", "http://app.test/cb"),
        ("response_type", "code"),
        ("username", "ann"),
        ("password", "pw"),
    ];
    let response = app
        .client
        .post(app.url(&auth))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);

    let page = logout_get(&app, "").await.text().await.unwrap();
    assert!(page.contains("Do you want to log out?"));
    assert_eq!(
        app.get(&format!("{auth}?{query}")).await.status(),
        302,
        "still signed in"
    );
    let code = page
        .split("name=\"session_code\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let confirm = app.url(&format!("{BASE}/logout/logout-confirm"));
    let refused = app
        .client
        .post(&confirm)
        .form(&[("session_code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "the confirmation must be asked for");
    let response = app
        .client
        .post(&confirm)
        .form(&[("session_code", code.as_str()), ("confirmLogout", "Logout")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("You are logged out"));
    assert_eq!(
        app.get(&format!("{auth}?{query}")).await.status(),
        200,
        "signed out"
    );
}

#[tokio::test]
async fn the_realm_info_document_has_keycloaks_keys_in_keycloaks_order() {
    let app = spawn_app().await;
    desk(&app).await;
    let response = app.get("/realms/desk").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert_eq!(
        key_order(&text),
        [
            "realm",
            "public_key",
            "token-service",
            "account-service",
            "tokens-not-before"
        ]
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["realm"], "desk");
    assert_eq!(
        body["token-service"],
        app.url("/realms/desk/protocol/openid-connect")
    );
    assert_eq!(body["account-service"], app.url("/realms/desk/account"));
    assert_eq!(body["tokens-not-before"], 0);
    let missing = app.get("/realms/nowhere").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap(),
        json!({"error": "Realm does not exist"})
    );
}

#[tokio::test]
async fn admins_see_and_end_sessions_as_keycloak_shows_them() {
    let app = spawn_app().await;
    let (ann, app_id, api_id) = desk(&app).await;
    let before = app.clock.now_secs();
    let tokens = tokens(&app, "app").await;
    let sid = jwt_payload(field(&tokens, "access_token"))["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = app
        .admin(Method::GET, &format!("/desk/users/{ann}/sessions"), None)
        .await;
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let text = response.text().await.unwrap();
    let sessions: Value = serde_json::from_str(&text).unwrap();
    let session = &sessions[0];
    assert_eq!(
        key_order(&text[1..text.len() - 1]),
        [
            "id",
            "username",
            "userId",
            "ipAddress",
            "start",
            "lastAccess",
            "rememberMe",
            "clients",
            "transientUser"
        ]
    );
    assert_eq!(session["id"], sid.as_str());
    assert_eq!(session["username"], "ann");
    assert_eq!(session["userId"], ann.as_str());
    assert_eq!(session["clients"], json!({app_id.clone(): "app"}));
    assert_eq!(session["rememberMe"], false);
    assert_eq!(session["transientUser"], false);
    let start = session["start"].as_i64().unwrap();
    assert_eq!(start % 1000, 0);
    assert!(start / 1000 >= before - 1);

    let listed: Value = app
        .admin(
            Method::GET,
            &format!("/desk/clients/{app_id}/user-sessions"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, sessions);
    for (path, expected) in [
        (
            format!("/desk/clients/{app_id}/session-count"),
            json!({"count": 1}),
        ),
        (
            format!("/desk/clients/{api_id}/session-count"),
            json!({"count": 0}),
        ),
        (
            format!("/desk/clients/{app_id}/user-sessions?first=1"),
            json!([]),
        ),
        (
            format!("/desk/clients/{app_id}/offline-session-count"),
            json!({"count": 0}),
        ),
        (
            format!("/desk/clients/{app_id}/offline-sessions"),
            json!([]),
        ),
        (
            format!("/desk/users/{ann}/offline-sessions/{app_id}"),
            json!([]),
        ),
        (
            "/desk/client-session-stats".to_owned(),
            json!([{"offline": "0", "clientId": "app", "active": "1", "id": app_id.clone()}]),
        ),
    ] {
        let response = app.admin(Method::GET, &path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap(), expected, "{path}");
    }
    let unknown = "00000000-0000-0000-0000-000000000000";
    for (path, error) in [
        (
            format!("/desk/clients/{unknown}/session-count"),
            "Could not find client",
        ),
        (format!("/desk/users/{unknown}/sessions"), "User not found"),
        (
            format!("/desk/users/{ann}/offline-sessions/{unknown}"),
            "Client not found",
        ),
    ] {
        let response = app.admin(Method::GET, &path, None).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": error})
        );
    }

    for (method, path) in [
        (Method::POST, "/desk/push-revocation"),
        (Method::POST, "/desk/logout-all"),
    ] {
        let response = app.admin(method, path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), "{}");
    }
    let sessions: Value = app
        .admin(Method::GET, &format!("/desk/users/{ann}/sessions"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions, json!([]), "logout-all ends every session");
    assert_eq!(
        refresh_status(&app, "app", field(&tokens, "refresh_token")).await,
        400
    );

    let tokens = self::tokens(&app, "app").await;
    let sid = jwt_payload(field(&tokens, "access_token"))["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .admin(
            Method::DELETE,
            &format!("/desk/sessions/{sid}?isOffline=true"),
            None,
        )
        .await;
    assert_eq!(response.status(), 404);
    let response = app
        .admin(Method::DELETE, &format!("/desk/sessions/{sid}"), None)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        seen_by_api(&app, field(&tokens, "access_token")).await["active"],
        false
    );
    let response = app
        .admin(Method::DELETE, &format!("/desk/sessions/{sid}"), None)
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "Sesssion not found"})
    );
}

#[tokio::test]
async fn each_session_endpoint_asks_for_keycloaks_role() {
    let app = spawn_app().await;
    let (ann, app_id, _) = desk(&app).await;
    let (_, users) = app.realm_admin("desk", "uma", &["view-users"]).await;
    let (_, clients) = app.realm_admin("desk", "cleo", &["view-clients"]).await;
    let (_, realm) = app.realm_admin("desk", "rita", &["view-realm"]).await;
    let cases = [
        (Method::GET, format!("/desk/users/{ann}/sessions"), &users),
        (
            Method::GET,
            format!("/desk/clients/{app_id}/session-count"),
            &clients,
        ),
        (Method::GET, "/desk/client-session-stats".to_owned(), &realm),
    ];
    for (method, path, allowed) in &cases {
        for token in [&users, &clients, &realm] {
            let response = app
                .client
                .request(method.clone(), app.url(&format!("/admin/realms{path}")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let expected = if std::ptr::eq(token, *allowed) {
                200
            } else {
                403
            };
            assert_eq!(response.status(), expected, "{path}");
        }
    }
    for path in ["/desk/logout-all", "/desk/push-revocation"] {
        let response = app
            .client
            .post(app.url(&format!("/admin/realms{path}")))
            .bearer_auth(&users)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
}
