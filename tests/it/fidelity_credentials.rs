//! Keycloak-hashed passwords sign in and move to argon2id at the first success; the user
//! credentials API (`/users/{id}/credentials`) as Keycloak 26 answers it.
//!
//! The hashes below are in Keycloak's stored form (`secretData`, `credentialData`) and were
//! computed outside keywarden: PBKDF2 with python3's `hashlib.pbkdf2_hmac`, argon2 with the
//! reference C library (libargon2's `argon2_hash`, called through python3 ctypes), with the
//! iterations and key lengths Keycloak used by default in its versions. Realm import does not
//! take hashed credentials on this branch, so a test puts the hash in place itself: it
//! creates the user through the admin API, converts Keycloak's form with `phc_from_keycloak`
//! (what import does) and writes the PHC string into the user's `credential` row with SQL,
//! before the user ever signs in (so the server holds no cached copy of the old hash).

use std::time::Duration;

use keywarden::crypto::keycloak_credential::phc_from_keycloak;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{basic, location_id, spawn_app, TestApp};

/// A password in Keycloak's stored form, and the password itself.
struct Vector {
    secret_data: &'static str,
    credential_data: &'static str,
    password: &'static str,
}

/// pbkdf2-sha256 with a 64-byte key and 27,500 iterations (Keycloak 10 to 23).
const PBKDF2_SHA256_64: Vector = Vector {
    secret_data: r#"{"value":"0ClNbXOj+uHk8CeHYxmnW4zLZ3BZKLHu4ewY3tfNq/DGm3rTW6o3L+0x0uvehFPqqa5ufKaFhEEC0qUW11OKyQ==","salt":"jxwOWit9Tm+aPFsdfi9KbA==","additionalParameters":{}}"#,
    credential_data: r#"{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}"#,
    password: "Keycloak-10!",
};

/// pbkdf2-sha256 with a 32-byte key and 600,000 iterations (Keycloak 24).
const PBKDF2_SHA256_32: Vector = Vector {
    secret_data: r#"{"value":"A9+NdWqaO2DOmT/k7uQ8kKcQ4itYUZmGKO9sIt8r9GA=","salt":"Gis8TV5vcIGSo7TF1uf4CQ==","additionalParameters":{}}"#,
    credential_data: r#"{"hashIterations":600000,"algorithm":"pbkdf2-sha256","additionalParameters":{}}"#,
    password: "Keycloak-24!",
};

/// pbkdf2-sha512, 64-byte key, 210,000 iterations.
const PBKDF2_SHA512: Vector = Vector {
    secret_data: r#"{"value":"EPQLdDFH2QWrguLgPntGBzWEUj7wtqegtcFiK6idLfgWD3VRaryQPV+X2jO0fHjST+evInPElaZdCq8UQ9HJhQ==","salt":"Dx4tPEtaaXiHlqW0w9Lh8A==","additionalParameters":{}}"#,
    credential_data: r#"{"hashIterations":210000,"algorithm":"pbkdf2-sha512","additionalParameters":{}}"#,
    password: "Keycloak-22!",
};

/// Keycloak's `pbkdf2` (PBKDF2 with HMAC-SHA1), 64-byte key, 20,000 iterations.
const PBKDF2_SHA1: Vector = Vector {
    secret_data: r#"{"value":"MrA8i2wmhwWDiqR4h+0JFHm7ScHFbGekEdUQVoBKLoY7MTS0st67bvr4D1qNDJUxm5SAGVmlLFUE46CZ860GNg==","salt":"ABEiM0RVZneImaq7zN3u/w==","additionalParameters":{}}"#,
    credential_data: r#"{"hashIterations":20000,"algorithm":"pbkdf2","additionalParameters":{}}"#,
    password: "Keycloak-3!",
};

/// Keycloak 26's own argon2: id, v1.3, 5 iterations, 7168 KiB, parallelism 1, 32 bytes.
const ARGON2_KEYCLOAK: Vector = Vector {
    secret_data: r#"{"value":"UlOcvEZ0SOnDVtik+mf1A+VPN8TdbK8ZmGSkgqbvO80=","salt":"obLD1OX2BxgpOktcbX6PkA==","additionalParameters":{}}"#,
    credential_data: r#"{"hashIterations":5,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}"#,
    password: "Keycloak-26!",
};

