//! Keycloak's partial import (`POST /admin/realms/{realm}/partialImport`) with what a real
//! Keycloak 26 partial export carries: client roles keyed by clientId, composites that name
//! realm and client roles, built-in clients and roles the realm already has; and Keycloak's
//! answers when a name is taken, a client is missing or a composite names no role.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fidelity_import::{client_uuid, fixture_dir, get as json_of};
use crate::helpers::{spawn_app, TestApp};

fn real_partial_export() -> Value {
    let path = fixture_dir().join("kc26-development-partial-export.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

async fn partial_import(app: &TestApp, realm: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .admin(Method::POST, &format!("/{realm}/partialImport"), Some(body))
        .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn result<'a>(results: &'a Value, kind: &str, name: &str) -> &'a Value {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceType"] == kind && r["resourceName"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} in {results}"))
}

/// The names of a role's composites, `client:role` for client roles.
async fn composite_names(app: &TestApp, path: &str) -> Vec<String> {
    let children = json_of(app, &format!("{path}/composites")).await;
    let mut names: Vec<String> = Vec::new();
    for child in children.as_array().unwrap() {
        let name = child["name"].as_str().unwrap();
        if child["clientRole"] == true {
            let client = json_of(
                app,
                &format!(
                    "/{}/clients/{}",
                    "development",
                    child["containerId"].as_str().unwrap()
                ),
            )
            .await;
            names.push(format!("{}:{name}", client["clientId"].as_str().unwrap()));
        } else {
            names.push(name.to_owned());
        }
    }
    names.sort();
    names
}

#[tokio::test]
async fn a_real_keycloak_partial_export_imports_with_skip_and_adds_its_client_roles() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let mut file = real_partial_export();
    file["ifResourceExists"] = json!("SKIP");
    let (status, results) = partial_import(&app, "development", file).await;
    assert_eq!(status, StatusCode::OK, "{results}");

    let api_client = client_uuid(&app, "development", "api-client").await;
    assert_eq!(result(&results, "CLIENT", "api-client")["action"], "ADDED");
    assert_eq!(result(&results, "CLIENT", "account")["action"], "SKIPPED");
    let admin = result(&results, "CLIENT_ROLE", "api-client-->admin");
    assert_eq!(admin["action"], "ADDED", "{results}");
    assert_eq!(
        admin["id"],
        api_client.as_str(),
        "a client role's result names its client"
    );
    let skipped = result(&results, "CLIENT_ROLE", "realm-management-->view-users");
    assert_eq!(skipped["action"], "SKIPPED");
    assert_eq!(
        result(&results, "REALM_ROLE", "default-roles-development")["action"],
        "SKIPPED"
    );
    let counted = results["added"].as_u64().unwrap()
        + results["skipped"].as_u64().unwrap()
        + results["overwritten"].as_u64().unwrap();
    assert_eq!(
        counted as usize,
        results["results"].as_array().unwrap().len()
    );

    let role = json_of(
        &app,
        &format!("/development/clients/{api_client}/roles/admin"),
    )
    .await;
    assert_eq!(role["name"], "admin");
    assert_eq!(role["clientRole"], true);
}

#[tokio::test]
async fn overwrite_gives_imported_roles_exactly_their_composites() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let extra = json!({"roles": {"realm": [{"name": "extra"}]}});
    assert_eq!(
        partial_import(&app, "development", extra).await.0,
        StatusCode::OK
    );
    let default = "/development/roles/default-roles-development";
    let children = json!([{"id": json_of(&app, "/development/roles/extra").await["id"]}]);
    let added = app
        .admin(
            Method::POST,
            &format!("{default}/composites"),
            Some(children),
        )
        .await;
    assert_eq!(added.status(), StatusCode::NO_CONTENT);
    assert!(composite_names(&app, default)
        .await
        .contains(&"extra".to_owned()));

    let mut file = real_partial_export();
    file["ifResourceExists"] = json!("OVERWRITE");
    let (status, results) = partial_import(&app, "development", file).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(
        result(&results, "REALM_ROLE", "default-roles-development")["action"],
        "OVERWRITTEN"
    );
    assert_eq!(
        composite_names(&app, default).await,
        [
            "account:manage-account",
            "account:view-profile",
            "offline_access",
            "uma_authorization"
        ],
        "the file's parts replace the old ones, as Keycloak's delete and recreate"
    );
}

