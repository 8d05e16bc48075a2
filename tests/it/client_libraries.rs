//! Keycloak's own client libraries against the built server: `tests/clients/run.sh` installs
//! python-keycloak + authlib (a venv) and @keycloak/keycloak-admin-client + openid-client
//! (`npm ci`), then runs both suites against this build's binary. Their output goes straight
//! to the terminal; every failing library test is listed there by name. A server that
//! panicked fails the test even when every library test passed.

use std::path::Path;
use std::process::Command;

#[test]
fn keycloak_client_libraries_work_unchanged() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/run.sh");
    let logs = tempfile::tempdir().expect("temp dir");
    let status = Command::new("bash")
        .arg(&script)
        .env("KEYWARDEN_BIN", env!("CARGO_BIN_EXE_keywarden"))
        .env("KEYWARDEN_LOG_DIR", logs.path())
        .status()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    assert!(
        status.success(),
        "{} failed ({status}): see the pytest and node --test reports above",
        script.display()
    );
    for entry in std::fs::read_dir(logs.path()).expect("server logs") {
        let path = entry.expect("a server log").path();
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            !log.contains("panicked"),
            "the server panicked ({}):\n{log}",
            path.display()
        );
    }
}