/// Keycloak's argon2 tuned by its operator: 2 iterations, 15360 KiB, parallelism 2.
const ARGON2_TUNED: Vector = Vector {
    secret_data: r#"{"value":"LVcIlmBA3DEiMzVQfJxq13cxawKa1WHAUbQXYvovoAI=","salt":"/ty6mHZUMhABI0VniavN7w==","additionalParameters":{}}"#,
    credential_data: r#"{"hashIterations":2,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["15360"],"type":["id"],"version":["1.3"],"parallelism":["2"]}}"#,
    password: "Tuned-argon2!",
};

const REALM: &str = "moved";
const KEYWARDEN_ARGON2: &str = "$argon2id$v=19$m=7168,t=5,p=1$";

async fn db(app: &TestApp) -> sqlx::AnyPool {
    app.raw_db().await
}

/// The realm, with a docker-v2 client `registry`.
async fn realm(app: &TestApp) {
    app.create_realm(REALM).await;
    app.create_docker_client(REALM, "registry").await;
}

/// A user whose stored password is `vector`'s Keycloak hash; answers the user's id.
async fn user_with_keycloak_hash(app: &TestApp, username: &str, vector: &Vector) -> String {
    let user = app
        .create_user(REALM, username, "replaced-below-by-the-imported-hash")
        .await;
    let phc = phc_from_keycloak(vector.secret_data, vector.credential_data).unwrap();
    let pool = db(app).await;
    let written = sqlx::query(
        "UPDATE credential SET secret_data = $1 WHERE user_id = $2 AND type = 'password'",
    )
    .bind(&phc)
    .bind(&user)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(written.rows_affected(), 1);
    pool.close().await;
    user
}

/// The user's password credential row: id, PHC string, creation time (s).
async fn stored(app: &TestApp, user: &str) -> (String, String, i64) {
    let pool = db(app).await;
    let row: (String, String, i64) = sqlx::query_as(
        "SELECT id, secret_data, created_at FROM credential
         WHERE user_id = $1 AND type = 'password'",
    )
    .bind(user)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    row
}

/// Waits for the stored hash to change from `old` (the re-hash runs after the answer).
async fn rehashed(app: &TestApp, user: &str, old: &str) -> (String, String, i64) {
    for _ in 0..300 {
        let row = stored(app, user).await;
        if row.1 != old {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the imported hash was never re-hashed");
}

async fn oidc(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/realms/{REALM}/protocol/openid-connect/token")))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

async fn docker(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!(
            "/realms/{REALM}/protocol/docker-v2/auth?service=registry&scope=repository:app:pull"
        )))
        .header("Authorization", basic(username, password))
        .send()
        .await
        .unwrap()
}

async fn assert_oidc_signs_in(app: &TestApp, username: &str, password: &str) {
    let response = oidc(app, username, password).await;
    assert_eq!(response.status(), StatusCode::OK, "{username} via OIDC");
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string());
}

async fn assert_oidc_refuses(app: &TestApp, username: &str, password: &str) {
    let response = oidc(app, username, password).await;
    assert!(response.status().is_client_error(), "{username} via OIDC");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body.get("access_token").is_none());
}

async fn assert_docker_signs_in(app: &TestApp, username: &str, password: &str) {
    let response = docker(app, username, password).await;
    assert_eq!(response.status(), StatusCode::OK, "{username} via docker");
    let body: Value = response.json().await.unwrap();
    assert!(body["token"].is_string());
}

async fn assert_docker_refuses(app: &TestApp, username: &str, password: &str) {
    let response = docker(app, username, password).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "{username} via docker"
    );
}

