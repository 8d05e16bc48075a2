//! Realm imports under attack: an import is checked before it costs anything, and stops when
//! its caller leaves.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::spawn_app;

/// A realm representation with `users` users, each with a password to hash.
fn realm_with_users(realm: &str, users: usize) -> Value {
    let users: Vec<Value> = (0..users)
        .map(|i| {
            json!({
                "username": format!("user{i}"),
                "credentials": [{"type": "password", "value": format!("password-{i}")}],
            })
        })
        .collect();
    json!({"realm": realm, "enabled": true, "users": users})
}

#[tokio::test]
async fn an_import_stops_when_its_caller_leaves() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let abandoned = app
        .client
        .post(app.url("/admin/realms"))
        .bearer_auth(&token)
        .json(&realm_with_users("abandoned", 600))
        .timeout(Duration::from_millis(400))
        .send()
        .await;
    assert!(
        abandoned.is_err(),
        "the client gave up before the import ended"
    );
    // 600 hashes take seconds; had the import gone on, the realm would exist by now.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let realm = app.admin(Method::GET, "/abandoned", None).await;
    assert_eq!(realm.status(), StatusCode::NOT_FOUND);
    // The same import, waited for, succeeds.
    let response = app
        .admin(Method::POST, "", Some(realm_with_users("abandoned", 3)))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_import_is_refused_before_any_password_is_hashed() {
    let app = spawn_app().await;
    app.create_realm("taken").await;
    let started = std::time::Instant::now();
    let conflict = app
        .admin(Method::POST, "", Some(realm_with_users("taken", 2000)))
        .await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    let mut twice = realm_with_users("twice", 2000);
    twice["users"][1999]["username"] = json!("user0");
    let duplicate = app.admin(Method::POST, "", Some(twice)).await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let body = duplicate.text().await.unwrap();
    assert!(body.contains("users[1999]"), "{body}");
    // 4,000 password hashes would take tens of seconds on any machine.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
