//! Production: `keywarden backup` beside a running server, and the pieces of the compose
//! production profile (the compose file, checked by parsing and by `docker-compose config`,
//! and HAProxy's configuration, checked by `haproxy -c` and run for real in front of two
//! keywarden processes).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser as _;
use keywarden::config::{Cli, Settings};
use reqwest::blocking::{Client, Response};
use reqwest::Method;
use serde_json::{json, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::cli::{run, Server};
use crate::helpers::{basic, free_port};

const ADMIN_ENV: [(&str, &str); 2] = [
    ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
    ("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin-pw"),
];
const SERVE: [&str; 2] = ["start-dev", "--features=docker"];

/// The master admin of a server, through the admin REST API; the token is renewed when the
/// server answers 401 (the tests outlast one).
struct Admin {
    base: String,
    http: Client,
    token: Mutex<Option<String>>,
}

impl Admin {
    fn new(base: String) -> Admin {
        Admin {
            base,
            http: Client::new(),
            token: Mutex::new(None),
        }
    }

    fn token(&self) -> String {
        let mut token = self.token.lock().unwrap();
        if token.is_none() {
            *token = Some(password_token(&self.base, "master", "admin", "admin-pw").unwrap());
        }
        token.clone().unwrap()
    }

    fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        for _ in 0..2 {
            let mut request = self
                .http
                .request(method.clone(), format!("{}/admin/realms{path}", self.base))
                .bearer_auth(self.token());
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().unwrap();
            if response.status() != 401 {
                return response;
            }
            *self.token.lock().unwrap() = None;
        }
        panic!("the admin token is refused: {method} {path}");
    }

    fn create(&self, path: &str, body: Value) {
        let response = self.send(Method::POST, path, Some(body.clone()));
        assert_eq!(response.status(), 201, "POST {path} {body}");
    }
}

/// An access token by the password grant on `admin-cli`, or the status that refused it.
fn password_token(base: &str, realm: &str, username: &str, password: &str) -> Result<String, u16> {
    let response = Client::new()
        .post(format!(
            "{base}/realms/{realm}/protocol/openid-connect/token"
        ))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .unwrap();
    match response.status().as_u16() {
        200 => Ok(response.json::<Value>().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()),
        status => Err(status),
    }
}

/// The `kid` of a realm's signing key, from its JWKS.
fn realm_kid(base: &str, realm: &str) -> String {
    let jwks: Value = reqwest::blocking::get(format!(
        "{base}/realms/{realm}/protocol/openid-connect/certs"
    ))
    .unwrap()
    .json()
    .unwrap();
    jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
}

