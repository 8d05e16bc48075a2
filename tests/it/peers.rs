//! Real peers for end-to-end tests: the Docker registry, dockerd, skopeo and podman.
//!
//! Install them with `scripts/install-test-deps.sh` (Debian 12, as root). A test that needs a
//! missing tool fails loudly through [`require_tool`]; nothing is ever skipped.
//!
//! Every peer lives in a fresh temporary directory of its own and is stopped by `Drop`:
//! - [`Registry`]: `docker-registry serve` (distribution 2.8) on `127.0.0.1:<free port>`, plain
//!   HTTP, filesystem storage in the temp dir, token auth. It runs with an empty environment plus
//!   `PATH`: the registry reads every `REGISTRY_*` variable as a config override, and
//!   `REGISTRY_AUTH_FILE` (set for skopeo and podman) kills it at start.
//! - [`Dockerd`]: dockerd 20.10 (docker.io) as root with a private socket, data root, exec root,
//!   pidfile, `daemon.json` and containerd namespaces (it starts a containerd of its own unless
//!   the system one runs), so it never meets the machine's `/var/run/docker.sock` or
//!   `/var/lib/docker`, and several can run at once. Flags:
//!   `--iptables=false --ip-masq=false --bridge=none --storage-driver=vfs`. overlay2 works on
//!   these machines too; vfs is used because it needs no kernel support and mounts nothing (the
//!   test images are a few hundred bytes). dockerd bind-mounts its data root onto itself; `Drop`
//!   stops it with SIGTERM (it unmounts on the way out) and detaches whatever a killed daemon
//!   left mounted. The one shared file is `/etc/docker/key.json`, the trust key dockerd 20.10
//!   creates once and cannot be pointed elsewhere.
//!   The CLI is `/usr/bin/docker` (the docker.io client, API 1.41) when it exists, so that a newer
//!   `docker` earlier on `PATH` does not change what the tests see.
//! - [`Podman`]: private `--root`, `--runroot`, `--tmpdir`, vfs storage and an auth file of its
//!   own. `podman run` does not work in these sandboxes; login, pull, tag and push do.
//! - [`skopeo`]: runs skopeo; pass `--authfile` to anything that logs in.
//! - [`oci_image_layout`]: a tiny image built by hand, so nothing needs the internet.
//!
//! The clients call back into keywarden's token endpoint while the test thread waits for them, so
//! tests that drive them against a server spawned on the test's runtime must run as
//! `#[tokio::test(flavor = "multi_thread")]`: on a current-thread runtime the server could never
//! answer. The command runners panic on a current-thread runtime instead of deadlocking, and kill
//! any command that runs longer than [`COMMAND_TIMEOUT`].

// Shared infrastructure: each test module uses only part of it.
#![allow(dead_code)]

use crate::helpers::free_port;
use std::ffi::{CString, OsString};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// How long one client command (docker, skopeo, podman) may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

const REGISTRY_READY_TIMEOUT: Duration = Duration::from_secs(20);
const DOCKERD_READY_TIMEOUT: Duration = Duration::from_secs(60);
const DOCKERD_STOP_TIMEOUT: Duration = Duration::from_secs(20);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const REGISTRY_PORT_ATTEMPTS: u32 = 3;
const REGISTRY_HTTP_SECRET: &str = "keywarden-tests-registry-secret";
const INSTALL_HINT: &str = "install it with scripts/install-test-deps.sh (as root)";
const STANDARD_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Panics with a loud message unless `name` (a command, or a path) is an installed executable.
pub fn require_tool(name: &str) {
    tool(name);
}

/// An `Output` as text for assertion messages: the exit status, then stdout and stderr.
pub fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim_end(),
        String::from_utf8_lossy(&output.stderr).trim_end(),
    )
}

/// Runs `skopeo ARGS` with `PATH` as its only environment variable.
///
/// Pass `--authfile FILE` to anything that logs in: otherwise skopeo uses the machine's
/// `/run/containers/0/auth.json`. Remember `--tls-verify=false` for the plain-HTTP registry.
pub fn skopeo(args: &[&str]) -> Output {
    let mut command = Command::new(tool("skopeo"));
    command.args(args).env_clear().env("PATH", search_path());
    run(command, None)
}

/// A real Docker registry (distribution 2.8) on `127.0.0.1:<free port>`, killed on drop.
pub struct Registry {
    child: Child,
    port: u16,
    dir: TempDir,
}

