//! The access policy's deny and address rules, enforced by a real registry (2.8) for skopeo:
//! a deny rule stops a push an allow rule permits, an address rule admits 127.0.0.1 and
//! refuses when it names another network, and behind HAProxy with `--proxy-headers` the
//! forwarded address decides.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::peers::{describe, oci_image_layout, skopeo, Registry};

/// Realm `team`, docker client `registry`, user `dev` / `pw`; answers the client's id.
async fn team(app: &TestApp) -> String {
    app.create_realm("team").await;
    let client = app.create_docker_client("team", "registry").await;
    app.create_user("team", "dev", "pw").await;
    client
}

/// A registry that sends clients for tokens to `base` (keywarden, or a proxy in front).
async fn registry(app: &TestApp, base: &str) -> Registry {
    let bundle = app
        .get("/realms/team/protocol/docker-v2/trust-chain")
        .await
        .text()
        .await
        .unwrap();
    let issuer = format!("{base}/realms/team");
    Registry::start(
        &format!("{issuer}/protocol/docker-v2/auth"),
        "registry",
        &issuer,
        &bundle,
    )
}

async fn set_policy(app: &TestApp, client: &str, rules: Value) {
    let response = app
        .admin(
            Method::PUT,
            &format!("/team/clients/{client}/docker-access-policy"),
            Some(json!({"mode": "rules", "rules": rules})),
        )
        .await;
    assert_eq!(response.status(), 204);
}

/// Skopeo, logged in as `dev`, and a one-tag image to push.
struct Pusher {
    dir: tempfile::TempDir,
    source: String,
    host: String,
}

impl Pusher {
    fn login(registry: &Registry) -> Pusher {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        std::fs::create_dir_all(&layout).unwrap();
        oci_image_layout(&layout, "v1");
        let pusher = Pusher {
            source: format!("oci:{}:v1", layout.display()),
            host: registry.host(),
            dir,
        };
        let authfile = pusher.authfile();
        let output = skopeo(&[
            "login",
            "--tls-verify=false",
            "--authfile",
            &authfile,
            "-u",
            "dev",
            "-p",
            "pw",
            &pusher.host,
        ]);
        assert!(output.status.success(), "login:\n{}", describe(&output));
        pusher
    }

    fn authfile(&self) -> String {
        self.dir.path().join("auth.json").display().to_string()
    }

    fn push(&self, repository: &str) -> std::process::Output {
        skopeo(&[
            "copy",
            "--dest-tls-verify=false",
            "--authfile",
            &self.authfile(),
            &self.source,
            &format!("docker://{}/{repository}:v1", self.host),
        ])
    }

    fn pull(&self, repository: &str) -> std::process::Output {
        skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--authfile",
            &self.authfile(),
            &format!("docker://{}/{repository}:v1", self.host),
        ])
    }
}

fn assert_ok(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        describe(output)
    );
}

fn assert_refused(output: &std::process::Output, what: &str) {
    assert!(
        !output.status.success(),
        "{what} should be refused:\n{}",
        describe(output)
    );
    let text = describe(output).to_lowercase();
    assert!(
        [
            "denied",
            "insufficient_scope",
            "unauthorized",
            "authentication required"
        ]
        .iter()
        .any(|n| text.contains(n)),
        "{what}: not an authorization failure:\n{}",
        describe(output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deny_rule_stops_a_push_that_an_allow_rule_permits() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let registry = registry(&app, &app.address).await;
    set_policy(&app, &client, json!([
        {"repository": "**", "who": "authenticated", "actions": ["pull", "push"]},
        {"effect": "deny", "repository": "prod/**", "who": "authenticated", "actions": ["push"]},
    ]))
    .await;
    let pusher = Pusher::login(&registry);
    assert_ok(
        &pusher.push("dev/app"),
        "push where only the allow rule matches",
    );
    assert_refused(&pusher.push("prod/app"), "push under the deny rule");
    assert_ok(&pusher.pull("dev/app"), "pull");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_rule_admits_loopback_and_refuses_when_it_names_another_network() {
    let app = spawn_app().await;
    let client = team(&app).await;
    let registry = registry(&app, &app.address).await;
    let rule = |networks: &[&str]| json!([{"repository": "**", "who": "authenticated", "actions": ["pull", "push"], "ip": networks}]);
    set_policy(&app, &client, rule(&["127.0.0.1", "::1"])).await;
    let pusher = Pusher::login(&registry);
    assert_ok(&pusher.push("team/app"), "push from 127.0.0.1");
    set_policy(&app, &client, rule(&["10.0.0.0/8"])).await;
    assert_refused(&pusher.push("team/other"), "push from outside 10.0.0.0/8");
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_proxy_the_forwarded_address_decides() {
    let app = spawn_app_with(|s| s.proxy_headers = true).await;
    let client = team(&app).await;
    let proxy = Haproxy::start(&app.address, "192.0.2.9");
    let registry = registry(&app, &proxy.base()).await;
    let rule = |networks: &[&str]| json!([{"repository": "**", "who": "authenticated", "actions": ["pull", "push"], "ip": networks}]);
    set_policy(&app, &client, rule(&["192.0.2.0/24"])).await;
    let pusher = Pusher::login(&registry);
    assert_ok(&pusher.push("team/app"), "push forwarded for 192.0.2.9");
    set_policy(&app, &client, rule(&["127.0.0.0/8"])).await;
    assert_refused(
        &pusher.push("team/other"),
        "push forwarded for 192.0.2.9, though the proxy itself is on 127.0.0.1",
    );
}

/// HAProxy in front of keywarden, setting `X-Forwarded-For` to a fixed address; killed on drop.
struct Haproxy {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    fn start(upstream: &str, forwarded_for: &str) -> Haproxy {
        let upstream = upstream.trim_start_matches("http://");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "global\n    maxconn 64\n\
                 defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
                 frontend tokens\n    bind 127.0.0.1:{port}\n    http-request set-header X-Forwarded-For {forwarded_for}\n    default_backend keywarden\n\
                 backend keywarden\n    server k1 {upstream}\n"
            ),
        )
        .unwrap();
        let child = Command::new(haproxy_binary())
            .args(["-db", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        let proxy = Haproxy {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "haproxy did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        proxy
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn haproxy_binary() -> PathBuf {
    ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| Path::new(path).is_file())
        .expect("haproxy is not installed: scripts/install-test-deps.sh installs Debian's package")
}