#[tokio::test]
async fn fail_answers_keycloak_s_message_for_the_first_name_taken() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let (status, body) = partial_import(&app, "development", real_partial_export()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["errorMessage"], "Client id 'account' already exists");

    let roles_only = json!({"roles": {"client": {"realm-management": [{"name": "view-users"}]}}});
    let (status, body) = partial_import(&app, "development", roles_only).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["errorMessage"],
        "Client role 'view-users' for client 'realm-management' already exists."
    );

    let user = json!({"users": [{"username": "dev", "email": "dev@example.com"}]});
    assert_eq!(
        partial_import(&app, "development", user).await.0,
        StatusCode::OK
    );
    let same_email = json!({"users": [{"username": "other", "email": "dev@example.com"}]});
    let (status, body) = partial_import(&app, "development", same_email.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["errorMessage"],
        "User with user name other already exists."
    );
    let mut skip = same_email;
    skip["ifResourceExists"] = json!("SKIP");
    let (status, results) = partial_import(&app, "development", skip).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        results["skipped"], 1,
        "a taken email counts as the user existing"
    );

    let group = json!({"groups": [{"name": "ops", "path": "/ops"}]});
    assert_eq!(
        partial_import(&app, "development", group.clone()).await.0,
        StatusCode::OK
    );
    let (status, body) = partial_import(&app, "development", group).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["errorMessage"], "Group '/ops' already exists");

    let role = json!({"roles": {"realm": [{"name": "offline_access"}]}});
    let (_, body) = partial_import(&app, "development", role).await;
    assert_eq!(
        body["errorMessage"],
        "Realm role 'offline_access' already exists."
    );
}

#[tokio::test]
async fn refusals_come_before_anything_is_written() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let ghost_client = json!({
        "roles": {"realm": [{"name": "first"}], "client": {"ghost": [{"name": "x"}]}},
    });
    let (status, body) = partial_import(&app, "development", ghost_client).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        body["errorMessage"],
        "Can not import client roles for nonexistent client named ghost"
    );

    let unknown_part = json!({
        "roles": {"realm": [{"name": "first"},
                            {"name": "boss", "composite": true,
                             "composites": {"realm": ["first", "nope"]}}]},
    });
    let (status, body) = partial_import(&app, "development", unknown_part).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessage"],
        "Unable to find composite realm role: nope"
    );

    let unknown_client_part = json!({
        "roles": {"realm": [{"name": "boss", "composites": {"client": {"ghost": ["x"]}}}]},
    });
    let (status, body) = partial_import(&app, "development", unknown_client_part).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessage"],
        "App doesn't exist in role definitions: boss"
    );

    let nameless = json!({"roles": {"client": {"account": [{"description": "no name"}]}}});
    let (status, body) = partial_import(&app, "development", nameless).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessage"],
        "Client role to import does not have a name"
    );

    for name in ["first", "boss"] {
        let response = app
            .admin(Method::GET, &format!("/development/roles/{name}"), None)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{name} was not written"
        );
    }
}

