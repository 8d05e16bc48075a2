//! The PostgreSQL server the tests use: `KEYWARDEN_TEST_POSTGRES` if set (a server URL),
//! else a throwaway server this test process starts on first use (`scripts/temp-postgres.sh`,
//! in a temp dir, as the unprivileged `postgres` user when run as root). A watchdog stops it
//! and removes its directory when the test process exits, however it exits.
//!
//! `KEYWARDEN_TEST_BACKEND=postgres` runs every test server on it (each on a database of its
//! own); tests of replicas use it whatever the backend.

use crate::helpers::free_port;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Whether the suite runs its servers on PostgreSQL.
pub fn is_backend() -> bool {
    std::env::var("KEYWARDEN_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The URL of the test server's `postgres` database (an administrative connection).
pub fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| std::env::var("KEYWARDEN_TEST_POSTGRES").unwrap_or_else(|_| start()))
}

/// A new empty database on the test server; answers its URL.
pub async fn new_database() -> String {
    let name = format!("kw_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(server())
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("CREATE DATABASE");
    admin.close().await;
    let mut url = url::Url::parse(server()).unwrap();
    url.set_path(&name);
    url.to_string()
}

fn start() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::Builder::new()
        .prefix("keywarden-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let port = free_port();
    let started = Command::new(root.join("scripts/temp-postgres.sh"))
        .args(["start", &dir.display().to_string(), &port.to_string()])
        .output()
        .expect(
            "scripts/temp-postgres.sh runs (PostgreSQL comes from scripts/install-test-deps.sh)",
        );
    assert!(
        started.status.success(),
        "cannot start the test PostgreSQL server: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    // The watchdog outlives nothing it should: it polls this process and, once it is gone,
    // stops the server and removes its directory. It outlives this process on purpose, so this
    // process never waits for it.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {script} stop {dir} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            script = root.join("scripts/temp-postgres.sh").display(),
            dir = dir.display(),
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the watchdog starts");
    String::from_utf8(started.stdout).unwrap().trim().to_owned()
}
