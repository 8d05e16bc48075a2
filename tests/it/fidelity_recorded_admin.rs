//! Admin REST answers recorded on a live Keycloak 26.7.1: reset-password's refusals,
//! the unknown realm, and the common conflict and not-found bodies.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn answer(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let response = app.admin(method, path, body).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn reset_password_refuses_and_accepts_as_keycloak() {
    let app = spawn_app().await;
    app.create_realm("rp").await;
    let id = app.create_user("rp", "alice", "first-pass").await;
    let path = format!("/rp/users/{id}/reset-password");

    let (status, body) = answer(&app, Method::PUT, &path, Some(json!({"type": "password"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "No password provided"}));

    let blank = json!({"type": "password", "value": "   "});
    let (status, body) = answer(&app, Method::PUT, &path, Some(blank)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "Empty password not allowed"}));

    let typed_otp = json!({"type": "otp", "value": "second-pass", "temporary": false});
    let (status, _) = answer(&app, Method::PUT, &path, Some(typed_otp)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the type is ignored");
    app.password_token("rp", "admin-cli", "alice", "second-pass")
        .await;
}

#[tokio::test]
async fn an_unknown_realm_is_not_found_with_keycloaks_full_stop() {
    let app = spawn_app().await;
    for path in ["/nosuchrealm", "/nosuchrealm/users", "/nosuchrealm/clients"] {
        let (status, body) = answer(&app, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"error": "Realm not found."}), "{path}");
    }
}

#[tokio::test]
async fn conflicts_and_missing_objects_are_answered_in_keycloaks_words() {
    let app = spawn_app().await;
    app.create_realm("cf").await;
    app.create_user("cf", "bob", "pw").await;

    let user = json!({"username": "bob", "enabled": true});
    let (status, body) = answer(&app, Method::POST, "/cf/users", Some(user)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"errorMessage": "User exists with same username"})
    );

    let client = json!({"clientId": "app"});
    let (status, _) = answer(&app, Method::POST, "/cf/clients", Some(client.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = answer(&app, Method::POST, "/cf/clients", Some(client)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body, json!({"errorMessage": "Client app already exists"}));

    let role = json!({"name": "reader"});
    let (status, _) = answer(&app, Method::POST, "/cf/roles", Some(role.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = answer(&app, Method::POST, "/cf/roles", Some(role)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"errorMessage": "Role with name reader already exists"})
    );

    let group = json!({"name": "staff"});
    let (status, _) = answer(&app, Method::POST, "/cf/groups", Some(group.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = answer(&app, Method::POST, "/cf/groups", Some(group)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"errorMessage": "Top level group named 'staff' already exists."})
    );

    let realm = json!({"realm": "cf", "enabled": true});
    let (status, body) = answer(&app, Method::POST, "", Some(realm)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"errorMessage": "Conflict detected. See logs for details"})
    );

    let missing = "00000000-0000-0000-0000-000000000000";
    let cases = [
        (format!("/cf/users/{missing}"), "User not found"),
        (format!("/cf/clients/{missing}"), "Could not find client"),
        (
            format!("/cf/groups/{missing}"),
            "Could not find group by id",
        ),
        ("/cf/roles/nosuchrole".to_owned(), "Could not find role"),
    ];
    for (path, error) in cases {
        let (status, body) = answer(&app, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"error": error}), "{path}");
    }

    let response = app
        .client
        .get(app.url("/admin/realms/cf/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"error": "HTTP 401 Unauthorized"}));
}

/// The positions of `keys` in `text`, which must all be present.
fn positions(text: &str, keys: &[&str]) -> Vec<usize> {
    keys.iter()
        .map(|key| {
            text.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} missing from {text}"))
        })
        .collect()
}

#[tokio::test]
async fn a_user_is_served_in_keycloaks_key_order() {
    let app = spawn_app().await;
    app.create_realm("ko").await;
    let body = json!({"username": "carol", "enabled": true, "email": "carol@example.com",
                      "firstName": "Carol", "lastName": "King",
                      "attributes": {"dept": ["ops"]}});
    let response = app.admin(Method::POST, "/ko/users", Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = crate::helpers::location_id(&response);

    let text = app
        .admin(Method::GET, &format!("/ko/users/{id}"), None)
        .await
        .text()
        .await
        .unwrap();
    let keys = [
        "id",
        "username",
        "firstName",
        "lastName",
        "email",
        "emailVerified",
        "attributes",
        "enabled",
        "createdTimestamp",
        "totp",
        "disableableCredentialTypes",
        "requiredActions",
        "notBefore",
        "access",
    ];
    let found = positions(&text, &keys);
    assert!(found.windows(2).all(|w| w[0] < w[1]), "{text}");
    let access = &text[text.find("\"access\":").unwrap()..];
    let order = [
        "manageGroupMembership",
        "resetPassword",
        "view",
        "mapRoles",
        "impersonate",
        "manage",
    ];
    let found = positions(access, &order);
    assert!(found.windows(2).all(|w| w[0] < w[1]), "{access}");
}

#[tokio::test]
async fn a_client_without_service_accounts_refuses_its_account_as_keycloak() {
    let app = spawn_app().await;
    app.create_realm("sa").await;
    let response = app
        .admin(
            Method::POST,
            "/sa/clients",
            Some(json!({"clientId": "plain"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uuid = crate::helpers::location_id(&response);
    let path = format!("/sa/clients/{uuid}/service-account-user");
    let (status, body) = answer(&app, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "Service account not enabled for the client 'plain'"})
    );
}

#[tokio::test]
async fn a_user_update_sets_its_inline_password_as_keycloak() {
    let app = spawn_app().await;
    app.create_realm("up").await;
    let id = app.create_user("up", "dave", "first-pass").await;
    let path = format!("/up/users/{id}");

    let body = json!({"credentials": [{"type": "password", "value": "second-pass"}]});
    let (status, _) = answer(&app, Method::PUT, &path, Some(body)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.password_token("up", "admin-cli", "dave", "second-pass")
        .await;

    let valueless = json!({"credentials": [{"type": "password"}]});
    let (status, body) = answer(&app, Method::PUT, &path, Some(valueless)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"errorMessage": "Could not update user!"}));

    let two = json!({"credentials": [
        {"type": "otp", "value": "ignored-pass", "temporary": true},
        {"value": "third-pass", "temporary": false},
    ]});
    let (status, _) = answer(&app, Method::PUT, &path, Some(two)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, user) = answer(&app, Method::GET, &path, None).await;
    assert_eq!(user["requiredActions"], json!(["UPDATE_PASSWORD"]));
    let cleared = json!({"requiredActions": []});
    let (status, _) = answer(&app, Method::PUT, &path, Some(cleared)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.password_token("up", "admin-cli", "dave", "third-pass")
        .await;
}
