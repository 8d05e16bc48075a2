//! The classic tutorial's walkthrough against real software: the Docker registry (2.8), a real
//! dockerd with the docker CLI, skopeo and podman, all on loopback. See `peers` for how each
//! one runs here.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::peers::{describe, oci_image_layout, skopeo, Dockerd, Podman, Registry};

/// A realm with a docker-v2 client `registry` and user `dev` / `pw`, and a real registry that
/// trusts the realm. Returns the client's id and the registry.
async fn realm_with_registry(app: &TestApp, realm: &str) -> (String, Registry) {
    app.create_realm(realm).await;
    let client = app.create_docker_client(realm, "registry").await;
    app.create_user(realm, "dev", "pw").await;
    (client, start_registry(app, realm).await)
}

async fn start_registry(app: &TestApp, realm: &str) -> Registry {
    let issuer = format!("{}/realms/{realm}", app.address);
    let bundle = app
        .get(&format!("/realms/{realm}/protocol/docker-v2/trust-chain"))
        .await
        .text()
        .await
        .unwrap();
    Registry::start(
        &format!("{issuer}/protocol/docker-v2/auth"),
        "registry",
        &issuer,
        &bundle,
    )
}

fn assert_ok(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        describe(output)
    );
}

fn assert_fails_with(output: &std::process::Output, what: &str, needles: &[&str]) {
    assert!(
        !output.status.success(),
        "{what} should have failed:\n{}",
        describe(output)
    );
    let text = describe(output).to_lowercase();
    assert!(
        needles.iter().any(|n| text.contains(&n.to_lowercase())),
        "{what}: none of {needles:?} in:\n{}",
        describe(output)
    );
}

/// A one-tag OCI layout in a temp dir (kept alive by the returned guard).
fn image(tag: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    oci_image_layout(dir.path(), tag);
    let source = format!("oci:{}:{tag}", dir.path().display());
    (dir, source)
}

/// containers/image reports our 401 in words of its own.
const SKOPEO_BAD_CREDENTIALS: &[&str] =
    &["Invalid username or password", "invalid username/password"];

fn skopeo_login(
    authfile: &Path,
    registry: &Registry,
    user: &str,
    password: &str,
) -> std::process::Output {
    let authfile = authfile.display().to_string();
    skopeo(&[
        "login",
        "--tls-verify=false",
        "--authfile",
        &authfile,
        "-u",
        user,
        "-p",
        password,
        &registry.host(),
    ])
}

fn skopeo_copy(authfile: &Path, source: &str, destination: &str) -> std::process::Output {
    let authfile = authfile.display().to_string();
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--src-tls-verify=false",
        "--authfile",
        &authfile,
        source,
        destination,
    ])
}

fn skopeo_inspect(authfile: &Path, reference: &str) -> std::process::Output {
    let authfile = authfile.display().to_string();
    skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--authfile",
        &authfile,
        reference,
    ])
}

