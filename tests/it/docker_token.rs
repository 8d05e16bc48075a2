//! The docker-v2 token endpoint at the HTTP level: what Keycloak does, and what we do beyond.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{basic, spawn_app, spawn_app_with, TestApp};

const AUTH: &str = "/realms/team/protocol/docker-v2/auth";

/// A realm `team` with docker client `registry` and user `dev` / `pw`; returns the user id and
/// the client id.
async fn team(app: &TestApp) -> (String, String) {
    app.create_realm("team").await;
    let client = app.create_docker_client("team", "registry").await;
    let user = app.create_user("team", "dev", "pw").await;
    (user, client)
}

async fn token_get(app: &TestApp, query: &str, auth: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(&format!("{AUTH}?{query}")));
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    request.send().await.unwrap()
}

async fn post_form(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(AUTH))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Decodes a JWT's payload without checking it.
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn header(token: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(token).unwrap()
}

#[tokio::test]
async fn a_token_carries_keycloak_claims_and_verifies_against_the_realm_jwks() {
    let app = spawn_app().await;
    team(&app).await;
    let response = token_get(
        &app,
        "service=registry&scope=repository:dev/app:pull,push",
        Some(&basic("dev", "pw")),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["access_token"], body["token"]);
    assert_eq!(body["expires_in"], 300);
    assert!(
        body.get("refresh_token").is_none(),
        "no identity token unless asked"
    );

    let issued = time::OffsetDateTime::parse(
        body["issued_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(issued.offset(), time::UtcOffset::UTC);
    assert!(
        (time::OffsetDateTime::now_utc() - issued)
            .whole_seconds()
            .abs()
            < 5
    );

    let jwks: Value = app
        .get("/realms/team/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    let jwk = &jwks["keys"][0];
    let head = header(token);
    assert_eq!(head.kid.as_deref(), jwk["kid"].as_str());
    assert_eq!(
        head.x5c.as_ref().unwrap()[0],
        jwk["x5c"][0].as_str().unwrap()
    );
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["registry"]);
    let verified = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(verified["iss"], format!("{}/realms/team", app.address));
    assert_eq!(verified["sub"], "dev");
    assert!(
        verified["aud"].is_string(),
        "aud must be a plain string for registry 2.8"
    );
    assert_eq!(
        verified["exp"].as_i64().unwrap() - verified["iat"].as_i64().unwrap(),
        300
    );
    assert_eq!(
        verified["access"],
        json!([{"type": "repository", "name": "dev/app", "actions": ["pull", "push"]}])
    );
}

#[tokio::test]
async fn the_issuer_follows_the_layout_used() {
    let app = spawn_app().await;
    team(&app).await;
    let response = app
        .client
        .get(app.url(&format!("/auth{AUTH}?service=registry")))
        .header("Authorization", basic("dev", "pw"))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        claims(body["token"].as_str().unwrap())["iss"],
        format!("{}/auth/realms/team", app.address)
    );
}

#[tokio::test]
async fn a_login_without_scope_gets_an_empty_access_list() {
    let app = spawn_app().await;
    team(&app).await;
    let body: Value = token_get(
        &app,
        "account=dev&service=registry",
        Some(&basic("dev", "pw")),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(claims(body["token"].as_str().unwrap())["access"], json!([]));
}

#[tokio::test]
async fn repeated_and_space_separated_scopes_are_all_answered() {
    let app = spawn_app().await;
    team(&app).await;
    let query = "service=registry&scope=repository:a:pull,push&scope=repository:b:pull%20registry:catalog:*";
    let body: Value = token_get(&app, query, Some(&basic("dev", "pw")))
        .await
        .json()
        .await
        .unwrap();
    let access = claims(body["token"].as_str().unwrap())["access"].clone();
    assert_eq!(access.as_array().unwrap().len(), 3, "{access}");
}

/// Lists `origin` among the docker client's web origins (a browser registry UI).
async fn allow_web_origin(app: &TestApp, client: &str, origin: &str) {
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{client}"),
            Some(json!({"clientId": "registry", "webOrigins": [origin]})),
        )
        .await;
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn no_credentials_get_a_basic_challenge_and_cors_headers() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    allow_web_origin(&app, &client, "https://ui.example.com").await;
    let response = app
        .client
        .get(app.url(&format!("{AUTH}?service=registry")))
        .header("Origin", "https://ui.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"team\""
    );
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://ui.example.com"
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
}

#[tokio::test]
async fn a_cors_preflight_is_answered_for_browser_registry_uis() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    allow_web_origin(&app, &client, "https://ui.example.com").await;
    let response = app
        .client
        .request(
            Method::OPTIONS,
            app.url(&format!("{AUTH}?service=registry")),
        )
        .header("Origin", "https://ui.example.com")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://ui.example.com"
    );
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("GET"));
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Authorization"));
    assert_eq!(headers["access-control-allow-credentials"], "true");
}

