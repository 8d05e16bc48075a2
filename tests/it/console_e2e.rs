//! The admin console walkthrough in real headless Chromium: `tests/e2e/console.mjs`, run
//! through [`chromium::run_script`] against a server spawned here. Screenshots and the
//! downloaded Docker Compose bundle land in `tests/artifacts/console/`.

use std::io::Read;

use crate::chromium;
use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn admin_walkthrough_in_chromium_ends_with_a_docker_token() {
    let app = spawn_app().await;
    let artifacts = chromium::artifacts_dir("console");
    chromium::run_script("console.mjs", &app.address, &artifacts, &[]).await;

    let bundle = std::fs::File::open(artifacts.join("keycloak-docker-compose-yaml.zip"))
        .expect("the walkthrough saved the compose bundle");
    let mut zip = zip::ZipArchive::new(bundle).expect("a zip archive");
    let mut compose = String::new();
    zip.by_name("keycloak-docker-compose-yaml/docker-compose.yaml")
        .expect("docker-compose.yaml in the bundle")
        .read_to_string(&mut compose)
        .unwrap();
    let token_realm = format!("{}/realms/e2e-team/protocol/docker-v2/auth", app.address);
    assert!(compose.contains(&token_realm), "{compose}");
    assert!(
        compose.contains("REGISTRY_AUTH_TOKEN_SERVICE: registry"),
        "{compose}"
    );
}