#[tokio::test]
async fn a_new_client_s_roles_composites_and_user_mappings_arrive_together() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let file = json!({
        "clients": [{"clientId": "registry", "protocol": "docker-v2"}],
        "roles": {
            "realm": [{"name": "deployer", "composite": true,
                       "composites": {"client": {"registry": ["push"]}}}],
            "client": {"registry": [{"name": "push", "composite": true,
                                     "composites": {"client": {"registry": ["pull"]}}},
                                    {"name": "pull"}]},
        },
        "users": [{"username": "ci", "enabled": true, "realmRoles": ["deployer"],
                   "clientRoles": {"registry": ["pull"]}}],
    });
    let (status, results) = partial_import(&app, "development", file).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results["added"], 5, "{results}");
    let registry = client_uuid(&app, "development", "registry").await;
    assert_eq!(
        composite_names(&app, "/development/roles/deployer").await,
        ["registry:push"]
    );
    assert_eq!(
        composite_names(&app, &format!("/development/clients/{registry}/roles/push")).await,
        ["registry:pull"]
    );
    let users = json_of(&app, "/development/users?username=ci&exact=true").await;
    let id = users[0]["id"].as_str().unwrap();
    let mapped = json_of(&app, &format!("/development/users/{id}/role-mappings")).await;
    let realm: Vec<&str> = mapped["realmMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(realm.contains(&"deployer"), "{mapped}");
    let client = &mapped["clientMappings"]["registry"]["mappings"];
    assert_eq!(client[0]["name"], "pull", "{mapped}");
}

#[tokio::test]
async fn a_realm_admin_cannot_import_client_roles_without_manage_clients() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let (_, token) = app
        .realm_admin("development", "helper", &["manage-users", "view-users"])
        .await;
    let post = |body: Value| {
        app.client
            .post(app.url("/admin/realms/development/partialImport"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let users = post(json!({"users": [{"username": "fine"}]}))
        .await
        .unwrap();
    assert_eq!(
        users.status(),
        StatusCode::OK,
        "users need only manage-users"
    );
    let roles = json!({"roles": {"client": {"account": [{"name": "sneaky"}]}}});
    let refused = post(roles).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_realm_admin_cannot_import_a_role_that_carries_powers_they_lack() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let (_, token) = app
        .realm_admin("development", "helper", &["manage-realm", "view-realm"])
        .await;
    let climb = json!({"roles": {"realm": [{"name": "ladder",
        "composites": {"client": {"realm-management": ["realm-admin"]}}}]}});
    let response = app
        .client
        .post(app.url("/admin/realms/development/partialImport"))
        .bearer_auth(&token)
        .json(&climb)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let parts = app
        .admin(Method::GET, "/development/roles/ladder/composites", None)
        .await;
    match parts.status() {
        StatusCode::NOT_FOUND => {}
        StatusCode::OK => assert_eq!(
            parts.json::<Value>().await.unwrap(),
            json!([]),
            "the role carries nothing the admin lacks"
        ),
        other => panic!("GET composites: {other}"),
    }
}

#[tokio::test]
async fn users_arrive_with_keycloak_s_stored_hashes_and_sign_in() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    // Keycloak 26's stored form of "password" (argon2id), as its realm exports write it.
    let fixture = crate::fidelity_import::fixture_dir().join("kc26-openbeheer-realm-export.json");
    let realm: Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let alice = realm["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice_doe")
        .unwrap()
        .clone();
    let alice = json!({"username": "alice_doe", "enabled": true,
                       "credentials": alice["credentials"].clone()});
    assert!(alice["credentials"][0]["secretData"].is_string(), "{alice}");
    let plain = json!({"username": "plain", "enabled": true,
                       "credentials": [{"type": "password", "value": "s3cret-pass", "temporary": false}]});
    let bad_hash = json!({"username": "broken", "credentials": [
        {"type": "password", "secretData": "{}", "credentialData": "{\"algorithm\":\"argon2\"}"}]});
    let (status, body) = partial_import(
        &app,
        "development",
        json!({"users": [plain.clone(), bad_hash]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let missing = json_of(&app, "/development/users?username=plain&exact=true").await;
    assert_eq!(
        missing,
        json!([]),
        "a bad hash refuses the import before any write"
    );

    let mapping_to_nothing =
        json!({"users": [{"username": "x", "clientRoles": {"account": ["nope"]}}]});
    let (status, _) = partial_import(&app, "development", mapping_to_nothing).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, results) =
        partial_import(&app, "development", json!({"users": [alice, plain]})).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results["added"], 2);
    for (username, password) in [("alice_doe", "aNic3Passw0rd"), ("plain", "s3cret-pass")] {
        // Fails unless the password grant answers 200.
        app.password_token("development", "admin-cli", username, password)
            .await;
    }
}

#[tokio::test]
async fn groups_arrive_with_subgroups_and_role_mappings_that_reach_members() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    let file = json!({
        "ifResourceExists": "SKIP",
        "clients": [{"clientId": "registry", "protocol": "docker-v2"}],
        "roles": {"realm": [{"name": "dev"}], "client": {"registry": [{"name": "push"}]}},
        "groups": [{"name": "team", "path": "/team", "realmRoles": ["dev"],
                    "subGroups": [{"name": "web", "path": "/team/web",
                                   "clientRoles": {"registry": ["push"]},
                                   "subGroups": [{"name": "ui", "path": "/team/web/ui"}]}]}],
        "users": [{"username": "ann", "enabled": true, "groups": ["/team/web/ui"]}],
    });
    let (status, results) = partial_import(&app, "development", file.clone()).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(result(&results, "GROUP", "team")["action"], "ADDED");

    let users = json_of(&app, "/development/users?username=ann&exact=true").await;
    let ann = users[0]["id"].as_str().unwrap();
    let effective = json_of(
        &app,
        &format!("/development/users/{ann}/role-mappings/realm/composite"),
    )
    .await;
    assert!(
        effective
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "dev"),
        "a member of a subgroup holds the top group's role: {effective}"
    );
    let registry = client_uuid(&app, "development", "registry").await;
    let client_effective = json_of(
        &app,
        &format!("/development/users/{ann}/role-mappings/clients/{registry}/composite"),
    )
    .await;
    assert_eq!(client_effective[0]["name"], "push", "{client_effective}");

    let (status, again) = partial_import(&app, "development", file).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result(&again, "GROUP", "team")["action"], "SKIPPED");
    assert_eq!(again["added"], 0, "{again}");

    let unknown = json!({"groups": [{"name": "ops", "subGroups": [
        {"name": "db", "realmRoles": ["no-such-role"]}]}]});
    let (status, body) = partial_import(&app, "development", unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorMessage"], "Could not find role 'no-such-role'");
    let groups = json_of(&app, "/development/groups?search=ops").await;
    assert_eq!(groups, json!([]), "nothing is half written");
}

