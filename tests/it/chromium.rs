//! Runs the Chromium scripts of `tests/e2e/` (playwright-core, sharing `tests/e2e/lib.mjs`)
//! against a server spawned by the test. Screenshots land in `tests/artifacts/{name}/`.
//!
//! Needs node (20 or newer) and Chromium at /usr/bin/chromium (`scripts/install-test-deps.sh`
//! installs both), and playwright-core, installed here with `npm ci` in tests/e2e (from the
//! committed package-lock.json) when it is missing. Anything missing fails the test loudly; it
//! is never skipped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USER};

/// How long one script may take before it is killed.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);
const CHROMIUM: &str = "/usr/bin/chromium";

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// Panics with a way to install `program` unless it runs.
pub fn require(program: &str, hint: &str) {
    let works = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        works,
        "{program} is required for the Chromium tests: {hint}"
    );
}

/// Installs playwright-core from the lock file unless it is there. Tests run in parallel, so
/// one installs while the others wait: two `npm ci` in one directory delete each other's files.
pub fn ensure_playwright() {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
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

/// Runs `tests/e2e/{script}` to its end (or the timeout) with the environment `lib.mjs`
/// reads plus `extra_env`; returns whether it passed and its output.
fn run_blocking(
    script: &str,
    base_url: &str,
    artifacts: &Path,
    extra_env: &[(String, String)],
) -> (bool, String) {
    let mut child = Command::new("node")
        .arg(e2e_dir().join(script))
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
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
        if started.elapsed() > SCRIPT_TIMEOUT {
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
            format!("timed out after {SCRIPT_TIMEOUT:?}\n{output}"),
        ),
    }
}

/// The directory a script's screenshots and downloads go to: `tests/artifacts/{name}`.
pub fn artifacts_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/artifacts")
        .join(name);
    std::fs::create_dir_all(&dir).expect("artifacts directory");
    dir
}

/// Runs `tests/e2e/{script}` against `base_url`, saving into `artifacts`, and panics with its
/// output unless it passes. `extra_env` adds variables the script reads.
pub async fn run_script(
    script: &str,
    base_url: &str,
    artifacts: &Path,
    extra_env: &[(&str, &str)],
) {
    require("node", "apt-get install nodejs npm");
    require(
        CHROMIUM,
        "run scripts/install-test-deps.sh (apt-get install chromium)",
    );
    ensure_playwright();
    let (script_name, base, dir) = (script.to_owned(), base_url.to_owned(), artifacts.to_owned());
    let env: Vec<(String, String)> = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (passed, output) =
        tokio::task::spawn_blocking(move || run_blocking(&script_name, &base, &dir, &env))
            .await
            .expect("script thread");
    println!("{output}");
    assert!(passed, "{script} failed:\n{output}");
}
