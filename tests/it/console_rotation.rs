//! Key rotation with a pre-generated next key: its lifecycle through the admin API, the
//! console's Keys page (rotation, schedule, which registries must reload) and a real registry
//! that keeps working across a rotation without a restart.

use std::time::Duration;

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{basic, csrf_of, spawn_app, TestApp, ADMIN_PASSWORD, ADMIN_USER};
use crate::peers::{describe, oci_image_layout, require_tool, skopeo, Registry};

/// A cookie-keeping client signed in to the master console, with its CSRF token.
struct Console {
    client: reqwest::Client,
    root: String,
    csrf: String,
}

impl Console {
    async fn sign_in(app: &TestApp) -> Console {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        let root = format!("{}/admin/master/console", app.address);
        let page = client.get(format!("{root}/signin")).send().await.unwrap();
        let csrf = csrf_of(&page.text().await.unwrap());
        let signed = client
            .post(format!("{root}/signin"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", ADMIN_USER),
                ("password", ADMIN_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed.status(), StatusCode::SEE_OTHER, "console sign-in");
        let home = client.get(format!("{root}/")).send().await.unwrap();
        let csrf = csrf_of(&home.text().await.unwrap());
        Console { client, root, csrf }
    }

    async fn page(&self, path: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.root))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap()
    }

    /// Posts a form and answers the status and the page it redirects to.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .client
            .post(format!("{}{path}", self.root))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let Some(next) = response.headers().get(LOCATION) else {
            return (status, response.text().await.unwrap());
        };
        let next = next.to_str().unwrap().to_owned();
        let origin = self.root.split("/admin/").next().unwrap().to_owned();
        let page = self
            .client
            .get(format!("{origin}{next}"))
            .send()
            .await
            .unwrap();
        (status, page.text().await.unwrap())
    }
}

