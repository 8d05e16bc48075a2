//! The layout Keycloak 26.7 makes: the clients and roles of a new realm and of master, as the
//! admin REST API lists them (values recorded from Keycloak), delegation of one realm to a
//! master user through master's `{realm}-realm` client, and the start-up backfill that brings
//! a database made by an older keywarden to the same layout.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{jwt_payload, spawn_app, spawn_app_with, TestApp};

const LAYOUT_CLIENTS: [&str; 6] = [
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// Keycloak 26.7's admin roles, on `realm-management` and on master's client of each realm.
const ADMIN_ROLES: [&str; 21] = [
    "create-client",
    "impersonation",
    "manage-authorization",
    "manage-clients",
    "manage-events",
    "manage-identity-providers",
    "manage-organizations",
    "manage-realm",
    "manage-users",
    "query-clients",
    "query-groups",
    "query-organizations",
    "query-realms",
    "query-users",
    "view-authorization",
    "view-clients",
    "view-events",
    "view-identity-providers",
    "view-organizations",
    "view-realm",
    "view-users",
];

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.admin(Method::GET, path, None).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn client(app: &TestApp, realm: &str, client_id: &str) -> Value {
    let found = json_of(app, &format!("/{realm}/clients?clientId={client_id}")).await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{client_id} in {realm}");
    found[0].clone()
}

fn client_ids(clients: &Value) -> Vec<String> {
    let mut ids: Vec<String> = clients
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The client's roles by name, with their descriptions.
async fn client_roles(app: &TestApp, realm: &str, client_id: &str) -> Vec<(String, String)> {
    let id = client(app, realm, client_id).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = json_of(app, &format!("/{realm}/clients/{id}/roles")).await;
    let mut named: Vec<(String, String)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    named.sort();
    named
}

async fn pool(app: &TestApp) -> sqlx::AnyPool {
    app.raw_db().await
}

/// What the role named holds directly, as `client/name` (or `name` for realm roles).
async fn composites_of(
    db: &sqlx::AnyPool,
    realm: &str,
    client_id: Option<&str>,
    name: &str,
) -> Vec<String> {
    let mut held: Vec<String> = sqlx::query_scalar(
        "SELECT COALESCE(cc.client_id || '/', '') || child.name
         FROM role parent
         JOIN realm r ON r.id = parent.realm_id
         LEFT JOIN client pc ON pc.id = parent.client_id
         JOIN role_composite rc ON rc.parent_id = parent.id
         JOIN role child ON child.id = rc.child_id
         LEFT JOIN client cc ON cc.id = child.client_id
         WHERE r.name = $1 AND parent.name = $2 AND pc.client_id IS NOT DISTINCT FROM $3",
    )
    .bind(realm)
    .bind(name)
    .bind(client_id)
    .fetch_all(db)
    .await
    .unwrap();
    held.sort();
    held
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_new_realm_has_keycloaks_six_clients_with_their_settings() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let clients = json_of(&app, "/team-a/clients").await;
    assert_eq!(client_ids(&clients), sorted(&LAYOUT_CLIENTS));

    let account = client(&app, "team-a", "account").await;
    assert_eq!(account["name"], "${client_account}");
    assert_eq!(account["rootUrl"], "${authBaseUrl}");
    assert_eq!(account["baseUrl"], "/realms/team-a/account/");
    assert_eq!(account["redirectUris"], json!(["/realms/team-a/account/*"]));
    assert_eq!(account["publicClient"], true);
    assert_eq!(account["bearerOnly"], false);
    assert_eq!(account["standardFlowEnabled"], true);
    assert_eq!(account["directAccessGrantsEnabled"], false);
    assert_eq!(account["attributes"]["post.logout.redirect.uris"], "+");

    let console = client(&app, "team-a", "account-console").await;
    assert_eq!(console["name"], "${client_account-console}");
    assert_eq!(console["baseUrl"], "/realms/team-a/account/");
    assert_eq!(console["attributes"]["pkce.code.challenge.method"], "S256");
    assert_eq!(console["directAccessGrantsEnabled"], false);

    let admin_console = client(&app, "team-a", "security-admin-console").await;
    assert_eq!(admin_console["name"], "${client_security-admin-console}");
    assert_eq!(admin_console["rootUrl"], "${authAdminUrl}");
    assert_eq!(admin_console["baseUrl"], "/admin/team-a/console/");
    assert_eq!(
        admin_console["redirectUris"],
        json!(["/admin/team-a/console/*"])
    );
    assert_eq!(admin_console["webOrigins"], json!(["+"]));
    assert_eq!(admin_console["publicClient"], true);
    assert_eq!(
        admin_console["attributes"]["pkce.code.challenge.method"],
        "S256"
    );

    let cli = client(&app, "team-a", "admin-cli").await;
    assert_eq!(cli["name"], "${client_admin-cli}");
    assert_eq!(cli["publicClient"], true);
    assert_eq!(cli["standardFlowEnabled"], false);
    assert_eq!(cli["directAccessGrantsEnabled"], true);

    for (client_id, name) in [
        ("broker", "${client_broker}"),
        ("realm-management", "${client_realm-management}"),
    ] {
        let bearer = client(&app, "team-a", client_id).await;
        assert_eq!(bearer["name"], name);
        assert_eq!(bearer["bearerOnly"], true, "{client_id}");
        assert_eq!(bearer["publicClient"], false, "{client_id}");
        assert!(bearer.get("secret").is_none(), "{client_id}");
    }
}

#[tokio::test]
async fn a_new_realm_has_keycloaks_roles_composites_and_descriptions() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let roles = json_of(&app, "/team-a/roles").await;
    let mut realm_roles: Vec<(String, String)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    realm_roles.sort();
    assert_eq!(
        realm_roles,
        vec![
            (
                "default-roles-team-a".into(),
                "${role_default-roles}".into()
            ),
            ("offline_access".into(), "${role_offline-access}".into()),
            (
                "uma_authorization".into(),
                "${role_uma_authorization}".into()
            ),
        ]
    );

    let account = client_roles(&app, "team-a", "account").await;
    let expected: Vec<(String, String)> = sorted(&[
        "delete-account",
        "manage-account",
        "manage-account-links",
        "manage-consent",
        "view-applications",
        "view-consent",
        "view-groups",
        "view-profile",
    ])
    .into_iter()
    .map(|n| (n.clone(), format!("${{role_{n}}}")))
    .collect();
    assert_eq!(account, expected);
    assert_eq!(
        client_roles(&app, "team-a", "broker").await,
        vec![("read-token".to_owned(), "${role_read-token}".to_owned())]
    );
    let management = client_roles(&app, "team-a", "realm-management").await;
    let mut names = ADMIN_ROLES.to_vec();
    names.push("realm-admin");
    assert_eq!(
        management
            .iter()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>(),
        sorted(&names)
    );
    assert!(management
        .iter()
        .all(|(name, description)| *description == format!("${{role_{name}}}")));

    let db = pool(&app).await;
    assert_eq!(
        composites_of(&db, "team-a", None, "default-roles-team-a").await,
        sorted(&[
            "account/manage-account",
            "account/view-profile",
            "offline_access",
            "uma_authorization"
        ])
    );
    assert_eq!(
        composites_of(&db, "team-a", Some("account"), "manage-account").await,
        ["account/manage-account-links"]
    );
    assert_eq!(
        composites_of(&db, "team-a", Some("account"), "manage-consent").await,
        ["account/view-consent"]
    );
    let management = Some("realm-management");
    assert_eq!(
        composites_of(&db, "team-a", management, "view-users").await,
        [
            "realm-management/query-groups",
            "realm-management/query-users"
        ]
    );
    assert_eq!(
        composites_of(&db, "team-a", management, "view-clients").await,
        ["realm-management/query-clients"]
    );
    let all: Vec<String> = ADMIN_ROLES
        .iter()
        .map(|r| format!("realm-management/{r}"))
        .collect();
    assert_eq!(
        composites_of(&db, "team-a", management, "realm-admin").await,
        all
    );
}

#[tokio::test]
async fn new_users_hold_the_default_roles_with_their_account_roles() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let response = app
        .admin(
            Method::POST,
            "/team-a/clients",
            Some(json!({"clientId": "app", "publicClient": true})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let id = app.create_user("team-a", "dev", "pw").await;
    let mappings = json_of(&app, &format!("/team-a/users/{id}/role-mappings/realm")).await;
    assert_eq!(mappings[0]["name"], "default-roles-team-a");
    let token = app.password_token("team-a", "app", "dev", "pw").await;
    let claims = jwt_payload(&token);
    let mut realm_roles: Vec<&str> = claims["realm_access"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    realm_roles.sort();
    assert_eq!(
        realm_roles,
        [
            "default-roles-team-a",
            "offline_access",
            "uma_authorization"
        ]
    );
    let mut account: Vec<&str> = claims["resource_access"]["account"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    account.sort();
    assert_eq!(
        account,
        ["manage-account", "manage-account-links", "view-profile"]
    );
}

#[tokio::test]
async fn master_holds_master_realm_and_one_client_per_realm_under_its_admin_role() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let clients = json_of(&app, "/master/clients").await;
    assert_eq!(
        client_ids(&clients),
        sorted(&[
            "account",
            "account-console",
            "admin-cli",
            "broker",
            "master-realm",
            "security-admin-console",
            "team-a-realm",
        ]),
        "master has no realm-management, as in Keycloak"
    );
    let master_realm = client(&app, "master", "master-realm").await;
    assert_eq!(master_realm["name"], "master Realm");
    assert_eq!(master_realm["bearerOnly"], true);
    let team_a = client(&app, "master", "team-a-realm").await;
    assert_eq!(team_a["name"], "team-a Realm");
    assert_eq!(team_a["bearerOnly"], true);
    assert_eq!(team_a["publicClient"], false);
    for container in ["master-realm", "team-a-realm"] {
        let roles = client_roles(&app, "master", container).await;
        assert_eq!(
            roles.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            sorted(&ADMIN_ROLES),
            "{container} holds no realm-admin"
        );
        assert!(roles.iter().all(|(n, d)| *d == format!("${{role_{n}}}")));
    }

    let roles = json_of(&app, "/master/roles").await;
    let mut realm_roles: Vec<(String, String)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    realm_roles.sort();
    assert_eq!(
        realm_roles,
        vec![
            ("admin".into(), "${role_admin}".into()),
            ("create-realm".into(), "${role_create-realm}".into()),
            (
                "default-roles-master".into(),
                "${role_default-roles}".into()
            ),
            ("offline_access".into(), "${role_offline-access}".into()),
            (
                "uma_authorization".into(),
                "${role_uma_authorization}".into()
            ),
        ]
    );

    let db = pool(&app).await;
    let mut expected = vec!["create-realm".to_owned()];
    for container in ["master-realm", "team-a-realm"] {
        expected.extend(ADMIN_ROLES.iter().map(|r| format!("{container}/{r}")));
    }
    expected.sort();
    assert_eq!(composites_of(&db, "master", None, "admin").await, expected);
    assert_eq!(
        composites_of(&db, "master", Some("team-a-realm"), "view-users").await,
        ["team-a-realm/query-groups", "team-a-realm/query-users"]
    );
}

/// Creates a master user holding the roles named of `container` (a client of master).
async fn master_user_with(
    app: &TestApp,
    username: &str,
    container: &str,
    roles: &[&str],
) -> String {
    let id = app.create_user("master", username, "pw").await;
    let client = client(app, "master", container).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body: Vec<Value> = roles.iter().map(|r| json!({"name": r})).collect();
    let response = app
        .admin(
            Method::POST,
            &format!("/master/users/{id}/role-mappings/clients/{client}"),
            Some(json!(body)),
        )
        .await;
    assert_eq!(response.status(), 204, "grant {roles:?} of {container}");
    app.password_token("master", "admin-cli", username, "pw")
        .await
}

async fn call(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> u16 {
    let mut request = app
        .client
        .request(method, app.url(&format!("/admin/realms{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_master_user_holding_a_realms_client_roles_manages_that_realm_and_nothing_else() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    app.create_realm("team-b").await;
    let token = master_user_with(
        &app,
        "delegate",
        "team-a-realm",
        &["manage-users", "view-users"],
    )
    .await;
    assert_eq!(
        call(&app, &token, Method::GET, "/team-a/users", None).await,
        200
    );
    let user = json!({"username": "newcomer", "enabled": true});
    assert_eq!(
        call(
            &app,
            &token,
            Method::POST,
            "/team-a/users",
            Some(user.clone())
        )
        .await,
        201
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/team-a/clients", None).await,
        403
    );
    assert_eq!(
        call(
            &app,
            &token,
            Method::PUT,
            "/team-a",
            Some(json!({"displayName": "x"}))
        )
        .await,
        403
    );
    for other in ["/team-b/users", "/master/users"] {
        assert_eq!(
            call(&app, &token, Method::GET, other, None).await,
            403,
            "{other}"
        );
    }
    assert_eq!(
        call(&app, &token, Method::POST, "/team-b/users", Some(user)).await,
        403
    );
    let listed: Value = app
        .client
        .get(app.url("/admin/realms"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["realm"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["team-a"]);

    let held_only_by_keycloak = master_user_with(
        &app,
        "impersonator",
        "team-a-realm",
        &["impersonation", "query-realms"],
    )
    .await;
    assert_eq!(
        call(
            &app,
            &held_only_by_keycloak,
            Method::GET,
            "/team-a/users",
            None
        )
        .await,
        403,
        "roles keywarden does not implement carry nothing"
    );
}

#[tokio::test]
async fn a_delegated_user_cannot_reach_master_or_hand_out_another_realms_roles() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    app.create_realm("team-b").await;
    let token = master_user_with(
        &app,
        "delegate",
        "team-a-realm",
        &["manage-users", "view-users"],
    )
    .await;
    let me = json_of(&app, "/master/users?username=delegate").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_b = client(&app, "master", "team-b-realm").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grab = json!([{"name": "manage-users"}]);
    assert_eq!(
        call(
            &app,
            &token,
            Method::POST,
            &format!("/master/users/{me}/role-mappings/clients/{team_b}"),
            Some(grab),
        )
        .await,
        403
    );

    let master_users = master_user_with(
        &app,
        "helper",
        "master-realm",
        &["manage-users", "view-users"],
    )
    .await;
    assert_eq!(
        call(&app, &master_users, Method::GET, "/master/users", None).await,
        200
    );
    assert_eq!(
        call(&app, &master_users, Method::GET, "/team-a/users", None).await,
        403
    );
    assert_eq!(
        call(
            &app,
            &master_users,
            Method::POST,
            &format!("/master/users/{me}/role-mappings/clients/{team_b}"),
            Some(json!([{"name": "view-users"}])),
        )
        .await,
        403,
        "managing master's users hands out no other realm"
    );
}

#[tokio::test]
async fn renaming_a_realm_renames_its_client_in_master_and_deleting_it_deletes_it() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let token = master_user_with(&app, "delegate", "team-a-realm", &["view-users"]).await;
    let response = app
        .admin(Method::PUT, "/team-a", Some(json!({"realm": "team-z"})))
        .await;
    assert_eq!(response.status(), 204);
    let renamed = client(&app, "master", "team-z-realm").await;
    assert_eq!(
        json_of(&app, "/master/clients?clientId=team-a-realm").await,
        json!([])
    );
    let account = client(&app, "team-z", "account").await;
    assert_eq!(account["baseUrl"], "/realms/team-z/account/");
    assert_eq!(account["redirectUris"], json!(["/realms/team-z/account/*"]));
    let console = client(&app, "team-z", "security-admin-console").await;
    assert_eq!(console["baseUrl"], "/admin/team-z/console/");
    assert_eq!(
        call(&app, &token, Method::GET, "/team-z/users", None).await,
        200
    );

    let response = app.admin(Method::DELETE, "/team-z", None).await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        json_of(&app, "/master/clients?clientId=team-z-realm").await,
        json!([])
    );
    let db = pool(&app).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM role WHERE client_id = $1")
        .bind(renamed["id"].as_str().unwrap())
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(left, 0, "the client's roles went with it");
    let admin_children = composites_of(&db, "master", None, "admin").await;
    assert!(admin_children
        .iter()
        .all(|c| !c.starts_with("team-z-realm/")));
}

#[tokio::test]
async fn built_in_clients_cannot_be_deleted_or_lose_what_they_are() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    for (realm, client_id) in [
        ("team-a", "account"),
        ("team-a", "broker"),
        ("team-a", "security-admin-console"),
        ("master", "team-a-realm"),
        ("master", "master-realm"),
    ] {
        let id = client(&app, realm, client_id).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let response = app
            .admin(Method::DELETE, &format!("/{realm}/clients/{id}"), None)
            .await;
        assert_eq!(response.status(), 400, "{client_id} of {realm}");
    }
    for (realm, client_id, change) in [
        (
            "team-a",
            "account-console",
            json!({"redirectUris": ["https://elsewhere.example/*"]}),
        ),
        (
            "team-a",
            "security-admin-console",
            json!({"publicClient": false}),
        ),
        (
            "master",
            "team-a-realm",
            json!({"clientId": "team-b-realm"}),
        ),
    ] {
        let id = client(&app, realm, client_id).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let response = app
            .admin(Method::PUT, &format!("/{realm}/clients/{id}"), Some(change))
            .await;
        assert_eq!(response.status(), 400, "changing {client_id} of {realm}");
    }
}

#[tokio::test]
async fn a_realm_creator_who_is_no_master_admin_manages_the_realm_created() {
    let app = spawn_app().await;
    app.create_realm("other").await;
    let id = app.create_user("master", "creator", "pw").await;
    let response = app
        .admin(
            Method::POST,
            &format!("/master/users/{id}/role-mappings/realm"),
            Some(json!([{"name": "create-realm"}])),
        )
        .await;
    assert_eq!(response.status(), 204);
    let token = app
        .password_token("master", "admin-cli", "creator", "pw")
        .await;
    assert_eq!(
        call(
            &app,
            &token,
            Method::POST,
            "",
            Some(json!({"realm": "mine", "enabled": true}))
        )
        .await,
        201
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/mine/users", None).await,
        200
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/other/users", None).await,
        403
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/master/users", None).await,
        403
    );
}

#[tokio::test]
async fn an_imported_realm_keeps_keycloaks_built_in_clients_not_the_files() {
    let app = spawn_app().await;
    let response = app
        .admin(
            Method::POST,
            "",
            Some(json!({
                "realm": "imported",
                "enabled": true,
                "clients": [
                    {"clientId": "account", "baseUrl": "/elsewhere/"},
                    {"clientId": "broker", "publicClient": true},
                    {"clientId": "app"},
                ],
            })),
        )
        .await;
    assert_eq!(response.status(), 201);
    let clients = json_of(&app, "/imported/clients").await;
    let mut expected = LAYOUT_CLIENTS.to_vec();
    expected.push("app");
    assert_eq!(client_ids(&clients), sorted(&expected));
    let account = client(&app, "imported", "account").await;
    assert_eq!(account["baseUrl"], "/realms/imported/account/");
    assert_eq!(client(&app, "imported", "broker").await["bearerOnly"], true);
}

/// Master's `realm-management` client in an old database, and two of its roles.
const OLD_MANAGEMENT: &str = "00000000-0000-4000-8000-0000000000b1";
const OLD_MANAGE_USERS: &str = "00000000-0000-4000-8000-0000000000b2";
const OLD_VIEW_USERS: &str = "00000000-0000-4000-8000-0000000000b3";

/// Makes a database the way an older keywarden left it: realms without the clients and roles
/// added since, master with `realm-management`, and a realm file's own `account` client.
async fn old_database(path: &std::path::Path) {
    use keywarden::admin::ops;
    let url = format!("sqlite://{}", path.display());
    let db = keywarden::store::open(&url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    for name in ["master", "team-a", "team-b"] {
        ops::realms::create_named(&mut tx, name).await.unwrap();
    }
    tx.commit().await.unwrap();
    let old_roles = "'realm-admin','view-realm','manage-realm','view-users','manage-users',
        'query-users','query-groups','view-clients','manage-clients','query-clients',
        'create-client','view-events','manage-events'";
    for sql in [
        "DELETE FROM client WHERE builtin IN
            ('account','account-console','broker','security-admin-console','master-admin-client')"
            .to_owned(),
        format!(
            "DELETE FROM role WHERE client_id IN (SELECT id FROM client WHERE builtin = 'realm-management')
               AND name NOT IN ({old_roles})"
        ),
        "DELETE FROM role_composite WHERE parent_id NOT IN
            (SELECT id FROM role WHERE builtin IN ('realm-admin', 'default-roles'))"
            .to_owned(),
        "UPDATE role SET description = NULL".to_owned(),
        "UPDATE realm SET layout_version = 0".to_owned(),
        format!(
            "INSERT INTO client (id, realm_id, client_id, protocol, public_client, builtin)
             SELECT '{OLD_MANAGEMENT}', id, 'realm-management', 'openid-connect', FALSE,
                    'realm-management' FROM realm WHERE name = 'master'"
        ),
        format!(
            "INSERT INTO role (id, realm_id, client_id, container_id, name, builtin)
             SELECT '{OLD_MANAGE_USERS}', id, '{OLD_MANAGEMENT}', '{OLD_MANAGEMENT}',
                    'manage-users', 'manage-users' FROM realm WHERE name = 'master'"
        ),
        format!(
            "INSERT INTO role (id, realm_id, client_id, container_id, name, builtin)
             SELECT '{OLD_VIEW_USERS}', id, '{OLD_MANAGEMENT}', '{OLD_MANAGEMENT}',
                    'view-users', 'view-users' FROM realm WHERE name = 'master'"
        ),
        "INSERT INTO client (id, realm_id, client_id, protocol, public_client, base_url)
         SELECT '00000000-0000-4000-8000-0000000000a1', id, 'account', 'openid-connect', TRUE,
                '/custom/' FROM realm WHERE name = 'team-b'"
            .to_owned(),
    ] {
        sqlx::query(&sql)
            .execute(db.write().sqlite().unwrap())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn start_up_brings_an_old_database_to_the_layout_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    old_database(&path).await;
    let url = format!("sqlite://{}", path.display());
    let mut app = spawn_app_with(|settings| settings.db.url = url).await;
    app.db_path = path;

    let team_a = json_of(&app, "/team-a/clients").await;
    assert_eq!(client_ids(&team_a), sorted(&LAYOUT_CLIENTS));
    let management = client_roles(&app, "team-a", "realm-management").await;
    assert_eq!(management.len(), 22);
    assert!(management
        .iter()
        .all(|(n, d)| *d == format!("${{role_{n}}}")));
    let db = pool(&app).await;
    assert_eq!(
        composites_of(&db, "team-a", None, "default-roles-team-a").await,
        sorted(&[
            "account/manage-account",
            "account/view-profile",
            "offline_access",
            "uma_authorization"
        ])
    );
    assert_eq!(
        composites_of(&db, "team-a", Some("realm-management"), "view-users").await,
        [
            "realm-management/query-groups",
            "realm-management/query-users"
        ]
    );
    assert_eq!(
        composites_of(&db, "team-a", Some("realm-management"), "realm-admin")
            .await
            .len(),
        21
    );

    let team_b_accounts = json_of(&app, "/team-b/clients?clientId=account").await;
    assert_eq!(team_b_accounts.as_array().unwrap().len(), 1);
    assert_eq!(
        team_b_accounts[0]["baseUrl"], "/custom/",
        "its own account is kept"
    );
    let response = app
        .admin(
            Method::DELETE,
            &format!(
                "/team-b/clients/{}",
                team_b_accounts[0]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(response.status(), 400, "and is now the built-in one");

    let master = json_of(&app, "/master/clients").await;
    let ids = client_ids(&master);
    for wanted in [
        "master-realm",
        "realm-management",
        "team-a-realm",
        "team-b-realm",
    ] {
        assert!(ids.contains(&wanted.to_owned()), "{wanted} in {ids:?}");
    }
    assert_eq!(ids.len(), 9, "nothing twice: {ids:?}");
    let admin = composites_of(&db, "master", None, "admin").await;
    assert_eq!(
        admin.len(),
        1 + 3 * 21,
        "create-realm and three clients' roles"
    );

    let id = app.create_user("master", "old-admin", "pw").await;
    sqlx::query("INSERT INTO user_role_mapping (user_id, role_id) VALUES ($1, $2), ($3, $4)")
        .bind(&id)
        .bind(OLD_MANAGE_USERS)
        .bind(&id)
        .bind(OLD_VIEW_USERS)
        .execute(&db)
        .await
        .unwrap();
    let token = app
        .password_token("master", "admin-cli", "old-admin", "pw")
        .await;
    assert_eq!(
        call(&app, &token, Method::GET, "/master/users", None).await,
        200,
        "master's old realm-management still administers master"
    );
    let delegate = master_user_with(&app, "delegate", "team-b-realm", &["view-users"]).await;
    assert_eq!(
        call(&app, &delegate, Method::GET, "/team-b/users", None).await,
        200
    );

    let versions: Vec<i64> = sqlx::query_scalar("SELECT layout_version FROM realm")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(versions.iter().all(|v| *v == 1), "{versions:?}");
}

#[tokio::test]
async fn the_layout_adds_nothing_to_realms_that_have_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let db = keywarden::store::open(&url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    for name in ["master", "team-a"] {
        keywarden::admin::ops::realms::create_named(&mut tx, name)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let count = |table: &'static str| {
        let db = &db;
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(db.read().sqlite().unwrap())
                .await
                .unwrap()
        }
    };
    let before = (
        count("client").await,
        count("role").await,
        count("role_composite").await,
    );
    assert_eq!(
        before.0,
        6 + 6 + 1,
        "six in each realm and team-a-realm in master"
    );
    sqlx::query("UPDATE realm SET layout_version = 0")
        .execute(db.write().sqlite().unwrap())
        .await
        .unwrap();
    keywarden::admin::ops::layout::backfill(&db).await.unwrap();
    let after = (
        count("client").await,
        count("role").await,
        count("role_composite").await,
    );
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_new_realm_is_made_at_the_current_layout() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let db = pool(&app).await;
    let version: i64 = sqlx::query_scalar("SELECT layout_version FROM realm WHERE name = 'team-a'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(version, keywarden::admin::ops::layout::LAYOUT_VERSION);
}
