//! Many users at once, at a scale a debug build runs quickly: a realm of 2,000 users with
//! passwords in Keycloak's stored form (pbkdf2-sha512 and argon2) goes through `keywarden
//! import --file` and `--dir` in full, its users get docker tokens with their passwords, and a
//! file with one broken user record changes nothing.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use keywarden::store::DbOptions;
use serde_json::{json, Value};

use crate::cli;
use crate::helpers::{basic, spawn_app_with, TestApp};

const USERS: usize = 2_000;
const PASSWORD: &str = "aNic3Passw0rd";
/// A Keycloak 26 export's argon2id hash of PASSWORD (kc26-openbeheer-realm-export.json).
const ARGON2_SECRET: &str = r#"{"value":"opK2JwNdEiwrKJgKzYdalxOTSxuX0Kh+0nsLMCZNDTQ=","salt":"cFXf3ITG9X9kJDuOlYw2Xw==","additionalParameters":{}}"#;
const ARGON2_DATA: &str = r#"{"hashIterations":5,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}"#;
const PBKDF2_ITERATIONS: u32 = 210_000;
const AUTH: &str =
    "/realms/bench/protocol/docker-v2/auth?service=registry&scope=repository:app:pull";

/// Keycloak 24's stored form of PASSWORD: pbkdf2-sha512, 210,000 iterations, 64 bytes.
fn pbkdf2_sha512() -> (String, String) {
    let salt = *b"sixteen byte sal";
    let mut key = [0u8; 64];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512,
        std::num::NonZeroU32::new(PBKDF2_ITERATIONS).unwrap(),
        &salt,
        PASSWORD.as_bytes(),
        &mut key,
    );
    let secret = json!({"value": STANDARD.encode(key), "salt": STANDARD.encode(salt),
                        "additionalParameters": {}});
    let data = json!({"hashIterations": PBKDF2_ITERATIONS, "algorithm": "pbkdf2-sha512",
                      "additionalParameters": {}});
    (secret.to_string(), data.to_string())
}

/// User `index` as Keycloak exports it: even users hold the pbkdf2 hash, odd ones argon2.
fn user(index: usize, pbkdf2: &(String, String)) -> Value {
    let (secret, data) = if index.is_multiple_of(2) {
        (pbkdf2.0.as_str(), pbkdf2.1.as_str())
    } else {
        (ARGON2_SECRET, ARGON2_DATA)
    };
    json!({
        "id": format!("00000000-0000-4000-8000-{index:012}"),
        "username": format!("user{index:06}"),
        "email": format!("user{index:06}@bench.test"),
        "firstName": "User",
        "emailVerified": true,
        "createdTimestamp": 1_728_047_925_356i64 + index as i64,
        "enabled": true,
        "totp": false,
        "credentials": [{"type": "password", "createdDate": 1_728_047_925_376i64,
                         "secretData": secret, "credentialData": data}],
        "disableableCredentialTypes": [],
        "requiredActions": [],
        "realmRoles": ["default-roles-bench", "puller"],
        "notBefore": 0,
        "groups": [],
    })
}

fn users(pbkdf2: &(String, String)) -> Vec<Value> {
    (0..USERS).map(|i| user(i, pbkdf2)).collect()
}

fn realm(users: Option<Vec<Value>>) -> Value {
    let mut realm = json!({
        "realm": "bench",
        "enabled": true,
        "roles": {"realm": [{"name": "puller"}]},
        "clients": [{"clientId": "registry", "protocol": "docker-v2", "publicClient": true}],
    });
    if let Some(users) = users {
        realm["users"] = Value::Array(users);
    }
    realm
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
}

/// A database URL for the tools and the server: a file in `dir`, or a new PostgreSQL
/// database when the suite runs on PostgreSQL.
async fn database(dir: &Path, name: &str) -> String {
    if crate::postgres::is_backend() {
        crate::postgres::new_database().await
    } else {
        format!("sqlite://{}", dir.join(name).display())
    }
}

fn import(dir: &Path, what: &[&str], db: &str) -> std::process::Output {
    let mut args = vec!["import"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["--db-url", db]);
    cli::run(dir, &args, &[])
}

