//! The admin console walkthrough in real headless Chromium: `tests/e2e/console.mjs`, driven
//! through playwright-core against a server spawned here. Screenshots and the downloaded
//! Docker Compose bundle land in `tests/artifacts/console/`.
//!
//! Needs node (20 or newer) and Chromium at /usr/bin/chromium (`scripts/install-test-deps.sh`
//! installs Chromium; `apt-get install nodejs npm` for node), and playwright-core, which this
//! test installs with `npm ci` in tests/e2e (from the committed package-lock.json) when it is
//! missing. Anything missing fails the test loudly; it is never skipped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{spawn_app, ADMIN_PASSWORD, ADMIN_USER};

/// How long the walkthrough may take before it is killed.
const WALKTHROUGH_TIMEOUT: Duration = Duration::from_secs(300);
const CHROMIUM: &str = "/usr/bin/chromium";

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// Panics with a way to install `program` unless it runs.
fn require(program: &str, hint: &str) {
    let works = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        works,
        "{program} is required for the console e2e test: {hint}"
    );
}

/// Installs playwright-core from the lock file unless it is there.
fn ensure_playwright() {
    let dir = e2e_dir();
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .expect("npm runs (apt-get install npm)");
    assert!(
        output.status.success(),
        "npm ci in tests/e2e failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the walkthrough to its end (or the timeout); returns whether it passed and its output.
fn run_walkthrough(base_url: &str, artifacts: &Path) -> (bool, String) {
    let mut child = Command::new("node")
        .arg(e2e_dir().join("console.mjs"))
        .env("BASE_URL", base_url)
        .env("ARTIFACTS", artifacts)
        .env("ADMIN_USER", ADMIN_USER)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CHROMIUM", CHROMIUM)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("walkthrough status") {
            break Some(status);
        }
        if started.elapsed() > WALKTHROUGH_TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut output = String::new();
    child
        .stdout
        .take()
        .map(|mut s| s.read_to_string(&mut output));
    child
        .stderr
        .take()
        .map(|mut s| s.read_to_string(&mut output));
    match status {
        Some(status) => (status.success(), output),
        None => (
            false,
            format!("timed out after {WALKTHROUGH_TIMEOUT:?}\n{output}"),
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_walkthrough_in_chromium_ends_with_a_docker_token() {
    require("node", "apt-get install nodejs npm");
    require(
        CHROMIUM,
        "run scripts/install-test-deps.sh (apt-get install chromium)",
    );
    ensure_playwright();
    let app = spawn_app().await;
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts/console");
    std::fs::create_dir_all(&artifacts).expect("artifacts directory");

    let (base, dir) = (app.address.clone(), artifacts.clone());
    let (passed, output) = tokio::task::spawn_blocking(move || run_walkthrough(&base, &dir))
        .await
        .expect("walkthrough thread");
    println!("{output}");
    assert!(passed, "the console walkthrough failed:\n{output}");

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
