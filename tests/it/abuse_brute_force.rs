//! Parallel guesses get no more tries than sequential ones: with brute-force protection on,
//! a burst of guesses is checked at most up to the lock, every failure is counted once, and
//! the right password among the rest is refused unchecked.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const GUESSES: usize = 200;

async fn realm_with_protection(app: &TestApp, settings: Value) {
    app.create_realm("team").await;
    app.create_user("team", "dev", "right-password").await;
    let response = app.admin(Method::PUT, "/team", Some(settings)).await;
    assert_eq!(response.status(), 204);
    let events = json!({"eventsEnabled": true});
    let response = app
        .admin(Method::PUT, "/team/events/config", Some(events))
        .await;
    assert_eq!(response.status(), 204);
}

/// Fires `GUESSES` password grants at once, the right password last; answers which were
/// accepted (by index).
async fn burst(app: &TestApp) -> Vec<usize> {
    let url = app.url("/realms/team/protocol/openid-connect/token");
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..GUESSES {
        let password = if i == GUESSES - 1 {
            "right-password".to_owned()
        } else {
            format!("wrong-{i}")
        };
        let request = app.client.post(&url).form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "dev"),
            ("password", password.as_str()),
        ]);
        guesses.spawn(async move { (i, request.send().await.unwrap().status().as_u16()) });
    }
    let answers = guesses.join_all().await;
    assert!(
        answers.iter().all(|(_, s)| *s == 200 || *s == 400),
        "{answers:?}"
    );
    answers
        .into_iter()
        .filter(|(_, status)| *status == 200)
        .map(|(i, _)| i)
        .collect()
}

/// The outcome of each guess, as its login event records it.
async fn outcomes(app: &TestApp) -> (usize, usize, usize) {
    let events: Vec<Value> = app
        .admin(Method::GET, "/team/events?max=1000", None)
        .await
        .json()
        .await
        .unwrap();
    let count = |pred: &dyn Fn(&Value) -> bool| events.iter().filter(|e| pred(e)).count();
    let wrong = count(&|e| e["error"] == "invalid_user_credentials");
    let right = count(&|e| e["type"] == "LOGIN");
    let refused = count(&|e| e["error"] == "user_temporarily_disabled");
    (wrong, right, refused)
}

async fn failures_on_record(app: &TestApp) -> i64 {
    let pool = app.raw_db().await;
    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(num_failures), 0) AS BIGINT) FROM login_failure")
        .fetch_one(&pool)
        .await
        .unwrap()
}

async fn assert_burst_is_bounded(app: &TestApp, failure_factor: usize) {
    let accepted = burst(app).await;
    let (wrong, right, refused) = outcomes(app).await;
    let checked = wrong + right;
    assert!(
        checked <= failure_factor,
        "{checked} guesses were checked by argon2 (wrong {wrong}, right {right})"
    );
    assert_eq!(
        wrong + right + refused,
        GUESSES,
        "every guess has its event"
    );
    assert_eq!(accepted.len(), right);
    assert_eq!(
        failures_on_record(app).await,
        if right == 0 { wrong as i64 } else { 0 },
        "each wrong guess checked is one failure on record (a success clears them)"
    );
}

#[tokio::test]
async fn parallel_guesses_stop_at_the_failure_factor_with_permanent_lockout() {
    let app = spawn_app().await;
    let settings = json!({"bruteForceProtected": true, "permanentLockout": true,
        "failureFactor": 3});
    realm_with_protection(&app, settings).await;
    assert_burst_is_bounded(&app, 3).await;
}

#[tokio::test]
async fn parallel_guesses_stop_at_the_failure_factor_with_temporary_lockout() {
    let app = spawn_app().await;
    let settings = json!({"bruteForceProtected": true, "failureFactor": 3,
        "waitIncrementSeconds": 60});
    realm_with_protection(&app, settings).await;
    assert_burst_is_bounded(&app, 3).await;
}

#[tokio::test]
async fn a_locked_name_refuses_the_right_password_unchecked() {
    let app = spawn_app().await;
    let settings = json!({"bruteForceProtected": true, "permanentLockout": true,
        "failureFactor": 2});
    realm_with_protection(&app, settings).await;
    let url = app.url("/realms/team/protocol/openid-connect/token");
    for password in ["wrong-1", "wrong-2", "right-password"] {
        let status = app
            .client
            .post(&url)
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", "dev"),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 400);
    }
    let (wrong, right, refused) = outcomes(&app).await;
    assert_eq!((wrong, right, refused), (2, 0, 1));
    assert_eq!(failures_on_record(&app).await, 2);
}

#[tokio::test]
async fn parallel_sign_ins_with_the_right_password_are_not_refused() {
    let app = spawn_app().await;
    let settings = json!({"bruteForceProtected": true, "failureFactor": 10});
    realm_with_protection(&app, settings).await;
    let url = app.url("/realms/team/protocol/openid-connect/token");
    let mut sign_ins = tokio::task::JoinSet::new();
    for _ in 0..9 {
        let request = app.client.post(&url).form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "dev"),
            ("password", "right-password"),
        ]);
        sign_ins.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = sign_ins.join_all().await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn an_account_has_one_failure_budget_whatever_name_it_is_guessed_by() {
    let app = spawn_app().await;
    realm_with_protection(
        &app,
        json!({"bruteForceProtected": true, "permanentLockout": true, "failureFactor": 3}),
    )
    .await;
    let users: Value = app
        .admin(Method::GET, "/team/users?username=dev&exact=true", None)
        .await
        .json()
        .await
        .unwrap();
    let id = users[0]["id"].as_str().unwrap();
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/users/{id}"),
            Some(json!({"email": "dev@example.com"})),
        )
        .await;
    assert_eq!(response.status(), 204);
    let url = app.url("/realms/team/protocol/openid-connect/token");
    for name in ["dev", "DEV@example.com", "Dev", "dev@example.com"] {
        app.client
            .post(&url)
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", name),
                ("password", "wrong"),
            ])
            .send()
            .await
            .unwrap();
    }
    let right = app
        .client
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "dev@example.com"),
            ("password", "right-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 400, "the account is locked, by any name");
}
