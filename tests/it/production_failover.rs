//! Production: three keywarden replicas as real processes on one PostgreSQL database behind
//! HAProxy (deploy/haproxy.cfg), a real registry whose token realm is the balancer, and load
//! through the balancer: skopeo push/pull loops, a wrk refresh-token load and a writer creating
//! users. One replica is killed with SIGKILL and later restarted; then all three are restarted
//! one after another with SIGTERM. No skopeo operation fails, token errors stay within the
//! requests in flight on the killed replica, and every acknowledged user exists at the end.
//!
//! "In flight on the killed replica" is HAProxy's own count: the `scur` (current sessions) of
//! that server in `show stat` on HAProxy's stats socket, read just before the SIGKILL.

use crate::helpers::free_port;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::cli::BINARY;
use crate::peers::{describe, oci_image_layout, skopeo, Registry};

const REPLICAS: usize = 3;
const SKOPEO_LOOPS: usize = 3;
/// On SIGTERM a replica serves this long with readiness down: HAProxy checks every 500 ms and
/// takes a replica out after 2 failed checks.
const SHUTDOWN_DELAY: &str = "2s";
const WARM_UP: Duration = Duration::from_secs(5);
/// How long the killed replica stays down: 12 s, or `KEYWARDEN_FAILOVER_KILLED_SECONDS`
/// (bench/failover.sh runs longer).
fn killed_for() -> Duration {
    let seconds = std::env::var("KEYWARDEN_FAILOVER_KILLED_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    Duration::from_secs(seconds)
}
const READY_WITHIN: Duration = Duration::from_secs(30);

/// One keywarden replica on a fixed port, started again on the same port after a stop.
struct Replica {
    name: String,
    port: u16,
    args: Vec<String>,
    dir: PathBuf,
    child: Option<Child>,
    starts: usize,
}

impl Replica {
    fn new(index: usize, dir: &Path, db_url: &str, hostname: &str) -> Replica {
        let port = free_port();
        Replica {
            name: format!("keywarden-{}", index + 1),
            port,
            args: vec![
                "start-dev".into(),
                "--features=docker".into(),
                format!("--http-port={port}"),
                "--db=postgres".into(),
                format!("--db-url={db_url}"),
                "--db-pool-max-size=16".into(),
                format!("--hostname={hostname}"),
                format!("--shutdown-delay={SHUTDOWN_DELAY}"),
                "--shutdown-timeout=10s".into(),
                "--log-level=warn".into(),
            ],
            dir: dir.to_owned(),
            child: None,
            starts: 0,
        }
    }

    fn log_path(&self, start: usize) -> PathBuf {
        self.dir.join(format!("{}-{start}.log", self.name))
    }

    /// Starts the process and waits until it answers /health/ready with 200 itself.
    fn start(&mut self) {
        assert!(self.child.is_none(), "{} runs already", self.name);
        self.starts += 1;
        let log = std::fs::File::create(self.log_path(self.starts)).unwrap();
        let child = Command::new(BINARY)
            .args(&self.args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KC_BOOTSTRAP_ADMIN_USERNAME", "admin")
            .env("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin-pw")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let url = format!("http://127.0.0.1:{}/health/ready", self.port);
        let deadline = Instant::now() + READY_WITHIN;
        let client = Client::new();
        while client.get(&url).send().map(|r| r.status().as_u16()).ok() != Some(200) {
            assert!(
                Instant::now() < deadline,
                "{} did not become ready:\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`.
    fn kill(&mut self) {
        let mut child = self.child.take().expect("a running replica");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, and the time the process took to exit; it must exit cleanly.
    fn terminate(&mut self) -> Duration {
        let mut child = self.child.take().expect("a running replica");
        let started = Instant::now();
        signal(&child, libc::SIGTERM);
        let status = child.wait().unwrap();
        assert!(status.success(), "{} on SIGTERM: {status}", self.name);
        started.elapsed()
    }

    fn logs(&self) -> String {
        (1..=self.starts)
            .map(|n| std::fs::read_to_string(self.log_path(n)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let logs = self.logs();
        if logs.contains("panicked") && !std::thread::panicking() {
            panic!("{} panicked:\n{logs}", self.name);
        }
    }
}

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on a child this test started and has not yet waited for.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

fn haproxy_binary() -> PathBuf {
    [
        "/usr/sbin/haproxy",
        "/usr/bin/haproxy",
        "/usr/local/sbin/haproxy",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|path| path.is_file())
    .expect("haproxy is not installed: scripts/install-test-deps.sh installs Debian's package")
}

/// HAProxy running deploy/haproxy.cfg over the three replicas, with a stats socket and its
/// access log in files; killed on drop.
struct Balancer {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Balancer {
    fn start(dir: &Path, port: u16, replicas: &[Replica]) -> Balancer {
        let socket = dir.join("haproxy.sock");
        let extra = dir.join("stats.cfg");
        std::fs::write(
            &extra,
            format!(
                "global\n    stats socket {} mode 600 level admin\n",
                socket.display()
            ),
        )
        .unwrap();
        let log = dir.join("haproxy.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(haproxy_binary());
        command
            .args(["-db", "-f"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg"))
            .arg("-f")
            .arg(&extra)
            .env("KW_LISTEN", format!("127.0.0.1:{port}"));
        for (n, replica) in replicas.iter().enumerate() {
            command.env(
                format!("KW_REPLICA_{}", n + 1),
                format!("127.0.0.1:{}", replica.port),
            );
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        let balancer = Balancer { child, socket, log };
        for replica in replicas {
            balancer.wait_up(&replica.name);
        }
        balancer
    }

    /// `show stat` as rows of (server name, column name -> value) for the backend.
    fn servers(&self) -> Vec<std::collections::HashMap<String, String>> {
        let Ok(mut stream) = UnixStream::connect(&self.socket) else {
            return Vec::new();
        };
        stream.write_all(b"show stat\n").unwrap();
        let mut csv = String::new();
        stream.read_to_string(&mut csv).unwrap();
        let mut lines = csv.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .map(str::to_owned)
            .collect();
        lines
            .map(|line| {
                header
                    .iter()
                    .cloned()
                    .zip(line.split(',').map(str::to_owned))
            })
            .map(|row| row.collect::<std::collections::HashMap<_, _>>())
            .filter(|row| row.get("pxname").map(String::as_str) == Some("keywarden"))
            .collect()
    }

    fn server_field(&self, server: &str, field: &str) -> String {
        self.servers()
            .into_iter()
            .find(|row| row.get("svname").map(String::as_str) == Some(server))
            .and_then(|row| row.get(field).cloned())
            .unwrap_or_default()
    }

    /// Waits until HAProxy's health checks have put `server` in service.
    fn wait_up(&self, server: &str) {
        let deadline = Instant::now() + READY_WITHIN;
        while self.server_field(server, "status") != "UP" {
            assert!(
                Instant::now() < deadline,
                "HAProxy never put {server} up:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The access log's request lines: (server, status, retries, termination state).
    fn requests(&self) -> Vec<(String, i32, String, String)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (_, server) = fields.get(3)?.split_once('/')?;
                let status = fields.get(5)?.parse().ok()?;
                let retries = fields.get(10)?.rsplit('/').next()?.to_owned();
                Some((
                    server.to_owned(),
                    status,
                    retries,
                    (*fields.get(9)?).to_owned(),
                ))
            })
            .collect()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The master admin through the balancer; the token is renewed when it is refused.
struct Admin {
    base: String,
    http: Client,
    token: Mutex<Option<String>>,
}

impl Admin {
    fn token(&self) -> String {
        let mut token = self.token.lock().unwrap();
        if token.is_none() {
            let grant = password_grant(&self.http, &self.base, "master", "admin", "admin-pw");
            *token = Some(grant["access_token"].as_str().unwrap().to_owned());
        }
        token.clone().unwrap()
    }

    /// Sends an admin request; `Err` carries what went wrong (a transport error or a 401
    /// twice).
    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::blocking::Response, String> {
        for _ in 0..2 {
            let mut request = self
                .http
                .request(method.clone(), format!("{}/admin/realms{path}", self.base))
                .bearer_auth(self.token());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .map_err(|e| format!("{method} {path}: {e}"))?;
            if response.status() != 401 {
                return Ok(response);
            }
            *self.token.lock().unwrap() = None;
        }
        Err(format!("{method} {path}: the admin token is refused"))
    }

    fn create(&self, path: &str, body: Value) {
        let response = self.send(reqwest::Method::POST, path, Some(&body)).unwrap();
        assert_eq!(response.status(), 201, "POST {path} {body}");
    }
}

fn password_grant(http: &Client, base: &str, realm: &str, user: &str, password: &str) -> Value {
    let response = http
        .post(format!(
            "{base}/realms/{realm}/protocol/openid-connect/token"
        ))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "password grant for {user}");
    response.json().unwrap()
}

/// A load process (wrk), killed on drop unless it has ended.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sets the load loops' stop flag on drop.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What the load saw.
#[derive(Default)]
struct Tally {
    skopeo_ok: AtomicUsize,
    skopeo_failed: Mutex<Vec<String>>,
    created: Mutex<Vec<String>>,
    conflicts: AtomicUsize,
    writer_errors: Mutex<Vec<String>>,
}

/// Pushes the image under a new tag, then pulls it back, until `stop`.
fn skopeo_loop(
    n: usize,
    source: &str,
    registry: &Registry,
    scratch: &Path,
    stop: &AtomicBool,
    tally: &Tally,
) {
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let reference = format!("docker://{}/loop{n}/app:r{round}", registry.host());
        let pulled = scratch.join(format!("pull-{n}-{round}"));
        let pull_target = format!("dir:{}", pulled.display());
        let operations: [(&str, Vec<&str>); 2] = [
            (
                "push",
                vec![
                    "copy",
                    "--dest-tls-verify=false",
                    "--dest-creds=dev:pw",
                    source,
                    reference.as_str(),
                ],
            ),
            (
                "pull",
                vec![
                    "copy",
                    "--src-tls-verify=false",
                    "--src-creds=dev:pw",
                    reference.as_str(),
                    pull_target.as_str(),
                ],
            ),
        ];
        for (what, args) in operations {
            let output = skopeo(&args);
            if output.status.success() {
                tally.skopeo_ok.fetch_add(1, Ordering::Relaxed);
            } else {
                tally
                    .skopeo_failed
                    .lock()
                    .unwrap()
                    .push(format!("{what} {reference}: {}", describe(&output)));
            }
        }
        let _ = std::fs::remove_dir_all(&pulled);
    }
}

/// Creates users one after another until `stop`; records the acknowledged ones.
fn writer_loop(admin: &Admin, stop: &AtomicBool, tally: &Tally) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let username = format!("writer-{n}");
        let body = json!({"username": username, "enabled": true});
        match admin.send(reqwest::Method::POST, "/team/users", Some(&body)) {
            Ok(response) if response.status() == 201 => {
                tally.created.lock().unwrap().push(username)
            }
            // The creation reached a replica that died before answering; HAProxy sent it
            // again and the user was there already.
            Ok(response) if response.status() == 409 => {
                tally.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            Ok(response) => tally
                .writer_errors
                .lock()
                .unwrap()
                .push(format!("{username}: {}", response.status())),
            Err(err) => tally.writer_errors.lock().unwrap().push(err),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many of HAProxy's logged requests were retried (on another replica).
fn retried(logged: &[(String, i32, String, String)]) -> usize {
    logged.iter().filter(|r| r.2 != "0").count()
}

/// wrk's figures from bench/token.lua's `KW key=value` lines.
fn wrk_figures(output: &str) -> std::collections::HashMap<String, String> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("KW "))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn a_replica_killed_under_load_and_rolling_restarts_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(crate::postgres::new_database());
    let balancer_port = free_port();
    let base = format!("http://127.0.0.1:{balancer_port}");
    let mut replicas: Vec<Replica> = (0..REPLICAS)
        .map(|n| Replica::new(n, dir.path(), &db_url, &base))
        .collect();
    // The first start runs the migrations and the bootstrap; the others join it.
    for replica in &mut replicas {
        replica.start();
    }
    let balancer = Balancer::start(dir.path(), balancer_port, &replicas);

    let http = Client::new();
    let admin = Admin {
        base: base.clone(),
        http: http.clone(),
        token: Mutex::new(None),
    };
    admin.create("", json!({"realm": "team", "enabled": true}));
    admin.create(
        "/team/clients",
        json!({"clientId": "registry", "protocol": "docker-v2"}),
    );
    admin.create(
        "/team/users",
        json!({"username": "dev", "enabled": true,
               "credentials": [{"type": "password", "value": "pw", "temporary": false}]}),
    );
    let issuer = format!("{base}/realms/team");
    let bundle = http
        .get(format!("{issuer}/protocol/docker-v2/trust-chain"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let registry = Registry::start(
        &format!("{issuer}/protocol/docker-v2/auth"),
        "registry",
        &issuer,
        &bundle,
    );
    let image = dir.path().join("image");
    oci_image_layout(&image, "v1");
    let source = format!("oci:{}:v1", image.display());
    let scratch = dir.path().join("pulls");
    std::fs::create_dir_all(&scratch).unwrap();

    // The docker CLI's identity token (a refresh token that stays valid), traded for registry
    // tokens: the refresh path, no password hashing per request.
    let identity: Value = http
        .get(format!(
            "{issuer}/protocol/docker-v2/auth?service=registry&offline_token=true"
        ))
        .basic_auth("dev", Some("pw"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let identity = identity["refresh_token"].as_str().unwrap().to_owned();
    let wrk_log = dir.path().join("wrk.out");
    let wrk = Command::new("wrk")
        // A slow answer under a loaded machine is not an error: wrk times out after 10 s.
        .args([
            "-t1",
            "-c4",
            "-d600s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/token.lua"))
        .arg(format!("{issuer}/protocol/docker-v2/auth"))
        .args([
            "--",
            "post",
            &format!(
                "grant_type=refresh_token&service=registry&scope=repository:dev/app:pull\
                 &refresh_token={identity}"
            ),
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&wrk_log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("wrk (scripts/install-test-deps.sh installs it)");
    let mut wrk = KillOnDrop(wrk);

    let stop = AtomicBool::new(false);
    let tally = Tally::default();
    let mut in_flight_on_killed = 0;
    let mut restarts: Vec<(String, Duration, Duration)> = Vec::new();
    let mut killed_back_in = Duration::ZERO;
    let mut retried_after_kill = 0;
    let started = Instant::now();
    std::thread::scope(|scope| {
        // The loops end when the scenario does, or fails: the scope waits for them.
        let _stop = StopOnDrop(&stop);
        for n in 0..SKOPEO_LOOPS {
            let (source, registry, scratch, stop, tally) =
                (&source, &registry, &scratch, &stop, &tally);
            scope.spawn(move || skopeo_loop(n, source, registry, scratch, stop, tally));
        }
        scope.spawn(|| writer_loop(&admin, &stop, &tally));

        std::thread::sleep(WARM_UP);
        let victim = &mut replicas[1];
        in_flight_on_killed = balancer
            .server_field(&victim.name, "scur")
            .parse::<usize>()
            .unwrap();
        victim.kill();
        std::thread::sleep(killed_for());
        let restarted = Instant::now();
        victim.start();
        balancer.wait_up(&victim.name);
        killed_back_in = restarted.elapsed();
        retried_after_kill = retried(&balancer.requests());

        for replica in &mut replicas {
            let drained = replica.terminate();
            let restarted = Instant::now();
            replica.start();
            balancer.wait_up(&replica.name);
            restarts.push((replica.name.clone(), drained, restarted.elapsed()));
        }
        std::thread::sleep(Duration::from_secs(3));
    });
    // On SIGINT wrk stops and prints its summary.
    signal(&wrk.0, libc::SIGINT);
    assert!(wrk.0.wait().unwrap().success());
    let elapsed = started.elapsed();
    let wrk_output = std::fs::read_to_string(&wrk_log).unwrap();
    let figures = wrk_figures(&wrk_output);
    let figure = |key: &str| -> u64 {
        figures
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("wrk printed no {key}:\n{wrk_output}"))
    };

    // Every acknowledged user is there, read through the balancer.
    let users: Vec<Value> = admin
        .send(reqwest::Method::GET, "/team/users?max=100000", None)
        .unwrap()
        .json()
        .unwrap();
    let present: std::collections::HashSet<&str> = users
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    let created = tally.created.lock().unwrap();
    let lost: Vec<&String> = created
        .iter()
        .filter(|u| !present.contains(u.as_str()))
        .collect();

    let logged = balancer.requests();
    let retried_in_all = retried(&logged);
    let balancer_5xx = logged.iter().filter(|r| r.1 >= 500 || r.1 < 0).count();
    let token_errors = figure("status_other") + figure("socket_errors");
    let skopeo_failed = tally.skopeo_failed.lock().unwrap();
    let writer_errors = tally.writer_errors.lock().unwrap();
    println!("failover figures (run of {:.1} s):", elapsed.as_secs_f64());
    println!(
        "  skopeo operations: {} ok, {} failed",
        tally.skopeo_ok.load(Ordering::Relaxed),
        skopeo_failed.len()
    );
    println!(
        "  wrk refresh grants: {} requests, {} non-200, {} socket errors, {:.0} req/s, p50 {} ms, p99 {} ms, max {} ms",
        figure("requests"),
        figure("status_other"),
        figure("socket_errors"),
        figure("requests") as f64 / (figure("duration_us") as f64 / 1e6),
        figure("latency_p50_us") / 1000,
        figure("latency_p99_us") / 1000,
        figure("latency_max_us") / 1000,
    );
    println!("  in flight on the killed replica (HAProxy scur): {in_flight_on_killed}");
    println!(
        "  HAProxy: {} requests logged, {balancer_5xx} answered 5xx; retried on another replica: \
         {retried_after_kill} around the SIGKILL (in flight or sent before the replica was marked down), {} during the rolling restarts",
        logged.len(),
        retried_in_all - retried_after_kill
    );
    println!(
        "  writer: {} users acknowledged, {} lost, {} conflicts after a retry, {} errors",
        created.len(),
        lost.len(),
        tally.conflicts.load(Ordering::Relaxed),
        writer_errors.len()
    );
    println!(
        "  killed replica back in service {:.2} s after its restart",
        killed_back_in.as_secs_f64()
    );
    for (name, drained, back) in &restarts {
        println!(
            "  rolling restart {name}: exited {:.2} s after SIGTERM, back in service {:.2} s after start",
            drained.as_secs_f64(),
            back.as_secs_f64()
        );
    }

    assert!(
        skopeo_failed.is_empty(),
        "skopeo operations failed:\n{}",
        skopeo_failed.join("\n\n")
    );
    assert!(
        tally.skopeo_ok.load(Ordering::Relaxed) >= 2 * SKOPEO_LOOPS,
        "the skopeo loops ran"
    );
    assert!(
        figure("status_200") > 100,
        "the token load ran: {wrk_output}"
    );
    assert!(
        token_errors <= in_flight_on_killed as u64,
        "{token_errors} token errors, more than the {in_flight_on_killed} requests in flight \
         on the killed replica: {wrk_output}"
    );
    assert!(
        retried_after_kill > 0,
        "the killed replica was sent requests (HAProxy retried them elsewhere)"
    );
    assert!(created.len() > 10, "the writer ran");
    assert!(lost.is_empty(), "acknowledged users lost: {lost:?}");
    assert!(writer_errors.is_empty(), "writer errors: {writer_errors:?}");
    for (name, drained, _) in &restarts {
        assert!(
            *drained < Duration::from_secs(10),
            "{name} took {drained:?} to stop on SIGTERM"
        );
    }
}

#[test]
fn on_sigterm_readiness_goes_down_while_requests_are_still_served() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(crate::postgres::new_database());
    let mut replica = Replica::new(0, dir.path(), &db_url, "http://127.0.0.1:1");
    replica.start();
    let http = Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", replica.port);
    let status = |path: &str| http.get(url(path)).send().map(|r| r.status().as_u16());
    let mut child = replica.child.take().unwrap();
    let signalled = Instant::now();
    signal(&child, libc::SIGTERM);
    while status("/health/ready").unwrap() == 200 {
        assert!(
            signalled.elapsed() < Duration::from_millis(500),
            "readiness still up after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let down_after = signalled.elapsed();
    let mut served_while_down = 0;
    while signalled.elapsed() < Duration::from_millis(1500) {
        assert_eq!(status("/health/ready").unwrap(), 503);
        assert_eq!(
            status("/realms/master/.well-known/openid-configuration").unwrap(),
            200,
            "requests are served during the shutdown delay"
        );
        served_while_down += 1;
    }
    let exit = child.wait().unwrap();
    let exited_after = signalled.elapsed();
    assert!(exit.success(), "exit on SIGTERM: {exit}");
    assert!(
        exited_after >= Duration::from_secs(2) && exited_after < Duration::from_secs(5),
        "exited {exited_after:?} after SIGTERM with --shutdown-delay={SHUTDOWN_DELAY}"
    );
    assert!(status("/health/live").is_err(), "the listener is closed");
    println!(
        "readiness down {down_after:?} after SIGTERM, {served_while_down} requests served while \
         down, exited after {exited_after:?}"
    );
}
