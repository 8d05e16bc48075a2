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
        file: "kc12-pager-realm.json",
        realm: "pager",
        users: &[("xxx304050", "donaldpromp")],
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
        file: "kc26-openbeheer-realm-export.json",
        realm: "openbeheer-dev",
        users: &[
            ("alice_doe", "aNic3Passw0rd"),
            ("john_doe", "aNic3Passw0rd"),
        ],
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

/// The `kc.sh export --dir` fixture (Keycloak 23): its realm file with its users file's users.
pub fn dir_fixture_as_one() -> Value {
    let dir = fixture_dir().join("kc23-nss-dir");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let mut realm = read("test-realm.json");
    realm["users"] = read("test-users-0.json")["users"].clone();
    realm
}

/// The users of the directory fixture, with the passwords the hashes were checked against.
const DIR_FIXTURE_USERS: &[(&str, &str)] = &[
    ("nss-user", "nss-user"),
    ("user01", "user01"),
    ("user02", "user02"),
];

async fn import(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin(Method::POST, "", Some(body)).await
}

/// The admin API's JSON answer to a GET of `path`, which must be 200.
pub async fn get(app: &TestApp, path: &str) -> Value {
    let response = app.admin(Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

/// The internal id of the client `client_id` of `realm`.
pub async fn client_uuid(app: &TestApp, realm: &str, client_id: &str) -> String {
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
    let client = get(&app, &format!("/spring/clients/{app_client}")).await;
    assert_eq!(client["authorizationServicesEnabled"], true);
    assert_eq!(client["fullScopeAllowed"], true);
    assert_eq!(client["protocolMappers"][0]["name"], "Client ID");
    assert_eq!(client["publicClient"], false);
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
async fn a_realm_imported_under_another_name_keeps_one_default_role() {
    let app = spawn_app().await;
    let mut renamed = fixture("kc23-signals-realm-export.json");
    renamed["realm"] = json!("signals-copy");
    let response = import(&app, renamed).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let roles = get(&app, "/signals-copy/roles").await;
    let defaults: Vec<String> = names(&roles)
        .into_iter()
        .filter(|n| n.starts_with("default-roles"))
        .collect();
    assert_eq!(defaults, ["default-roles-signals"]);
    let exported = partial_export(&app, "signals-copy").await;
    assert_eq!(exported["defaultRole"]["name"], "default-roles-signals");
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
async fn a_hash_of_an_unknown_algorithm_leaves_the_user_without_a_password() {
    let app = spawn_app().await;
    let response = import(
        &app,
        json!({"realm": "custom", "users": [{"username": "ann", "credentials": [{"type": "password",
            "secretData": "{\"value\":\"JDJhJDEwJA==\",\"salt\":\"\"}",
            "credentialData": "{\"hashIterations\":10,\"algorithm\":\"bcrypt\"}"}]}]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    user_id(&app, "custom", "ann").await;
    assert_ne!(password_grant(&app, "custom", "ann", "anything").await, 200);
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
async fn the_realm_shows_keycloaks_fields_with_kept_values_over_the_defaults() {
    let app = spawn_app().await;
    app.create_realm("plain").await;
    let realm = get(&app, "/plain").await;
    assert_eq!(realm["sslRequired"], "external");
    assert_eq!(realm["defaultSignatureAlgorithm"], "RS256");
    assert_eq!(realm["otpPolicyDigits"], 6);
    assert_eq!(realm["loginWithEmailAllowed"], true);
    assert_eq!(realm["defaultRole"]["name"], "default-roles-plain");
    assert!(realm.get("authenticationFlows").is_none());
    let response = app
        .admin(
            Method::PUT,
            "/plain",
            Some(json!({"sslRequired": "none", "registrationAllowed": true, "noSuchField": 1})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let realm = get(&app, "/plain").await;
    assert_eq!(realm["sslRequired"], "none");
    assert_eq!(realm["registrationAllowed"], true);
    assert!(realm.get("noSuchField").is_none());

    import(&app, fixture("kc21-spring-realm.json")).await;
    let realm = get(&app, "/spring").await;
    assert_eq!(realm["attributes"]["cibaExpiresIn"], "120");
    assert_eq!(realm["webAuthnPolicySignatureAlgorithms"], json!(["ES256"]));
    assert!(realm.get("keycloakVersion").is_none());
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

#[tokio::test]
async fn keycloak_argon2_passwords_sign_in_through_oidc_and_docker() {
    let app = spawn_app().await;
    import(&app, fixture("kc26-openbeheer-realm-export.json")).await;
    app.create_docker_client("openbeheer-dev", "registry").await;
    for username in ["alice_doe", "john_doe"] {
        assert_eq!(
            password_grant(&app, "openbeheer-dev", username, "aNic3Passw0rd").await,
            200
        );
        assert_ne!(
            password_grant(&app, "openbeheer-dev", username, "aNic3Passw0rD").await,
            200
        );
        let docker = app
            .client
            .get(app.url(
                "/realms/openbeheer-dev/protocol/docker-v2/auth?service=registry&scope=repository:a/b:pull",
            ))
            .header("authorization", basic(username, "aNic3Passw0rd"))
            .send()
            .await
            .unwrap();
        assert_eq!(docker.status(), StatusCode::OK, "docker {username}");
    }
    // The group's client role arrives with the group.
    let exported = partial_export(&app, "openbeheer-dev").await;
    assert_eq!(
        exported["groups"][0]["clientRoles"]["openbeheer-dev"],
        json!(["Superuser"])
    );
}

#[tokio::test]
async fn keycloak_hashed_passwords_sign_in_through_oidc_and_docker() {
    let app = spawn_app().await;
    import(&app, dir_fixture_as_one()).await;
    let dir_fixture = Fixture {
        file: "kc23-nss-dir",
        realm: "test",
        users: DIR_FIXTURE_USERS,
    };
    let fixtures = FIXTURES
        .iter()
        .filter(|f| !f.users.is_empty())
        .chain([&dir_fixture]);
    for fixture in fixtures {
        if fixture.realm != "test" {
            import(&app, self::fixture(fixture.file)).await;
        }
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

/// A realm whose roles and groups carry attributes, as Keycloak exports them.
fn realm_with_attributes(realm: &str) -> Value {
    json!({
        "realm": realm,
        "roles": {
            "realm": [
                {"name": "auditor", "description": "Reads the books",
                 "attributes": {"level": ["2"], "scope": ["books", "ledgers"]}},
                {"name": "plain", "attributes": {}}
            ],
            "client": {"shop": [{"name": "clerk", "attributes": {"till": ["3"]}}]}
        },
        "clients": [{"clientId": "shop", "publicClient": true}],
        "groups": [{
            "name": "staff",
            "description": "Everyone on the payroll",
            "attributes": {"gidnumber": ["500"]},
            "subGroups": [{"name": "night", "attributes": {"shift": ["22-06"]}}]
        }]
    })
}

async fn group_named(app: &TestApp, realm: &str, path: &str) -> Value {
    let response = app
        .admin(
            Method::GET,
            &format!("/{realm}/group-by-path/{}", path.trim_start_matches('/')),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn role_and_group_attributes_of_a_file_arrive() {
    let app = spawn_app().await;
    let response = import(&app, realm_with_attributes("attrs")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let auditor = get(&app, "/attrs/roles/auditor").await;
    assert_eq!(
        auditor["attributes"],
        json!({"level": ["2"], "scope": ["books", "ledgers"]})
    );
    assert_eq!(auditor["description"], "Reads the books");
    assert_eq!(
        get(&app, "/attrs/roles/plain").await["attributes"],
        json!({})
    );
    let shop = client_uuid(&app, "attrs", "shop").await;
    let clerk = get(&app, &format!("/attrs/clients/{shop}/roles/clerk")).await;
    assert_eq!(clerk["attributes"], json!({"till": ["3"]}));
    let staff = group_named(&app, "attrs", "staff").await;
    assert_eq!(staff["description"], "Everyone on the payroll");
    assert_eq!(staff["attributes"], json!({"gidnumber": ["500"]}));
    let night = group_named(&app, "attrs", "staff/night").await;
    assert_eq!(night["attributes"], json!({"shift": ["22-06"]}));
}

#[tokio::test]
async fn the_export_shows_role_and_group_attributes_as_keycloak_writes_them() {
    let app = spawn_app().await;
    import(&app, realm_with_attributes("attrs")).await;
    let exported = partial_export(&app, "attrs").await;
    let realm_role = |name: &str| {
        exported["roles"]["realm"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        realm_role("auditor")["attributes"],
        json!({"level": ["2"], "scope": ["books", "ledgers"]})
    );
    // Keycloak writes `{}` for a role without attributes, built-in roles included.
    assert_eq!(realm_role("plain")["attributes"], json!({}));
    assert_eq!(realm_role("offline_access")["attributes"], json!({}));
    assert_eq!(
        exported["roles"]["client"]["shop"][0]["attributes"],
        json!({"till": ["3"]})
    );
    let staff = &exported["groups"][0];
    assert_eq!(staff["name"], "staff");
    assert_eq!(staff["description"], "Everyone on the payroll");
    assert_eq!(staff["attributes"], json!({"gidnumber": ["500"]}));
    let night = &staff["subGroups"][0];
    assert_eq!(night["attributes"], json!({"shift": ["22-06"]}));
    assert!(night.get("description").is_none(), "{night}");
}

#[tokio::test]
async fn role_and_group_attributes_round_trip_through_export_and_import() {
    let app = spawn_app().await;
    import(&app, realm_with_attributes("attrs")).await;
    let first = partial_export(&app, "attrs").await;
    let deleted = app.admin(Method::DELETE, "/attrs", None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let response = import(&app, first.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second = partial_export(&app, "attrs").await;
    assert_eq!(
        second["groups"][0]["attributes"],
        json!({"gidnumber": ["500"]})
    );
    assert_eq!(
        second["roles"]["client"]["shop"][0]["attributes"],
        json!({"till": ["3"]})
    );
    assert_eq!(without_volatile(first), without_volatile(second));
}

#[tokio::test]
async fn the_directory_fixtures_group_attributes_arrive() {
    let app = spawn_app().await;
    let response = import(&app, dir_fixture_as_one()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for (group, gid) in [("group01", "500"), ("group02", "501")] {
        let found = group_named(&app, "test", group).await;
        assert_eq!(found["attributes"], json!({"gidnumber": [gid]}), "{group}");
    }
}

#[tokio::test]
async fn attributes_beyond_the_admin_apis_caps_are_refused_naming_their_path() {
    let app = spawn_app().await;
    let many: Vec<String> = (0..257).map(|i| i.to_string()).collect();
    let long_name = "n".repeat(256);
    let long_value = "v".repeat(4097);
    let cases = [
        (
            json!({"realm": "bad", "roles": {"realm": [{"name": "ok"}, {"name": "r", "attributes": {"k": many}}]}}),
            "roles.realm[1].attributes",
        ),
        (
            json!({"realm": "bad", "clients": [{"clientId": "app"}],
                   "roles": {"client": {"app": [{"name": "r", "attributes": {"k": [long_value]}}]}}}),
            "roles.client.app[0].attributes",
        ),
        (
            json!({"realm": "bad", "groups": [{"name": "g", "subGroups": [
                {"name": "s", "attributes": {long_name: ["v"]}}]}]}),
            "groups[0].subGroups[0].attributes",
        ),
        (
            json!({"realm": "bad", "groups": [{"name": "g", "attributes": {"k": "not a list"}}]}),
            "groups[0].attributes",
        ),
        (
            json!({"realm": "bad", "users": [{"username": "ann"},
                   {"username": "bob", "attributes": {"k": many.clone()}}]}),
            "users[1].attributes",
        ),
    ];
    for (body, path) in cases {
        let response = import(&app, body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let text = response.text().await.unwrap();
        assert!(text.contains(path), "{path}: {text}");
        let realm = app.admin(Method::GET, "/bad", None).await;
        assert_eq!(realm.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_imported_role_description_is_capped_as_the_role_put_caps_it() {
    let app = spawn_app().await;
    let long = "d".repeat(10_000);
    let response = import(
        &app,
        json!({"realm": "wordy", "roles": {"realm": [{"name": "r", "description": long}]}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let role: Value = app
        .admin(Method::GET, "/wordy/roles/r", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(role["description"].as_str().unwrap().len(), 4096);
}

/// The command line, as `kc.sh export` and `kc.sh import`.
mod command_line {
    use std::path::Path;

    use serde_json::{json, Value};

    use super::{fixture, fixture_dir, realm_with_attributes, without_volatile, FIXTURES};
    use crate::cli::{run, Server};

    fn ok(dir: &Path, args: &[&str]) -> String {
        let output = run(dir, args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn read(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn user_count(realm: &Value) -> usize {
        realm["users"].as_array().map_or(0, Vec::len)
    }

    #[test]
    fn every_fixture_round_trips_through_export_and_import() {
        for fixture in FIXTURES {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path();
            let source = fixture_dir().join(fixture.file);
            let source = source.to_str().unwrap();
            ok(
                path,
                &["import", "--file", source, "--db-url", "sqlite://a.db"],
            );
            ok(
                path,
                &[
                    "export",
                    "--realm",
                    fixture.realm,
                    "--file",
                    "one.json",
                    "--db-url",
                    "sqlite://a.db",
                ],
            );
            ok(
                path,
                &["import", "--file", "one.json", "--db-url", "sqlite://b.db"],
            );
            ok(
                path,
                &[
                    "export",
                    "--realm",
                    fixture.realm,
                    "--file",
                    "two.json",
                    "--db-url",
                    "sqlite://b.db",
                ],
            );
            let (one, two) = (read(&path.join("one.json")), read(&path.join("two.json")));
            assert_eq!(
                without_volatile(one.clone()),
                without_volatile(two),
                "{}",
                fixture.file
            );
            assert!(!one.to_string().contains("**********"), "{}", fixture.file);
            for (username, _) in fixture.users {
                assert!(
                    one["users"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|u| u["username"] == *username),
                    "{username} of {}",
                    fixture.file
                );
            }
        }
    }

    #[test]
    fn exported_passwords_are_keycloaks_stored_hashes_never_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let source = fixture_dir().join("kc21-spring-realm.json");
        ok(path, &["import", "--file", source.to_str().unwrap()]);
        ok(path, &["export", "--realm", "spring", "--file", "out.json"]);
        let exported = read(&path.join("out.json"));
        let original = fixture("kc21-spring-realm.json");
        let credential = |realm: &Value, name: &str| {
            realm["users"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["username"] == name)
                .unwrap()["credentials"][0]
                .clone()
        };
        for name in ["administrator", "my-user", "someone"] {
            let (before, after) = (credential(&original, name), credential(&exported, name));
            let secret = |c: &Value| -> Value {
                serde_json::from_str(c["secretData"].as_str().unwrap()).unwrap()
            };
            let data = |c: &Value| -> Value {
                serde_json::from_str(c["credentialData"].as_str().unwrap()).unwrap()
            };
            assert_eq!(secret(&after)["value"], secret(&before)["value"], "{name}");
            assert_eq!(secret(&after)["salt"], secret(&before)["salt"], "{name}");
            assert_eq!(data(&after)["hashIterations"], 27500);
            assert_eq!(data(&after)["algorithm"], "pbkdf2-sha256");
            assert_eq!(after["userLabel"], "My password");
            assert!(after.get("value").is_none());
        }
        let app = exported["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["clientId"] == "spring-boot-app")
            .unwrap()
            .clone();
        assert_eq!(app["secret"], "ZjvIwT5SuQ3wrqwW1kst4vxhCtvgcKo7");
        let service_account = exported["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "service-account-spring-boot-app")
            .unwrap()
            .clone();
        assert_eq!(service_account["serviceAccountClientId"], "spring-boot-app");
        assert_eq!(
            service_account["id"],
            "e62bb32c-dc81-4240-a60f-92518bec8988"
        );
        assert_eq!(
            service_account["clientRoles"]["spring-boot-app"],
            json!(["uma_protection"])
        );
    }

    #[test]
    fn a_directory_export_places_users_as_asked_and_imports_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let source = fixture_dir().join("kc21-spring-realm.json");
        ok(path, &["import", "--file", source.to_str().unwrap()]);
        let export = |out: &str, users: &str| {
            ok(
                path,
                &[
                    "export",
                    "--realm",
                    "spring",
                    "--dir",
                    out,
                    "--users",
                    users,
                    "--users-per-file",
                    "3",
                ],
            );
            path.join(out)
        };
        let different = export("different", "different_files");
        assert_eq!(user_count(&read(&different.join("spring-realm.json"))), 0);
        assert_eq!(user_count(&read(&different.join("spring-users-0.json"))), 3);
        assert_eq!(user_count(&read(&different.join("spring-users-1.json"))), 1);
        assert_eq!(
            read(&different.join("spring-users-1.json"))["realm"],
            "spring"
        );
        let same = export("same", "same_file");
        assert_eq!(user_count(&read(&same.join("spring-users-0.json"))), 4);
        assert!(!same.join("spring-users-1.json").exists());
        let inside = export("inside", "realm_file");
        assert_eq!(user_count(&read(&inside.join("spring-realm.json"))), 4);
        assert!(!inside.join("spring-users-0.json").exists());
        let skip = export("skip", "skip");
        assert_eq!(user_count(&read(&skip.join("spring-realm.json"))), 0);
        assert!(!skip.join("spring-users-0.json").exists());

        for (from, users) in [("different", 4), ("same", 4), ("inside", 4), ("skip", 1)] {
            let db = format!("sqlite://{from}.db");
            ok(path, &["import", "--dir", from, "--db-url", &db]);
            ok(
                path,
                &[
                    "export",
                    "--realm",
                    "spring",
                    "--file",
                    "back.json",
                    "--db-url",
                    &db,
                ],
            );
            // Without users in the files, the service account is made anew for its client.
            assert_eq!(user_count(&read(&path.join("back.json"))), users, "{from}");
        }
    }

    #[test]
    fn a_keycloak_directory_export_imports_with_its_users_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let source = fixture_dir().join("kc23-nss-dir");
        ok(path, &["import", "--dir", source.to_str().unwrap()]);
        ok(path, &["export", "--realm", "test", "--file", "out.json"]);
        let exported = read(&path.join("out.json"));
        assert_eq!(user_count(&exported), 4);
        let user = |name: &str| {
            exported["users"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["username"] == name)
                .unwrap()
                .clone()
        };
        let user01 = user("user01");
        assert_eq!(user01["id"], "ab1e3aaf-ea15-4790-9659-580754eb7daf");
        assert_eq!(user01["groups"], json!(["/group01"]));
        assert_eq!(
            user01["attributes"]["homedirectory"],
            json!(["/home/user01"])
        );
        assert_eq!(user01["createdTimestamp"], 1708736757370_i64);
        let account = user("service-account-nss-client");
        assert_eq!(account["serviceAccountClientId"], "nss-client");
        assert_eq!(
            account["clientRoles"]["realm-management"],
            json!(["query-groups", "query-users", "view-users"])
        );
    }

    #[test]
    fn role_and_group_attributes_move_through_import_and_export_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let source = path.join("attrs.json");
        std::fs::write(&source, realm_with_attributes("attrs").to_string()).unwrap();
        ok(path, &["import", "--file", source.to_str().unwrap()]);
        ok(path, &["export", "--realm", "attrs", "--file", "out.json"]);
        let exported = read(&path.join("out.json"));
        let auditor = exported["roles"]["realm"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "auditor")
            .unwrap()
            .clone();
        assert_eq!(
            auditor["attributes"],
            json!({"level": ["2"], "scope": ["books", "ledgers"]})
        );
        assert_eq!(
            exported["roles"]["client"]["shop"][0]["attributes"],
            json!({"till": ["3"]})
        );
        let staff = &exported["groups"][0];
        assert_eq!(staff["description"], "Everyone on the payroll");
        assert_eq!(staff["attributes"], json!({"gidnumber": ["500"]}));
        assert_eq!(
            staff["subGroups"][0]["attributes"],
            json!({"shift": ["22-06"]})
        );
    }

    #[test]
    fn every_realm_exports_to_one_file_and_imports_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        for file in [
            "kc9-todo-list-realm.json",
            "kc26-openbeheer-realm-export.json",
        ] {
            let source = fixture_dir().join(file);
            ok(path, &["import", "--file", source.to_str().unwrap()]);
        }
        ok(path, &["export", "--file", "all.json"]);
        let all = read(&path.join("all.json"));
        let names: Vec<&str> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["realm"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["master", "openbeheer-dev", "todo-list-realm"]);
        let out = ok(
            path,
            &[
                "import",
                "--file",
                "all.json",
                "--db-url",
                "sqlite://copy.db",
            ],
        );
        assert!(out.contains("realm todo-list-realm imported"), "{out}");
        ok(
            path,
            &[
                "export",
                "--realm",
                "openbeheer-dev",
                "--file",
                "one.json",
                "--db-url",
                "sqlite://copy.db",
            ],
        );
        assert_eq!(user_count(&read(&path.join("one.json"))), 2);
        ok(
            path,
            &[
                "export",
                "--realm",
                "openbeheer-dev",
                "--file",
                "none.json",
                "--users",
                "skip",
            ],
        );
        assert_eq!(user_count(&read(&path.join("none.json"))), 0);

        // Master replaced in place keeps a client administering each other realm.
        ok(
            path,
            &["export", "--realm", "master", "--file", "master.json"],
        );
        ok(path, &["import", "--file", "master.json"]);
        ok(
            path,
            &["export", "--realm", "master", "--file", "master-again.json"],
        );
        let clients: Vec<String> = read(&path.join("master-again.json"))["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["clientId"].as_str().unwrap().to_owned())
            .collect();
        for managing in [
            "master-realm",
            "openbeheer-dev-realm",
            "todo-list-realm-realm",
        ] {
            assert!(
                clients.iter().any(|c| c == managing),
                "{managing} in {clients:?}"
            );
        }
    }

    #[test]
    fn override_replaces_an_existing_realm_or_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let mut changed = fixture("kc23-signals-realm-export.json");
        std::fs::write(path.join("original.json"), changed.to_string()).unwrap();
        changed["accessTokenLifespan"] = json!(120);
        std::fs::write(path.join("changed.json"), changed.to_string()).unwrap();
        ok(path, &["import", "--file", "original.json"]);
        let skipped = ok(
            path,
            &["import", "--file", "changed.json", "--override", "false"],
        );
        assert!(skipped.contains("skipped"), "{skipped}");
        ok(
            path,
            &["export", "--realm", "signals", "--file", "out.json"],
        );
        assert_eq!(read(&path.join("out.json"))["accessTokenLifespan"], 300);
        ok(
            path,
            &["import", "--file", "changed.json", "--override", "true"],
        );
        ok(
            path,
            &["export", "--realm", "signals", "--file", "out.json"],
        );
        let replaced = read(&path.join("out.json"));
        assert_eq!(replaced["accessTokenLifespan"], 120);
        assert_eq!(user_count(&replaced), 1);
        assert_eq!(
            replaced["users"][0]["id"],
            "2893ff9b-fbb0-40a5-a148-ae13af79825e"
        );
    }

    #[test]
    fn a_database_held_by_a_running_server_is_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(
            dir.path(),
            &["start-dev"],
            &[
                ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
                ("KC_BOOTSTRAP_ADMIN_PASSWORD", "pw"),
            ],
        );
        for args in [
            &["export", "--realm", "master", "--file", "x.json"][..],
            &[
                "import",
                "--file",
                fixture_dir()
                    .join("kc9-todo-list-realm.json")
                    .to_str()
                    .unwrap(),
            ][..],
        ] {
            let output = run(dir.path(), args, &[]);
            assert!(!output.status.success());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
            assert!(
                stderr.contains("in use by a running keywarden server"),
                "{stderr}"
            );
        }
        drop(server);
    }

    #[test]
    fn a_keywarden_password_exports_in_keycloaks_argon2_form_and_signs_in_after_import() {
        let first = tempfile::tempdir().unwrap();
        let env = [
            ("KC_BOOTSTRAP_ADMIN_USERNAME", "boss"),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", "pw-123"),
        ];
        drop(Server::start(first.path(), &["start-dev"], &env));
        ok(
            first.path(),
            &["export", "--realm", "master", "--file", "master.json"],
        );
        let master = read(&first.path().join("master.json"));
        let boss = master["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "boss")
            .unwrap()
            .clone();
        let credential = &boss["credentials"][0];
        let data: Value =
            serde_json::from_str(credential["credentialData"].as_str().unwrap()).unwrap();
        assert_eq!(data["algorithm"], "argon2");
        assert!(credential.get("value").is_none());
        assert!(!master.to_string().contains("pw-123"));
        assert_eq!(
            boss["realmRoles"],
            json!(["admin", "create-realm", "default-roles-master"])
        );

        let second = tempfile::tempdir().unwrap();
        let file = first.path().join("master.json");
        ok(second.path(), &["import", "--file", file.to_str().unwrap()]);
        let server = Server::start(second.path(), &["start-dev"], &[]);
        let status = reqwest::blocking::Client::new()
            .post(server.url("/realms/master/protocol/openid-connect/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", "boss"),
                ("password", "pw-123"),
            ])
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }

    #[test]
    fn import_realm_at_start_reads_realm_files_and_users_files() {
        let dir = tempfile::tempdir().unwrap();
        let import = dir.path().join("data/import");
        std::fs::create_dir_all(&import).unwrap();
        for file in [
            "kc9-todo-list-realm.json",
            "kc23-signals-realm-export.json",
            "kc26-development-partial-export.json",
        ] {
            std::fs::copy(fixture_dir().join(file), import.join(file)).unwrap();
        }
        let mut spring = fixture("kc21-spring-realm.json");
        let users = spring.as_object_mut().unwrap().remove("users").unwrap();
        std::fs::write(import.join("spring-realm.json"), spring.to_string()).unwrap();
        std::fs::write(
            import.join("spring-users-0.json"),
            json!({"realm": "spring", "users": users}).to_string(),
        )
        .unwrap();
        for file in ["test-realm.json", "test-users-0.json"] {
            std::fs::copy(
                fixture_dir().join("kc23-nss-dir").join(file),
                import.join(file),
            )
            .unwrap();
        }
        let env = [
            ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", "pw"),
        ];
        let server = Server::start(dir.path(), &["start-dev", "--import-realm"], &env);
        let client = reqwest::blocking::Client::new();
        let token: Value = client
            .post(server.url("/realms/master/protocol/openid-connect/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", "admin"),
                ("password", "pw"),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = token["access_token"].as_str().unwrap();
        for (realm, users) in [
            ("todo-list-realm", 2),
            ("signals", 1),
            ("development", 0),
            // Four users, one of them a client's service account, which Keycloak's count
            // leaves out.
            ("spring", 3),
        ] {
            let count: Value = client
                .get(server.url(&format!("/admin/realms/{realm}/users/count")))
                .bearer_auth(token)
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(count, json!(users), "{realm}");
        }
        let groups: Value = client
            .get(server.url("/admin/realms/test/group-by-path/group01"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(groups["attributes"], json!({"gidnumber": ["500"]}));
        drop(server);
        // A second start finds the realms and skips them.
        let again = Server::start(dir.path(), &["start-dev", "--import-realm"], &env);
        drop(again);
    }
}