/// SQLite's own verdict on a database file.
fn integrity_check(file: &Path) -> String {
    let output = Command::new("sqlite3")
        .arg(file)
        .arg("PRAGMA integrity_check;")
        .output()
        .expect("sqlite3 (scripts/install-test-deps.sh installs it)");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// One `keywarden backup` run while the writer went on: the file, and how many users had
/// been acknowledged before the run started and after it ended.
struct Taken {
    file: PathBuf,
    acknowledged_before: usize,
    acknowledged_after: usize,
}

#[test]
fn backups_taken_while_users_are_written_are_whole_and_serve_the_same_realm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &SERVE, &ADMIN_ENV);
    let base = server.url("");
    let admin = Admin::new(base.clone());
    admin.create("", json!({"realm": "team", "enabled": true}));
    admin.create(
        "/team/clients",
        json!({"clientId": "registry", "protocol": "docker-v2"}),
    );
    admin.create(
        "/team/users",
        json!({"username": "alice", "enabled": true,
               "credentials": [{"type": "password", "value": "alice-pw", "temporary": false}]}),
    );
    let kid = realm_kid(&base, "team");

    let acknowledged = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let taken: Vec<Taken> = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                admin.create(
                    "/team/users",
                    json!({"username": format!("load-{n}"), "enabled": true}),
                );
                n += 1;
                acknowledged.store(n, Ordering::SeqCst);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        while acknowledged.load(Ordering::SeqCst) < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut taken = Vec::new();
        for round in 0..3 {
            let name = format!("backup-{round}.db");
            let acknowledged_before = acknowledged.load(Ordering::SeqCst);
            let output = run(dir.path(), &["backup", "--to", &name], &[]);
            let acknowledged_after = acknowledged.load(Ordering::SeqCst);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let file = dir.path().join(&name);
            let bytes = file.metadata().unwrap().len();
            assert_eq!(
                stdout.trim(),
                format!("backup written to {name} ({bytes} bytes)")
            );
            taken.push(Taken {
                file,
                acknowledged_before,
                acknowledged_after,
            });
            std::thread::sleep(Duration::from_millis(300));
        }
        stop.store(true, Ordering::SeqCst);
        writer.join().unwrap();
        taken
    });

    let mut loads = Vec::new();
    for Taken {
        file,
        acknowledged_before,
        acknowledged_after,
    } in &taken
    {
        assert_eq!(integrity_check(file), "ok", "{}", file.display());
        let copy = tempfile::tempdir().unwrap();
        std::fs::create_dir(copy.path().join("data")).unwrap();
        std::fs::copy(file, copy.path().join("data/keywarden.db")).unwrap();
        let restored = Server::start(copy.path(), &SERVE, &ADMIN_ENV);
        let load = serves_team_as_before(&restored.url(""), &kid);
        assert!(
            (*acknowledged_before..=acknowledged_after + 1).contains(&load),
            "{} holds {load} load users; {acknowledged_before} were acknowledged before it \
             began, {acknowledged_after} when it ended (one more may have been in flight)",
            file.display()
        );
        loads.push(load);
    }
    assert!(
        loads.windows(2).all(|pair| pair[0] < pair[1]),
        "the writer went on between backups: {loads:?}"
    );
    assert!(
        password_token(&base, "team", "alice", "alice-pw").is_ok(),
        "the original server served throughout"
    );

    // The README's restore, in place: the server stops (killed here, so its WAL is left
    // behind), the database and its -wal and -shm go aside, the first backup comes back.
    drop(server);
    let data = dir.path().join("data");
    let aside = dir.path().join("aside");
    std::fs::create_dir(&aside).unwrap();
    for name in ["keywarden.db", "keywarden.db-wal", "keywarden.db-shm"] {
        if data.join(name).exists() {
            std::fs::rename(data.join(name), aside.join(name)).unwrap();
        }
    }
    std::fs::copy(&taken[0].file, data.join("keywarden.db")).unwrap();
    let restored = Server::start(dir.path(), &SERVE, &ADMIN_ENV);
    assert_eq!(
        serves_team_as_before(&restored.url(""), &kid),
        loads[0],
        "the restored server holds the first snapshot, not the later writes"
    );
}

/// Checks that a server started on a backup serves realm `team` as the original did (the
/// realm, alice's password, the docker client, the signing key); answers how many load users
/// it holds.
fn serves_team_as_before(base: &str, kid: &str) -> usize {
    assert_eq!(
        reqwest::blocking::get(format!("{base}/realms/team"))
            .unwrap()
            .status(),
        200
    );
    assert!(password_token(base, "team", "alice", "alice-pw").is_ok());
    assert!(
        password_token(base, "team", "alice", "wrong").is_err(),
        "the password is checked, not merely present"
    );
    let docker = Client::new()
        .get(format!(
            "{base}/realms/team/protocol/docker-v2/auth?service=registry&scope=repository:alice/app:pull"
        ))
        .header("Authorization", basic("alice", "alice-pw"))
        .send()
        .unwrap();
    assert_eq!(docker.status(), 200, "the docker client came along");
    assert_eq!(realm_kid(base, "team"), kid, "the realm key came along");
    let users: usize = Admin::new(base.to_owned())
        .send(Method::GET, "/team/users/count", None)
        .json()
        .unwrap();
    users - 1
}