/// One attempt at starting a registry: the config file and the `REGISTRY_*` overrides.
struct RegistryLaunch {
    config_yml: String,
    overrides: Vec<(&'static str, String)>,
}

impl RegistryLaunch {
    /// Whether the registry serves HTTPS.
    fn tls(&self) -> bool {
        self.overrides
            .iter()
            .any(|(name, _)| *name == "REGISTRY_HTTP_TLS_CERTIFICATE")
    }
}

impl Registry {
    /// Starts a registry that sends clients to `token_realm_url` for tokens and trusts tokens for
    /// `service` from `issuer` signed by a key certified in `rootcertbundle_pem`.
    ///
    /// Its `config.yml` sets storage in the temp dir with delete enabled, `http.addr`,
    /// `http.secret`, `auth.token` and log level info. Returns once `GET /v2/` answers 401.
    pub fn start(
        token_realm_url: &str,
        service: &str,
        issuer: &str,
        rootcertbundle_pem: &str,
    ) -> Registry {
        let dir = temp_dir("registry");
        let bundle = write_bundle(&dir, rootcertbundle_pem);
        let storage = dir.path().join("storage");
        let auth = TokenAuth {
            realm: token_realm_url,
            service,
            issuer,
            rootcertbundle: &bundle,
        };
        Registry::launch(dir, |port| RegistryLaunch {
            config_yml: token_config(port, &storage, &auth),
            overrides: Vec::new(),
        })
    }

    /// Like [`Registry::start`], serving HTTPS with the PEM `certificate` and `key` files
    /// instead of plain HTTP (`REGISTRY_HTTP_TLS_*`). Returns once it listens and answers a
    /// plain-HTTP probe with Go's 400 for HTTP spoken to an HTTPS server.
    pub fn start_tls(
        token_realm_url: &str,
        service: &str,
        issuer: &str,
        rootcertbundle_pem: &str,
        certificate: &Path,
        key: &Path,
    ) -> Registry {
        let dir = temp_dir("registry");
        let bundle = write_bundle(&dir, rootcertbundle_pem);
        let storage = dir.path().join("storage");
        let auth = TokenAuth {
            realm: token_realm_url,
            service,
            issuer,
            rootcertbundle: &bundle,
        };
        Registry::launch(dir, |port| RegistryLaunch {
            config_yml: token_config(port, &storage, &auth),
            overrides: vec![
                (
                    "REGISTRY_HTTP_TLS_CERTIFICATE",
                    certificate.display().to_string(),
                ),
                ("REGISTRY_HTTP_TLS_KEY", key.display().to_string()),
            ],
        })
    }

    /// Starts a registry from a caller's `config.yml` (for instance one downloaded from
    /// keywarden), written verbatim into the temp dir with the registry's own overrides on top:
    /// - `version: 0.1` is prepended when the file has no top-level `version`;
    /// - `REGISTRY_HTTP_ADDR=127.0.0.1:<free port>` and `REGISTRY_HTTP_SECRET`;
    /// - `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=<temp dir>/storage` (so a config that names
    ///   another storage driver is refused by the registry) and
    ///   `REGISTRY_STORAGE_DELETE_ENABLED=true`;
    /// - `REGISTRY_LOG_LEVEL=info`.
    ///
    /// Everything else, `auth.token` included, is the caller's. Relative paths resolve in the
    /// temp dir. Returns once `GET /v2/` answers 401, so the config must set up token auth.
    pub fn start_with_config(config_yml: &str) -> Registry {
        Registry::start_overriding(temp_dir("registry"), config_yml, Vec::new())
    }

    /// Like [`Registry::start_with_config`], and also writes `rootcertbundle_pem` into the temp
    /// dir and points `REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE` at it: for configs that leave
    /// `rootcertbundle` out (as Keycloak's does) or name a path that only exists elsewhere.
    pub fn start_with_config_and_bundle(config_yml: &str, rootcertbundle_pem: &str) -> Registry {
        let dir = temp_dir("registry");
        let bundle = write_bundle(&dir, rootcertbundle_pem);
        let overrides = vec![(
            "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE",
            bundle.display().to_string(),
        )];
        Registry::start_overriding(dir, config_yml, overrides)
    }

