//! The real binary: start-up variants, the classic command line, restarts, and clear errors
//! for bad configuration.

use crate::helpers::free_port;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_keywarden");

/// A keywarden process; killed on drop.
pub(crate) struct Server {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Server {
    /// Starts the binary in `dir` with `args` and `env` (plus a free port through KC_HTTP_PORT)
    /// and waits until /health/ready answers.
    pub(crate) fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = dir.join(format!("server-{port}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(BINARY)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KC_HTTP_PORT", port.to_string())
            .envs(env.iter().copied())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        let server = Server { child, port, log };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(response) =
                probe::blocking_get(&format!("http://127.0.0.1:{}/health/ready", self.port))
            {
                if response == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server did not become ready:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    /// Stops the process, and fails the test if it panicked.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = self.log();
        if log.contains("panicked") && !std::thread::panicking() {
            panic!("the server panicked:\n{log}");
        }
    }
}

/// A tiny blocking GET that returns the status, for polling readiness.
mod probe {
    pub fn blocking_get(url: &str) -> Result<u16, std::io::Error> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut stream = std::net::TcpStream::connect(host)?;
        write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }
}

fn token_status(server: &Server, username: &str, password: &str) -> u16 {
    let client = reqwest::blocking::Client::new();
    client
        .post(server.url("/realms/master/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Runs the binary to completion; it listens on a port of its own choosing (KC_HTTP_PORT=0)
/// unless the arguments say otherwise, so a busy 8080 never masks the error under test.
/// A run that panicked fails the test.
pub(crate) fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KC_HTTP_PORT", "0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    output
}

#[test]
fn each_bootstrap_admin_variable_pair_creates_a_working_admin() {
    for (user_var, password_var) in [
        ("KC_BOOTSTRAP_ADMIN_USERNAME", "KC_BOOTSTRAP_ADMIN_PASSWORD"),
        ("KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD"),
        ("KEYCLOAK_USER", "KEYCLOAK_PASSWORD"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(
            dir.path(),
            &["start-dev"],
            &[(user_var, "boss"), (password_var, "pw-123")],
        );
        assert_eq!(
            token_status(&server, "boss", "pw-123"),
            200,
            "{user_var}\n{}",
            server.log()
        );
        assert_eq!(token_status(&server, "boss", "wrong"), 400, "{user_var}");
    }
}

#[test]
fn start_dev_without_an_admin_prints_a_generated_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["start-dev"], &[]);
    let log = server.log();
    let password = log
        .split("with password '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no generated password in the log:\n{log}"));
    assert_eq!(token_status(&server, "admin", password), 200);
    server.stop();
    let again = Server::start(dir.path(), &["start-dev"], &[]);
    assert!(
        !again.log().contains("with password"),
        "printed twice:\n{}",
        again.log()
    );
}

#[test]
fn the_classic_tutorial_command_line_starts_a_dev_server_with_docker() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "-Dkeycloak.profile.feature.docker=enabled",
            "-b",
            "127.0.0.1",
        ],
        &[
            ("KEYCLOAK_USER", "admin"),
            ("KEYCLOAK_PASSWORD", "password"),
        ],
    );
    assert_eq!(token_status(&server, "admin", "password"), 200);
    let docker =
        probe::blocking_get(&server.url("/auth/realms/master/protocol/docker-v2/auth?service=x"))
            .unwrap();
    assert_eq!(
        docker, 400,
        "docker endpoint is on (unknown service), not 404"
    );
    assert!(
        dir.path().join("data/keywarden.db").exists(),
        "default SQLite file under ./data/"
    );
}

#[test]
fn the_docker_endpoint_is_off_without_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["start-dev"],
        &[("KEYCLOAK_ADMIN", "a"), ("KEYCLOAK_ADMIN_PASSWORD", "b")],
    );
    let status =
        probe::blocking_get(&server.url("/realms/master/protocol/docker-v2/auth?service=x"))
            .unwrap();
    assert_eq!(status, 404);
}

#[test]
fn a_restart_keeps_users_and_the_same_kid() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("KEYCLOAK_ADMIN", "admin"),
        ("KEYCLOAK_ADMIN_PASSWORD", "pw"),
    ];
    let kid = |server: &Server| -> String {
        let body: Value =
            reqwest::blocking::get(server.url("/realms/master/protocol/openid-connect/certs"))
                .unwrap()
                .json()
                .unwrap();
        body["keys"][0]["kid"].as_str().unwrap().to_owned()
    };
    let first = Server::start(dir.path(), &["start-dev"], &env);
    let before = kid(&first);
    enable_master_events(&first, "admin", "pw");
    assert_eq!(token_status(&first, "admin", "wrong"), 400);
    first.stop();
    let second = Server::start(
        dir.path(),
        &["start-dev"],
        &[
            ("KEYCLOAK_ADMIN", "other"),
            ("KEYCLOAK_ADMIN_PASSWORD", "x"),
        ],
    );
    assert_eq!(kid(&second), before);
    assert_eq!(
        token_status(&second, "admin", "pw"),
        200,
        "the first admin survives"
    );
    assert_eq!(
        token_status(&second, "other", "x"),
        400,
        "no second bootstrap admin"
    );
    let failures = login_failures_of(&second, "admin", "pw");
    assert!(
        failures.iter().any(|e| e["details"]["username"] == "admin"),
        "the failed sign-in just before the stop was stored: {failures:?}"
    );
}