/// A user signs in with an imported hash first through OIDC, another first through docker;
/// wrong passwords do not; after the first success each stored hash is keywarden's argon2id
/// (same credential id and creation date) and still signs in both ways.
async fn imported_hash_signs_in_and_moves_to_argon2id(vector: &Vector) {
    let app = spawn_app().await;
    realm(&app).await;
    let wrong = format!("{}x", vector.password);
    for (username, first_through_oidc) in [("via-oidc", true), ("via-docker", false)] {
        let user = user_with_keycloak_hash(&app, username, vector).await;
        let (id, imported, created) = stored(&app, &user).await;
        assert!(imported.starts_with('$') && !imported.starts_with(KEYWARDEN_ARGON2));

        assert_oidc_refuses(&app, username, &wrong).await;
        assert_docker_refuses(&app, username, &wrong).await;
        assert_eq!(
            stored(&app, &user).await.1,
            imported,
            "a wrong password changes nothing"
        );

        if first_through_oidc {
            assert_oidc_signs_in(&app, username, vector.password).await;
        } else {
            assert_docker_signs_in(&app, username, vector.password).await;
        }
        let (new_id, fresh, new_created) = rehashed(&app, &user, &imported).await;
        assert!(fresh.starts_with(KEYWARDEN_ARGON2), "{fresh}");
        assert_eq!((new_id, new_created), (id, created), "the same credential");

        assert_oidc_signs_in(&app, username, vector.password).await;
        assert_docker_signs_in(&app, username, vector.password).await;
        assert_oidc_refuses(&app, username, &wrong).await;
        assert_docker_refuses(&app, username, &wrong).await;
        assert_eq!(stored(&app, &user).await.1, fresh, "re-hashed once");
    }
}

#[tokio::test]
async fn keycloak_pbkdf2_sha256_with_64_byte_keys_signs_in_and_moves_to_argon2id() {
    imported_hash_signs_in_and_moves_to_argon2id(&PBKDF2_SHA256_64).await;
}

#[tokio::test]
async fn keycloak_pbkdf2_sha256_with_32_byte_keys_signs_in_and_moves_to_argon2id() {
    imported_hash_signs_in_and_moves_to_argon2id(&PBKDF2_SHA256_32).await;
}

#[tokio::test]
async fn keycloak_pbkdf2_sha512_signs_in_and_moves_to_argon2id() {
    imported_hash_signs_in_and_moves_to_argon2id(&PBKDF2_SHA512).await;
}

#[tokio::test]
async fn keycloak_pbkdf2_sha1_signs_in_and_moves_to_argon2id() {
    imported_hash_signs_in_and_moves_to_argon2id(&PBKDF2_SHA1).await;
}

#[tokio::test]
async fn keycloak_argon2_with_other_parameters_signs_in_and_moves_to_ours() {
    imported_hash_signs_in_and_moves_to_argon2id(&ARGON2_TUNED).await;
}

/// Keycloak 26's own argon2 parameters are keywarden's: such a hash signs in and stays.
#[tokio::test]
async fn keycloak_argon2_with_its_default_parameters_signs_in_and_is_kept() {
    let app = spawn_app().await;
    realm(&app).await;
    let kept = user_with_keycloak_hash(&app, "kept", &ARGON2_KEYCLOAK).await;
    let moved = user_with_keycloak_hash(&app, "moved", &ARGON2_TUNED).await;
    let (_, imported, _) = stored(&app, &kept).await;
    assert!(imported.starts_with(KEYWARDEN_ARGON2), "{imported}");
    let wrong = format!("{}x", ARGON2_KEYCLOAK.password);
    assert_oidc_refuses(&app, "kept", &wrong).await;
    assert_docker_refuses(&app, "kept", &wrong).await;
    assert_oidc_signs_in(&app, "kept", ARGON2_KEYCLOAK.password).await;
    assert_docker_signs_in(&app, "kept", ARGON2_KEYCLOAK.password).await;
    // A re-hash started after these sign-ins would be done by the time this one is.
    let (_, tuned, _) = stored(&app, &moved).await;
    assert_docker_signs_in(&app, "moved", ARGON2_TUNED.password).await;
    rehashed(&app, &moved, &tuned).await;
    assert_eq!(stored(&app, &kept).await.1, imported);
}

/// Calls the admin API with `token`.
async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(&format!("/admin/realms/{REALM}{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "text/plain")
            .body(body.to_owned());
    }
    request.send().await.unwrap()
}