/// Keycloak's keys metadata of the realm.
async fn keys(app: &TestApp, realm: &str) -> Value {
    let response = app
        .admin(Method::GET, &format!("/{realm}/keys"), None)
        .await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The kids of the realm's keys of `algorithm` with `status`.
fn kids(keys: &Value, algorithm: &str, status: &str) -> Vec<String> {
    keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["algorithm"] == algorithm && k["status"] == status)
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn jwks_kids(app: &TestApp, realm: &str) -> Vec<String> {
    let jwks: Value = app
        .get(&format!("/realms/{realm}/protocol/openid-connect/certs"))
        .await
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn trust_chain(app: &TestApp, realm: &str) -> String {
    app.get(&format!("/realms/{realm}/protocol/docker-v2/trust-chain"))
        .await
        .text()
        .await
        .unwrap()
}

/// The `kid` of a docker token for `dev` on the realm's `registry` service.
async fn docker_token_kid(app: &TestApp, realm: &str) -> String {
    let response = app
        .client
        .get(app.url(&format!(
            "/realms/{realm}/protocol/docker-v2/auth?service=registry"
        )))
        .header("Authorization", basic("dev", "pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "docker token");
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    use base64::Engine;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// The admin API's trust-chain download for the docker client `id` (recorded as given).
async fn download_bundle(app: &TestApp, realm: &str, id: &str) -> String {
    let response = app
        .client
        .get(app.url(&format!(
            "/admin/realms/{realm}/clients/{id}/installation/providers/docker-v2-trust-chain"
        )))
        .bearer_auth(app.admin_token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_realm_publishes_a_next_key_that_does_not_sign() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    app.create_docker_client("team", "registry").await;
    let keys = keys(&app, "team").await;
    let active = kids(&keys, "RS256", "ACTIVE");
    let passive = kids(&keys, "RS256", "PASSIVE");
    assert_eq!(active.len(), 1, "{keys}");
    assert_eq!(
        passive.len(),
        1,
        "the next key shows as passive, as Keycloak would"
    );
    assert_eq!(keys["active"]["RS256"], active[0].as_str());
    let published = jwks_kids(&app, "team").await;
    assert!(published.contains(&active[0]) && published.contains(&passive[0]));
    assert_eq!(
        trust_chain(&app, "team")
            .await
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
    assert_eq!(docker_token_kid(&app, "team").await, active[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_promotes_the_next_key_keeps_the_old_one_and_makes_a_new_next() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    app.create_docker_client("team", "registry").await;
    let before = keys(&app, "team").await;
    let (old, next) = (
        kids(&before, "RS256", "ACTIVE").remove(0),
        kids(&before, "RS256", "PASSIVE").remove(0),
    );
    let console = Console::sign_in(&app).await;
    let (status, page) = console.post("/team/settings/keys/rotate", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        page.contains(&format!("Rotated: {next} now signs")),
        "{page}"
    );

    let after = keys(&app, "team").await;
    assert_eq!(kids(&after, "RS256", "ACTIVE"), vec![next.clone()]);
    let passive = kids(&after, "RS256", "PASSIVE");
    assert_eq!(passive.len(), 2, "{after}");
    assert!(passive.contains(&old), "the old key stays passive");
    let new_next = passive.iter().find(|k| **k != old).unwrap().clone();
    assert_eq!(docker_token_kid(&app, "team").await, next);
    let published = jwks_kids(&app, "team").await;
    for kid in [&old, &next, &new_next] {
        assert!(published.contains(kid), "{kid} is published");
    }
    assert_eq!(
        trust_chain(&app, "team")
            .await
            .matches("BEGIN CERTIFICATE")
            .count(),
        3
    );
    assert!(page.contains(r#"<span class="badge docker">Next</span>"#));
    assert!(page.contains(&new_next));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_keys_page_says_which_registries_must_reload_before_the_switch() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let given = app.create_docker_client("team", "given-registry").await;
    app.create_docker_client("team", "unknown-registry").await;
    let console = Console::sign_in(&app).await;
    download_bundle(&app, "team", &given).await;
    let page = console.page("/team/settings/keys").await;
    assert!(
        page.contains("when you rotate (no switch is scheduled)"),
        "{page}"
    );
    let row = |page: &str, name: &str| {
        let at = page.find(&format!(">{name}</a>")).expect(name);
        page[at..at + page[at..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row(&page, "given-registry").contains(">Ready<"));
    assert!(row(&page, "unknown-registry").contains(">Unknown<"));
    assert!(!page.contains("must reload the bundle"));

    console.post("/team/settings/keys/rotate", &[]).await;
    let page = console.page("/team/settings/keys").await;
    assert!(
        row(&page, "given-registry").contains(">Reload before the switch<"),
        "its bundle lacks the new next key: {page}"
    );
    assert!(page.contains("1 registry must reload the bundle before the switch."));

    console.post("/team/settings/keys/rotate", &[]).await;
    let page = console.page("/team/settings/keys").await;
    assert!(row(&page, "given-registry").contains(">Reload now<"));

    download_bundle(&app, "team", &given).await;
    let page = console.page("/team/settings/keys").await;
    assert!(row(&page, "given-registry").contains(">Ready<"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_switch_happens_when_it_is_due() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let next = kids(&keys(&app, "team").await, "RS256", "PASSIVE").remove(0);
    let console = Console::sign_in(&app).await;
    let (status, page) = console
        .post(
            "/team/settings/keys/schedule",
            &[("at", "2000-01-01T00:00")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("must be in the future"));
    let (_, page) = console
        .post("/team/settings/keys/schedule", &[("at", "soon")])
        .await;
    assert!(page.contains("a date and a time (UTC)"));

    let at = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    let value = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    );
    let (status, page) = console
        .post("/team/settings/keys/schedule", &[("at", &value)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(page.contains("The next key becomes active at"), "{page}");
    assert!(page.contains(", as scheduled."));
    assert_eq!(
        kids(&keys(&app, "team").await, "RS256", "PASSIVE"),
        vec![next.clone()]
    );

    // Past the switch the admin's tokens and console session have expired: read the table.
    app.clock.shift(3 * 3600);
    let db = app.raw_db().await;
    let mut rotated = false;
    for _ in 0..40 {
        let active: Vec<String> = sqlx::query_scalar(
            "SELECT k.kid FROM realm_key k JOIN realm r ON r.id = k.realm_id
             WHERE r.name = 'team' AND k.algorithm = 'RS256' AND k.status = 'ACTIVE'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        if active == vec![next.clone()] {
            rotated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(rotated, "the background task switched to the next key");
    let console = Console::sign_in(&app).await;
    let page = console.page("/team/settings/keys").await;
    assert!(page.contains("when you rotate (no switch is scheduled)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_es256_provider_gets_its_own_next_key_and_a_removed_next_key_comes_back() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let realm: Value = app
        .admin(Method::GET, "/team", None)
        .await
        .json()
        .await
        .unwrap();
    let created = app
        .admin(
            Method::POST,
            "/team/components",
            Some(
                json!({"name": "ecdsa-generated", "providerId": "ecdsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm["id"], "config": {}}),
            ),
        )
        .await;
    assert_eq!(created.status(), 201);
    let _ = jwks_kids(&app, "team").await;
    let keys_now = keys(&app, "team").await;
    assert_eq!(kids(&keys_now, "ES256", "ACTIVE").len(), 1);
    assert_eq!(kids(&keys_now, "ES256", "PASSIVE").len(), 1, "{keys_now}");

    let next = keys_now["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["algorithm"] == "RS256" && k["status"] == "PASSIVE")
        .unwrap()
        .clone();
    let console = Console::sign_in(&app).await;
    let question = console
        .page(&format!(
            "/team/settings/keys/{}/remove",
            next["providerId"].as_str().unwrap()
        ))
        .await;
    assert!(question.contains("is the next key"), "{question}");
    let (status, _) = console
        .post(
            &format!(
                "/team/settings/keys/{}/remove",
                next["providerId"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = console.page("/team/settings/keys").await;
    assert!(!page.contains(next["kid"].as_str().unwrap()));
    let replaced = kids(&keys(&app, "team").await, "RS256", "PASSIVE");
    assert_eq!(replaced.len(), 1, "a new next key");
    assert_ne!(replaced[0], next["kid"].as_str().unwrap());
}

/// Pushes `tag` of a fresh image to `registry` as `dev` with skopeo.
fn push(registry: &Registry, authfile: &str, tag: &str) -> std::process::Output {
    let layout = tempfile::tempdir().unwrap();
    oci_image_layout(layout.path(), tag);
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--authfile",
        authfile,
        &format!("oci:{}:{tag}", layout.path().display()),
        &format!("docker://{}/dev/app:{tag}", registry.host()),
    ])
}

/// Pulls `tag` from `registry` as `dev` into a fresh OCI layout.
fn pull(registry: &Registry, authfile: &str, tag: &str) -> std::process::Output {
    let layout = tempfile::tempdir().unwrap();
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--authfile",
        authfile,
        &format!("docker://{}/dev/app:{tag}", registry.host()),
        &format!("oci:{}:{tag}", layout.path().display()),
    ])
}

fn login(registry: &Registry, authfile: &str) -> std::process::Output {
    skopeo(&[
        "login",
        "--tls-verify=false",
        "--authfile",
        authfile,
        "-u",
        "dev",
        "-p",
        "pw",
        &registry.host(),
    ])
}

/// The real registry, given the downloaded bundle once, keeps accepting pushes and pulls
/// after the rotation, without a restart; a registry given only the signing key's certificate
/// (a bundle from before the next key existed) fails after the same rotation.
#[tokio::test(flavor = "multi_thread")]
async fn a_registry_keeps_working_across_a_rotation_without_a_restart() {
    require_tool("docker-registry");
    require_tool("skopeo");
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    let client = app.create_docker_client("team", "registry").await;
    let issuer = format!("{}/realms/team", app.address);
    let token_url = format!("{issuer}/protocol/docker-v2/auth");
    let bundle = download_bundle(&app, "team", &client).await;
    assert_eq!(bundle.matches("BEGIN CERTIFICATE").count(), 2);
    let configured = Registry::start(&token_url, "registry", &issuer, &bundle);

    let before = keys(&app, "team").await;
    let active = before["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == "ACTIVE")
        .unwrap()["certificate"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines: Vec<&str> = active
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let old_bundle = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    let stale = Registry::start(&token_url, "registry", &issuer, &old_bundle);

    let auth = tempfile::tempdir().unwrap();
    let authfile = auth.path().join("auth.json").display().to_string();
    let stale_auth = tempfile::tempdir().unwrap();
    let stale_authfile = stale_auth.path().join("auth.json").display().to_string();
    for (registry, file) in [(&configured, &authfile), (&stale, &stale_authfile)] {
        let out = login(registry, file);
        assert!(out.status.success(), "login: {}", describe(&out));
        let out = push(registry, file, "v1");
        assert!(out.status.success(), "push before: {}", describe(&out));
    }

    let console = Console::sign_in(&app).await;
    let (status, _) = console.post("/team/settings/keys/rotate", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let out = push(&configured, &authfile, "v2");
    assert!(
        out.status.success(),
        "push after the rotation: {}\n{}",
        describe(&out),
        configured.log()
    );
    for tag in ["v1", "v2"] {
        let out = pull(&configured, &authfile, tag);
        assert!(out.status.success(), "pull {tag}: {}", describe(&out));
    }

    let out = push(&stale, &stale_authfile, "v2");
    assert!(
        !out.status.success(),
        "a registry without the next key's certificate rejects the new tokens"
    );
    let out = pull(&stale, &stale_authfile, "v1");
    assert!(!out.status.success(), "and pulls too");
}

/// `tests/e2e/rotation.mjs`: the Keys page in Chromium at 1440 and 390 px, rotating and
/// scheduling; screenshots in `tests/artifacts/rotation/`.
#[tokio::test(flavor = "multi_thread")]
async fn the_keys_page_rotates_in_chromium() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let given = app.create_docker_client("team", "given-registry").await;
    app.create_docker_client("team", "unknown-registry").await;
    download_bundle(&app, "team", &given).await;
    let artifacts = crate::chromium::artifacts_dir("rotation");
    crate::chromium::run_script(
        "rotation.mjs",
        &app.address,
        &artifacts,
        &[("REALM", "team")],
    )
    .await;
    let after = keys(&app, "team").await;
    assert_eq!(kids(&after, "RS256", "PASSIVE").len(), 2, "{after}");
}