/// Runs `keywarden backup` expecting a refusal: exit code 1 and one line naming `needle`.
fn assert_refused(dir: &Path, args: &[&str], env: &[(&str, &str)], needle: &str) -> String {
    let output = run(dir, args, env);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line:\n{stderr}");
    assert!(
        stderr.starts_with("keywarden: error: ") && stderr.contains(needle),
        "{args:?}: '{needle}' not in {stderr}"
    );
    assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
    stderr
}

/// The names of the files in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn backup_refuses_an_existing_file_a_postgres_url_and_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        dir.path(),
        &["backup", "--to", "copy.db"],
        &[],
        "no database file at data/keywarden.db",
    );
    assert!(names_in(dir.path()).is_empty(), "nothing was written");

    for env in [
        [("KC_DB_URL", "postgres://keywarden:s3cret@db:5432/keywarden")],
        [(
            "KC_DB_URL",
            "jdbc:postgresql://db:5432/keywarden?password=s3cret",
        )],
    ] {
        let stderr = assert_refused(dir.path(), &["backup", "--to", "copy.db"], &env, "pg_dump");
        assert!(
            !stderr.contains("s3cret"),
            "the URL's password is not shown"
        );
    }
    assert_refused(
        dir.path(),
        &[
            "backup",
            "--to",
            "copy.db",
            "--db-url",
            "postgresql://db/keywarden",
        ],
        &[],
        "pg_dump",
    );

    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let made = Command::new("sqlite3")
        .arg(data.join("keywarden.db"))
        .arg("CREATE TABLE t (v); INSERT INTO t VALUES (1);")
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(dir.path().join("copy.db"), "an earlier backup").unwrap();
    assert_refused(
        dir.path(),
        &["backup", "--to", "copy.db"],
        &[],
        "copy.db already exists",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("copy.db")).unwrap(),
        "an earlier backup",
        "the existing file is left as it was"
    );
    assert_eq!(
        names_in(dir.path()),
        ["copy.db", "data"],
        "no temporary file"
    );
    let output = run(dir.path(), &["backup", "--to", "fresh.db"], &[]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(integrity_check(&dir.path().join("fresh.db")), "ok");
}