    /// The port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`, the registry's name in image references.
    pub fn host(&self) -> String {
        loopback(self.port)
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// Everything the registry printed so far; it logs why it rejects a token (info level).
    pub fn log(&self) -> String {
        read_lossy(&registry_log_path(self.dir.path()))
    }

    fn start_overriding(
        dir: TempDir,
        config_yml: &str,
        mut overrides: Vec<(&'static str, String)>,
    ) -> Registry {
        let storage = dir.path().join("storage");
        overrides.extend([
            ("REGISTRY_HTTP_SECRET", REGISTRY_HTTP_SECRET.to_owned()),
            (
                "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY",
                storage.display().to_string(),
            ),
            ("REGISTRY_STORAGE_DELETE_ENABLED", "true".to_owned()),
            ("REGISTRY_LOG_LEVEL", "info".to_owned()),
        ]);
        let config_yml = with_version(config_yml);
        Registry::launch(dir, |port| {
            let mut overrides = overrides.clone();
            overrides.push(("REGISTRY_HTTP_ADDR", loopback(port)));
            RegistryLaunch {
                config_yml: config_yml.clone(),
                overrides,
            }
        })
    }

    /// Starts the registry on a free port, trying another port if that one was taken meanwhile.
    fn launch(dir: TempDir, plan: impl Fn(u16) -> RegistryLaunch) -> Registry {
        let binary = tool("docker-registry");
        let mut attempt = 1;
        loop {
            let port = free_port();
            let launch = plan(port);
            let mut child = spawn_registry(&binary, dir.path(), &launch);
            match wait_for_registry(&mut child, port, dir.path(), launch.tls()) {
                Ok(()) => return Registry { child, port, dir },
                Err(problem) => {
                    stop(&mut child);
                    let log = read_lossy(&registry_log_path(dir.path()));
                    if attempt < REGISTRY_PORT_ATTEMPTS && log.contains("address already in use") {
                        attempt += 1;
                        continue;
                    }
                    panic!("docker-registry did not start: {problem}\n--- registry log ---\n{log}");
                }
            }
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The `auth.token` section of a registry config.
struct TokenAuth<'a> {
    realm: &'a str,
    service: &'a str,
    issuer: &'a str,
    rootcertbundle: &'a Path,
}

/// A complete registry config: loopback HTTP, filesystem storage, token auth.
fn token_config(port: u16, storage: &Path, auth: &TokenAuth) -> String {
    format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
         http:\n  addr: {addr}\n  secret: {secret}\n\
         auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    \
         rootcertbundle: {bundle}\n",
        storage = yaml_string(&storage.display().to_string()),
        addr = yaml_string(&loopback(port)),
        secret = yaml_string(REGISTRY_HTTP_SECRET),
        realm = yaml_string(auth.realm),
        service = yaml_string(auth.service),
        issuer = yaml_string(auth.issuer),
        bundle = yaml_string(&auth.rootcertbundle.display().to_string()),
    )
}

/// A YAML double-quoted scalar (a JSON string is one).
fn yaml_string(value: &str) -> String {
    Value::from(value).to_string()
}

/// The config with `version: 0.1` in front unless it has a top-level `version` already.
fn with_version(config_yml: &str) -> String {
    if config_yml.lines().any(|line| line.starts_with("version:")) {
        config_yml.to_owned()
    } else {
        format!("version: 0.1\n{config_yml}")
    }
}

/// Writes the PEM bundle into the registry's dir; the registry panics on an empty bundle.
fn write_bundle(dir: &TempDir, pem: &str) -> PathBuf {
    assert!(
        pem.contains("-----BEGIN CERTIFICATE-----"),
        "the registry needs at least one PEM certificate in its rootcertbundle, got {pem:?}"
    );
    let path = dir.path().join("rootcertbundle.pem");
    fs::write(&path, pem).expect("write the rootcertbundle");
    path
}

fn registry_log_path(dir: &Path) -> PathBuf {
    dir.join("registry.log")
}

fn spawn_registry(binary: &Path, dir: &Path, launch: &RegistryLaunch) -> Child {
    let config = dir.join("config.yml");
    fs::write(&config, &launch.config_yml).expect("write the registry config");
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .arg(&config)
        .current_dir(dir)
        .env_clear()
        .env("PATH", search_path())
        .envs(launch.overrides.iter().cloned());
    spawn_logged(command, &registry_log_path(dir))
}

/// Waits until the registry says it listens and `GET /v2/` answers 401 (token auth is up), or
/// says why it never will. Probing only after its own "listening on" line means a port taken
/// by someone else in the meantime is never mistaken for the registry.
fn wait_for_registry(child: &mut Child, port: u16, dir: &Path, tls: bool) -> Result<(), String> {
    let deadline = Instant::now() + REGISTRY_READY_TIMEOUT;
    let listening = format!("listening on {}", loopback(port));
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("poll docker-registry") {
            return Err(format!("it exited with {status}"));
        }
        if !read_lossy(&registry_log_path(dir)).contains(&listening) {
            thread::sleep(POLL_INTERVAL);
            continue;
        }
        match tcp_status(port, "/v2/") {
            Some(401) => return Ok(()),
            Some(400) if tls => return Ok(()),
            Some(status) => {
                return Err(format!(
                    "GET /v2/ answered {status} instead of 401: is token auth configured?"
                ))
            }
            None => thread::sleep(POLL_INTERVAL),
        }
    }
    Err(format!(
        "GET /v2/ did not answer within {REGISTRY_READY_TIMEOUT:?}"
    ))
}

/// A private dockerd (and its containerd), stopped and cleaned up on drop.
pub struct Dockerd {
    child: Child,
    dir: TempDir,
    cli: PathBuf,
}

impl Dockerd {
    /// Starts dockerd as root in a fresh temp dir, trusting `insecure_registry` (`host:port`)
    /// over plain HTTP. Returns once the daemon answers on its socket.
    pub fn start(insecure_registry: &str) -> Dockerd {
        let dockerd = tool("dockerd");
        for helper in ["containerd", "runc", "docker-init"] {
            require_tool(helper);
        }
        assert!(
            is_root(),
            "dockerd needs root: run the docker end-to-end tests as root"
        );
        let cli = docker_cli();
        let dir = temp_dir("dockerd");
        fs::write(dir.path().join("daemon.json"), "{}\n").expect("write daemon.json");
        fs::create_dir(dir.path().join("cli")).expect("create the CLI config dir");
        let mut command = Command::new(dockerd);
        command
            .args(dockerd_args(dir.path(), insecure_registry))
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", search_path());
        let child = spawn_logged(command, &dir.path().join("dockerd.log"));
        let mut daemon = Dockerd { child, dir, cli };
        if let Err(problem) = daemon.wait_until_ready() {
            panic!(
                "dockerd did not start: {problem}\n--- dockerd log ---\n{}",
                daemon.log()
            );
        }
        daemon
    }

    /// Runs the docker CLI against this daemon, with its own `DOCKER_CONFIG` and `HOME`.
    pub fn docker(&self, args: &[&str]) -> Output {
        run(self.cli_command(args), None)
    }

    /// `docker login --username USER --password-stdin REGISTRY`, the password on stdin.
    pub fn docker_login(&self, registry: &str, user: &str, password: &str) -> Output {
        let command =
            self.cli_command(&["login", "--username", user, "--password-stdin", registry]);
        run(command, Some(password.as_bytes()))
    }

    /// `$DOCKER_CONFIG/config.json` (where login keeps `auths`), or `Null` before the CLI wrote it.
    pub fn config_json(&self) -> Value {
        let path = self.config_dir().join("config.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display())),
            Err(_) => Value::Null,
        }
    }

    /// The CLI's private `DOCKER_CONFIG` directory.
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("cli")
    }

    /// `unix:///…/docker.sock`, the daemon's `DOCKER_HOST`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Loads image `tag` of an OCI layout into the daemon as `reference` (skopeo writes a
    /// docker-archive, `docker load` reads it): an image to push without any network.
    /// Returns the first command that failed, or `docker load`'s output.
    pub fn load_oci_image(&self, layout: &Path, tag: &str, reference: &str) -> Output {
        load_through_archive(layout, tag, reference, |archive| {
            self.docker(&["load", "--input", archive])
        })
    }

    /// Everything dockerd (and its containerd) printed so far.
    pub fn log(&self) -> String {
        read_lossy(&self.dir.path().join("dockerd.log"))
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    fn cli_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.cli);
        command
            .args(args)
            .env_clear()
            .env("PATH", search_path())
            .env("HOME", self.dir.path())
            .env("DOCKER_HOST", self.docker_host())
            .env("DOCKER_CONFIG", self.config_dir());
        command
    }