#[tokio::test]
async fn many_names_are_checked_in_linear_time_and_long_lists_refused_before_writing() {
    let app = spawn_app().await;
    app.create_realm("development").await;
    // 999 imported client roles, and 998 users naming 300 of them each: checked pair by pair
    // against the import's roles, that is 3 x 10^8 comparisons.
    let roles: Vec<Value> = (0..999).map(|i| json!({"name": format!("r{i}")})).collect();
    let names: Vec<String> = (0..300).map(|i| format!("r{}", i * 3)).collect();
    let mut users: Vec<Value> = (0..998)
        .map(|i| json!({"username": format!("u{i}"), "clientRoles": {"registry": names}}))
        .collect();
    users.push(json!({"username": "last", "clientRoles": {"registry": ["missing"]}}));
    let file = json!({
        "clients": [{"clientId": "registry"}],
        "roles": {"client": {"registry": roles}},
        "users": users,
    });
    let started = std::time::Instant::now();
    let (status, body) = partial_import(&app, "development", file).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errorMessage"],
        "Could not find role 'missing' of client 'registry'"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let clients = json_of(&app, "/development/clients?clientId=registry").await;
    assert_eq!(clients, json!([]), "nothing was written");

    let parts: Vec<String> = (0..1001).map(|i| format!("p{i}")).collect();
    let mut roles: Vec<Value> = parts.iter().map(|p| json!({"name": p})).collect();
    roles.push(json!({"name": "all", "composites": {"realm": parts}}));
    let (status, body) =
        partial_import(&app, "development", json!({"roles": {"realm": roles}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorMessage"], "At most 1000 roles at once");
    let role = app.admin(Method::GET, "/development/roles/p0", None).await;
    assert_eq!(role.status(), StatusCode::NOT_FOUND, "nothing was written");
}
