//! The caches that spare repeated work stay true: credentials that verified recently skip
//! the password hash only while the user, the stored password and the brute-force record are
//! unchanged; and writes drop only the cached rows they changed.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{basic, spawn_app, TestApp};

const DOCKER_AUTH: &str = "/realms/team/protocol/docker-v2/auth?service=registry";

async fn team(app: &TestApp) -> String {
    app.create_realm("team").await;
    app.create_docker_client("team", "registry").await;
    app.create_user("team", "dev", "pw").await
}

/// A docker token request with Basic credentials, as skopeo and podman send on every pull.
async fn pull(app: &TestApp, password: &str) -> StatusCode {
    app.client
        .get(app.url(DOCKER_AUTH))
        .header("Authorization", basic("dev", password))
        .send()
        .await
        .unwrap()
        .status()
}

async fn repeated_pulls_succeed(app: &TestApp, password: &str) {
    for _ in 0..3 {
        assert_eq!(pull(app, password).await, 200);
    }
}

#[tokio::test]
async fn a_changed_password_ends_trusted_credentials_at_once() {
    let app = spawn_app().await;
    let user = team(&app).await;
    repeated_pulls_succeed(&app, "pw").await;
    let reset = json!({"type": "password", "value": "pw2", "temporary": false});
    let path = format!("/team/users/{user}/reset-password");
    let response = app.admin(Method::PUT, &path, Some(reset)).await;
    assert_eq!(response.status(), 204);
    assert_eq!(pull(&app, "pw").await, 401, "the old password is refused");
    repeated_pulls_succeed(&app, "pw2").await;
}

#[tokio::test]
async fn a_disabled_or_deleted_user_is_refused_at_once() {
    let app = spawn_app().await;
    let user = team(&app).await;
    let path = format!("/team/users/{user}");
    repeated_pulls_succeed(&app, "pw").await;
    let disable = app
        .admin(Method::PUT, &path, Some(json!({"enabled": false})))
        .await;
    assert_eq!(disable.status(), 204);
    assert_eq!(pull(&app, "pw").await, 401, "disabled");
    let enable = app
        .admin(Method::PUT, &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!(enable.status(), 204);
    repeated_pulls_succeed(&app, "pw").await;
    assert_eq!(app.admin(Method::DELETE, &path, None).await.status(), 204);
    assert_eq!(pull(&app, "pw").await, 401, "deleted");
}

#[tokio::test]
async fn a_lockout_refuses_credentials_that_verified_before() {
    let app = spawn_app().await;
    team(&app).await;
    let protection = json!({"bruteForceProtected": true, "permanentLockout": true,
        "failureFactor": 2});
    let response = app.admin(Method::PUT, "/team", Some(protection)).await;
    assert_eq!(response.status(), 204);
    repeated_pulls_succeed(&app, "pw").await;
    assert_eq!(pull(&app, "wrong-1").await, 401);
    assert_eq!(
        pull(&app, "pw").await,
        200,
        "one failure: checked in full, and right"
    );
    assert_eq!(pull(&app, "wrong-2").await, 401);
    assert_eq!(pull(&app, "wrong-3").await, 401);
    assert_eq!(pull(&app, "pw").await, 401, "locked, whatever was trusted");
    let users: Vec<serde_json::Value> = app
        .admin(Method::GET, "/team/users?username=dev&exact=true", None)
        .await
        .json()
        .await
        .unwrap();
    let id = users[0]["id"].as_str().unwrap();
    let path = format!("/team/attack-detection/brute-force/users/{id}");
    let status: serde_json::Value = app
        .admin(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["disabled"], true, "{status}");
    assert_eq!(status["numFailures"], 2, "{status}");
    let unlock = app
        .admin(
            Method::DELETE,
            &format!("/team/attack-detection/brute-force/users/{id}"),
            None,
        )
        .await;
    assert_eq!(unlock.status(), 204);
    let status: serde_json::Value = app
        .admin(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["disabled"], false, "{status}");
    assert_eq!(status["numFailures"], 0, "{status}");
    repeated_pulls_succeed(&app, "pw").await;
}

#[tokio::test]
async fn trusted_credentials_stay_within_their_realm_and_name() {
    let app = spawn_app().await;
    team(&app).await;
    app.create_user("team", "other", "pw").await;
    repeated_pulls_succeed(&app, "pw").await;
    let other = app
        .client
        .get(app.url(DOCKER_AUTH))
        .header("Authorization", basic("other", "pw2"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    assert_eq!(pull(&app, "pw ").await, 401, "a different password");
}

/// A docker identity-token request (`form` plus the service) to the token endpoint.
async fn identity_request(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    let mut form = form.to_vec();
    form.push(("service", "registry"));
    app.client
        .post(app.url(DOCKER_AUTH))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// `docker login` as dev: the identity token it keeps.
async fn identity_token(app: &TestApp) -> String {
    let login: serde_json::Value = identity_request(
        app,
        &[
            ("grant_type", "password"),
            ("username", "dev"),
            ("password", "pw"),
            ("offline_token", "true"),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    login["refresh_token"].as_str().unwrap().to_owned()
}

async fn refresh(app: &TestApp, token: &str) -> StatusCode {
    identity_request(
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
    .status()
}

/// An identity token's use, written off the request path in a batch, shows as its last
/// access, and the token keeps working from the cache after the write.
#[tokio::test]
async fn identity_token_uses_are_recorded_in_batches() {
    let app = spawn_app().await;
    team(&app).await;
    let token = identity_token(&app).await;
    let db = app.raw_db().await;
    let last_access = || async {
        sqlx::query_scalar::<_, i64>("SELECT last_used_at FROM refresh_token WHERE kind = 'docker'")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let issued = last_access().await;
    app.clock.shift(3600);
    assert_eq!(refresh(&app, &token).await, 200);
    let mut recorded = issued;
    for _ in 0..100 {
        recorded = last_access().await;
        if recorded != issued {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(recorded >= issued + 3600, "{issued} -> {recorded}");
    for _ in 0..3 {
        assert_eq!(refresh(&app, &token).await, 200);
    }
}

/// Recorded uses leave cached tokens in place, so a cached copy may hold an older idle
/// expiry than the table (another replica recorded a use): one that looks expired is read
/// again, refused while the table agrees, and lives on once the table says it was used.
#[tokio::test]
async fn a_cached_token_that_looks_expired_is_read_again() {
    let app = spawn_app().await;
    team(&app).await;
    let token = identity_token(&app).await;
    assert_eq!(refresh(&app, &token).await, 200, "cached now");
    let idle = 2_592_000;
    app.clock.shift(idle + 60);
    assert_eq!(refresh(&app, &token).await, 401, "idle for too long");
    let db = app.raw_db().await;
    sqlx::query("UPDATE refresh_token SET expires_at = expires_at + $1 WHERE kind = 'docker'")
        .bind(idle)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        refresh(&app, &token).await,
        200,
        "the use recorded elsewhere counts"
    );
}