#[tokio::test]
async fn wrong_unknown_and_disabled_users_all_fail_the_same_way() {
    let app = spawn_app().await;
    let (user, _) = team(&app).await;
    app.create_user("team", "gone", "pw").await;
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/users/{user}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(response.status(), 204);
    for auth in [
        basic("dev", "pw"),
        basic("gone", "wrong"),
        basic("nobody", "pw"),
        "Basic !!!".to_owned(),
    ] {
        let response = token_get(&app, "service=registry", Some(&auth)).await;
        assert_eq!(response.status(), 401, "{auth}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
        assert_eq!(
            body["errors"][0]["message"],
            "Invalid username or password."
        );
    }
}

#[tokio::test]
async fn a_disabled_or_unknown_service_gets_an_oauth_error() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    let response = token_get(&app, "scope=repository:a:pull", Some(&basic("dev", "pw"))).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    for service in ["nope", "admin-cli"] {
        let response = token_get(
            &app,
            &format!("service={service}"),
            Some(&basic("dev", "pw")),
        )
        .await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            "invalid_client",
            "{service}"
        );
    }
    app.admin(
        Method::PUT,
        &format!("/team/clients/{client}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let response = token_get(&app, "service=registry", Some(&basic("dev", "pw"))).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
}

/// `docker login`'s request: returns the identity token.
async fn identity_token(app: &TestApp) -> String {
    let response = token_get(
        app,
        "account=dev&client_id=docker&offline_token=true&service=registry",
        Some(&basic("dev", "pw")),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["refresh_token"]
        .as_str()
        .expect("identity token")
        .to_owned()
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    post_form(
        app,
        &[
            ("client_id", "docker"),
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("scope", "repository:dev/app:pull,push"),
            ("service", "registry"),
        ],
    )
    .await
}

#[tokio::test]
async fn an_identity_token_is_reusable_until_revoked() {
    let app = spawn_app().await;
    let (user, _) = team(&app).await;
    let token = identity_token(&app).await;
    for _ in 0..3 {
        let response = refresh(&app, &token).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(claims(body["token"].as_str().unwrap())["sub"], "dev");
    }
    let list: Value = app
        .admin(
            Method::GET,
            &format!("/team/users/{user}/identity-tokens"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(list[0]["kind"], "docker");
    let response = app
        .admin(
            Method::DELETE,
            &format!("/team/users/{user}/identity-tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let response = refresh(&app, &token).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap()["errors"][0]["code"],
        "UNAUTHORIZED"
    );
}

#[tokio::test]
async fn a_refresh_form_sent_chunked_is_accepted() {
    let app = spawn_app().await;
    team(&app).await;
    let token = identity_token(&app).await;
    let form = format!("grant_type=refresh_token&refresh_token={token}&service=registry&scope=repository%3Adev%2Fapp%3Apull");
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(form.into_bytes())]);
    let response = app
        .client
        .post(app.url(AUTH))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn identity_tokens_die_with_a_password_change_disable_or_delete() {
    for change in ["password", "disable", "delete"] {
        let app = spawn_app().await;
        let (user, _) = team(&app).await;
        let token = identity_token(&app).await;
        let path = format!("/team/users/{user}");
        let response = match change {
            "password" => {
                app.admin(
                    Method::PUT,
                    &format!("{path}/reset-password"),
                    Some(json!({"type": "password", "value": "new", "temporary": false})),
                )
                .await
            }
            "disable" => {
                app.admin(Method::PUT, &path, Some(json!({"enabled": false})))
                    .await
            }
            _ => app.admin(Method::DELETE, &path, None).await,
        };
        assert_eq!(response.status(), 204, "{change}");
        assert_eq!(refresh(&app, &token).await.status(), 401, "{change}");
    }
}

#[tokio::test]
async fn an_identity_token_only_works_for_its_own_service_and_realm() {
    let app = spawn_app().await;
    team(&app).await;
    app.create_docker_client("team", "other-registry").await;
    let token = identity_token(&app).await;
    let response = post_form(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &token),
            ("service", "other-registry"),
        ],
    )
    .await;
    assert_eq!(response.status(), 401);
    app.create_realm("elsewhere").await;
    app.create_docker_client("elsewhere", "registry").await;
    let response = app
        .client
        .post(app.url("/realms/elsewhere/protocol/docker-v2/auth"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token.as_str()),
            ("service", "registry"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_post_password_grant_returns_a_refresh_token() {
    let app = spawn_app().await;
    team(&app).await;
    let response = post_form(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "dev"),
            ("password", "pw"),
            ("service", "registry"),
            ("client_id", "containerd"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["refresh_token"].is_string());
    let response = post_form(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "dev"),
            ("password", "bad"),
            ("service", "registry"),
        ],
    )
    .await;
    assert_eq!(response.status(), 401);
    let response = post_form(&app, &[("grant_type", "magic"), ("service", "registry")]).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn every_token_and_failure_is_recorded_as_an_event() {
    let app = spawn_app().await;
    team(&app).await;
    app.enable_events("team").await;
    token_get(
        &app,
        "service=registry&scope=repository:x:pull",
        Some(&basic("dev", "pw")),
    )
    .await;
    token_get(&app, "service=registry", Some(&basic("dev", "nope"))).await;
    let response = app.admin(Method::GET, "/team/events?max=10", None).await;
    assert_eq!(response.status(), 200);
    let events: Vec<Value> = response.json().await.unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let (failure, success) = (&events[0], &events[1]);
    assert_eq!(success["type"], "LOGIN");
    assert_eq!(success["clientId"], "registry");
    assert_eq!(success["details"]["auth_method"], "docker-v2");
    assert_eq!(success["details"]["username"], "dev");
    assert_eq!(success["details"]["scope"], "repository:x:pull");
    assert_eq!(success["ipAddress"], "127.0.0.1");
    assert_eq!(failure["type"], "LOGIN_ERROR");
    assert_eq!(failure["error"], "invalid_user_credentials");
}

async fn set_policy(app: &TestApp, client: &str, policy: Value) {
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{client}/docker-access-policy"),
            Some(policy),
        )
        .await;
    assert_eq!(response.status(), 204);
}

async fn granted(app: &TestApp, scope: &str, auth: Option<&str>) -> Value {
    let response = token_get(app, &format!("service=registry&scope={scope}"), auth).await;
    assert_eq!(response.status(), 200, "{scope}");
    let body: Value = response.json().await.unwrap();
    claims(body["token"].as_str().unwrap())["access"].clone()
}

#[tokio::test]
async fn rules_grant_pull_to_everyone_and_push_to_a_role() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    set_policy(
        &app,
        &client,
        json!({"mode": "rules", "rules": [
            {"repository": "**", "who": "authenticated", "actions": ["pull"]},
            {"repository": "**", "who": "role:pusher", "actions": ["pull", "push"]},
        ]}),
    )
    .await;
    let dev = basic("dev", "pw");
    assert_eq!(
        granted(&app, "repository:team/app:pull,push", Some(&dev)).await[0]["actions"],
        json!(["pull"])
    );
    app.admin(Method::POST, "/team/roles", Some(json!({"name": "pusher"})))
        .await;
    let ci = app.create_user("team", "ci", "pw").await;
    let role: Value = app
        .admin(Method::GET, "/team/roles/pusher", None)
        .await
        .json()
        .await
        .unwrap();
    app.admin(
        Method::POST,
        &format!("/team/users/{ci}/role-mappings/realm"),
        Some(json!([role])),
    )
    .await;
    assert_eq!(
        granted(
            &app,
            "repository:team/app:pull,push",
            Some(&basic("ci", "pw"))
        )
        .await[0]["actions"],
        json!(["pull", "push"])
    );
}

#[tokio::test]
async fn personal_and_group_namespaces_and_anonymous_library_pulls() {
    let app = spawn_app().await;
    let (user, client) = team(&app).await;
    set_policy(
        &app,
        &client,
        json!({"mode": "rules", "rules": [
            {"repository": "${username}/*", "who": "authenticated", "actions": ["*"]},
            {"repository": "${group}/**", "who": "authenticated", "actions": ["pull", "push"]},
            {"repository": "library/*", "who": "anonymous", "actions": ["pull"]},
        ]}),
    )
    .await;
    let dev = basic("dev", "pw");
    assert_eq!(
        granted(&app, "repository:dev/app:pull,push", Some(&dev)).await[0]["actions"],
        json!(["pull", "push"])
    );
    assert_eq!(
        granted(&app, "repository:other/app:pull", Some(&dev)).await,
        json!([])
    );
    let response = app
        .admin(
            Method::POST,
            "/team/groups",
            Some(json!({"name": "frontend"})),
        )
        .await;
    let group = crate::helpers::location_id(&response);
    app.admin(
        Method::PUT,
        &format!("/team/users/{user}/groups/{group}"),
        None,
    )
    .await;
    assert_eq!(
        granted(&app, "repository:frontend/web/app:push", Some(&dev)).await[0]["actions"],
        json!(["push"])
    );
    assert_eq!(
        granted(&app, "repository:library/alpine:pull,push", None).await[0]["actions"],
        json!(["pull"])
    );
    let response = token_get(&app, "service=registry&scope=repository:dev/app:pull", None).await;
    assert_eq!(
        response.status(),
        200,
        "anonymous may ask; it just gets nothing"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(claims(body["token"].as_str().unwrap())["access"], json!([]));
}

#[tokio::test]
async fn without_the_feature_the_endpoint_is_404_and_docker_clients_are_refused() {
    let app = spawn_app_with(|s| s.features.docker = false).await;
    assert_eq!(
        app.get("/realms/master/protocol/docker-v2/auth?service=x")
            .await
            .status(),
        404
    );
    let response = app
        .admin(
            Method::POST,
            "/master/clients",
            Some(json!({"clientId": "reg", "protocol": "docker-v2"})),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("--features=docker"),
        "{body}"
    );
}

#[tokio::test]
async fn invalid_policies_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    let response = app
        .admin(Method::PUT, &format!("/team/clients/{client}/docker-access-policy"), Some(json!({"mode": "rules", "rules": [{"repository": "a", "who": "root", "actions": ["pull"]}]})))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errorMessage"].as_str().unwrap().contains("root"),
        "{body}"
    );
    let policy: Value = app
        .admin(
            Method::GET,
            &format!("/team/clients/{client}/docker-access-policy"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        policy,
        json!({"mode": "allow-all"}),
        "nothing stored on error"
    );
}

async fn download(app: &TestApp, prefix: &str, client: &str, provider: &str) -> reqwest::Response {
    let token = app.admin_token().await;
    app.client
        .get(app.url(&format!(
            "{prefix}/admin/realms/team/clients/{client}/installation/providers/{provider}"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_registry_config_download_matches_the_layout_in_use() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    for prefix in ["", "/auth"] {
        let text = download(&app, prefix, &client, "docker-v2-registry-config-file")
            .await
            .text()
            .await
            .unwrap();
        let base = format!("{}{prefix}/realms/team", app.address);
        assert!(
            text.contains(&format!("realm: {base}/protocol/docker-v2/auth")),
            "{text}"
        );
        assert!(text.contains(&format!("issuer: {base}\n")), "{text}");
        assert!(text.contains("service: registry"), "{text}");
        assert!(text.contains("rootcertbundle: "), "{text}");
        assert!(!text.contains("//realms"), "{text}");
        let vars = download(&app, prefix, &client, "docker-v2-variable-override")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            vars.contains(&format!("-e REGISTRY_AUTH_TOKEN_ISSUER={base} \\")),
            "{vars}"
        );
        assert!(
            vars.contains("REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE="),
            "{vars}"
        );
    }
}

#[tokio::test]
async fn the_compose_download_is_a_zip_with_a_working_bundle() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    let response = download(&app, "", &client, "docker-v2-compose-yaml").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "keycloak-docker-compose-yaml/README.md",
            "keycloak-docker-compose-yaml/certs/localhost.crt",
            "keycloak-docker-compose-yaml/certs/localhost.key",
            "keycloak-docker-compose-yaml/certs/localhost_trust_chain.pem",
            "keycloak-docker-compose-yaml/data/",
            "keycloak-docker-compose-yaml/docker-compose.yaml",
        ]
    );
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut zip
                .by_name(&format!("keycloak-docker-compose-yaml/{name}"))
                .unwrap(),
            &mut text,
        )
        .unwrap();
        text
    };
    let compose = read("docker-compose.yaml");
    assert!(compose.contains("image: registry:2"));
    assert!(compose.contains(&format!(
        "REGISTRY_AUTH_TOKEN_ISSUER: {}/realms/team",
        app.address
    )));
    assert!(compose
        .contains("REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: /opt/certs/localhost_trust_chain.pem"));
    let chain = read("certs/localhost_trust_chain.pem");
    let jwks: Value = app
        .get("/realms/team/protocol/openid-connect/certs")
        .await
        .json()
        .await
        .unwrap();
    let mut bundled: Vec<String> = chain
        .split("-----END CERTIFICATE-----")
        .map(|pem| {
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>()
        })
        .filter(|der| !der.is_empty())
        .collect();
    let mut published: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["use"] == "sig")
        .map(|k| k["x5c"][0].as_str().unwrap().to_owned())
        .collect();
    bundled.sort();
    published.sort();
    assert_eq!(bundled.len(), 2, "the active key and the next key");
    assert_eq!(bundled, published, "the bundle carries every signing key");
    assert!(read("certs/localhost.key").contains("PRIVATE KEY"));
}