async fn credentials(app: &TestApp, token: &str, user: &str) -> Vec<Value> {
    let response = call(
        app,
        token,
        Method::GET,
        &format!("/users/{user}/credentials"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_credentials_api_lists_labels_moves_and_deletes_as_keycloak_does() {
    let app = spawn_app().await;
    realm(&app).await;
    app.enable_events(REALM).await;
    let admin = app.admin_token().await;
    let user = app.create_user(REALM, "dev", "pw").await;

    let before = now_ms() - 60_000;
    let list = credentials(&app, &admin, &user).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let credential = &list[0];
    let id = credential["id"].as_str().unwrap().to_owned();
    assert_eq!(credential["type"], "password");
    assert!(credential.get("secretData").is_none(), "never the secret");
    assert!(credential.get("value").is_none());
    assert!(credential.get("userLabel").is_none(), "no label yet");
    let created = credential["createdDate"].as_i64().unwrap();
    assert!(created > before && created <= now_ms() + 1000, "{created}");
    let data: Value = serde_json::from_str(credential["credentialData"].as_str().unwrap()).unwrap();
    assert_eq!(
        data,
        json!({"hashIterations": 5, "algorithm": "argon2", "additionalParameters": {
            "hashLength": ["32"], "memory": ["7168"], "type": ["id"], "version": ["1.3"],
            "parallelism": ["1"]}})
    );

    let labelled = call(
        &app,
        &admin,
        Method::PUT,
        &format!("/users/{user}/credentials/{id}/userLabel"),
        Some("My password"),
    )
    .await;
    assert_eq!(labelled.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        credentials(&app, &admin, &user).await[0]["userLabel"],
        "My password"
    );

    let empty = call(
        &app,
        &admin,
        Method::PUT,
        &format!("/users/{user}/credentials/{id}/userLabel"),
        Some("  "),
    )
    .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let body: Value = empty.json().await.unwrap();
    assert_eq!(body["error"], "missingCredentialLabel");
    assert_eq!(
        body["error_description"],
        "Credential label must not be empty"
    );

    let unknown = "4ae4d7a2-52ee-4c7e-9d1e-1c1d2c3b4a59";
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/users/{user}/credentials/{unknown}/userLabel"),
            Some("x"),
        ),
        (
            Method::POST,
            format!("/users/{user}/credentials/{unknown}/moveToFirst"),
            None,
        ),
        (
            Method::DELETE,
            format!("/users/{user}/credentials/{unknown}"),
            None,
        ),
    ] {
        let response = call(&app, &admin, method, &path, body).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "Credential not found");
    }

    for path in [
        format!("/users/{user}/credentials/{id}/moveToFirst"),
        format!("/users/{user}/credentials/{id}/moveAfter/{unknown}"),
    ] {
        let moved = call(&app, &admin, Method::POST, &path, None).await;
        assert_eq!(moved.status(), StatusCode::NO_CONTENT, "{path}");
    }
    assert_eq!(credentials(&app, &admin, &user).await[0]["id"], id.as_str());

    let types = call(
        &app,
        &admin,
        Method::GET,
        &format!("/users/{user}/configured-user-storage-credential-types"),
        None,
    )
    .await;
    assert_eq!(types.status(), StatusCode::OK);
    assert_eq!(types.json::<Value>().await.unwrap(), json!([]));

    // A reset keeps the credential's id and, as Keycloak replaces the rest, drops the label.
    let reset = app
        .admin(
            Method::PUT,
            &format!("/{REALM}/users/{user}/reset-password"),
            Some(json!({"type": "password", "value": "new-pw", "temporary": false})),
        )
        .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let after_reset = credentials(&app, &admin, &user).await;
    assert_eq!(after_reset[0]["id"], id.as_str());
    assert!(after_reset[0].get("userLabel").is_none());
    assert_oidc_signs_in(&app, "dev", "new-pw").await;

    let deleted = call(
        &app,
        &admin,
        Method::DELETE,
        &format!("/users/{user}/credentials/{id}"),
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(credentials(&app, &admin, &user).await.is_empty());
    assert_oidc_refuses(&app, "dev", "new-pw").await;
    assert_docker_refuses(&app, "dev", "new-pw").await;

    let events: Vec<Value> = app
        .admin(Method::GET, &format!("/{REALM}/admin-events"), None)
        .await
        .json()
        .await
        .unwrap();
    let path = format!("users/{user}/credentials/{id}");
    let recorded: Vec<_> = events
        .iter()
        .filter(|e| {
            e["resourcePath"]
                .as_str()
                .unwrap_or_default()
                .contains("/credentials/")
        })
        .collect();
    assert_eq!(
        recorded.len(),
        1,
        "only the deletion is an event: {recorded:?}"
    );
    assert_eq!(recorded[0]["operationType"], "ACTION");
    assert_eq!(recorded[0]["resourceType"], "USER");
    assert_eq!(recorded[0]["resourcePath"], path.as_str());
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn credentials_need_view_users_to_read_and_manage_users_over_a_weaker_user_to_change() {
    let app = spawn_app().await;
    realm(&app).await;
    let admin = app.admin_token().await;
    let dev = app.create_user(REALM, "dev", "pw").await;
    let boss = app.create_user(REALM, "boss", "pw").await;
    app.grant_management(REALM, &boss, &["realm-admin"]).await;
    let dev_credential = credentials(&app, &admin, &dev).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let boss_credential = credentials(&app, &admin, &boss).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (_, querier) = app.realm_admin(REALM, "querier", &["query-users"]).await;
    let read = call(
        &app,
        &querier,
        Method::GET,
        &format!("/users/{dev}/credentials"),
        None,
    )
    .await;
    assert_eq!(read.status(), StatusCode::FORBIDDEN);

    let (_, viewer) = app.realm_admin(REALM, "viewer", &["view-users"]).await;
    assert_eq!(credentials(&app, &viewer, &dev).await.len(), 1);
    let writes = |user: &str, credential: &str| {
        [
            (
                Method::DELETE,
                format!("/users/{user}/credentials/{credential}"),
                None,
            ),
            (
                Method::PUT,
                format!("/users/{user}/credentials/{credential}/userLabel"),
                Some("mine"),
            ),
            (
                Method::POST,
                format!("/users/{user}/credentials/{credential}/moveToFirst"),
                None,
            ),
        ]
    };
    for (method, path, body) in writes(&dev, &dev_credential) {
        let response = call(&app, &viewer, method, &path, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "viewer: {path}");
    }

    let (_, manager) = app.realm_admin(REALM, "manager", &["manage-users"]).await;
    assert_eq!(
        credentials(&app, &manager, &boss).await.len(),
        1,
        "may read"
    );
    for (method, path, body) in writes(&boss, &boss_credential) {
        let response = call(&app, &manager, method, &path, body).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "above them: {path}"
        );
    }
    assert_eq!(
        credentials(&app, &admin, &boss).await.len(),
        1,
        "still there"
    );
    assert_oidc_signs_in(&app, "boss", "pw").await;

    let label = call(
        &app,
        &manager,
        Method::PUT,
        &format!("/users/{dev}/credentials/{dev_credential}/userLabel"),
        Some("work"),
    )
    .await;
    assert_eq!(label.status(), StatusCode::NO_CONTENT);
    let deleted = call(
        &app,
        &manager,
        Method::DELETE,
        &format!("/users/{dev}/credentials/{dev_credential}"),
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let other_users = call(
        &app,
        &manager,
        Method::DELETE,
        &format!("/users/{dev}/credentials/{boss_credential}"),
        None,
    )
    .await;
    assert_eq!(
        other_users.status(),
        StatusCode::NOT_FOUND,
        "another user's credential is not this user's"
    );
    assert_eq!(credentials(&app, &admin, &boss).await.len(), 1);
}

#[tokio::test]
async fn users_created_with_credentials_get_a_password_as_before() {
    let app = spawn_app().await;
    realm(&app).await;
    let created = app
        .admin(
            Method::POST,
            &format!("/{REALM}/users"),
            Some(json!({"username": "temp", "enabled": true,
                "credentials": [{"type": "password", "value": "first", "temporary": true}]})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let user = location_id(&created);
    let admin = app.admin_token().await;
    let list = credentials(&app, &admin, &user).await;
    assert_eq!(list.len(), 1);
    let fetched: Value = app
        .admin(Method::GET, &format!("/{REALM}/users/{user}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["requiredActions"], json!(["UPDATE_PASSWORD"]));
    let (_, stored_hash, _) = stored(&app, &user).await;
    assert!(stored_hash.starts_with(KEYWARDEN_ARGON2));
}