/// A master admin's access token.
fn admin_token_of(server: &Server, admin: &str, password: &str) -> String {
    let token: Value = reqwest::blocking::Client::new()
        .post(server.url("/realms/master/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", admin),
            ("password", password),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

/// Switches on login events in the master realm (off in a new realm, as in Keycloak).
fn enable_master_events(server: &Server, admin: &str, password: &str) {
    let response = reqwest::blocking::Client::new()
        .put(server.url("/admin/realms/master/events/config"))
        .bearer_auth(admin_token_of(server, admin, password))
        .json(&serde_json::json!({"eventsEnabled": true}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 204);
}

/// The LOGIN_ERROR events of the master realm, read with an admin token.
fn login_failures_of(server: &Server, admin: &str, password: &str) -> Vec<Value> {
    reqwest::blocking::Client::new()
        .get(server.url("/admin/realms/master/events?type=LOGIN_ERROR"))
        .bearer_auth(admin_token_of(server, admin, password))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// Runs a bad configuration and checks for a one-line error, a non-zero exit and no panic.
fn assert_clear_failure(args: &[&str], env: &[(&str, &str)], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), args, env);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{args:?} panicked:\n{stderr}"
    );
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(
        error_lines.len(),
        1,
        "{args:?}: expected one error line:\n{stderr}"
    );
    assert!(
        error_lines[0].contains(needle),
        "{args:?}: '{needle}' not in {stderr}"
    );
}

#[test]
fn bad_configuration_fails_with_one_clear_line() {
    let admin = [("KEYCLOAK_ADMIN", "a"), ("KEYCLOAK_ADMIN_PASSWORD", "b")];
    assert_clear_failure(&["start-dev", "--features=dokcer"], &admin, "dokcer");
    assert_clear_failure(
        &["start-dev", "--db-url=mysql://db/kc"],
        &admin,
        "mysql://db/kc",
    );
    assert_clear_failure(
        &["start-dev", "--db-url=sqlite:///proc/keywarden/x.db"],
        &admin,
        "/proc/keywarden",
    );
    assert_clear_failure(&["start-dev", "--http-host=not-an-ip"], &admin, "not-an-ip");
    assert_clear_failure(&["start-dev", "--log-level=[bad"], &admin, "log-level");
    assert_clear_failure(&["start-dev", "--frobnicate"], &admin, "frobnicate");
    assert_clear_failure(&["start"], &admin, "hostname");
    assert_clear_failure(
        &["start", "--hostname=id.example.com", "--http-enabled=true"],
        &[],
        "KC_BOOTSTRAP_ADMIN",
    );
    assert_clear_failure(&["start-dev"], &[("KEYCLOAK_ADMIN", "a")], "KEYCLOAK_ADMIN");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    assert_clear_failure(
        &["start-dev", "--http-port", &port],
        &[("KEYCLOAK_ADMIN", "a"), ("KEYCLOAK_ADMIN_PASSWORD", "b")],
        &port,
    );
}

#[test]
fn a_second_server_on_the_same_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("KEYCLOAK_ADMIN", "admin"),
        ("KEYCLOAK_ADMIN_PASSWORD", "pw"),
    ];
    let first = Server::start(dir.path(), &["start-dev"], &env);
    let second = run(dir.path(), &["start-dev"], &env);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "keywarden: error: database data/keywarden.db is in use by another keywarden server"
    );
    assert_eq!(
        token_status(&first, "admin", "pw"),
        200,
        "the first server goes on"
    );
    first.stop();
    let again = Server::start(dir.path(), &["start-dev"], &env);
    assert_eq!(
        token_status(&again, "admin", "pw"),
        200,
        "the lock goes with the server that held it"
    );
}

#[test]
fn import_realm_loads_the_demo_realm_once_and_serves_its_trust_chain() {
    let dir = tempfile::tempdir().unwrap();
    let import = dir.path().join("data/import");
    std::fs::create_dir_all(&import).unwrap();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/demo-realm.json");
    std::fs::copy(demo, import.join("demo-realm.json")).unwrap();
    let args = ["start-dev", "--features=docker", "--import-realm"];
    let env = [
        ("KEYCLOAK_ADMIN", "admin"),
        ("KEYCLOAK_ADMIN_PASSWORD", "pw"),
    ];
    let server = Server::start(dir.path(), &args, &env);
    let client = reqwest::blocking::Client::new();
    let token = client
        .get(server.url("/realms/demo/protocol/docker-v2/auth?service=docker-registry"))
        .basic_auth("demo", Some("demo"))
        .send()
        .unwrap();
    assert_eq!(token.status(), 200, "{}", server.log());
    let chain = client
        .get(server.url("/realms/demo/protocol/docker-v2/trust-chain"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        chain.starts_with("-----BEGIN CERTIFICATE-----\n"),
        "{chain}"
    );
    server.stop();
    let again = Server::start(dir.path(), &args, &env);
    assert!(again.log().contains("import skipped"), "{}", again.log());
}

#[test]
fn a_broken_import_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let import = dir.path().join("data/import");
    std::fs::create_dir_all(&import).unwrap();
    std::fs::write(import.join("bad.json"), "{\"realm\": 42}").unwrap();
    let output = run(
        dir.path(),
        &["start-dev", "--import-realm"],
        &[("KEYCLOAK_ADMIN", "a"), ("KEYCLOAK_ADMIN_PASSWORD", "b")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("bad.json"), "{stderr}");
}
