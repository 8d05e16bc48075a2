//! Realm files exported by real Keycloak servers (tests/fixtures/keycloak-exports, see its
//! SOURCES.md) move in with their users, roles, clients and passwords, and come back out in
//! Keycloak's format.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{basic, spawn_app, TestApp};

/// A fixture's realm, and its users with the passwords their repositories document.
pub struct Fixture {
    pub file: &'static str,
    pub realm: &'static str,
    pub users: &'static [(&'static str, &'static str)],
}

pub const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "kc9-todo-list-realm.json",
        realm: "todo-list-realm",
        users: &[("alice", "password"), ("john", "password")],
    },
    Fixture {
        file: "kc21-spring-realm.json",
        realm: "spring",
        users: &[
            ("administrator", "admin"),
            ("my-user", "password"),
            ("someone", "someone"),
        ],
    },
    Fixture {
        file: "kc23-signals-realm-export.json",
        realm: "signals",
        users: &[("signals.admin@example.com", "password")],
    },
    Fixture {
        file: "kc26-development-partial-export.json",
        realm: "development",
        users: &[],
    },
];

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keycloak-exports")
}

pub fn fixture(file: &str) -> Value {
    let text = std::fs::read_to_string(fixture_dir().join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn import(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin(Method::POST, "", Some(body)).await
}

async fn get(app: &TestApp, path: &str) -> Value {
    let response = app.admin(Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

async fn client_uuid(app: &TestApp, realm: &str, client_id: &str) -> String {
    let clients = get(app, &format!("/{realm}/clients?clientId={client_id}")).await;
    clients[0]["id"].as_str().unwrap().to_owned()
}

async fn user_id(app: &TestApp, realm: &str, username: &str) -> String {
    let users = get(
        app,
        &format!("/{realm}/users?username={username}&exact=true"),
    )
    .await;
    let found: Vec<&Value> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["username"] == username)
        .collect();
    assert_eq!(found.len(), 1, "{username} in {users}");
    found[0]["id"].as_str().unwrap().to_owned()
}

async fn partial_export(app: &TestApp, realm: &str) -> Value {
    let response = app
        .admin(
            Method::POST,
            &format!("/{realm}/partial-export?exportClients=true&exportGroupsAndRoles=true"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn every_fixture_imports_through_the_api() {
    let app = spawn_app().await;
    for fixture in FIXTURES {
        let response = import(&app, self::fixture(fixture.file)).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{}: {body}", fixture.file);
        let realm = get(&app, &format!("/{}", fixture.realm)).await;
        assert_eq!(realm["realm"], fixture.realm);
        for (username, _) in fixture.users {
            user_id(&app, fixture.realm, username).await;
        }
    }
}

#[tokio::test]
async fn client_roles_composites_and_role_mappings_arrive() {
    let app = spawn_app().await;
    import(&app, fixture("kc21-spring-realm.json")).await;
    let app_client = client_uuid(&app, "spring", "spring-boot-app").await;
    let roles = get(&app, &format!("/spring/clients/{app_client}/roles")).await;
    assert_eq!(
        names(&roles),
        ["admin", "regular-user", "uma_protection", "user"]
    );
    let admin = user_id(&app, "spring", "administrator").await;
    let mapped = get(
        &app,
        &format!("/spring/users/{admin}/role-mappings/clients/{app_client}"),
    )
    .await;
    assert_eq!(names(&mapped), ["admin"]);
    // Imported users hold what they list, not the default role on top.
    let someone = user_id(&app, "spring", "someone").await;
    let realm_roles = get(
        &app,
        &format!("/spring/users/{someone}/role-mappings/realm"),
    )
    .await;
    assert_eq!(names(&realm_roles), Vec::<String>::new());

    let exported = partial_export(&app, "spring").await;
    let regular = exported["roles"]["realm"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "regular-user")
        .unwrap();
    assert_eq!(regular["composite"], true);
    assert_eq!(
        regular["composites"]["client"]["spring-boot-app"],
        json!(["regular-user"])
    );
}

#[tokio::test]
async fn a_composite_may_name_a_role_listed_after_it() {
    let app = spawn_app().await;
    let response = import(
        &app,
        json!({
            "realm": "forward",
            "roles": {"realm": [
                {"name": "all", "composite": true, "composites": {"realm": ["later"], "client": {"shop": ["buy"]}}},
                {"name": "later"}
            ], "client": {"shop": [{"name": "buy"}]}},
            "clients": [{"clientId": "shop", "publicClient": true}],
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let exported = partial_export(&app, "forward").await;
    let all = exported["roles"]["realm"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "all")
        .unwrap()
        .clone();
    assert_eq!(all["composites"]["realm"], json!(["later"]));
    assert_eq!(all["composites"]["client"]["shop"], json!(["buy"]));
}

#[tokio::test]
async fn the_default_role_is_the_realms_own_with_the_exported_parts() {
    let app = spawn_app().await;
    import(&app, fixture("kc23-signals-realm-export.json")).await;
    let roles = get(&app, "/signals/roles").await;
    let defaults: Vec<String> = names(&roles)
        .into_iter()
        .filter(|n| n.starts_with("default-roles"))
        .collect();
    assert_eq!(defaults, ["default-roles-signals"]);
    let exported = partial_export(&app, "signals").await;
    assert_eq!(exported["defaultRole"]["name"], "default-roles-signals");
    let default = exported["roles"]["realm"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "default-roles-signals")
        .unwrap()
        .clone();
    assert_eq!(
        default["composites"]["client"]["account"],
        json!(["manage-account", "view-profile"])
    );
}

#[tokio::test]
async fn keycloak_9_default_roles_become_parts_of_the_default_role() {
    let app = spawn_app().await;
    import(&app, fixture("kc9-todo-list-realm.json")).await;
    let exported = partial_export(&app, "todo-list-realm").await;
    let default = exported["roles"]["realm"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "default-roles-todo-list-realm")
        .unwrap()
        .clone();
    assert_eq!(
        default["composites"]["realm"],
        json!(["offline_access", "uma_authorization"])
    );
    assert_eq!(
        default["composites"]["client"]["account"],
        json!(["manage-account", "view-profile"])
    );
}

#[tokio::test]
async fn the_exported_service_account_becomes_the_clients() {
    let app = spawn_app().await;
    import(&app, fixture("kc21-spring-realm.json")).await;
    let response = app
        .client
        .post(app.url("/realms/spring/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "spring-boot-app"),
            ("client_secret", "ZjvIwT5SuQ3wrqwW1kst4vxhCtvgcKo7"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let claims = crate::helpers::jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "e62bb32c-dc81-4240-a60f-92518bec8988");
    let accounts = get(
        &app,
        "/spring/users?username=service-account-spring-boot-app",
    )
    .await;
    assert_eq!(accounts.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_client_without_public_client_is_confidential_and_a_masked_secret_is_replaced() {
    let app = spawn_app().await;
    let response = import(
        &app,
        json!({
            "realm": "masked",
            "clients": [
                {"clientId": "backend", "secret": "**********", "serviceAccountsEnabled": true},
                {"clientId": "kept", "secret": "s3cret-from-export"}
            ],
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let backend = client_uuid(&app, "masked", "backend").await;
    let client = get(&app, &format!("/masked/clients/{backend}")).await;
    assert_eq!(client["publicClient"], false);
    let secret = get(&app, &format!("/masked/clients/{backend}/client-secret")).await;
    let value = secret["value"].as_str().unwrap();
    assert!(value.len() >= 16 && !value.contains('*'), "{value}");
    let kept = client_uuid(&app, "masked", "kept").await;
    let secret = get(&app, &format!("/masked/clients/{kept}/client-secret")).await;
    assert_eq!(secret["value"], "s3cret-from-export");
}

#[tokio::test]
async fn of_duplicate_keys_the_last_wins() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let response = app
        .client
        .post(app.url("/admin/realms"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(r#"{"realm": "first", "accessTokenLifespan": 60, "realm": "second", "accessTokenLifespan": 120}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let realm = get(&app, "/second").await;
    assert_eq!(realm["accessTokenLifespan"], 120);
    let first = app.admin(Method::GET, "/first", None).await;
    assert_eq!(first.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_input_is_refused_naming_its_path() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"realm": "bad", "users": [{"username": "a"}, {"username": "b", "credentials": [
                {"type": "password", "secretData": "{\"value\":\"AAAA\",\"salt\":\"AAAA\"}",
                 "credentialData": "{\"hashIterations\":-5,\"algorithm\":\"pbkdf2-sha256\"}"}]}]}),
            "users[1].credentials[0]",
        ),
        (
            json!({"realm": "bad", "users": [{"username": "a", "enabled": "perhaps"}]}),
            "users[0].enabled",
        ),
        (
            json!({"realm": "bad", "roles": {"realm": [{"name": "x", "composites": {"realm": ["missing"]}}]}}),
            "roles.realm[0].composites.realm",
        ),
        (
            json!({"realm": "bad", "users": [{"username": "a", "clientRoles": {"nowhere": ["r"]}}]}),
            "users[0].clientRoles",
        ),
    ];
    for (body, path) in cases {
        let response = import(&app, body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let text = response.text().await.unwrap();
        assert!(text.contains(path), "{path}: {text}");
    }
    let realm = app.admin(Method::GET, "/bad", None).await;
    assert_eq!(realm.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sections_keywarden_does_not_implement_come_back_on_export() {
    let app = spawn_app().await;
    import(&app, fixture("kc21-spring-realm.json")).await;
    let exported = partial_export(&app, "spring").await;
    assert_eq!(exported["keycloakVersion"], "21.1.1");
    assert_eq!(exported["browserFlow"], "browser");
    assert_eq!(exported["otpPolicyDigits"], 6);
    let app_client = exported["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "spring-boot-app")
        .unwrap()
        .clone();
    assert_eq!(app_client["secret"], "**********");
    assert_eq!(
        app_client["authorizationSettings"]["policyEnforcementMode"],
        "ENFORCING"
    );
    assert_eq!(app_client["protocolMappers"][0]["name"], "Client ID");
}

#[tokio::test]
async fn a_partial_export_imports_again_into_the_same_document() {
    let app = spawn_app().await;
    import(&app, fixture("kc23-signals-realm-export.json")).await;
    let first = partial_export(&app, "signals").await;
    let deleted = app.admin(Method::DELETE, "/signals", None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let response = import(&app, first.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second = partial_export(&app, "signals").await;
    assert_eq!(without_volatile(first), without_volatile(second));
}

/// A document without what changes from one import to the next: ids and timestamps.
pub fn without_volatile(mut value: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(fields) => {
                for key in ["id", "containerId", "createdTimestamp", "createdDate"] {
                    fields.remove(key);
                }
                fields.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

/// Signs in with the password grant; answers the status.
async fn password_grant(app: &TestApp, realm: &str, username: &str, password: &str) -> u16 {
    app.client
        .post(app.url(&format!("/realms/{realm}/protocol/openid-connect/token")))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn plain_passwords_of_an_import_sign_in() {
    let app = spawn_app().await;
    import(
        &app,
        json!({"realm": "plain", "users": [{"username": "ann", "enabled": true,
            "credentials": [{"type": "password", "value": "an-imported-password"}]}]}),
    )
    .await;
    assert_eq!(
        password_grant(&app, "plain", "ann", "an-imported-password").await,
        200
    );
}

/// Needs the PBKDF2 verification of Keycloak's hashes (the passwords branch).
#[tokio::test]
#[ignore = "waits for PBKDF2/argon2 verification of imported Keycloak hashes"]
async fn keycloak_hashed_passwords_sign_in_through_oidc_and_docker() {
    let app = spawn_app().await;
    for fixture in FIXTURES.iter().filter(|f| !f.users.is_empty()) {
        import(&app, self::fixture(fixture.file)).await;
        app.create_docker_client(fixture.realm, "registry").await;
        for (username, password) in fixture.users {
            assert_eq!(
                password_grant(&app, fixture.realm, username, password).await,
                200,
                "{username} of {}",
                fixture.file
            );
            assert_ne!(
                password_grant(&app, fixture.realm, username, "not-the-password").await,
                200
            );
            let docker = app
                .client
                .get(app.url(&format!(
                    "/realms/{}/protocol/docker-v2/auth?service=registry&scope=repository:a/b:pull",
                    fixture.realm
                )))
                .header("authorization", basic(username, password))
                .send()
                .await
                .unwrap();
            assert_eq!(docker.status(), StatusCode::OK, "docker {username}");
        }
    }
}