    /// Waits until `GET /_ping` on the socket answers 200 (what `docker version` needs).
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + DOCKERD_READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("poll dockerd") {
                return Err(format!("it exited with {status}"));
            }
            if unix_status(&self.socket(), "/_ping") == Some(200) {
                return Ok(());
            }
            thread::sleep(POLL_INTERVAL);
        }
        Err(format!(
            "its socket did not answer within {DOCKERD_READY_TIMEOUT:?}"
        ))
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        terminate(&mut self.child, DOCKERD_STOP_TIMEOUT);
        unmount_all_under(self.dir.path());
    }
}

/// dockerd's flags: everything it owns inside `dir`, no host networking changes. dockerd 20.10
/// uses the system containerd instead of its own when `/run/containerd/containerd.sock` exists,
/// hence containerd namespaces of its own.
fn dockerd_args(dir: &Path, insecure_registry: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    for (flag, name) in [
        ("--config-file", "daemon.json"),
        ("--data-root", "data"),
        ("--exec-root", "exec"),
        ("--pidfile", "docker.pid"),
    ] {
        args.push(flag.into());
        args.push(dir.join(name).into());
    }
    let host = format!("unix://{}", dir.join("docker.sock").display());
    let namespace = dir
        .file_name()
        .expect("a temp dir has a name")
        .to_string_lossy()
        .into_owned();
    let plugins_namespace = format!("{namespace}-plugins");
    args.extend(
        [
            "--host",
            &host,
            "--containerd-namespace",
            &namespace,
            "--containerd-plugins-namespace",
            &plugins_namespace,
            "--storage-driver=vfs",
            "--iptables=false",
            "--ip-masq=false",
            "--bridge=none",
            "--insecure-registry",
            insecure_registry,
        ]
        .map(OsString::from),
    );
    args
}