/// The repository's own files.
fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn compose_file() -> Yaml {
    let text = std::fs::read_to_string(repo_file("docker-compose.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn strings(value: &Yaml) -> Vec<String> {
    value
        .as_vec()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A compose value with its `${NAME:-default}` substitutions replaced by their defaults.
fn with_defaults(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let inner = &rest[start + 2..end];
        out.push_str(inner.split_once(":-").map_or("", |(_, default)| default));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_compose_production_profile_runs_postgres_two_replicas_haproxy_and_a_registry() {
    let compose = compose_file();
    let services = compose["services"].as_hash().unwrap();
    let service = |name: &str| &compose["services"][name];
    for demo in ["keywarden", "registry"] {
        assert!(!service(demo).is_badvalue(), "demo service {demo} is kept");
        assert!(
            service(demo)["profiles"].is_badvalue(),
            "the demo service {demo} has no profile: `docker compose up` starts it"
        );
    }
    let production = [
        "postgres",
        "keywarden-1",
        "keywarden-2",
        "haproxy",
        "registry-production",
    ];
    for name in production {
        assert_eq!(
            strings(&service(name)["profiles"]),
            ["production"],
            "{name}"
        );
    }
    assert_eq!(services.len(), production.len() + 2, "no other services");

    let postgres = service("postgres");
    assert_eq!(postgres["image"].as_str(), Some("postgres:16"));
    assert!(strings(&postgres["healthcheck"]["test"]).contains(&"pg_isready".to_owned()));
    let volume = strings(&postgres["volumes"])[0].clone();
    let (name, mount) = volume.split_once(':').unwrap();
    assert_eq!(mount, "/var/lib/postgresql/data");
    assert!(
        !compose["volumes"][name].is_badvalue(),
        "{name} is a named volume"
    );

    for replica in ["keywarden-1", "keywarden-2"] {
        let keywarden = service(replica);
        let env = &keywarden["environment"];
        assert_eq!(env["KC_DB"].as_str(), Some("postgres"), "{replica}");
        assert_eq!(
            env["KC_DB_URL"].as_str(),
            Some("jdbc:postgresql://postgres:5432/keywarden"),
            "{replica}: Keycloak's JDBC form"
        );
        for name in ["KC_DB_USERNAME", "KC_DB_PASSWORD"] {
            assert!(env[name].as_str().is_some(), "{replica}: {name}");
        }
        assert_eq!(
            keywarden["depends_on"]["postgres"]["condition"].as_str(),
            Some("service_healthy"),
            "{replica}"
        );
        let mut command = vec!["keywarden".to_owned()];
        command.extend(
            strings(&keywarden["command"])
                .iter()
                .map(|a| with_defaults(a)),
        );
        assert_eq!(command[1], "start", "{replica}: production mode");
        assert!(command.contains(&"--features=docker".to_owned()));
        let cli = Cli::try_parse_from(&command).unwrap();
        let lookup = |name: &str| env[name].as_str().map(with_defaults);
        let settings = Settings::from_cli(cli, &lookup).unwrap();
        assert!(settings.features.docker);
        assert!(
            settings.hostname.is_some(),
            "{replica}: one issuer for both"
        );
        assert_eq!(
            settings.bootstrap_admin.map(|a| a.username),
            Some("admin".to_owned())
        );
    }
    assert_eq!(
        service("keywarden-1")["command"],
        service("keywarden-2")["command"]
    );
    assert_eq!(
        service("keywarden-1")["environment"],
        service("keywarden-2")["environment"]
    );

    let haproxy = service("haproxy");
    assert!(haproxy["image"]
        .as_str()
        .unwrap()
        .starts_with("haproxy:2.8"));
    assert!(strings(&haproxy["volumes"])
        .iter()
        .any(|v| v.starts_with("./deploy/haproxy.cfg:")));
    assert_eq!(
        haproxy["environment"]["KW_REPLICA_1"].as_str(),
        Some("keywarden-1:8080")
    );
    assert_eq!(
        haproxy["environment"]["KW_REPLICA_2"].as_str(),
        Some("keywarden-2:8080")
    );

    let registry = service("registry-production");
    let entrypoint = strings(&registry["entrypoint"]).join(" ");
    assert!(
        entrypoint.contains("http://haproxy:8080/realms/")
            && entrypoint.contains("/protocol/docker-v2/trust-chain"),
        "the registry fetches the trust chain through HAProxy: {entrypoint}"
    );
    let hostname = strings(&service("keywarden-1")["command"])
        .iter()
        .find_map(|a| a.strip_prefix("--hostname=").map(with_defaults))
        .unwrap();
    let issuer = with_defaults(
        registry["environment"]["REGISTRY_AUTH_TOKEN_ISSUER"]
            .as_str()
            .unwrap(),
    );
    assert!(
        issuer.starts_with(&format!("{hostname}/realms/")),
        "{issuer}"
    );

    let mut host_ports: Vec<String> = services
        .values()
        .flat_map(|s| strings(&s["ports"]))
        .map(|p| p.split(':').next().unwrap().to_owned())
        .collect();
    let count = host_ports.len();
    host_ports.sort();
    host_ports.dedup();
    assert_eq!(
        host_ports.len(),
        count,
        "the demo starts beside the production profile: no host port twice"
    );
}

#[test]
fn docker_compose_accepts_the_file_with_and_without_the_production_profile() {
    let docker_compose = which("docker-compose").expect(
        "docker-compose is not installed: scripts/install-test-deps.sh installs Debian's package",
    );
    for profile in [&[][..], &["--profile", "production"][..]] {
        let output = Command::new(&docker_compose)
            .args([
                "--file",
                "docker-compose.yml",
                "--project-name",
                "keywarden",
            ])
            .args(profile)
            .args(["config", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{profile:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A command on PATH, or in the sbin directories a non-root PATH may lack.
fn which(command: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join(command))
        .find(|file| file.is_file())
}

fn haproxy() -> PathBuf {
    which("haproxy")
        .expect("haproxy is not installed: scripts/install-test-deps.sh installs Debian's package")
}

#[test]
fn haproxy_checks_the_configuration_once_its_addresses_are_given() {
    let check = |env: &[(&str, &str)]| {
        Command::new(haproxy())
            .args(["-c", "-f"])
            .arg(repo_file("deploy/haproxy.cfg"))
            .env_remove("KW_LISTEN")
            .env_remove("KW_REPLICA_1")
            .env_remove("KW_REPLICA_2")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let local = check(&[
        ("KW_LISTEN", "127.0.0.1:18080"),
        ("KW_REPLICA_1", "127.0.0.1:18081"),
        ("KW_REPLICA_2", "127.0.0.1:18082"),
    ]);
    let stderr = String::from_utf8_lossy(&local.stderr);
    assert!(local.status.success(), "{stderr}");
    assert!(!stderr.contains("WARNING"), "no warnings: {stderr}");
    // Compose's names do not resolve here, as when a replica is down at HAProxy's start:
    // HAProxy starts anyway and adds the replica once its name resolves.
    let compose = check(&[
        ("KW_LISTEN", ":8080"),
        ("KW_REPLICA_1", "keywarden-1:8080"),
        ("KW_REPLICA_2", "keywarden-2:8080"),
    ]);
    assert!(
        compose.status.success(),
        "{}",
        String::from_utf8_lossy(&compose.stderr)
    );
    let unset = check(&[]);
    assert!(
        !unset.status.success(),
        "without addresses the check fails (so it checks something)"
    );
}

/// HAProxy running deploy/haproxy.cfg; killed on drop.
struct Haproxy {
    child: Child,
    port: u16,
}

impl Haproxy {
    fn start(dir: &Path, replicas: [&Server; 2]) -> Haproxy {
        let port = free_port();
        let address = |server: &Server| server.url("").trim_start_matches("http://").to_owned();
        let log = std::fs::File::create(dir.join("haproxy.log")).unwrap();
        let child = Command::new(haproxy())
            .args(["-db", "-f"])
            .arg(repo_file("deploy/haproxy.cfg"))
            .env("KW_LISTEN", format!("127.0.0.1:{port}"))
            .env("KW_REPLICA_1", address(replicas[0]))
            .env("KW_REPLICA_2", address(replicas[1]))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let haproxy = Haproxy { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while haproxy.get("/health/ready").map(|r| r.status()) != Some(reqwest::StatusCode::OK) {
            assert!(
                Instant::now() < deadline,
                "haproxy did not come up:\n{}",
                std::fs::read_to_string(dir.join("haproxy.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        haproxy
    }

    fn get(&self, path: &str) -> Option<Response> {
        Client::new()
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .send()
            .ok()
    }

    fn master_kid(&self) -> String {
        let response = self
            .get("/realms/master/protocol/openid-connect/certs")
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().unwrap()["keys"][0]["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn haproxy_balances_over_both_replicas_and_sends_nothing_to_a_dead_one() {
    // Two servers on databases of their own: each has its own master key, so the `kid` that
    // answers tells which replica served a request.
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let first = Server::start(dirs[0].path(), &SERVE, &ADMIN_ENV);
    let second = Server::start(dirs[1].path(), &SERVE, &ADMIN_ENV);
    let kids = [
        realm_kid(&first.url(""), "master"),
        realm_kid(&second.url(""), "master"),
    ];
    assert_ne!(kids[0], kids[1]);
    let haproxy = Haproxy::start(dirs[0].path(), [&first, &second]);

    let mut served: Vec<String> = (0..10).map(|_| haproxy.master_kid()).collect();
    served.sort();
    served.dedup();
    let mut expected = kids.to_vec();
    expected.sort();
    assert_eq!(served, expected, "round robin reaches both replicas");

    drop(first);
    for n in 0..20 {
        assert_eq!(
            haproxy.master_kid(),
            kids[1],
            "request {n} after the kill is retried on the live replica"
        );
    }
    std::thread::sleep(Duration::from_millis(2500));
    for _ in 0..10 {
        assert_eq!(haproxy.master_kid(), kids[1]);
    }
}
