//! The access model under attack: realm admins holding some `realm-management` roles try to
//! exceed them, reach master, or take over a more powerful admin.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, ADMIN_PASSWORD, ADMIN_USER};

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(&format!("/admin/realms{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn id_of(app: &TestApp, path: &str) -> String {
    let found: Value = app
        .admin(Method::GET, path, None)
        .await
        .json()
        .await
        .unwrap();
    found[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn manage_realm_in_master_cannot_turn_the_default_role_into_admin() {
    let app = spawn_app().await;
    let (_, token) = app
        .realm_admin("master", "climber", &["manage-realm"])
        .await;
    let rename_admin = call(
        &app,
        &token,
        Method::PUT,
        "/master/roles/admin",
        Some(json!({"name": "retired"})),
    )
    .await;
    assert_eq!(rename_admin.status(), StatusCode::BAD_REQUEST);
    let rename_default = call(
        &app,
        &token,
        Method::PUT,
        "/master/roles/default-roles-master",
        Some(json!({"name": "admin"})),
    )
    .await;
    assert_eq!(rename_default.status(), StatusCode::BAD_REQUEST);
    let delete_admin = call(&app, &token, Method::DELETE, "/master/roles/admin", None).await;
    assert_eq!(delete_admin.status(), StatusCode::BAD_REQUEST);

    // Even a master admin cannot rename them: admin status is the role itself, not its name.
    let response = app
        .admin(
            Method::PUT,
            "/master/roles/admin",
            Some(json!({"name": "retired"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    app.create_user("master", "bystander", "pw").await;
    let bystander = app
        .password_token("master", "admin-cli", "bystander", "pw")
        .await;
    let realms = call(&app, &bystander, Method::GET, "/master/users", None).await;
    assert_eq!(
        realms.status(),
        StatusCode::FORBIDDEN,
        "an ordinary master user is no admin"
    );
}

#[tokio::test]
async fn manage_users_in_master_cannot_take_over_the_bootstrap_admin() {
    let app = spawn_app().await;
    let (_, token) = app
        .realm_admin("master", "helper", &["manage-users", "view-users"])
        .await;
    let users: Value = call(
        &app,
        &token,
        Method::GET,
        &format!("/master/users?username={ADMIN_USER}&exact=true"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let admin = users[0]["id"].as_str().unwrap().to_owned();
    let reset = call(
        &app,
        &token,
        Method::PUT,
        &format!("/master/users/{admin}/reset-password"),
        Some(json!({"type": "password", "value": "taken", "temporary": false})),
    )
    .await;
    assert_eq!(reset.status(), StatusCode::FORBIDDEN);
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/master/users/{admin}"),
            Some(json!({"email": "attacker@example.com"})),
        ),
        (
            Method::PUT,
            format!("/master/users/{admin}"),
            Some(json!({"enabled": false})),
        ),
        (Method::POST, format!("/master/users/{admin}/logout"), None),
        (Method::DELETE, format!("/master/users/{admin}"), None),
    ] {
        let response = call(&app, &token, method.clone(), &path, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    // The admin still signs in with their own password.
    app.password_token("master", "admin-cli", ADMIN_USER, ADMIN_PASSWORD)
        .await;
}

#[tokio::test]
async fn manage_users_inside_a_realm_cannot_take_over_its_realm_admin() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (boss, _) = app.realm_admin("team", "boss", &["realm-admin"]).await;
    let (_, token) = app
        .realm_admin("team", "helper", &["manage-users", "view-users"])
        .await;
    let reset = call(
        &app,
        &token,
        Method::PUT,
        &format!("/team/users/{boss}/reset-password"),
        Some(json!({"type": "password", "value": "taken"})),
    )
    .await;
    assert_eq!(reset.status(), StatusCode::FORBIDDEN);
    let disable = call(
        &app,
        &token,
        Method::PUT,
        &format!("/team/users/{boss}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(disable.status(), StatusCode::FORBIDDEN);
    // An ordinary user is still theirs to manage.
    let user = app.create_user("team", "dev", "pw").await;
    let reset = call(
        &app,
        &token,
        Method::PUT,
        &format!("/team/users/{user}/reset-password"),
        Some(json!({"type": "password", "value": "new-pw"})),
    )
    .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    // And the realm admin, holding everything, manages the helper.
    let boss_token = app.password_token("team", "admin-cli", "boss", "pw").await;
    let users: Value = call(
        &app,
        &boss_token,
        Method::GET,
        "/team/users?username=helper&exact=true",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let helper = users[0]["id"].as_str().unwrap();
    let disable = call(
        &app,
        &boss_token,
        Method::PUT,
        &format!("/team/users/{helper}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(disable.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_group_carrying_admin_roles_is_handed_out_only_by_who_holds_them() {
    let app = spawn_app().await;
    let (helper, token) = app
        .realm_admin("master", "helper", &["manage-users", "view-users"])
        .await;
    let created = app
        .admin(
            Method::POST,
            "/master/groups",
            Some(json!({"name": "admins"})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let group = crate::helpers::location_id(&created);
    let admin_role: Value = app
        .admin(Method::GET, "/master/roles/admin", None)
        .await
        .json()
        .await
        .unwrap();
    // Group role mappings arrive only with an import; build one directly for the test.
    let db = app.raw_db().await;
    sqlx::query("INSERT INTO group_role_mapping (group_id, role_id) VALUES ($1, $2)")
        .bind(&group)
        .bind(admin_role["id"].as_str().unwrap())
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let join = call(
        &app,
        &token,
        Method::PUT,
        &format!("/master/users/{helper}/groups/{group}"),
        None,
    )
    .await;
    assert_eq!(join.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn manage_clients_cannot_break_the_built_in_clients() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (_, token) = app
        .realm_admin("team", "clients-admin", &["manage-clients", "view-clients"])
        .await;
    let management = id_of(&app, "/team/clients?clientId=realm-management").await;
    let admin_cli = id_of(&app, "/team/clients?clientId=admin-cli").await;
    for (client, body) in [
        (&management, json!({"clientId": "renamed"})),
        (&admin_cli, json!({"enabled": false})),
        (&admin_cli, json!({"clientId": "other-cli"})),
        (&admin_cli, json!({"publicClient": false})),
    ] {
        let response = call(
            &app,
            &token,
            Method::PUT,
            &format!("/team/clients/{client}"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let delete = call(
        &app,
        &token,
        Method::DELETE,
        &format!("/team/clients/{management}"),
        None,
    )
    .await;
    assert_eq!(delete.status(), StatusCode::BAD_REQUEST);
    // Every admin still signs in, and still administers.
    let token = app
        .password_token("team", "admin-cli", "clients-admin", "pw")
        .await;
    let clients = call(&app, &token, Method::GET, "/team/clients", None).await;
    assert_eq!(clients.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_ordinary_client_named_like_a_built_in_one_carries_no_rights() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (_, token) = app
        .realm_admin("team", "clients-admin", &["manage-clients", "view-clients"])
        .await;
    let response = call(
        &app,
        &token,
        Method::POST,
        "/team/clients",
        Some(json!({"clientId": "realm-management-2"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let fake = crate::helpers::location_id(&response);
    let role = call(
        &app,
        &token,
        Method::POST,
        &format!("/team/clients/{fake}/roles"),
        Some(json!({"name": "manage-users"})),
    )
    .await;
    assert_eq!(role.status(), StatusCode::CREATED);
    let user = app.create_user("team", "dev", "pw").await;
    let map = app
        .admin(
            Method::POST,
            &format!("/team/users/{user}/role-mappings/clients/{fake}"),
            Some(json!([{"name": "manage-users"}])),
        )
        .await;
    assert_eq!(map.status(), 204);
    let dev = app.password_token("team", "admin-cli", "dev", "pw").await;
    let users = call(&app, &dev, Method::GET, "/team/users", None).await;
    assert_eq!(users.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn view_events_alone_reads_the_events() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (_, token) = app.realm_admin("team", "auditor", &["view-events"]).await;
    for path in ["/team/events", "/team/admin-events"] {
        let response = call(&app, &token, Method::GET, path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let realm = call(&app, &token, Method::GET, "/team", None).await;
    assert_eq!(
        realm.status(),
        StatusCode::FORBIDDEN,
        "view-events does not read the realm"
    );
}

#[tokio::test]
async fn query_users_alone_finds_nobody_and_reads_no_one() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let dev = app.create_user("team", "dev", "pw").await;
    let (_, token) = app.realm_admin("team", "searcher", &["query-users"]).await;
    let list: Value = call(&app, &token, Method::GET, "/team/users", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    let count: Value = call(&app, &token, Method::GET, "/team/users/count", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!(0));
    let one = call(
        &app,
        &token,
        Method::GET,
        &format!("/team/users/{dev}"),
        None,
    )
    .await;
    assert_eq!(one.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn query_clients_alone_lists_names_but_no_settings_or_secrets() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let created = app
        .admin(
            Method::POST,
            "/team/clients",
            Some(json!({"clientId": "backend", "publicClient": false})),
        )
        .await;
    let backend = crate::helpers::location_id(&created);
    let (_, token) = app
        .realm_admin("team", "searcher", &["query-clients"])
        .await;
    let list: Value = call(&app, &token, Method::GET, "/team/clients", None)
        .await
        .json()
        .await
        .unwrap();
    let found = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "backend")
        .expect("listed");
    assert_eq!(found["id"], backend.as_str());
    assert!(
        found.get("secret").is_none() && found.get("redirectUris").is_none(),
        "{found}"
    );
    for path in [
        format!("/team/clients/{backend}"),
        format!("/team/clients/{backend}/client-secret"),
    ] {
        let response = call(&app, &token, Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn client_secrets_are_masked_in_admin_events() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.enable_events("team").await;
    let created = app
        .admin(
            Method::POST,
            "/team/clients",
            Some(json!({"clientId": "backend", "publicClient": false, "secret": "very-secret-value"})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let events = app
        .admin(Method::GET, "/team/admin-events", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(events.contains("backend"), "the event is there: {events}");
    assert!(!events.contains("very-secret-value"), "{events}");
}

#[tokio::test]
async fn unknown_fields_in_admin_writes_are_refused() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    for (path, body) in [
        ("/team/users", json!({"username": "dev", "isAdmin": true})),
        (
            "/team/clients",
            json!({"clientId": "app", "superUser": true}),
        ),
        (
            "/team/roles",
            json!({"name": "r", "grantsEverything": true}),
        ),
        ("/team/groups", json!({"name": "g", "owner": "me"})),
    ] {
        let response = app.admin(Method::POST, path, Some(body)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let error: Value = response.json().await.unwrap();
        assert!(error.to_string().contains("Unrecognized field"), "{error}");
    }
    // Keycloak's own words, with the position of the field.
    let response = app
        .client
        .post(app.url("/admin/realms/team/users"))
        .bearer_auth(app.admin_token().await)
        .header("Content-Type", "application/json")
        .body(r#"{"username":"dev","isAdmin":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error,
        json!({"error": "Invalid json representation for UserRepresentation. Unrecognized field \"isAdmin\" at line 1 column 33."})
    );
    // Keycloak's own fields that keywarden does not store are fine.
    let response = app
        .admin(
            Method::POST,
            "/team/users",
            Some(json!({"username": "dev", "totp": false, "disableableCredentialTypes": [], "access": {}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn realm_creation_and_deletion_are_audited() {
    let app = spawn_app().await;
    app.enable_events("master").await;
    app.create_realm("team").await;
    let response = app.admin(Method::DELETE, "/team", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let events: Value = app
        .admin(
            Method::GET,
            "/master/admin-events?resourceTypes=REALM",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    for operation in ["CREATE", "DELETE"] {
        let recorded = events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["operationType"] == operation && e["resourcePath"] == "realms/team");
        assert!(recorded, "{operation}: {events}");
    }
}

/// Creates a confidential client with a service account whose user holds `realm-admin`.
async fn powerful_service_account(app: &TestApp, realm: &str, client_id: &str) -> String {
    let created = app
        .admin(
            Method::POST,
            &format!("/{realm}/clients"),
            Some(json!({"clientId": client_id, "publicClient": false, "serviceAccountsEnabled": true, "secret": "ci-secret"})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let client = crate::helpers::location_id(&created);
    let users: Value = app
        .admin(
            Method::GET,
            &format!("/{realm}/users?username=service-account-{client_id}&exact=true"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let user = users[0]["id"].as_str().unwrap().to_owned();
    app.grant_management(realm, &user, &["realm-admin"]).await;
    client
}

#[tokio::test]
async fn manage_clients_cannot_borrow_a_powerful_service_account_by_its_name() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let ci = powerful_service_account(&app, "team", "ci").await;
    let (_, token) = app
        .realm_admin("team", "mallory", &["manage-clients", "view-clients"])
        .await;
    let twin = call(
        &app,
        &token,
        Method::POST,
        "/team/clients",
        Some(json!({"clientId": "CI", "publicClient": false, "serviceAccountsEnabled": true, "secret": "mine"})),
    )
    .await;
    assert_eq!(
        twin.status(),
        StatusCode::CONFLICT,
        "the service account's name is taken"
    );
    // Nor can they take the real client's secret, rotate it, or change the client.
    for (method, path, body) in [
        (
            Method::GET,
            format!("/team/clients/{ci}/client-secret"),
            None,
        ),
        (
            Method::POST,
            format!("/team/clients/{ci}/client-secret"),
            None,
        ),
        (
            Method::PUT,
            format!("/team/clients/{ci}"),
            Some(json!({"secret": "mine"})),
        ),
        (Method::DELETE, format!("/team/clients/{ci}"), None),
    ] {
        let response = call(&app, &token, method.clone(), &path, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    let shown: Value = call(
        &app,
        &token,
        Method::GET,
        &format!("/team/clients/{ci}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(shown["secret"], "**********");
}

#[tokio::test]
async fn a_user_named_like_a_service_account_is_never_adopted() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "service-account-deploy", "planted")
        .await;
    let response = app
        .admin(
            Method::POST,
            "/team/clients",
            Some(json!({"clientId": "deploy", "publicClient": false, "serviceAccountsEnabled": true})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn deleting_a_client_deletes_its_service_account() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let ci = powerful_service_account(&app, "team", "ci").await;
    let response = app
        .admin(Method::DELETE, &format!("/team/clients/{ci}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let users: Value = app
        .admin(
            Method::GET,
            "/team/users?username=service-account-ci&exact=true",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users, json!([]));
}

#[tokio::test]
async fn manage_clients_cannot_turn_off_the_admin_sign_in() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (_, token) = app
        .realm_admin("team", "clients-admin", &["manage-clients", "view-clients"])
        .await;
    let admin_cli = id_of(&app, "/team/clients?clientId=admin-cli").await;
    let response = call(
        &app,
        &token,
        Method::PUT,
        &format!("/team/clients/{admin_cli}"),
        Some(json!({"directAccessGrantsEnabled": false})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    app.password_token("team", "admin-cli", "clients-admin", "pw")
        .await;
}

#[tokio::test]
async fn manage_realm_cannot_rename_a_role_into_or_out_of_a_docker_policy() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    for role in ["pushers", "devs"] {
        let response = app
            .admin(Method::POST, "/team/roles", Some(json!({"name": role})))
            .await;
        assert_eq!(response.status(), 201);
    }
    let registry = app.create_docker_client("team", "registry").await;
    let policy = json!({"mode": "rules", "rules": [
        {"repository": "**", "who": "role:pushers", "actions": ["pull", "push"]},
        {"repository": "**", "who": "role:ghosts", "actions": ["pull", "push"]},
    ]});
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{registry}/docker-access-policy"),
            Some(policy),
        )
        .await;
    assert_eq!(response.status(), 204);
    let (_, token) = app
        .realm_admin("team", "roles-admin", &["manage-realm"])
        .await;
    for (from, to) in [("pushers", "retired"), ("devs", "ghosts")] {
        let response = call(
            &app,
            &token,
            Method::PUT,
            &format!("/team/roles/{from}"),
            Some(json!({"name": to})),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{from} -> {to}");
    }
    let response = call(
        &app,
        &token,
        Method::PUT,
        "/team/roles/devs",
        Some(json!({"name": "developers"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}
