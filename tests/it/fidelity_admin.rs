//! The admin REST API as Keycloak 26 answers it: role composites, role replacement,
//! role mappings, group attributes, and Keycloak's not-found wording.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{location_id, spawn_app, TestApp};

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

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.admin(Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

/// Creates a realm role; answers its representation.
async fn role(app: &TestApp, realm: &str, body: Value) -> Value {
    let name = body["name"].as_str().unwrap().to_owned();
    let response = app
        .admin(Method::POST, &format!("/{realm}/roles"), Some(body))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "create role {name}");
    json_of(app, &format!("/{realm}/roles/{name}")).await
}

async fn client_uuid(app: &TestApp, realm: &str, client_id: &str) -> String {
    let found = json_of(app, &format!("/{realm}/clients?clientId={client_id}")).await;
    found[0]["id"].as_str().unwrap().to_owned()
}

fn names(roles: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    names
}

async fn error_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn realm_role_composites_are_added_listed_and_removed() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let parent = role(&app, "team", json!({"name": "parent"})).await;
    let child = role(&app, "team", json!({"name": "child"})).await;
    assert_eq!(parent["composite"], false);
    let client = client_uuid(&app, "team", "realm-management").await;
    let view_profile = json_of(&app, &format!("/team/clients/{client}/roles/query-groups")).await;

    let added = app
        .admin(
            Method::POST,
            "/team/roles/parent/composites",
            Some(json!([{"id": child["id"]}, {"id": view_profile["id"]}])),
        )
        .await;
    assert_eq!(added.status(), StatusCode::NO_CONTENT);

    let parent = json_of(&app, "/team/roles/parent").await;
    assert_eq!(parent["composite"], true);
    let all = json_of(&app, "/team/roles/parent/composites").await;
    assert_eq!(names(&all), ["child", "query-groups"]);
    assert!(all[0].get("attributes").is_none(), "brief: {all}");
    let realm_only = json_of(&app, "/team/roles/parent/composites/realm").await;
    assert_eq!(names(&realm_only), ["child"]);
    assert_eq!(realm_only[0]["clientRole"], false);
    let of_client = json_of(
        &app,
        &format!("/team/roles/parent/composites/clients/{client}"),
    )
    .await;
    assert_eq!(names(&of_client), ["query-groups"]);
    assert_eq!(of_client[0]["containerId"], client.as_str());
    let by_id = json_of(
        &app,
        &format!(
            "/team/roles-by-id/{}/composites",
            parent["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(names(&by_id), ["child", "query-groups"]);

    let removed = app
        .admin(
            Method::DELETE,
            &format!(
                "/team/roles-by-id/{}/composites",
                parent["id"].as_str().unwrap()
            ),
            Some(json!([{"id": child["id"]}, {"id": view_profile["id"]}])),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_of(&app, "/team/roles/parent").await["composite"],
        false
    );
    assert_eq!(
        json_of(&app, "/team/roles/parent/composites").await,
        json!([])
    );
}

#[tokio::test]
async fn a_composite_grants_its_children_in_tokens() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let child = role(&app, "team", json!({"name": "reader"})).await;
    let parent = role(&app, "team", json!({"name": "editor"})).await;
    let response = app
        .admin(
            Method::POST,
            &format!(
                "/team/roles-by-id/{}/composites",
                parent["id"].as_str().unwrap()
            ),
            Some(json!([{"id": child["id"]}])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let user = app.create_user("team", "ed", "pw").await;
    let mapped = app
        .admin(
            Method::POST,
            &format!("/team/users/{user}/role-mappings/realm"),
            Some(json!([{"id": parent["id"], "name": "editor"}])),
        )
        .await;
    assert_eq!(mapped.status(), StatusCode::NO_CONTENT);
    let effective = json_of(
        &app,
        &format!("/team/users/{user}/role-mappings/realm/composite"),
    )
    .await;
    let effective = names(&effective);
    assert!(
        effective.contains(&"reader") && effective.contains(&"editor"),
        "{effective:?}"
    );
}

#[tokio::test]
async fn role_put_replaces_description_and_attributes_as_keycloak() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let created = role(
        &app,
        "team",
        json!({"name": "tagged", "description": "old", "attributes": {"k": ["v1", "v2"]}}),
    )
    .await;
    assert_eq!(created["description"], "old");
    assert_eq!(created["attributes"], json!({"k": ["v1", "v2"]}));
    assert_eq!(created["clientRole"], false);

    let kept = app
        .admin(
            Method::PUT,
            "/team/roles/tagged",
            Some(json!({"name": "tagged"})),
        )
        .await;
    assert_eq!(kept.status(), StatusCode::NO_CONTENT);
    let after = json_of(&app, "/team/roles/tagged").await;
    assert!(after.get("description").is_none(), "cleared: {after}");
    assert_eq!(after["attributes"], json!({"k": ["v1", "v2"]}));

    let id = created["id"].as_str().unwrap();
    let replaced = app
        .admin(
            Method::PUT,
            &format!("/team/roles-by-id/{id}"),
            Some(json!({"name": "renamed", "description": "new", "attributes": {"other": ["x"]}})),
        )
        .await;
    assert_eq!(replaced.status(), StatusCode::NO_CONTENT);
    let after = json_of(&app, &format!("/team/roles-by-id/{id}")).await;
    assert_eq!(after["name"], "renamed");
    assert_eq!(after["description"], "new");
    assert_eq!(after["attributes"], json!({"other": ["x"]}));

    let listed = json_of(&app, "/team/roles?briefRepresentation=false&search=renam").await;
    assert_eq!(listed[0]["attributes"], json!({"other": ["x"]}));
    let brief = json_of(&app, "/team/roles?search=renam").await;
    assert!(brief[0].get("attributes").is_none(), "{brief}");

    let deleted = app
        .admin(Method::DELETE, &format!("/team/roles-by-id/{id}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, body) = error_of(
        app.admin(Method::GET, &format!("/team/roles-by-id/{id}"), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Could not find role with id"}));
}

#[tokio::test]
async fn client_roles_are_replaced_deleted_and_composed() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let response = app
        .admin(
            Method::POST,
            "/team/clients",
            Some(json!({"clientId": "app"})),
        )
        .await;
    let client = location_id(&response);
    for name in ["one", "two"] {
        let created = app
            .admin(
                Method::POST,
                &format!("/team/clients/{client}/roles"),
                Some(json!({"name": name, "attributes": {"a": ["b"]}})),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let one = json_of(&app, &format!("/team/clients/{client}/roles/one")).await;
    assert_eq!(one["clientRole"], true);
    assert_eq!(one["containerId"], client.as_str());
    assert_eq!(one["attributes"], json!({"a": ["b"]}));
    let two = json_of(&app, &format!("/team/clients/{client}/roles/two")).await;

    let composed = app
        .admin(
            Method::POST,
            &format!("/team/clients/{client}/roles/one/composites"),
            Some(json!([{"id": two["id"]}])),
        )
        .await;
    assert_eq!(composed.status(), StatusCode::NO_CONTENT);
    let listed = json_of(&app, &format!("/team/clients/{client}/roles")).await;
    let one_listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "one")
        .unwrap();
    assert_eq!(one_listed["composite"], true);
    let children = json_of(
        &app,
        &format!("/team/clients/{client}/roles/one/composites/clients/{client}"),
    )
    .await;
    assert_eq!(names(&children), ["two"]);

    let put = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{client}/roles/two"),
            Some(json!({"name": "two", "description": "second"})),
        )
        .await;
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_of(&app, &format!("/team/clients/{client}/roles/two")).await["description"],
        "second"
    );
    let deleted = app
        .admin(
            Method::DELETE,
            &format!("/team/clients/{client}/roles/two"),
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, body) = error_of(
        app.admin(
            Method::GET,
            &format!("/team/clients/{client}/roles/two"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Could not find role"}));
}

#[tokio::test]
async fn built_in_management_roles_cannot_be_deleted_or_renamed() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let management = client_uuid(&app, "team", "realm-management").await;
    let deleted = app
        .admin(
            Method::DELETE,
            &format!("/team/clients/{management}/roles/manage-users"),
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::BAD_REQUEST);
    let renamed = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{management}/roles/view-users"),
            Some(json!({"name": "anything"})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::BAD_REQUEST);
    let default_role = json_of(&app, "/team/roles/default-roles-team").await;
    let (status, body) = error_of(
        app.admin(
            Method::DELETE,
            &format!("/team/roles-by-id/{}", default_role["id"].as_str().unwrap()),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessage"],
        "default-roles-team is default role of the realm and cannot be removed."
    );
}

#[tokio::test]
async fn manage_realm_cannot_make_a_role_carry_powers_it_lacks() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (_, token) = app.realm_admin("team", "roler", &["manage-realm"]).await;
    let management = client_uuid(&app, "team", "realm-management").await;
    let realm_admin = json_of(
        &app,
        &format!("/team/clients/{management}/roles/realm-admin"),
    )
    .await;
    let own = call(
        &app,
        &token,
        Method::POST,
        "/team/roles",
        Some(json!({"name": "mine"})),
    )
    .await;
    assert_eq!(own.status(), StatusCode::CREATED);

    for target in ["/team/roles/mine", "/team/roles/default-roles-team"] {
        let escalate = call(
            &app,
            &token,
            Method::POST,
            &format!("{target}/composites"),
            Some(json!([{"id": realm_admin["id"]}])),
        )
        .await;
        assert_eq!(escalate.status(), StatusCode::FORBIDDEN, "{target}");
    }
    let children = json_of(&app, "/team/roles/default-roles-team/composites").await;
    assert!(!names(&children).contains(&"realm-admin"), "{children}");

    let harmless = json_of(&app, "/team/roles/offline_access").await;
    let allowed = call(
        &app,
        &token,
        Method::POST,
        "/team/roles/mine/composites",
        Some(json!([{"id": harmless["id"]}])),
    )
    .await;
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);

    let touch_admin = call(
        &app,
        &token,
        Method::POST,
        &format!("/team/clients/{management}/roles/realm-admin/composites"),
        Some(json!([{"id": harmless["id"]}])),
    )
    .await;
    assert_eq!(touch_admin.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn missing_roles_and_clients_are_answered_in_keycloaks_words() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let cases = [
        ("/team/roles/nope", "Could not find role"),
        ("/team/roles-by-id/nope", "Could not find role with id"),
        ("/team/roles/nope/composites", "Could not find role"),
        ("/team/clients/nope", "Could not find client"),
        ("/team/clients/nope/roles/x", "Could not find client"),
        (
            "/team/roles/offline_access/composites/clients/nope",
            "Could not find client",
        ),
    ];
    for (path, message) in cases {
        let (status, body) = error_of(app.admin(Method::GET, path, None).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"error": message}), "{path}");
    }
    let (status, body) = error_of(
        app.admin(
            Method::POST,
            "/team/roles/offline_access/composites",
            Some(json!([{"id": "0b1c9a44-6d5e-4b43-9a0e-5f2a8f5d3c11"}])),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Could not find composite role"}));
}

#[tokio::test]
async fn user_role_mappings_have_keycloaks_shape() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let user = app.create_user("team", "mapped", "pw").await;
    let bare = app.create_user("team", "bare", "pw").await;
    let removed = app
        .admin(
            Method::DELETE,
            &format!("/team/users/{bare}/role-mappings/realm"),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_of(&app, &format!("/team/users/{bare}/role-mappings")).await,
        json!({})
    );

    let management = client_uuid(&app, "team", "realm-management").await;
    app.grant_management("team", &user, &["view-users"]).await;
    let mappings = json_of(&app, &format!("/team/users/{user}/role-mappings")).await;
    assert_eq!(names(&mappings["realmMappings"]), ["default-roles-team"]);
    assert_eq!(mappings["realmMappings"][0]["composite"], true);
    let client = &mappings["clientMappings"]["realm-management"];
    assert_eq!(client["id"], management.as_str());
    assert_eq!(client["client"], "realm-management");
    assert_eq!(names(&client["mappings"]), ["view-users"]);

    let base = format!("/team/users/{user}/role-mappings");
    let effective = json_of(&app, &format!("{base}/realm/composite")).await;
    let effective = names(&effective);
    assert!(effective.contains(&"offline_access"), "{effective:?}");
    assert!(!effective.contains(&"view-users"), "{effective:?}");
    let available = json_of(&app, &format!("{base}/realm/available")).await;
    let available = names(&available);
    assert!(available.contains(&"offline_access") && !available.contains(&"default-roles-team"));
    let client_available = json_of(&app, &format!("{base}/clients/{management}/available")).await;
    let client_available = names(&client_available);
    assert!(
        client_available.contains(&"manage-users") && !client_available.contains(&"view-users")
    );
    let client_effective = json_of(&app, &format!("{base}/clients/{management}/composite")).await;
    assert_eq!(
        names(&client_effective),
        ["query-groups", "query-users", "view-users"],
        "view-users holds query-users and query-groups, as in Keycloak"
    );

    let cleared = app
        .admin(
            Method::DELETE,
            &format!("{base}/clients/{management}"),
            None,
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let after = json_of(&app, &base).await;
    assert!(after.get("clientMappings").is_none(), "{after}");
    let (status, body) = error_of(
        app.admin(Method::GET, &format!("{base}/clients/nope"), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Client not found"}));
}

#[tokio::test]
async fn group_role_mappings_reach_members_and_subgroups() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let reader = role(&app, "team", json!({"name": "reader"})).await;
    let top = location_id(
        &app.admin(Method::POST, "/team/groups", Some(json!({"name": "top"})))
            .await,
    );
    let sub = location_id(
        &app.admin(
            Method::POST,
            &format!("/team/groups/{top}/children"),
            Some(json!({"name": "sub"})),
        )
        .await,
    );
    let mapped = app
        .admin(
            Method::POST,
            &format!("/team/groups/{top}/role-mappings/realm"),
            Some(json!([{"id": reader["id"], "name": "reader"}])),
        )
        .await;
    assert_eq!(mapped.status(), StatusCode::NO_CONTENT);
    let direct = json_of(&app, &format!("/team/groups/{top}/role-mappings")).await;
    assert_eq!(names(&direct["realmMappings"]), ["reader"]);
    let inherited = json_of(
        &app,
        &format!("/team/groups/{sub}/role-mappings/realm/composite"),
    )
    .await;
    assert_eq!(names(&inherited), ["reader"]);
    assert_eq!(
        json_of(&app, &format!("/team/groups/{sub}/role-mappings")).await,
        json!({})
    );

    let user = app.create_user("team", "member", "pw").await;
    let joined = app
        .admin(
            Method::PUT,
            &format!("/team/users/{user}/groups/{sub}"),
            None,
        )
        .await;
    assert_eq!(joined.status(), StatusCode::NO_CONTENT);
    let effective = json_of(
        &app,
        &format!("/team/users/{user}/role-mappings/realm/composite"),
    )
    .await;
    assert!(names(&effective).contains(&"reader"), "{effective}");

    let unmapped = app
        .admin(
            Method::DELETE,
            &format!("/team/groups/{top}/role-mappings/realm"),
            Some(json!([{"id": reader["id"]}])),
        )
        .await;
    assert_eq!(unmapped.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_of(&app, &format!("/team/groups/{top}/role-mappings")).await,
        json!({})
    );
}

#[tokio::test]
async fn manage_users_cannot_map_a_role_above_its_own_to_a_group() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (_, token) = app
        .realm_admin("team", "helper", &["manage-users", "view-users"])
        .await;
    let management = client_uuid(&app, "team", "realm-management").await;
    let group = location_id(
        &app.admin(Method::POST, "/team/groups", Some(json!({"name": "crew"})))
            .await,
    );
    let realm_admin = json_of(
        &app,
        &format!("/team/clients/{management}/roles/realm-admin"),
    )
    .await;
    let escalate = call(
        &app,
        &token,
        Method::POST,
        &format!("/team/groups/{group}/role-mappings/clients/{management}"),
        Some(json!([{"id": realm_admin["id"], "name": "realm-admin"}])),
    )
    .await;
    assert_eq!(escalate.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json_of(&app, &format!("/team/groups/{group}/role-mappings")).await,
        json!({})
    );
    let available: Value = call(
        &app,
        &token,
        Method::GET,
        &format!("/team/groups/{group}/role-mappings/clients/{management}/available"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let available = names(&available);
    assert!(
        available.contains(&"view-users") && !available.contains(&"realm-admin"),
        "{available:?}"
    );
}

async fn group(app: &TestApp, path: &str, body: Value) -> String {
    let response = app.admin(Method::POST, path, Some(body)).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "create group at {path}"
    );
    location_id(&response)
}

#[tokio::test]
async fn groups_carry_attributes_description_and_roles() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    role(&app, "team", json!({"name": "reader"})).await;
    let id = group(
        &app,
        "/team/groups",
        json!({"name": "ops", "description": "on call", "attributes": {"site": ["north"]}}),
    )
    .await;
    let mapped = app
        .admin(
            Method::POST,
            &format!("/team/groups/{id}/role-mappings/realm"),
            Some(json!([{"name": "reader"}])),
        )
        .await;
    assert_eq!(mapped.status(), StatusCode::NO_CONTENT);
    let got = json_of(&app, &format!("/team/groups/{id}")).await;
    assert_eq!(got["path"], "/ops");
    assert_eq!(got["description"], "on call");
    assert_eq!(got["attributes"], json!({"site": ["north"]}));
    assert_eq!(got["realmRoles"], json!(["reader"]));
    assert_eq!(got["clientRoles"], json!({}));
    assert_eq!(got["subGroupCount"], 0);
    assert_eq!(got["subGroups"], json!([]));
    assert_eq!(
        got["access"],
        json!({"view": true, "viewMembers": true, "manage": true, "manageMembers": true,
               "manageMembership": true})
    );

    let kept = app
        .admin(
            Method::PUT,
            &format!("/team/groups/{id}"),
            Some(json!({"name": "ops"})),
        )
        .await;
    assert_eq!(kept.status(), StatusCode::NO_CONTENT);
    let got = json_of(&app, &format!("/team/groups/{id}")).await;
    assert!(got.get("description").is_none(), "cleared: {got}");
    assert_eq!(got["attributes"], json!({"site": ["north"]}));
    let replaced = app
        .admin(
            Method::PUT,
            &format!("/team/groups/{id}"),
            Some(json!({"name": "ops", "attributes": {"floor": ["2"]}})),
        )
        .await;
    assert_eq!(replaced.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_of(&app, &format!("/team/groups/{id}")).await["attributes"],
        json!({"floor": ["2"]})
    );
    let (status, body) = error_of(
        app.admin(
            Method::PUT,
            &format!("/team/groups/{id}"),
            Some(json!({"description": "x"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"errorMessage": "Group name is missing"}));
    let (status, body) = error_of(
        app.admin(
            Method::GET,
            "/team/groups/0b1c9a44-6d5e-4b43-9a0e-5f2a8f5d3c11",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Could not find group by id"}));
}

#[tokio::test]
async fn group_listings_search_and_count_as_keycloak_26() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let top = group(&app, "/team/groups", json!({"name": "alpha"})).await;
    group(&app, "/team/groups", json!({"name": "beta"})).await;
    let mid = group(
        &app,
        &format!("/team/groups/{top}/children"),
        json!({"name": "mid"}),
    )
    .await;
    for n in 0..11 {
        group(
            &app,
            &format!("/team/groups/{mid}/children"),
            json!({"name": format!("leaf{n:02}"), "attributes": {"n": [n.to_string()]}}),
        )
        .await;
    }

    let listed = json_of(&app, "/team/groups").await;
    assert_eq!(names(&listed), ["alpha", "beta"]);
    let alpha = &listed[0];
    assert_eq!(alpha["subGroupCount"], 1);
    assert_eq!(alpha["subGroups"], json!([]));
    assert!(alpha.get("attributes").is_none(), "brief: {alpha}");

    let found = json_of(&app, "/team/groups?search=LEAF03").await;
    assert_eq!(names(&found), ["alpha"]);
    assert_eq!(names(&found[0]["subGroups"]), ["mid"]);
    assert_eq!(names(&found[0]["subGroups"][0]["subGroups"]), ["leaf03"]);
    assert_eq!(
        found[0]["subGroups"][0]["subGroups"][0]["path"],
        "/alpha/mid/leaf03"
    );
    let by_attribute = json_of(&app, "/team/groups?q=n:7&briefRepresentation=false").await;
    let leaf = &by_attribute[0]["subGroups"][0]["subGroups"][0];
    assert_eq!(leaf["name"], "leaf07");
    assert_eq!(leaf["attributes"], json!({"n": ["7"]}));

    let children = json_of(&app, &format!("/team/groups/{mid}/children")).await;
    assert_eq!(
        children.as_array().unwrap().len(),
        10,
        "Keycloak's default page"
    );
    assert_eq!(children[0]["attributes"], json!({"n": ["0"]}));
    let rest = json_of(
        &app,
        &format!("/team/groups/{mid}/children?first=10&max=10"),
    )
    .await;
    assert_eq!(names(&rest), ["leaf10"]);

    assert_eq!(
        json_of(&app, "/team/groups/count").await,
        json!({"count": 14})
    );
    assert_eq!(
        json_of(&app, "/team/groups/count?top=true").await,
        json!({"count": 2})
    );
    assert_eq!(
        json_of(&app, "/team/groups/count?search=leaf1").await,
        json!({"count": 1})
    );
}

async fn user(app: &TestApp, realm: &str, body: Value) -> String {
    let response = app
        .admin(Method::POST, &format!("/{realm}/users"), Some(body))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    location_id(&response)
}

fn usernames(users: &Value) -> Vec<&str> {
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn user_search_follows_keycloaks_rules() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    user(
        &app,
        "team",
        json!({"username": "alice", "email": "alice@example.com",
                              "firstName": "Alice", "lastName": "Liddell",
                              "attributes": {"dept": ["Research"]}}),
    )
    .await;
    user(
        &app,
        "team",
        json!({"username": "malice", "firstName": "Mal", "lastName": "Ice"}),
    )
    .await;
    user(
        &app,
        "team",
        json!({"username": "bob", "email": "bob@example.com",
                              "firstName": "Bob", "lastName": "Alison", "enabled": false}),
    )
    .await;
    let client = app
        .admin(
            Method::POST,
            "/team/clients",
            Some(
                json!({"clientId": "robot", "publicClient": false, "serviceAccountsEnabled": true}),
            ),
        )
        .await;
    assert_eq!(client.status(), StatusCode::CREATED);

    let cases = [
        ("search=ali", vec!["alice", "bob"]),
        ("search=lice", vec![]),
        ("search=*lice", vec!["alice", "malice"]),
        ("search=%22alice%22", vec!["alice"]),
        ("search=alice%20liddell", vec!["alice"]),
        ("search=ali&enabled=false", vec!["bob"]),
        ("username=lic", vec!["alice", "malice"]),
        ("username=alice&exact=true", vec!["alice"]),
        ("username=ALICE&exact=true", vec!["alice"]),
        ("lastName=li&exact=true", vec![]),
        ("q=dept:research", vec!["alice"]),
        ("q=dept:search&exact=true", vec![]),
        ("", vec!["alice", "bob", "malice"]),
        ("search=robot", vec![]),
        ("username=robot", vec!["service-account-robot"]),
    ];
    for (query, expected) in cases {
        let found = json_of(&app, &format!("/team/users?{query}")).await;
        assert_eq!(usernames(&found), expected, "{query}");
    }
    assert_eq!(json_of(&app, "/team/users/count").await, json!(3));
    assert_eq!(
        json_of(&app, "/team/users/count?search=ali").await,
        json!(2)
    );
    let alice_id = json_of(&app, "/team/users?username=alice&exact=true").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_id = json_of(&app, &format!("/team/users?search=id:{alice_id}")).await;
    assert_eq!(usernames(&by_id), ["alice"]);

    let brief = json_of(
        &app,
        "/team/users?username=alice&exact=true&briefRepresentation=true",
    )
    .await;
    assert_eq!(brief[0]["attributes"], json!({"dept": ["Research"]}));
    for dropped in [
        "totp",
        "disableableCredentialTypes",
        "requiredActions",
        "notBefore",
    ] {
        assert!(brief[0].get(dropped).is_none(), "{dropped}: {brief}");
    }
    assert_eq!(brief[0]["access"], json!({"manage": true}));
    let full = json_of(&app, "/team/users?username=alice&exact=true").await;
    assert_eq!(full[0]["attributes"], json!({"dept": ["Research"]}));
    assert_eq!(full[0]["totp"], false);
    assert_eq!(full[0]["disableableCredentialTypes"], json!([]));
    assert_eq!(full[0]["requiredActions"], json!([]));
    assert_eq!(full[0]["notBefore"], 0);
    assert_eq!(full[0]["access"], json!({"manage": true}));
    let single = json_of(&app, &format!("/team/users/{alice_id}")).await;
    assert_eq!(
        single["access"],
        json!({"manageGroupMembership": true, "resetPassword": true, "view": true,
               "mapRoles": true, "impersonate": false, "manage": true})
    );
    let malice = json_of(&app, "/team/users?username=malice&exact=true").await;
    assert!(
        malice[0].get("attributes").is_none(),
        "no attributes: {malice}"
    );
}

#[tokio::test]
async fn usernames_are_read_only_as_keycloak_answers() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let id = user(&app, "team", json!({"username": "fixed"})).await;
    let same = app
        .admin(
            Method::PUT,
            &format!("/team/users/{id}"),
            Some(json!({"username": "FIXED"})),
        )
        .await;
    assert_eq!(same.status(), StatusCode::NO_CONTENT);
    let (status, body) = error_of(
        app.admin(
            Method::PUT,
            &format!("/team/users/{id}"),
            Some(json!({"username": "other"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"field": "username", "errorMessage": "readOnlyUsernameMessage", "params": ["username"]})
    );
    let (status, body) = error_of(
        app.admin(
            Method::GET,
            "/team/users/0b1c9a44-6d5e-4b43-9a0e-5f2a8f5d3c11",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "User not found"}));
}

#[tokio::test]
async fn user_access_and_profile_are_served_as_keycloak_does() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (boss, _) = app.realm_admin("team", "boss", &["realm-admin"]).await;
    let (_, token) = app
        .realm_admin("team", "helper", &["manage-users", "view-users"])
        .await;
    let plain = user(&app, "team", json!({"username": "plain"})).await;
    let seen: Value = call(
        &app,
        &token,
        Method::GET,
        &format!("/team/users/{boss}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(seen["access"]["view"], true);
    assert_eq!(
        seen["access"]["manage"], false,
        "the boss holds more: {seen}"
    );
    let seen: Value = call(
        &app,
        &token,
        Method::GET,
        &format!("/team/users/{plain}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(seen["access"]["manage"], true);
    assert_eq!(seen["access"]["mapRoles"], true);

    let (_, querier) = app.realm_admin("team", "querier", &["query-users"]).await;
    let listed: Value = call(&app, &querier, Method::GET, "/team/users", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "query-users sees nobody");
    let counted: Value = call(&app, &querier, Method::GET, "/team/users/count", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(counted, json!(0), "nor counts anyone (hardening)");

    let profile = json_of(&app, "/team/users/profile").await;
    let names: Vec<&str> = profile["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["username", "email", "firstName", "lastName"]);
    assert_eq!(
        profile["attributes"][0]["validations"]["length"],
        json!({"min": 3, "max": 255})
    );
    assert_eq!(
        profile["attributes"][1]["required"],
        json!({"roles": ["user"]})
    );
    assert_eq!(profile["groups"][0]["name"], "user-metadata");
    let metadata = json_of(&app, "/team/users/profile/metadata").await;
    assert_eq!(metadata["attributes"][0]["required"], true);
    assert_eq!(metadata["attributes"][1]["required"], false);
}

#[tokio::test]
async fn client_secrets_and_service_accounts_are_answered_as_keycloak() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let robot = location_id(
        &app.admin(
            Method::POST,
            "/team/clients",
            Some(
                json!({"clientId": "robot", "publicClient": false, "serviceAccountsEnabled": true}),
            ),
        )
        .await,
    );
    let plain = location_id(
        &app.admin(
            Method::POST,
            "/team/clients",
            Some(json!({"clientId": "plain", "publicClient": false})),
        )
        .await,
    );
    let secret = json_of(&app, &format!("/team/clients/{robot}/client-secret")).await;
    assert_eq!(secret["type"], "secret");
    assert!(
        secret["value"].as_str().is_some_and(|v| v.len() >= 20),
        "{secret}"
    );
    let regenerated = app
        .admin(
            Method::POST,
            &format!("/team/clients/{robot}/client-secret"),
            None,
        )
        .await;
    assert_eq!(regenerated.status(), StatusCode::OK);
    let regenerated: Value = regenerated.json().await.unwrap();
    assert_eq!(regenerated["type"], "secret");
    assert_ne!(regenerated["value"], secret["value"]);

    let (status, body) = error_of(
        app.admin(
            Method::GET,
            &format!("/team/clients/{robot}/client-secret/rotated"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": "Client does not have a rotated secret"})
    );
    let invalidated = app
        .admin(
            Method::DELETE,
            &format!("/team/clients/{robot}/client-secret/rotated"),
            None,
        )
        .await;
    assert_eq!(invalidated.status(), StatusCode::NO_CONTENT);

    let account = json_of(&app, &format!("/team/clients/{robot}/service-account-user")).await;
    assert_eq!(account["username"], "service-account-robot");
    assert_eq!(account["enabled"], true);
    let (status, body) = error_of(
        app.admin(
            Method::GET,
            &format!("/team/clients/{plain}/service-account-user"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "Service account not enabled for the client 'plain'"})
    );
}

#[tokio::test]
async fn built_in_client_scopes_are_listed_with_stable_ids_and_refuse_writes() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let scopes = json_of(&app, "/team/client-scopes").await;
    assert_eq!(
        names(&scopes),
        [
            "AuthnContextClassRef",
            "acr",
            "address",
            "basic",
            "email",
            "microprofile-jwt",
            "offline_access",
            "organization",
            "phone",
            "profile",
            "role_list",
            "roles",
            "saml_organization",
            "service_account",
            "web-origins"
        ]
    );
    let profile = scopes
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "profile")
        .unwrap()
        .clone();
    assert_eq!(profile["protocol"], "openid-connect");
    assert_eq!(profile["attributes"]["include.in.token.scope"], "true");
    let id = profile["id"].as_str().unwrap().to_owned();
    assert_eq!(
        json_of(&app, &format!("/team/client-scopes/{id}")).await,
        profile
    );
    assert_eq!(
        json_of(&app, "/team/client-scopes").await,
        scopes,
        "stable ids"
    );

    let defaults = json_of(&app, "/team/default-default-client-scopes").await;
    assert_eq!(
        names(&defaults),
        [
            "AuthnContextClassRef",
            "acr",
            "basic",
            "email",
            "profile",
            "role_list",
            "roles",
            "saml_organization",
            "web-origins"
        ]
    );
    assert_eq!(defaults[0].as_object().unwrap().len(), 3, "{defaults}");
    let optional = json_of(&app, "/team/default-optional-client-scopes").await;
    assert_eq!(
        names(&optional),
        [
            "address",
            "microprofile-jwt",
            "offline_access",
            "organization",
            "phone"
        ]
    );
    let client = client_uuid(&app, "team", "admin-cli").await;
    let of_client = json_of(
        &app,
        &format!("/team/clients/{client}/default-client-scopes"),
    )
    .await;
    assert_eq!(
        names(&of_client),
        ["acr", "basic", "email", "profile", "roles", "web-origins"]
    );
    assert_eq!(of_client[0].as_object().unwrap().len(), 2, "{of_client}");
    let robot = location_id(
        &app.admin(
            Method::POST,
            "/team/clients",
            Some(
                json!({"clientId": "robot", "publicClient": false, "serviceAccountsEnabled": true}),
            ),
        )
        .await,
    );
    let robot_scopes = json_of(
        &app,
        &format!("/team/clients/{robot}/default-client-scopes"),
    )
    .await;
    assert!(
        names(&robot_scopes).contains(&"service_account"),
        "{robot_scopes}"
    );
    let (_, querier) = app.realm_admin("team", "querier", &["query-clients"]).await;
    let listed: Value = call(&app, &querier, Method::GET, "/team/client-scopes", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));

    let (status, body) = error_of(
        app.admin(
            Method::GET,
            "/team/client-scopes/0b1c9a44-6d5e-4b43-9a0e-5f2a8f5d3c11",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Could not find client scope"}));
    for (method, path) in [
        (Method::POST, "/team/client-scopes".to_owned()),
        (
            Method::PUT,
            format!("/team/default-default-client-scopes/{id}"),
        ),
        (
            Method::DELETE,
            format!("/team/clients/{client}/optional-client-scopes/{id}"),
        ),
    ] {
        let (status, body) =
            error_of(app.admin(method, &path, Some(json!({"name": "x"}))).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            body,
            json!({"errorMessage": "Client scopes are built in and read-only in keywarden"})
        );
    }
}

#[tokio::test]
async fn unreadable_bodies_and_nameless_roles_are_answered_in_keycloaks_words() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let token = app.admin_token().await;
    let send = |body: &'static str| {
        app.client
            .post(app.url("/admin/realms/team/roles"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, error) in [
        ("{", "invalid_request"),
        ("{\"name\":\"x\",}", "invalid_request"),
        ("[]", "unknown_error"),
        ("{\"name\":{}}", "unknown_error"),
    ] {
        let (status, answer) = error_of(send(body).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer,
            json!({"error": error, "error_description": "Cannot parse the JSON"}),
            "{body}"
        );
    }
    let (status, answer) = error_of(send("{\"description\":\"no name\"}").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer, json!({"error": "role has no name"}));
    role(
        &app,
        "team",
        json!({"name": "named", "description": "Findable Words"}),
    )
    .await;
    let (status, answer) = error_of(
        app.admin(
            Method::PUT,
            "/team/roles/named",
            Some(json!({"description": "x"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer, json!({"error": "role has no name"}));
    let found = json_of(&app, "/team/roles?search=findable").await;
    assert_eq!(names(&found), ["named"]);
    let (status, answer) = error_of(
        app.admin(Method::POST, "/team/roles", Some(json!({"name": "named"})))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        answer,
        json!({"errorMessage": "Role with name named already exists"})
    );
}

#[tokio::test]
async fn group_shapes_differ_per_route_as_in_keycloak() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let top = group(&app, "/team/groups", json!({"name": "top"})).await;
    let child = app
        .admin(
            Method::POST,
            &format!("/team/groups/{top}/children"),
            Some(json!({"name": "kid", "attributes": {"a": ["b"]}})),
        )
        .await;
    assert_eq!(child.status(), StatusCode::CREATED);
    let kid_id = location_id(&child);
    let body: Value = child.json().await.unwrap();
    assert_eq!(body["id"], kid_id.as_str());
    assert_eq!(body["parentId"], top.as_str());
    assert_eq!(body["path"], "/top/kid");
    assert_eq!(body["attributes"], json!({"a": ["b"]}));
    assert!(body.get("subGroupCount").is_none(), "{body}");
    assert!(body.get("access").is_some(), "{body}");

    let user = app.create_user("team", "member", "pw").await;
    let joined = app
        .admin(
            Method::PUT,
            &format!("/team/users/{user}/groups/{kid_id}"),
            None,
        )
        .await;
    assert_eq!(joined.status(), StatusCode::NO_CONTENT);
    let groups = json_of(&app, &format!("/team/users/{user}/groups")).await;
    let membership = groups[0].as_object().unwrap();
    let mut keys: Vec<&str> = membership.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "parentId", "path", "subGroups"]);
    let full = json_of(
        &app,
        &format!("/team/users/{user}/groups?briefRepresentation=false"),
    )
    .await;
    assert_eq!(full[0]["attributes"], json!({"a": ["b"]}));
    assert!(full[0].get("access").is_none());

    let by_path = json_of(&app, "/team/group-by-path/top/kid").await;
    assert_eq!(by_path["id"], kid_id.as_str());
    assert!(by_path.get("access").is_none(), "{by_path}");
    assert_eq!(by_path["attributes"], json!({"a": ["b"]}));
}

#[tokio::test]
async fn clients_carry_access_and_scopes_and_view_users_may_map_nothing() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let client = client_uuid(&app, "team", "admin-cli").await;
    let got = json_of(&app, &format!("/team/clients/{client}")).await;
    assert_eq!(
        got["access"],
        json!({"view": true, "configure": true, "manage": true})
    );
    assert_eq!(
        got["defaultClientScopes"],
        json!(["acr", "basic", "email", "profile", "roles", "web-origins"])
    );
    let (_, token) = app
        .realm_admin("team", "viewer", &["view-clients", "view-users"])
        .await;
    let seen: Value = call(
        &app,
        &token,
        Method::GET,
        &format!("/team/clients/{client}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        seen["access"],
        json!({"view": true, "configure": false, "manage": false})
    );

    let user = app.create_user("team", "subject", "pw").await;
    let available: Value = call(
        &app,
        &token,
        Method::GET,
        &format!("/team/users/{user}/role-mappings/realm/available"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(available, json!([]));
}

#[tokio::test]
async fn member_listings_are_full_unless_brief_is_asked() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let reader = role(&app, "team", json!({"name": "reader"})).await;
    let crew = group(&app, "/team/groups", json!({"name": "crew"})).await;
    let id = user(
        &app,
        "team",
        json!({"username": "held", "attributes": {"k": ["v"]}}),
    )
    .await;
    let mapped = app
        .admin(
            Method::POST,
            &format!("/team/users/{id}/role-mappings/realm"),
            Some(json!([{"id": reader["id"], "name": "reader"}])),
        )
        .await;
    assert_eq!(mapped.status(), StatusCode::NO_CONTENT);
    let joined = app
        .admin(
            Method::PUT,
            &format!("/team/users/{id}/groups/{crew}"),
            None,
        )
        .await;
    assert_eq!(joined.status(), StatusCode::NO_CONTENT);
    for path in [
        "/team/roles/reader/users".to_owned(),
        format!("/team/groups/{crew}/members"),
    ] {
        let full = json_of(&app, &path).await;
        assert_eq!(full[0]["attributes"], json!({"k": ["v"]}), "{path}");
        assert_eq!(full[0]["totp"], false, "{path}");
        assert!(full[0].get("access").is_none(), "{path}");
        let brief = json_of(&app, &format!("{path}?briefRepresentation=true")).await;
        assert_eq!(brief[0]["username"], "held");
        assert_eq!(brief[0]["attributes"], json!({"k": ["v"]}), "{path}");
        assert!(brief[0].get("totp").is_none(), "{path}");
    }
}

#[tokio::test]
async fn a_public_client_s_secret_is_answered_as_keycloak() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let spa = location_id(
        &app.admin(
            Method::POST,
            "/team/clients",
            Some(json!({"clientId": "spa"})),
        )
        .await,
    );
    let none = json_of(&app, &format!("/team/clients/{spa}/client-secret")).await;
    assert_eq!(none, json!({"type": "secret"}));
    let given = app
        .admin(
            Method::POST,
            &format!("/team/clients/{spa}/client-secret"),
            None,
        )
        .await;
    assert_eq!(given.status(), StatusCode::OK);
    let given: Value = given.json().await.unwrap();
    assert!(
        given["value"].as_str().is_some_and(|v| !v.is_empty()),
        "{given}"
    );
    let shown = json_of(&app, &format!("/team/clients/{spa}/client-secret")).await;
    assert_eq!(shown, given);
    let client = json_of(&app, &format!("/team/clients/{spa}")).await;
    assert_eq!(client["publicClient"], true);
    assert!(client.get("secret").is_none(), "{client}");
}

#[tokio::test]
async fn role_listings_page_only_as_keycloak_does() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    for n in 0..4 {
        role(
            &app,
            "team",
            json!({"name": format!("r{n}"), "description": "paged"}),
        )
        .await;
    }
    let all = json_of(&app, "/team/roles").await.as_array().unwrap().len();
    assert!(all >= 6, "the four and the built-in ones");
    assert_eq!(
        json_of(&app, "/team/roles?max=2")
            .await
            .as_array()
            .unwrap()
            .len(),
        all
    );
    assert_eq!(
        json_of(&app, "/team/roles?first=1&max=2")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        names(&json_of(&app, "/team/roles?search=PAGED&max=2").await),
        ["r0", "r1"]
    );
    assert_eq!(
        json_of(&app, "/team/roles?first=-1&max=-1")
            .await
            .as_array()
            .unwrap()
            .len(),
        all
    );

    let management = client_uuid(&app, "team", "realm-management").await;
    let found = json_of(
        &app,
        &format!("/team/clients/{management}/roles?search=manage-u"),
    )
    .await;
    assert_eq!(names(&found), ["manage-users"]);
}

#[tokio::test]
async fn a_composite_child_needs_the_right_to_manage_its_kind() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let (_, token) = app.realm_admin("team", "roler", &["manage-realm"]).await;
    let created = call(
        &app,
        &token,
        Method::POST,
        "/team/roles",
        Some(json!({"name": "mine"})),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let app_client = location_id(
        &app.admin(
            Method::POST,
            "/team/clients",
            Some(json!({"clientId": "app"})),
        )
        .await,
    );
    let made = app
        .admin(
            Method::POST,
            &format!("/team/clients/{app_client}/roles"),
            Some(json!({"name": "plain"})),
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let plain = json_of(&app, &format!("/team/clients/{app_client}/roles/plain")).await;
    let refused = call(
        &app,
        &token,
        Method::POST,
        "/team/roles/mine/composites",
        Some(json!([{"id": plain["id"]}])),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json_of(&app, "/team/roles/mine/composites").await,
        json!([])
    );
}

#[tokio::test]
async fn client_role_holders_and_role_groups_are_listed() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let management = client_uuid(&app, "team", "realm-management").await;
    let (holder, _) = app.realm_admin("team", "holder", &["view-users"]).await;
    let users = json_of(
        &app,
        &format!("/team/clients/{management}/roles/view-users/users"),
    )
    .await;
    assert_eq!(usernames(&users), ["holder"]);
    assert_eq!(users[0]["id"], holder.as_str());

    let reader = role(&app, "team", json!({"name": "reader"})).await;
    let crew = group(
        &app,
        "/team/groups",
        json!({"name": "crew", "attributes": {"a": ["b"]}}),
    )
    .await;
    let mapped = app
        .admin(
            Method::POST,
            &format!("/team/groups/{crew}/role-mappings/realm"),
            Some(json!([{"id": reader["id"]}])),
        )
        .await;
    assert_eq!(mapped.status(), StatusCode::NO_CONTENT);
    let groups = json_of(&app, "/team/roles/reader/groups").await;
    assert_eq!(groups[0]["path"], "/crew");
    assert!(groups[0].get("attributes").is_none(), "{groups}");
    let full = json_of(&app, "/team/roles/reader/groups?briefRepresentation=false").await;
    assert_eq!(full[0]["attributes"], json!({"a": ["b"]}));
    assert_eq!(full[0]["realmRoles"], json!(["reader"]));
}

#[tokio::test]
async fn a_user_s_groups_are_searched_paged_and_counted() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let user = app.create_user("team", "joiner", "pw").await;
    for name in ["alpha", "beta", "alphabet"] {
        let id = group(&app, "/team/groups", json!({"name": name})).await;
        let joined = app
            .admin(
                Method::PUT,
                &format!("/team/users/{user}/groups/{id}"),
                None,
            )
            .await;
        assert_eq!(joined.status(), StatusCode::NO_CONTENT);
    }
    let base = format!("/team/users/{user}/groups");
    assert_eq!(
        names(&json_of(&app, &format!("{base}?search=ALPHA")).await),
        ["alpha", "alphabet"]
    );
    assert_eq!(
        json_of(&app, &format!("{base}?first=1&max=1"))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        json_of(&app, &format!("{base}/count")).await,
        json!({"count": 3})
    );
    assert_eq!(
        json_of(&app, &format!("{base}/count?search=bet")).await,
        json!({"count": 2})
    );
    let (status, body) = error_of(
        app.admin(
            Method::PUT,
            &format!("/team/users/{user}/groups/0b1c9a44-6d5e-4b43-9a0e-5f2a8f5d3c11"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Group not found"}));
}
