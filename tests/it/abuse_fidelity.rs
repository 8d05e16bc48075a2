//! Attacks on the Keycloak-fidelity surface: imported hashes too costly to check, ids of
//! another realm in role, credential and session paths, composite cycles, logout redirects.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// A Keycloak argon2 password credential with the given memory (KiB) and passes.
fn argon2_credential(memory: u32, passes: u32) -> Value {
    json!({
        "type": "password",
        "secretData": json!({"value": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                             "salt": "AAAAAAAAAAAAAAAAAAAAAA=="}).to_string(),
        "credentialData": json!({"hashIterations": passes, "algorithm": "argon2",
            "additionalParameters": {"hashLength": ["32"], "memory": [memory.to_string()],
                "type": ["id"], "version": ["1.3"], "parallelism": ["1"]}}).to_string(),
    })
}

async fn import_user_with(app: &TestApp, realm: &str, credential: Value) -> reqwest::Response {
    let body = json!({"realm": realm, "enabled": true, "users": [
        {"username": "costly", "enabled": true, "credentials": [credential]}]});
    app.admin(Method::POST, "", Some(body)).await
}

#[tokio::test]
async fn an_imported_argon2_hash_whose_memory_times_passes_is_extreme_is_refused() {
    let app = spawn_app().await;
    // 256 MiB filled 100 times over: tens of seconds of a hashing thread per guess, so a
    // trickle of anonymous guesses would stall every sign-in of every realm.
    let response = import_user_with(&app, "costly", argon2_credential(256 * 1024, 100)).await;
    assert_eq!(response.status(), 400);
    let ordinary = import_user_with(&app, "ordinary", argon2_credential(64 * 1024, 3)).await;
    assert_eq!(
        ordinary.status(),
        201,
        "RFC 9106's second choice stays welcome"
    );
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

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.admin(Method::GET, path, None).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn client_uuid(app: &TestApp, realm: &str, client_id: &str) -> String {
    json_of(app, &format!("/{realm}/clients?clientId={client_id}")).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn role_id(app: &TestApp, realm: &str, client_id: &str, role: &str) -> String {
    let client = client_uuid(app, realm, client_id).await;
    json_of(app, &format!("/{realm}/clients/{client}/roles/{role}")).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A master user holding roles of master's `{realm}-realm` client.
async fn delegate(app: &TestApp, username: &str, container: &str, roles: &[&str]) -> String {
    let id = app.create_user("master", username, "pw").await;
    let client = client_uuid(app, "master", container).await;
    let body: Vec<Value> = roles.iter().map(|r| json!({"name": r})).collect();
    let response = app
        .admin(
            Method::POST,
            &format!("/master/users/{id}/role-mappings/clients/{client}"),
            Some(json!(body)),
        )
        .await;
    assert_eq!(response.status(), 204);
    app.password_token("master", "admin-cli", username, "pw")
        .await
}

#[tokio::test]
async fn a_delegated_master_user_reaches_no_other_realm_through_ids() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    app.create_realm("team-b").await;
    let token = delegate(
        &app,
        "delegate",
        "team-a-realm",
        &[
            "manage-users",
            "view-users",
            "manage-realm",
            "manage-clients",
        ],
    )
    .await;
    let victim = app.create_user("team-b", "victim", "pw").await;
    app.password_token("team-b", "admin-cli", "victim", "pw")
        .await;
    let sessions = json_of(&app, &format!("/team-b/users/{victim}/sessions")).await;
    let session = sessions[0]["id"].as_str().unwrap().to_owned();
    let credentials = json_of(&app, &format!("/team-b/users/{victim}/credentials")).await;
    let credential = credentials[0]["id"].as_str().unwrap().to_owned();
    let b_admin = role_id(&app, "team-b", "realm-management", "realm-admin").await;
    let master_admin = json_of(&app, "/master/roles/admin").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_management = client_uuid(&app, "team-b", "realm-management").await;
    let a_role = {
        let created = call(
            &app,
            &token,
            Method::POST,
            "/team-a/roles",
            Some(json!({"name": "carrier"})),
        )
        .await;
        assert_eq!(created, 201);
        json_of(&app, "/team-a/roles/carrier").await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let refused = [
        (Method::DELETE, format!("/team-a/sessions/{session}"), None),
        (Method::DELETE, format!("/team-b/sessions/{session}"), None),
        (
            Method::GET,
            format!("/team-a/users/{victim}/credentials"),
            None,
        ),
        (
            Method::DELETE,
            format!("/team-a/users/{victim}/credentials/{credential}"),
            None,
        ),
        (Method::GET, format!("/team-a/roles-by-id/{b_admin}"), None),
        (
            Method::GET,
            format!("/team-a/roles-by-id/{master_admin}"),
            None,
        ),
        (
            Method::POST,
            format!("/team-a/roles-by-id/{a_role}/composites"),
            Some(json!([{"id": b_admin}])),
        ),
        (
            Method::POST,
            format!("/team-a/roles-by-id/{a_role}/composites"),
            Some(json!([{"id": master_admin}])),
        ),
        (
            Method::POST,
            "/team-a/roles/carrier/composites".to_owned(),
            Some(json!([{"id": master_admin}])),
        ),
        (
            Method::GET,
            format!("/team-a/clients/{b_management}/roles"),
            None,
        ),
        (
            Method::GET,
            format!("/team-a/users/{victim}/sessions"),
            None,
        ),
        (Method::POST, "/master/logout-all".to_owned(), None),
        (Method::POST, "/team-b/logout-all".to_owned(), None),
    ];
    for (method, path, body) in refused {
        let status = call(&app, &token, method.clone(), &path, body).await;
        assert!(
            matches!(status, 403 | 404),
            "{method} {path} answered {status}"
        );
    }
    assert_eq!(
        json_of(&app, &format!("/team-b/users/{victim}/sessions"))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_realm_admin_without_realm_admin_cannot_grow_roles_into_admin_powers() {
    let app = spawn_app().await;
    app.create_realm("shop").await;
    let (_, token) = app
        .realm_admin(
            "shop",
            "clerk",
            &["manage-realm", "manage-users", "manage-clients"],
        )
        .await;
    let realm_admin = role_id(&app, "shop", "realm-management", "realm-admin").await;
    let view_events = role_id(&app, "shop", "realm-management", "view-events").await;
    let default_role = json_of(&app, "/shop/roles/default-roles-shop").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let management = client_uuid(&app, "shop", "realm-management").await;
    let created = call(
        &app,
        &token,
        Method::POST,
        &format!("/shop/clients/{management}/roles"),
        Some(json!({"name": "sneaky"})),
    )
    .await;
    assert_eq!(
        created, 201,
        "Keycloak lets manage-clients add a role, carrying nothing"
    );
    let attempts = [
        format!("/shop/roles-by-id/{default_role}/composites"),
        "/shop/roles/default-roles-shop/composites".to_owned(),
        format!("/shop/clients/{management}/roles/manage-users/composites"),
        format!("/shop/clients/{management}/roles/sneaky/composites"),
    ];
    for path in attempts {
        for child in [&realm_admin, &view_events] {
            let status = call(
                &app,
                &token,
                Method::POST,
                &path,
                Some(json!([{"id": child}])),
            )
            .await;
            assert_eq!(status, 403, "POST {path} with {child}");
        }
    }
    let group = app
        .admin(Method::POST, "/shop/groups", Some(json!({"name": "g"})))
        .await;
    let group = crate::helpers::location_id(&group);
    let status = call(
        &app,
        &token,
        Method::POST,
        &format!("/shop/groups/{group}/role-mappings/clients/{management}"),
        Some(json!([{"id": view_events, "name": "view-events"}])),
    )
    .await;
    assert_eq!(status, 403, "group mapping of view-events");
    let composites = json_of(&app, "/shop/roles/default-roles-shop/composites").await;
    assert!(!composites.to_string().contains("realm-admin"));
}

#[tokio::test]
async fn a_cycle_of_composite_roles_still_signs_in() {
    let app = spawn_app().await;
    app.create_realm("loop").await;
    for name in ["a", "b"] {
        let r = app
            .admin(Method::POST, "/loop/roles", Some(json!({"name": name})))
            .await;
        assert_eq!(r.status(), 201);
    }
    let a = json_of(&app, "/loop/roles/a").await;
    let b = json_of(&app, "/loop/roles/b").await;
    let r = app
        .admin(Method::POST, "/loop/roles/a/composites", Some(json!([b])))
        .await;
    assert_eq!(r.status(), 204);
    let r = app
        .admin(Method::POST, "/loop/roles/b/composites", Some(json!([a])))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let user = app.create_user("loop", "looper", "pw").await;
    let r = app
        .admin(
            Method::POST,
            &format!("/loop/users/{user}/role-mappings/realm"),
            Some(json!([json_of(&app, "/loop/roles/a").await])),
        )
        .await;
    assert_eq!(r.status(), 204);
    let token = app
        .password_token("loop", "admin-cli", "looper", "pw")
        .await;
    let roles = crate::helpers::jwt_payload(&token)["realm_access"]["roles"].to_string();
    assert!(
        roles.contains("\"a\"") && roles.contains("\"b\""),
        "{roles}"
    );
    let effective = json_of(
        &app,
        &format!("/loop/users/{user}/role-mappings/realm/composite"),
    )
    .await;
    assert!(effective.as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn logout_never_redirects_to_an_unregistered_address() {
    let app = spawn_app().await;
    app.create_realm("exit").await;
    for query in [
        "post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F&client_id=account",
        "post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
        "post_logout_redirect_uri=%2F%2Fevil.example%2F&client_id=account-console",
        "post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F&client_id=nobody",
        "redirect_uri=https%3A%2F%2Fevil.example%2F&client_id=account",
    ] {
        let response = app
            .get(&format!(
                "/realms/exit/protocol/openid-connect/logout?{query}"
            ))
            .await;
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(!location.contains("evil.example"), "{query} -> {location}");
        assert!(response.status().as_u16() < 500, "{query}");
    }
}

async fn confidential(app: &TestApp, realm: &str, client_id: &str) {
    let body = json!({"clientId": client_id, "secret": "s3cret", "publicClient": false,
                      "serviceAccountsEnabled": true, "directAccessGrantsEnabled": true});
    let response = app
        .admin(Method::POST, &format!("/{realm}/clients"), Some(body))
        .await;
    assert_eq!(response.status(), 201);
}

async fn oidc_post(
    app: &TestApp,
    realm: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = app
        .client
        .post(app.url(&format!(
            "/realms/{realm}/protocol/openid-connect/{endpoint}"
        )))
        .header("authorization", crate::helpers::basic("spy", "s3cret"))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn introspection_and_revocation_show_nothing_of_other_clients_realms_or_garbage() {
    let app = spawn_app().await;
    for realm in ["one", "two"] {
        app.create_realm(realm).await;
        confidential(&app, realm, "spy").await;
        app.create_user(realm, "someone", "pw").await;
    }
    let own_realm = app
        .password_token("one", "admin-cli", "someone", "pw")
        .await;
    let other_realm = app
        .password_token("two", "admin-cli", "someone", "pw")
        .await;
    let header = r#"{"alg":"none","typ":"JWT"}"#;
    use base64::Engine;
    let unsigned = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header),
        own_realm.split('.').nth(1).unwrap()
    );
    let huge = "x".repeat(200_000);
    for token in [
        own_realm.as_str(),
        other_realm.as_str(),
        unsigned.as_str(),
        "",
        "a.b.c",
        "..",
        "eyJhbGciOiJSUzI1NiJ9.%%%.***",
        huge.as_str(),
    ] {
        for hint in ["access_token", "refresh_token"] {
            let form = [("token", token), ("token_type_hint", hint)];
            let (status, body) = oidc_post(&app, "one", "token/introspect", &form).await;
            assert!(status < 500, "introspect answered {status}");
            assert!(
                !body.contains("\"active\":true"),
                "{hint} {:.60} -> {body:.200}",
                token
            );
            let (status, _) = oidc_post(&app, "one", "revoke", &form).await;
            assert!(status < 500, "revoke answered {status}");
        }
    }
    let (status, _) = oidc_post(&app, "one", "logout", &[("refresh_token", "a.b.c")]).await;
    assert!(status < 500);
}

#[tokio::test]
async fn user_search_takes_like_wildcards_literally() {
    let app = spawn_app().await;
    app.create_realm("find").await;
    for name in ["ab_c", "abxc", "percent"] {
        app.create_user("find", name, "pw").await;
    }
    let names = |users: Value| -> Vec<String> {
        users
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(json_of(&app, "/find/users?search=ab_").await),
        ["ab_c"]
    );
    assert!(names(json_of(&app, "/find/users?search=%25").await).is_empty());
    assert!(names(json_of(&app, "/find/users?username=a%25").await).is_empty());
    assert_eq!(
        names(json_of(&app, "/find/users?search=ab*c").await).len(),
        2
    );
    let count: Value = json_of(&app, "/find/users/count?search=*_").await;
    assert_eq!(count, json!(1));
}

#[tokio::test]
async fn users_and_clients_refuse_attributes_beyond_the_caps_roles_and_groups_have() {
    let app = spawn_app().await;
    app.create_realm("heavy").await;
    let many: serde_json::Map<String, Value> =
        (0..1000).map(|n| (format!("a{n}"), json!(["v"]))).collect();
    let long = json!({"note": ["x".repeat(100_000)]});
    let user = app.create_user("heavy", "loaded", "pw").await;
    for attributes in [json!(many), long.clone()] {
        let body = json!({"username": "other", "attributes": attributes});
        let created = app.admin(Method::POST, "/heavy/users", Some(body)).await;
        assert_eq!(created.status(), 400, "create");
        let updated = app
            .admin(
                Method::PUT,
                &format!("/heavy/users/{user}"),
                Some(json!({"attributes": attributes})),
            )
            .await;
        assert_eq!(updated.status(), 400, "update");
    }
    let flat: serde_json::Map<String, Value> =
        (0..1000).map(|n| (format!("a{n}"), json!("v"))).collect();
    let body = json!({"clientId": "fat", "attributes": flat});
    let created = app.admin(Method::POST, "/heavy/clients", Some(body)).await;
    assert_eq!(created.status(), 400, "client create");
    let body = json!({"clientId": "fat", "attributes": {"note": "x".repeat(100_000)}});
    let created = app.admin(Method::POST, "/heavy/clients", Some(body)).await;
    assert_eq!(created.status(), 400, "client create, long value");
    let fine = json!({"username": "fine", "attributes": {"team": ["blue"]}});
    assert_eq!(
        app.admin(Method::POST, "/heavy/users", Some(fine))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn a_realm_admin_cannot_tie_their_realm_to_another_realms_groups_roles_or_clients() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    app.create_realm("team-b").await;
    let (_, token) = app.realm_admin("team-a", "boss", &["realm-admin"]).await;
    let member = app.create_user("team-a", "member", "pw").await;
    let group = app
        .admin(
            Method::POST,
            "/team-b/groups",
            Some(json!({"name": "b-admins"})),
        )
        .await;
    let b_group = crate::helpers::location_id(&group);
    let b_management = client_uuid(&app, "team-b", "realm-management").await;
    let b_admin = role_id(&app, "team-b", "realm-management", "realm-admin").await;
    let granted = app
        .admin(
            Method::POST,
            &format!("/team-b/groups/{b_group}/role-mappings/clients/{b_management}"),
            Some(json!([{"id": b_admin, "name": "realm-admin"}])),
        )
        .await;
    assert_eq!(granted.status(), 204);
    let a_group = app
        .admin(
            Method::POST,
            "/team-a/groups",
            Some(json!({"name": "a-group"})),
        )
        .await;
    let a_group = crate::helpers::location_id(&a_group);
    let b_user = app.create_user("team-b", "bob", "pw").await;
    let attempts = [
        (
            Method::PUT,
            format!("/team-a/users/{member}/groups/{b_group}"),
            None,
        ),
        (
            Method::GET,
            format!("/team-a/groups/{b_group}/members"),
            None,
        ),
        (
            Method::PUT,
            format!("/team-a/groups/{b_group}"),
            Some(json!({"name": "mine"})),
        ),
        (
            Method::POST,
            format!("/team-a/users/{member}/role-mappings/clients/{b_management}"),
            Some(json!([{"id": b_admin, "name": "realm-admin"}])),
        ),
        (
            Method::POST,
            format!("/team-a/groups/{a_group}/role-mappings/realm"),
            Some(json!([{"id": b_admin, "name": "realm-admin"}])),
        ),
        (
            Method::PUT,
            format!("/team-b/users/{b_user}/groups/{a_group}"),
            None,
        ),
        (
            Method::GET,
            format!("/team-a/clients/{b_management}/service-account-user"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let status = call(&app, &token, method.clone(), &path, body).await;
        assert!(
            matches!(status, 400 | 403 | 404 | 409),
            "{method} {path} answered {status}"
        );
    }
    for path in [
        format!("/team-a/groups/{a_group}/children"),
        "/team-a/groups".to_owned(),
    ] {
        let body = json!({"id": b_group, "name": "b-admins"});
        let created = call(&app, &token, Method::POST, &path, Some(body)).await;
        assert_eq!(
            created, 201,
            "a new group, never the other realm's one moved"
        );
    }
    let members = json_of(&app, &format!("/team-b/groups/{b_group}/members")).await;
    assert_eq!(members, json!([]));
    let b_groups = json_of(&app, "/team-b/groups?briefRepresentation=false").await;
    assert_eq!(b_groups[0]["name"], "b-admins", "{b_groups}");
    assert_eq!(b_groups[0]["id"], b_group.as_str());
    assert_eq!(b_groups[0]["subGroupCount"], 0);
    let member_token = app
        .password_token("team-a", "admin-cli", "member", "pw")
        .await;
    assert_eq!(
        call(&app, &member_token, Method::GET, "/team-b/users", None).await,
        403
    );
}

#[tokio::test]
async fn groups_nest_only_so_deep_that_every_answer_stays_small() {
    let app = spawn_app().await;
    app.create_realm("deep").await;
    let (_, token) = app.realm_admin("deep", "nester", &["manage-users"]).await;
    let mut parent: Option<String> = None;
    let mut depth = 0;
    let refused = loop {
        let path = match &parent {
            Some(id) => format!("/admin/realms/deep/groups/{id}/children"),
            None => "/admin/realms/deep/groups".to_owned(),
        };
        let response = app
            .client
            .post(app.url(&path))
            .bearer_auth(&token)
            .json(&json!({"name": format!("level{depth}")}))
            .send()
            .await
            .unwrap();
        if response.status() != 201 {
            break response.status().as_u16();
        }
        parent = Some(crate::helpers::location_id(&response));
        depth += 1;
        if depth == 150 {
            break 201;
        }
    };
    assert_eq!(refused, 400, "nested {depth} deep");
    assert_eq!(depth, 100);
    let leaf = parent.unwrap();
    for path in [
        format!("/deep/groups?search=level{}", depth - 1),
        format!("/deep/groups/{leaf}"),
        "/deep/groups?briefRepresentation=false".to_owned(),
    ] {
        let status = call(&app, &token, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{path}");
    }
}

#[tokio::test]
async fn neither_the_credentials_api_nor_a_partial_export_gives_away_a_secret() {
    let app = spawn_app().await;
    app.create_realm("vault").await;
    confidential(&app, "vault", "spy").await;
    let user = app.create_user("vault", "keeper", "pw").await;
    let (_, token) = app
        .realm_admin("vault", "auditor", &["manage-realm", "view-users"])
        .await;
    let response = app
        .client
        .get(app.url(&format!("/admin/realms/vault/users/{user}/credentials")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let listed = response.text().await.unwrap();
    assert!(listed.contains("credentialData"), "{listed}");
    for secret in [
        "secretData",
        "salt",
        "\"value\"",
        "$argon2",
        "hashedSaltedValue",
    ] {
        assert!(!listed.contains(secret), "{secret} in {listed}");
    }
    let response =
        app.client
            .post(app.url(
                "/admin/realms/vault/partial-export?exportClients=true&exportGroupsAndRoles=true",
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
    let exported = response.text().await.unwrap();
    for secret in ["s3cret", "secretData", "$argon2", "keeper", "privateKey"] {
        assert!(!exported.contains(secret), "{secret} in the partial export");
    }
}