/// Copies image `tag` of an OCI layout to a temporary docker-archive named `reference`, then
/// hands the archive's path to `load`. Returns skopeo's output if the copy failed.
fn load_through_archive(
    layout: &Path,
    tag: &str,
    reference: &str,
    load: impl FnOnce(&str) -> Output,
) -> Output {
    let scratch = temp_dir("archive");
    let archive = scratch.path().join("image.tar");
    let source = format!("oci:{}:{tag}", layout.display());
    let destination = format!("docker-archive:{}:{reference}", archive.display());
    let copied = skopeo(&["copy", &source, &destination]);
    if !copied.status.success() {
        return copied;
    }
    load(&archive.display().to_string())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The docker.io package's CLI when present, whatever `docker` comes first on `PATH` otherwise.
fn docker_cli() -> PathBuf {
    let packaged = Path::new("/usr/bin/docker");
    if is_executable(packaged) {
        packaged.to_owned()
    } else {
        tool("docker")
    }
}

/// Podman with a store, run dir, temp dir and auth file of its own.
pub struct Podman {
    binary: PathBuf,
    dir: TempDir,
}

impl Podman {
    /// A podman with a fresh private store (vfs) and an empty auth file in a temp dir.
    pub fn new() -> Podman {
        let podman = Podman {
            binary: tool("podman"),
            dir: temp_dir("podman"),
        };
        // podman refuses to pull when REGISTRY_AUTH_FILE names a file that does not exist.
        fs::write(podman.authfile(), "{\"auths\":{}}\n").expect("write the podman auth file");
        podman
    }

    /// Runs `podman GLOBAL-FLAGS ARGS`; `login`, `pull` and `push` share [`Podman::authfile`].
    pub fn run(&self, args: &[&str]) -> Output {
        let dir = self.dir.path();
        let mut command = Command::new(&self.binary);
        command
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .arg("--tmpdir")
            .arg(dir.join("libpod"))
            .args([
                "--storage-driver=vfs",
                "--cgroup-manager=cgroupfs",
                "--events-backend=file",
            ])
            .args(args)
            .env_clear()
            .env("PATH", search_path())
            .env("HOME", dir)
            .env("REGISTRY_AUTH_FILE", self.authfile());
        run(command, None)
    }

    /// The auth file podman logs in to (`REGISTRY_AUTH_FILE`).
    pub fn authfile(&self) -> PathBuf {
        self.dir.path().join("auth.json")
    }

    /// Loads image `tag` of an OCI layout into podman's store as `reference`, like
    /// [`Dockerd::load_oci_image`] (`podman pull oci:…` would name it after the directory).
    pub fn load_oci_image(&self, layout: &Path, tag: &str, reference: &str) -> Output {
        load_through_archive(layout, tag, reference, |archive| {
            self.run(&["load", "--input", archive])
        })
    }

    /// podman's graph root, where its images are stored.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
}

impl Default for Podman {
    fn default() -> Podman {
        Podman::new()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        unmount_all_under(self.dir.path());
    }
}

/// The digests of an image written by [`oci_image_layout`], each `sha256:<hex>`.
pub struct OciImage {
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_digest: String,
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Writes a tiny image into the OCI layout at `dir` (created if needed) under `tag`, for
/// `oci:DIR:TAG`: one gzipped layer holding `keywarden-test.txt` (whose text names the tag, so
/// each tag is a different image), a linux config for this machine's architecture, a manifest,
/// `index.json` and `oci-layout`. Further tags join the same `index.json`.
pub fn oci_image_layout(dir: &Path, tag: &str) -> OciImage {
    let blobs = dir.join("blobs").join("sha256");
    fs::create_dir_all(&blobs).expect("create blobs/sha256");
    let layer_tar = tar_with_file(
        "keywarden-test.txt",
        format!("keywarden test image {tag}\n").as_bytes(),
    );
    let layer = write_blob(&blobs, &gzip(&layer_tar));
    let config = write_blob(&blobs, &image_config(&sha256_digest(&layer_tar)));
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(OCI_CONFIG),
        "layers": [layer.descriptor(OCI_LAYER)],
    });
    let manifest = write_blob(&blobs, manifest.to_string().as_bytes());
    add_to_index(dir, tag, &manifest);
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("write oci-layout");
    OciImage {
        manifest_digest: manifest.digest,
        config_digest: config.digest,
        layer_digest: layer.digest,
    }
}