#[tokio::test]
async fn downloads_need_an_admin_token() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    let url = app.url(&format!(
        "/admin/realms/team/clients/{client}/installation/providers/docker-v2-registry-config-file"
    ));
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth("garbage")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let dev_token = app.password_token("team", "admin-cli", "dev", "pw").await;
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(dev_token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn the_access_policy_travels_with_the_client_through_export_and_import() {
    let app = spawn_app().await;
    let (_, client) = team(&app).await;
    let policy = json!({"mode": "rules", "rules": [{"repository": "library/*", "who": "anonymous", "actions": ["pull"]}]});
    set_policy(&app, &client, policy.clone()).await;
    let response = app
        .admin(
            Method::POST,
            "/team/partial-export?exportClients=true&exportGroupsAndRoles=true",
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut export: Value = response.json().await.unwrap();
    export["realm"] = json!("team-copy");
    export.as_object_mut().unwrap().remove("id");
    let response = app.admin(Method::POST, "", Some(export)).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let clients: Value = app
        .admin(Method::GET, "/team-copy/clients?clientId=registry", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clients[0]["protocol"], "docker-v2");
    assert_eq!(clients[0]["dockerAccessPolicy"], policy);
}

#[tokio::test]
async fn brute_force_protection_locks_docker_logins_too() {
    let app = spawn_app().await;
    team(&app).await;
    app.enable_events("team").await;
    let response = app
        .admin(Method::PUT, "/team", Some(json!({"bruteForceProtected": true, "failureFactor": 2, "waitIncrementSeconds": 60})))
        .await;
    assert_eq!(response.status(), 204);
    for _ in 0..2 {
        assert_eq!(
            token_get(&app, "service=registry", Some(&basic("dev", "wrong")))
                .await
                .status(),
            401
        );
    }
    let response = token_get(&app, "service=registry", Some(&basic("dev", "pw"))).await;
    assert_eq!(
        response.status(),
        401,
        "the right password is refused while locked"
    );
    let oidc = app
        .client
        .post(app.url("/realms/team/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "dev"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(oidc.status(), 400, "the lock holds for every protocol");
    let events: Value = app
        .admin(Method::GET, "/team/events?type=LOGIN_ERROR", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["error"] == "user_temporarily_disabled"),
        "{events}"
    );
}