async fn login_events_with_grant(app: &TestApp, grant: &str) -> usize {
    let response = app
        .admin(Method::GET, "/team/events?type=LOGIN&max=1000", None)
        .await;
    assert_eq!(response.status(), 200);
    let events: Vec<serde_json::Value> = response.json().await.unwrap();
    events
        .iter()
        .filter(|e| e["details"]["grant_type"] == grant)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_login_push_and_pull_with_an_identity_token() {
    let app = spawn_app().await;
    let (_, registry) = realm_with_registry(&app, "team").await;
    app.enable_events("team").await;
    let host = registry.host();
    let docker = Dockerd::start(&host);
    let (_layout, _) = image("1");
    let reference = format!("{host}/dev/app:1");
    assert_ok(
        &docker.load_oci_image(_layout.path(), "1", &reference),
        "docker load",
    );

    assert_fails_with(
        &docker.docker(&["push", &reference]),
        "anonymous push",
        &["unauthorized", "authentication required", "denied"],
    );
    assert_fails_with(
        &docker.docker_login(&host, "dev", "wrong"),
        "login with a wrong password",
        &["Invalid username or password"],
    );

    assert_ok(&docker.docker_login(&host, "dev", "pw"), "docker login");
    let config = docker.config_json();
    let entry = &config["auths"][&host];
    assert!(
        entry["identitytoken"].is_string(),
        "docker stored no identity token: {config}"
    );
    let stored = std::fs::read_to_string(docker.config_dir().join("config.json")).unwrap();
    assert!(
        !stored.contains(&base64_of("dev:pw")) && entry["auth"] == base64_of("dev:").as_str(),
        "the password was stored: {stored}"
    );

    let before = login_events_with_grant(&app, "refresh_token").await;
    assert_ok(&docker.docker(&["push", &reference]), "docker push");
    assert!(
        login_events_with_grant(&app, "refresh_token").await > before,
        "push did not use the identity token"
    );
    assert_ok(&docker.docker(&["rmi", &reference]), "docker rmi");
    assert_ok(&docker.docker(&["pull", &reference]), "docker pull");

    let user = app
        .admin(Method::GET, "/team/users?username=dev&exact=true", None)
        .await
        .json::<Value>()
        .await
        .unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tokens: Value = app
        .admin(
            Method::GET,
            &format!("/team/users/{user}/identity-tokens"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    for token in tokens.as_array().unwrap() {
        let id = token["id"].as_str().unwrap();
        app.admin(
            Method::DELETE,
            &format!("/team/users/{user}/identity-tokens/{id}"),
            None,
        )
        .await;
    }
    let retag = format!("{host}/dev/app:2");
    assert_ok(&docker.docker(&["tag", &reference, &retag]), "docker tag");
    assert_fails_with(
        &docker.docker(&["push", &retag]),
        "push with a revoked identity token",
        &["unauthorized", "invalid refresh token"],
    );

    assert_ok(&docker.docker(&["logout", &host]), "docker logout");
    assert_ok(&docker.docker(&["rmi", &reference]), "docker rmi");
    assert_fails_with(
        &docker.docker(&["pull", &reference]),
        "anonymous pull",
        &["unauthorized", "authentication required", "denied"],
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_logs_in_copies_and_inspects() {
    let app = spawn_app().await;
    let (_, registry) = realm_with_registry(&app, "team").await;
    let auth = tempfile::tempdir().unwrap();
    let authfile = auth.path().join("auth.json");
    assert_fails_with(
        &skopeo_login(&authfile, &registry, "dev", "nope"),
        "skopeo login, wrong password",
        SKOPEO_BAD_CREDENTIALS,
    );
    assert_ok(
        &skopeo_login(&authfile, &registry, "dev", "pw"),
        "skopeo login",
    );
    let (_layout, source) = image("v1");
    let destination = format!("docker://{}/dev/tool:v1", registry.host());
    assert_ok(
        &skopeo_copy(&authfile, &source, &destination),
        "skopeo copy",
    );
    let inspected = skopeo_inspect(&authfile, &destination);
    assert_ok(&inspected, "skopeo inspect");
    let body: Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(body["Name"], format!("{}/dev/tool", registry.host()));
}

#[tokio::test(flavor = "multi_thread")]
async fn podman_logs_in_pushes_and_pulls() {
    let app = spawn_app().await;
    let (_, registry) = realm_with_registry(&app, "team").await;
    let podman = Podman::new();
    let (layout, _) = image("p1");
    let reference = format!("{}/dev/pod:p1", registry.host());
    assert_ok(
        &podman.load_oci_image(layout.path(), "p1", &reference),
        "podman load",
    );
    assert_ok(
        &podman.run(&[
            "login",
            "--tls-verify=false",
            "-u",
            "dev",
            "-p",
            "pw",
            &registry.host(),
        ]),
        "podman login",
    );
    assert_ok(
        &podman.run(&["push", "--tls-verify=false", &reference]),
        "podman push",
    );
    assert_ok(&podman.run(&["rmi", &reference]), "podman rmi");
    assert_ok(
        &podman.run(&["pull", "--tls-verify=false", &reference]),
        "podman pull",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_users_and_disabled_clients_are_refused() {
    let app = spawn_app().await;
    let (client, registry) = realm_with_registry(&app, "team").await;
    let auth = tempfile::tempdir().unwrap();
    let authfile = auth.path().join("auth.json");
    let user = app
        .admin(Method::GET, "/team/users?username=dev&exact=true", None)
        .await
        .json::<Value>()
        .await
        .unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.admin(
        Method::PUT,
        &format!("/team/users/{user}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_fails_with(
        &skopeo_login(&authfile, &registry, "dev", "pw"),
        "disabled user",
        SKOPEO_BAD_CREDENTIALS,
    );
    app.admin(
        Method::PUT,
        &format!("/team/users/{user}"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_ok(
        &skopeo_login(&authfile, &registry, "dev", "pw"),
        "re-enabled user",
    );
    app.admin(
        Method::PUT,
        &format!("/team/clients/{client}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let fresh = auth.path().join("fresh.json");
    assert_fails_with(
        &skopeo_login(&fresh, &registry, "dev", "pw"),
        "disabled client",
        &["invalid_client", "disabled", "400"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_from_realm_a_is_useless_for_realm_bs_registry() {
    let app = spawn_app().await;
    let (_, _registry_a) = realm_with_registry(&app, "alpha").await;
    let (_, registry_b) = realm_with_registry(&app, "beta").await;
    let token: Value = app
        .client
        .get(app.url(
            "/realms/alpha/protocol/docker-v2/auth?service=registry&scope=repository:dev/app:pull",
        ))
        .basic_auth("dev", Some("pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = app
        .client
        .get(format!("{}/v2/", registry_b.url()))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        401,
        "registry log:\n{}",
        registry_b.log()
    );
    let same_realm: Value = app
        .client
        .get(app.url("/realms/beta/protocol/docker-v2/auth?service=registry"))
        .basic_auth("dev", Some("pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = app
        .client
        .get(format!("{}/v2/", registry_b.url()))
        .bearer_auth(same_realm["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the realm's own token works; registry log:\n{}",
        registry_b.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_configured_from_the_downloaded_config_file_works() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let client = app.create_docker_client("team", "registry").await;
    app.create_user("team", "dev", "pw").await;
    let token = app.admin_token().await;
    let download = |provider: &'static str| {
        let request = app
            .client
            .get(app.url(&format!(
                "/admin/realms/team/clients/{client}/installation/providers/{provider}"
            )))
            .bearer_auth(&token);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let config = download("docker-v2-registry-config-file").await;
    let bundle = download("docker-v2-trust-chain").await;
    let registry = Registry::start_with_config_and_bundle(&config, &bundle);
    let auth = tempfile::tempdir().unwrap();
    let authfile = auth.path().join("auth.json");
    assert_ok(
        &skopeo_login(&authfile, &registry, "dev", "pw"),
        "login through the downloaded config",
    );
    let (_layout, source) = image("c1");
    assert_ok(
        &skopeo_copy(
            &authfile,
            &source,
            &format!("docker://{}/dev/cfg:c1", registry.host()),
        ),
        "push through the downloaded config",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_rules_are_enforced_by_the_registry() {
    let app = spawn_app().await;
    let (client, registry) = realm_with_registry(&app, "team").await;
    let auth = tempfile::tempdir().unwrap();
    let authfile = auth.path().join("auth.json");
    assert_ok(&skopeo_login(&authfile, &registry, "dev", "pw"), "login");
    let (_layout, source) = image("r1");
    let shared = format!("docker://{}/shared/base:r1", registry.host());
    assert_ok(
        &skopeo_copy(&authfile, &source, &shared),
        "push while allow-all",
    );

    let response = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{client}/docker-access-policy"),
            Some(json!({"mode": "rules", "rules": [
                {"repository": "**", "who": "authenticated", "actions": ["pull"]},
                {"repository": "${username}/*", "who": "authenticated", "actions": ["*"]},
            ]})),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_fails_with(
        &skopeo_copy(
            &authfile,
            &source,
            &format!("docker://{}/shared/other:r1", registry.host()),
        ),
        "push outside the namespace",
        &[
            "denied",
            "insufficient_scope",
            "unauthorized",
            "authentication required",
        ],
    );
    assert_ok(&skopeo_inspect(&authfile, &shared), "pull is still allowed");
    assert_ok(
        &skopeo_copy(
            &authfile,
            &source,
            &format!("docker://{}/dev/mine:r1", registry.host()),
        ),
        "push to the personal namespace",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_refused_by_the_registry() {
    let app = spawn_app().await;
    app.create_realm("short").await;
    app.create_docker_client("short", "registry").await;
    app.create_user("short", "dev", "pw").await;
    let response = app
        .admin(
            Method::PUT,
            "/short",
            Some(json!({"accessTokenLifespan": 1})),
        )
        .await;
    assert_eq!(response.status(), 204);
    let registry = start_registry(&app, "short").await;
    let token = || async {
        let body: Value = app
            .client
            .get(app.url("/realms/short/protocol/docker-v2/auth?service=registry"))
            .basic_auth("dev", Some("pw"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["expires_in"], 1);
        body["token"].as_str().unwrap().to_owned()
    };
    let probe = |token: String| {
        let request = app
            .client
            .get(format!("{}/v2/", registry.url()))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(
        probe(token().await).await,
        200,
        "fresh token accepted; log:\n{}",
        registry.log()
    );
    // The registry allows 60 s of clock skew past `exp`: a token minted two minutes ago
    // expired well beyond it.
    app.clock.shift(-120);
    let expired = token().await;
    assert_eq!(
        probe(expired).await,
        401,
        "expired token accepted; log:\n{}",
        registry.log()
    );
}