/// A blob written under `blobs/sha256/`.
struct Blob {
    digest: String,
    size: usize,
}

impl Blob {
    fn descriptor(&self, media_type: &str) -> Value {
        json!({"mediaType": media_type, "digest": self.digest, "size": self.size})
    }
}

fn write_blob(blobs: &Path, bytes: &[u8]) -> Blob {
    let digest = sha256_digest(bytes);
    let hex = digest.trim_start_matches("sha256:");
    fs::write(blobs.join(hex), bytes).expect("write a blob");
    Blob {
        digest,
        size: bytes.len(),
    }
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
    )
}

/// An image config: this machine's architecture, linux, one layer.
fn image_config(diff_id: &str) -> Vec<u8> {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    json!({
        "architecture": architecture,
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "keywarden tests"}],
    })
    .to_string()
    .into_bytes()
}

/// Adds (or replaces) the manifest for `tag` in the layout's `index.json`.
fn add_to_index(dir: &Path, tag: &str, manifest: &Blob) {
    let path = dir.join("index.json");
    let mut manifests: Vec<Value> = match fs::read(&path) {
        Ok(bytes) => {
            let index: Value = serde_json::from_slice(&bytes).expect("index.json is JSON");
            index["manifests"].as_array().cloned().unwrap_or_default()
        }
        Err(_) => Vec::new(),
    };
    manifests.retain(|entry| entry["annotations"][OCI_REF_NAME] != tag);
    let mut entry = manifest.descriptor(OCI_MANIFEST);
    entry["annotations"] = json!({ OCI_REF_NAME: tag });
    manifests.push(entry);
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
    fs::write(&path, index.to_string()).expect("write index.json");
}

/// A ustar archive holding one regular file (mode 0644, owner root, mtime 0).
fn tar_with_file(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let mut put = |offset: usize, value: &[u8]| {
        header[offset..offset + value.len()].copy_from_slice(value);
    };
    put(0, name.as_bytes());
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", contents.len()).as_bytes());
    put(136, b"00000000000\0");
    put(148, b"        ");
    put(156, b"0");
    put(257, b"ustar\x0000");
    put(265, b"root");
    put(297, b"root");
    let checksum: u32 = header.iter().map(|&byte| u32::from(byte)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(contents);
    tar.resize(tar.len().next_multiple_of(512) + 1024, 0);
    tar
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Runs a client command to completion with captured output, killed after [`COMMAND_TIMEOUT`].
fn run(mut command: Command, stdin: Option<&[u8]>) -> Output {
    refuse_current_thread_runtime(&command);
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input).expect("write the command's stdin");
    }
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let (status, timed_out) = match wait_timeout(&mut child, COMMAND_TIMEOUT) {
        Some(status) => (status, false),
        None => {
            stop(&mut child);
            (child.wait().expect("wait for the killed command"), true)
        }
    };
    let mut stderr = stderr.join().expect("stderr reader");
    if timed_out {
        stderr.extend(format!("\n[peers] killed after {COMMAND_TIMEOUT:?}\n").bytes());
    }
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr,
    }
}