fn import_ok(dir: &Path, what: &[&str], db: &str) {
    let output = import(dir, what, db);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "import {what:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("realm bench imported"), "{stdout}");
}

/// The error of an import that must fail.
fn import_fails(dir: &Path, what: &[&str], db: &str) -> String {
    let output = import(dir, what, db);
    assert!(!output.status.success(), "import {what:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn serve(db: &str) -> TestApp {
    let db = db.to_owned();
    spawn_app_with(move |settings| settings.db = DbOptions::url(db)).await
}

async fn user_count(app: &TestApp) -> u64 {
    let response = app
        .admin(reqwest::Method::GET, "/bench/users/count", None)
        .await;
    assert_eq!(response.status(), 200);
    response.json::<u64>().await.unwrap()
}

async fn token_status(app: &TestApp, username: &str, password: &str) -> u16 {
    let response = app
        .client
        .get(app.url(AUTH))
        .header("Authorization", basic(username, password))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        let body: Value = response.json().await.unwrap();
        assert!(body["token"].as_str().is_some_and(|t| !t.is_empty()));
    }
    status
}

/// Both kinds of stored hash verify, the last user is there, and a wrong password fails.
async fn assert_users_sign_in(app: &TestApp) {
    assert_eq!(user_count(app).await, USERS as u64);
    assert_eq!(token_status(app, "user000000", PASSWORD).await, 200);
    assert_eq!(token_status(app, "user001999", PASSWORD).await, 200);
    assert_eq!(token_status(app, "user001000", "wrong").await, 401);
}

#[tokio::test]
async fn thousands_of_users_with_both_hash_kinds_import_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let pbkdf2 = pbkdf2_sha512();
    let db = database(path, "kw.db").await;
    write(&path.join("realm.json"), &realm(Some(users(&pbkdf2))));
    import_ok(path, &["--file", "realm.json"], &db);

    // A user naming a group the file lacks fails the write half-way through the users.
    let mut broken = users(&pbkdf2);
    broken[1000]["groups"] = json!(["/missing"]);
    broken[1000]["username"] = json!("half-way");
    write(&path.join("broken.json"), &realm(Some(broken)));
    let error = import_fails(path, &["--file", "broken.json"], &db);
    assert!(
        error.contains("users[1000].groups: no group '/missing'"),
        "{error}"
    );

    // A record that is not a user fails before anything is written, naming its field.
    let mut unreadable = users(&pbkdf2);
    unreadable[1500]["createdTimestamp"] = json!("yesterday");
    write(&path.join("unreadable.json"), &realm(Some(unreadable)));
    let error = import_fails(path, &["--file", "unreadable.json"], &db);
    assert!(error.contains("users[1500].createdTimestamp"), "{error}");

    let app = serve(&db).await;
    assert_users_sign_in(&app).await;
    let half_way = app
        .admin(
            reqwest::Method::GET,
            "/bench/users?username=half-way&exact=true",
            None,
        )
        .await;
    assert_eq!(
        half_way.json::<Vec<Value>>().await.unwrap(),
        Vec::<Value>::new()
    );
    let roles = app
        .admin(
            reqwest::Method::GET,
            "/bench/users/00000000-0000-4000-8000-000000001234/role-mappings/realm",
            None,
        )
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap();
    let mut names: Vec<&str> = roles.iter().filter_map(|r| r["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["default-roles-bench", "puller"]);
}

#[tokio::test]
async fn a_directory_of_users_files_imports_every_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let export = path.join("export");
    std::fs::create_dir(&export).unwrap();
    write(&export.join("bench-realm.json"), &realm(None));
    let all = users(&pbkdf2_sha512());
    for (index, chunk) in all.chunks(300).enumerate() {
        write(
            &export.join(format!("bench-users-{index}.json")),
            &json!({"realm": "bench", "users": chunk}),
        );
    }
    let db = database(path, "kw.db").await;
    import_ok(path, &["--dir", "export"], &db);
    let app = serve(&db).await;
    assert_users_sign_in(&app).await;
}
