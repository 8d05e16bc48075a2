//! The foundation: realm info, JWKS, health, both path layouts, hostname and prefix settings.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn realm_info_is_served_under_both_layouts_with_the_prefix_used() {
    let app = spawn_app().await;
    for prefix in ["", "/auth"] {
        let response = app.get(&format!("{prefix}/realms/master")).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["realm"], "master");
        assert_eq!(
            body["token-service"],
            format!(
                "{}{prefix}/realms/master/protocol/openid-connect",
                app.address
            )
        );
        let public_key = body["public_key"].as_str().unwrap();
        assert!(
            public_key.starts_with("MIIBIjAN"),
            "base64 SPKI DER, no PEM armour: {public_key}"
        );
    }
}

#[tokio::test]
async fn jwks_publishes_an_rs256_key_with_libtrust_kid_and_certificate() {
    let app = spawn_app().await;
    let body: Value = app
        .get("/realms/master/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    let key = &body["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    let kid = key["kid"].as_str().unwrap();
    assert_eq!(kid.len(), 59);
    assert_eq!(kid.split(':').count(), 12);
    assert!(key["x5c"][0].as_str().unwrap().len() > 500);
    assert_eq!(key["x5t#S256"].as_str().unwrap().len(), 43);
}

#[tokio::test]
async fn unknown_realm_answers_404_with_a_json_error() {
    let app = spawn_app().await;
    for path in [
        "/realms/nope",
        "/auth/realms/nope/protocol/openid-connect/certs",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "Realm does not exist");
    }
}

#[tokio::test]
async fn health_answers_under_both_layouts() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready", "/auth/health/ready"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "UP");
    }
}

#[tokio::test]
async fn a_fixed_hostname_is_used_for_urls_whatever_the_request_host() {
    let app =
        spawn_app_with(|s| s.hostname = Some(url::Url::parse("https://id.example.com").unwrap()))
            .await;
    let body: Value = app.get("/auth/realms/master").await.json().await.unwrap();
    assert_eq!(
        body["token-service"],
        "https://id.example.com/auth/realms/master/protocol/openid-connect"
    );
}

#[tokio::test]
async fn a_relative_path_serves_only_that_prefix() {
    let app = spawn_app_with(|s| s.relative_path = Some("/kc".into())).await;
    assert_eq!(app.get("/kc/realms/master").await.status(), 200);
    assert_eq!(app.get("/realms/master").await.status(), 404);
    assert_eq!(app.get("/auth/realms/master").await.status(), 404);
    let body: Value = app.get("/kc/realms/master").await.json().await.unwrap();
    assert_eq!(
        body["token-service"],
        format!("{}/kc/realms/master/protocol/openid-connect", app.address)
    );
}

#[tokio::test]
async fn every_new_realm_gets_its_own_key_and_default_clients() {
    let app = spawn_app().await;
    app.create_realm("team-a").await;
    let master: Value = app
        .get("/realms/master/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    let team: Value = app
        .get("/realms/team-a/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(master["keys"][0]["kid"], team["keys"][0]["kid"]);
    let clients: Value = app
        .admin(reqwest::Method::GET, "/team-a/clients", None)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = clients
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientId"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"admin-cli") && ids.contains(&"realm-management"),
        "{ids:?}"
    );
}

#[tokio::test]
async fn deleting_a_realm_removes_everything_in_it() {
    let app = spawn_app().await;
    app.create_realm("doomed").await;
    app.create_user("doomed", "dev", "pw").await;
    app.create_docker_client("doomed", "registry").await;
    let response = app.admin(reqwest::Method::DELETE, "/doomed", None).await;
    assert_eq!(response.status(), 204);
    assert_eq!(app.get("/realms/doomed").await.status(), 404);
    let pool = app.raw_db().await;
    for table in ["app_user", "client", "role", "realm_key", "credential"] {
        let count: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM realm r WHERE r.name = 'master' AND {})",
            if table == "credential" {
                "t.user_id IN (SELECT id FROM app_user WHERE realm_id = r.id)"
            } else {
                "t.realm_id = r.id"
            }
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(count, 0, "rows left in {table}");
    }
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_keycloak_parameters() {
    let app = spawn_app().await;
    app.create_realm("hash").await;
    app.create_user("hash", "dev", "s3cret").await;
    let pool = app.raw_db().await;
    let hashes: Vec<String> = sqlx::query_scalar("SELECT secret_data FROM credential")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2, "bootstrap admin and dev");
    for hash in hashes {
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
    }
}

#[tokio::test]
async fn admin_collections_answer_with_a_trailing_slash_too() {
    let app = spawn_app().await;
    app.create_realm("slash").await;
    for path in ["/", "/slash/users/", "/slash/clients/", "/slash/groups/"] {
        let response = app.admin(reqwest::Method::GET, path, None).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let response = app
        .admin(
            reqwest::Method::POST,
            "/slash/groups/",
            Some(serde_json::json!({"name": "team"})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let group: Value = app
        .admin(reqwest::Method::GET, "/slash/group-by-path/team", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(group["path"], "/team");
}

#[tokio::test]
async fn manage_users_in_master_cannot_hand_out_master_admin() {
    use reqwest::Method;
    use serde_json::json;
    let app = spawn_app().await;
    let helper = app.create_user("master", "helper", "pw").await;
    app.grant_management("master", &helper, &["manage-users"])
        .await;
    let token = app
        .password_token("master", "admin-cli", "helper", "pw")
        .await;
    let admin_role: Value = app
        .admin(Method::GET, "/master/roles/admin", None)
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .client
        .post(app.url(&format!(
            "/admin/realms/master/users/{helper}/role-mappings/realm"
        )))
        .bearer_auth(&token)
        .json(&json!([admin_role]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app
        .client
        .get(app.url("/admin/realms/master/users"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "manage-users still manages users");
}