/// Blocking for a client on a current-thread runtime would starve the server it talks to.
fn refuse_current_thread_runtime(command: &Command) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let current_thread = Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::CurrentThread);
    assert!(
        !current_thread,
        "{:?} would block the only thread of this test's runtime and keywarden could never \
         answer it: use #[tokio::test(flavor = \"multi_thread\")]",
        command.get_program()
    );
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Starts a long-running peer with stdout and stderr appended to `log`.
fn spawn_logged(mut command: Command, log: &Path) -> Child {
    let file = File::create(log).expect("create the log file");
    let copy = file.try_clone().expect("clone the log file handle");
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(copy)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"))
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("poll a child process") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Kills a child (SIGKILL) and reaps it.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM, then SIGKILL if the child has not exited within `grace`.
fn terminate(child: &mut Child, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill has no memory-safety preconditions; the pid is our own unreaped child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    if wait_timeout(child, grace).is_none() {
        stop(child);
    }
}

/// Lazily detaches every mount at or below `dir`, deepest first (left by a killed daemon).
fn unmount_all_under(dir: &Path) {
    let Ok(table) = fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<PathBuf> = table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|point| point.starts_with(dir))
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.components().count()));
    for point in points {
        let path = CString::new(point.as_os_str().as_bytes()).expect("no NUL in a mount point");
        // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
        unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
    }
}

/// The HTTP status of `GET path` on `127.0.0.1:port`, if anything answers.
fn tcp_status(port: u16, path: &str) -> Option<u16> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT)).ok()?;
    http_status(stream, path)
}

/// The HTTP status of `GET path` on a unix socket, if anything answers.
fn unix_status(socket: &Path, path: &str) -> Option<u16> {
    let stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT)).ok()?;
    http_status(stream, path)
}

fn http_status(mut stream: impl Read + Write, path: &str) -> Option<u16> {
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).ok()?;
    std::str::from_utf8(&status_line)
        .ok()?
        .strip_prefix("HTTP/1.")?
        .get(2..)?
        .parse()
        .ok()
}

fn loopback(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// A fresh directory under /tmp (short paths keep unix sockets under the 108-byte limit).
fn temp_dir(peer: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("keywarden-{peer}-"))
        .tempdir_in("/tmp")
        .expect("create a temp dir")
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The absolute path of an installed tool, or a loud panic telling how to install it.
fn tool(name: &str) -> PathBuf {
    find_tool(name).unwrap_or_else(|| {
        panic!("\n\n*** `{name}` is not installed: {INSTALL_HINT} ***\n\n");
    })
}

fn find_tool(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return is_executable(&path).then_some(path);
    }
    std::env::split_paths(&search_path())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The test's `PATH` plus the standard directories (dockerd lives in /usr/sbin).
fn search_path() -> OsString {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    for standard in STANDARD_PATH {
        if !dirs.iter().any(|dir| dir == Path::new(standard)) {
            dirs.push(standard.into());
        }
    }
    std::env::join_paths(dirs).expect("PATH entries contain no ':'")
}

/// Proves on this machine that every peer starts, answers and cleans up.
mod self_test {
    use super::*;

    const REALM_BASE: &str = "http://127.0.0.1:9/realms/peers";

    fn throwaway_bundle() -> String {
        rcgen::generate_simple_self_signed(vec!["keywarden-peers-test".into()])
            .expect("self-signed certificate")
            .cert
            .pem()
    }

    fn token_realm() -> String {
        format!("{REALM_BASE}/protocol/docker-v2/auth")
    }

    async fn assert_bearer_challenge(registry: &Registry, service: &str) {
        let response = reqwest::get(format!("{}/v2/", registry.url()))
            .await
            .expect("GET /v2/");
        assert_eq!(response.status(), 401, "{}", registry.log());
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert_eq!(
            challenge,
            format!(r#"Bearer realm="{}",service="{service}""#, token_realm()),
            "{}",
            registry.log()
        );
    }

    #[tokio::test]
    async fn registry_sends_clients_to_the_token_realm() {
        let registry = Registry::start(
            &token_realm(),
            "peers-registry",
            REALM_BASE,
            &throwaway_bundle(),
        );
        assert_bearer_challenge(&registry, "peers-registry").await;
        assert_eq!(registry.host(), format!("127.0.0.1:{}", registry.port()));
    }

    #[tokio::test]
    async fn registry_runs_a_keycloak_style_config_file() {
        let config = format!(
            "auth:\n  token:\n    realm: {}\n    service: peers-download\n    issuer: {REALM_BASE}\n",
            token_realm()
        );
        let registry = Registry::start_with_config_and_bundle(&config, &throwaway_bundle());
        assert_bearer_challenge(&registry, "peers-download").await;
    }

    #[test]
    fn dockerd_runs_on_a_private_socket_and_data_root() {
        let daemon = Dockerd::start("127.0.0.1:5999");
        let version = daemon.docker(&["version"]);
        assert!(version.status.success(), "{}", describe(&version));
        let info = daemon.docker(&["info", "--format", "{{.DockerRootDir}} {{.Driver}}"]);
        assert!(info.status.success(), "{}", describe(&info));
        let expected = format!("{} vfs", daemon.dir.path().join("data").display());
        assert_eq!(String::from_utf8_lossy(&info.stdout).trim(), expected);
    }

    #[test]
    fn skopeo_reads_a_hand_built_oci_layout() {
        let layout = tempfile::tempdir().unwrap();
        let first = oci_image_layout(layout.path(), "v1");
        let second = oci_image_layout(layout.path(), "v2");
        assert_ne!(first.manifest_digest, second.manifest_digest);
        for (tag, image) in [("v1", &first), ("v2", &second)] {
            let reference = format!("oci:{}:{tag}", layout.path().display());
            let inspect = skopeo(&["inspect", &reference]);
            assert!(inspect.status.success(), "{}", describe(&inspect));
            let details: Value = serde_json::from_slice(&inspect.stdout).unwrap();
            assert_eq!(details["Digest"], image.manifest_digest.as_str());
            assert_eq!(details["Layers"], json!([image.layer_digest]));
        }
    }

    #[test]
    fn dockerd_loads_a_hand_built_image() {
        let layout = tempfile::tempdir().unwrap();
        let image = oci_image_layout(layout.path(), "v1");
        let daemon = Dockerd::start("127.0.0.1:5999");
        let loaded = daemon.load_oci_image(layout.path(), "v1", "peers/app:v1");
        assert!(loaded.status.success(), "{}", describe(&loaded));
        let inspect = daemon.docker(&["image", "inspect", "--format", "{{.Id}}", "peers/app:v1"]);
        assert!(inspect.status.success(), "{}", describe(&inspect));
        assert_eq!(
            String::from_utf8_lossy(&inspect.stdout).trim(),
            image.config_digest
        );
    }

    #[test]
    fn podman_keeps_images_in_its_private_store() {
        let layout = tempfile::tempdir().unwrap();
        let image = oci_image_layout(layout.path(), "v1");
        let podman = Podman::new();
        let loaded = podman.load_oci_image(layout.path(), "v1", "peers/app:v1");
        assert!(loaded.status.success(), "{}", describe(&loaded));
        let inspect = podman.run(&["image", "inspect", "--format", "{{.Id}}", "peers/app:v1"]);
        assert!(inspect.status.success(), "{}", describe(&inspect));
        let id = String::from_utf8_lossy(&inspect.stdout).trim().to_owned();
        assert_eq!(format!("sha256:{id}"), image.config_digest);
        let info = podman.run(&["info", "--format", "{{.Store.GraphRoot}}"]);
        assert!(info.status.success(), "{}", describe(&info));
        assert_eq!(
            String::from_utf8_lossy(&info.stdout).trim(),
            podman.root().display().to_string()
        );
    }

    #[tokio::test]
    #[should_panic(expected = "multi_thread")]
    async fn clients_refuse_a_current_thread_runtime() {
        skopeo(&["--version"]);
    }

    #[test]
    #[should_panic(expected = "scripts/install-test-deps.sh")]
    fn a_missing_tool_fails_loudly() {
        require_tool("keywarden-no-such-tool");
    }
}
