//! Native TLS, as Keycloak: HTTPS from PEM files (a CA and server certificates made with
//! rcgen in a temp dir), https issuers, HSTS (on every answer, as Keycloak), `start` refusing to run without key
//! material, a renewed certificate served after SIGHUP or a change of the files, and
//! `docker login`, push and pull through a registry whose token realm is https.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keywarden::config::HttpsSettings;
use keywarden::http::tls::{CertificateSlot, POLL_EVERY};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

use crate::cli::BINARY;
use crate::helpers::{free_port, jwt_payload, try_spawn_app_with, TestApp};
use crate::peers::{describe, oci_image_layout, skopeo, Dockerd, Registry};

const HSTS: &str = "max-age=31536000; includeSubDomains";
const ADMIN_ENV: [(&str, &str); 2] = [
    ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
    ("KC_BOOTSTRAP_ADMIN_PASSWORD", "pw"),
];

/// A test CA in a temp dir, issuing server certificates for 127.0.0.1 and localhost.
struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "keywarden test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = params.self_signed(&ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca, ca_key }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A server certificate for `key`, named `cn`, with serial `serial`.
    fn issue(&self, cn: &str, serial: u64, key: &KeyPair) -> rcgen::Certificate {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.serial_number = Some(serial.into());
        params.signed_by(key, &self.ca, &self.ca_key).unwrap()
    }

    /// Where the server reads its certificate chain and key.
    fn files(&self, port: u16) -> HttpsSettings {
        HttpsSettings {
            port,
            certificate_file: self.dir.path().join("tls.crt"),
            key_file: self.dir.path().join("tls.key"),
        }
    }

    /// Issues a certificate for a fresh key into the server's files; returns its DER.
    fn install(&self, cn: &str, serial: u64) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let cert = self.issue(cn, serial, &key);
        let files = self.files(0);
        replace(&files.key_file, &key.serialize_pem());
        replace(&files.certificate_file, &chain_pem(&cert, &self.ca));
        cert.der().to_vec()
    }

    fn client_config(&self) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(self.ca_file()).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
    }

    /// The end-entity certificate (DER) a new TLS connection to `port` is given.
    fn served_certificate(&self, port: u16) -> Vec<u8> {
        self.trusted_certificate(port)
            .unwrap_or_else(|err| panic!("TLS handshake with port {port}: {err}"))
    }

    /// The end-entity certificate of a new connection to `port`, if this CA vouches for it.
    fn trusted_certificate(&self, port: u16) -> std::io::Result<Vec<u8>> {
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let mut connection =
            rustls::ClientConnection::new(Arc::new(self.client_config()), name).unwrap();
        let mut socket = TcpStream::connect(("127.0.0.1", port))?;
        socket.set_read_timeout(Some(Duration::from_secs(5)))?;
        while connection.is_handshaking() {
            connection.complete_io(&mut socket)?;
        }
        Ok(connection.peer_certificates().unwrap()[0].to_vec())
    }
}

/// An answer read off an HTTPS connection.
struct Answer {
    status: u16,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request over TLS to `127.0.0.1:port`, trusting `config`'s roots only; a form
/// body makes it a POST.
fn https(
    config: Arc<rustls::ClientConfig>,
    port: u16,
    path: &str,
    form: &[(&str, &str)],
) -> Answer {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(config, name).unwrap();
    let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut stream = rustls::StreamOwned::new(connection, socket);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let request = if form.is_empty() {
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
    } else {
        format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    if let Err(err) = stream.read_to_end(&mut raw) {
        // A server may close without a TLS close_notify once the answer is complete.
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    }
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    assert!(
        !headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")),
        "chunked answer: {head}"
    );
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// [`https`] off the async runtime.
async fn https_async(pki: &Pki, port: u16, path: &str, form: &[(&str, &str)]) -> Answer {
    let config = Arc::new(pki.client_config());
    let path = path.to_owned();
    let form: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        https(config, port, &path, &form)
    })
    .await
    .unwrap()
}

/// The server's certificate followed by the CA's: the chain as a CA hands it out.
fn chain_pem(cert: &rcgen::Certificate, ca: &rcgen::Certificate) -> String {
    format!("{}{}", cert.pem(), ca.pem())
}

/// Writes `contents` beside `path` and renames it over `path`, as renewal tools do.
fn replace(path: &Path, contents: &str) {
    let next = path.with_extension("next");
    fs::write(&next, contents).unwrap();
    fs::rename(&next, path).unwrap();
}

/// A test server serving plain HTTP (`app.address`) and HTTPS on the port returned. The port
/// is found free before the server binds it, so another test may take it meanwhile: then a
/// new one is tried.
async fn spawn_with_https(pki: &Pki) -> (TestApp, u16) {
    let mut attempts = 0;
    loop {
        let port = free_port();
        match try_spawn_app_with(|s| s.https = Some(pki.files(port))).await {
            Ok(app) => return (app, port),
            Err(err) if attempts < 5 && format!("{err:#}").contains("Address already in use") => {
                attempts += 1;
            }
            Err(err) => panic!("server starts: {err:#}"),
        }
    }
}

#[tokio::test]
async fn https_answers_with_https_issuers_and_hsts() {
    let pki = Pki::new();
    pki.install("keywarden", 1);
    let (app, https_port) = spawn_with_https(&pki).await;
    app.create_realm("shop").await;
    app.create_user("shop", "alice", "pw").await;
    let secure = format!("https://127.0.0.1:{https_port}");

    let token = https_async(
        &pki,
        https_port,
        "/realms/shop/protocol/openid-connect/token",
        &[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "alice"),
            ("password", "pw"),
        ],
    )
    .await;
    assert_eq!(token.status, 200, "{}", token.body);
    assert_eq!(token.header("strict-transport-security"), Some(HSTS));
    let claims = jwt_payload(token.json()["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], format!("{secure}/realms/shop"));

    let discovery = https_async(
        &pki,
        https_port,
        "/realms/shop/.well-known/openid-configuration",
        &[],
    )
    .await;
    assert_eq!(discovery.header("strict-transport-security"), Some(HSTS));
    let discovery = discovery.json();
    assert_eq!(discovery["issuer"], format!("{secure}/realms/shop"));
    assert_eq!(
        discovery["token_endpoint"],
        format!("{secure}/realms/shop/protocol/openid-connect/token")
    );

    let plain = app
        .get("/realms/shop/.well-known/openid-configuration")
        .await;
    assert_eq!(
        plain.headers()["strict-transport-security"],
        HSTS,
        "Keycloak sends its realm's HSTS header over plain HTTP too"
    );
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(plain["issuer"], format!("{}/realms/shop", app.address));
    assert!(app.address.starts_with("http://"));
}

#[tokio::test]
async fn pkcs8_pkcs1_rsa_and_sec1_ec_keys_are_served() {
    let pki = Pki::new();
    let formats = [
        (&rcgen::PKCS_ECDSA_P256_SHA256, "PRIVATE KEY"),
        (&rcgen::PKCS_RSA_SHA256, "RSA PRIVATE KEY"),
        (&rcgen::PKCS_ECDSA_P384_SHA384, "EC PRIVATE KEY"),
    ];
    for (serial, (algorithm, label)) in (1..).zip(formats) {
        let key = KeyPair::generate_for(algorithm).unwrap();
        let cert = pki.issue("keywarden", serial, &key);
        let files = pki.files(0);
        fs::write(&files.certificate_file, cert.pem()).unwrap();
        fs::write(&files.key_file, key.serialize_pem()).unwrap();
        if label != "PRIVATE KEY" {
            let traditional = files.key_file.with_extension("traditional");
            let converted = Command::new("openssl")
                .args(["pkey", "-traditional", "-in"])
                .arg(&files.key_file)
                .arg("-out")
                .arg(&traditional)
                .output()
                .expect("openssl (scripts/install-test-deps.sh)");
            assert!(converted.status.success(), "{}", describe(&converted));
            fs::rename(&traditional, &files.key_file).unwrap();
        }
        let pem = fs::read_to_string(&files.key_file).unwrap();
        assert!(
            pem.starts_with(&format!("-----BEGIN {label}-----")),
            "{pem}"
        );

        let (_app, port) = spawn_with_https(&pki).await;
        let ready = https_async(&pki, port, "/health/ready", &[]).await;
        assert_eq!(ready.status, 200, "{label}");
        assert_eq!(ready.header("strict-transport-security"), Some(HSTS));
    }
}

/// Runs the binary in `dir` to its end.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(ADMIN_ENV)
        .output()
        .unwrap()
}

/// The binary's one error line (and that it failed).
fn one_error_line(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    stderr.trim_end().to_owned()
}

#[test]
fn start_without_key_material_is_refused_unless_http_is_enabled() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        one_error_line(dir.path(), &["start", "--hostname-strict=false"]),
        "keywarden: error: Key material not provided to setup HTTPS. Please configure your \
         keys/certificates, or if HTTPS access is not needed see the `http-enabled` option. If \
         you meant to start the server in development mode, see the `start-dev` command."
    );
    assert!(
        one_error_line(dir.path(), &["start-dev", "--http-enabled=false"])
            .contains("Key material not provided to setup HTTPS")
    );
}

#[test]
fn half_or_broken_key_material_is_a_one_line_error_naming_the_file() {
    let pki = Pki::new();
    pki.install("keywarden", 1);
    let files = pki.files(0);
    let cert = files.certificate_file.display().to_string();
    let key = files.key_file.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cert_option = format!("--https-certificate-file={cert}");
    let key_option = format!("--https-certificate-key-file={key}");

    let line = one_error_line(dir.path(), &["start-dev", &cert_option]);
    assert!(
        line.contains("--https-certificate-key-file is not"),
        "{line}"
    );
    let line = one_error_line(dir.path(), &["start-dev", &key_option]);
    assert!(line.contains("--https-certificate-file is not"), "{line}");

    fs::write(
        &files.certificate_file,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n",
    )
    .unwrap();
    let line = one_error_line(dir.path(), &["start-dev", &cert_option, &key_option]);
    assert!(line.contains(&cert), "{line}");
    pki.install("keywarden", 2);
    fs::write(&files.key_file, "no key here").unwrap();
    let line = one_error_line(dir.path(), &["start-dev", &cert_option, &key_option]);
    assert!(line.contains(&key), "{line}");
    assert!(
        !dir.path().join("data").exists(),
        "the database was opened before the key material was checked"
    );
}

/// The binary in production mode serving HTTPS only; killed on drop.
struct TlsServer {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    fn start(pki: &Pki) -> TlsServer {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let files = pki.files(port);
        let log = dir.path().join("server.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(BINARY)
            .args(["start", "--hostname-strict=false"])
            .current_dir(dir.path())
            .env_clear()
            .envs(ADMIN_ENV)
            .env("KC_HTTPS_PORT", port.to_string())
            .env("KC_HTTPS_CERTIFICATE_FILE", &files.certificate_file)
            .env("KC_HTTPS_CERTIFICATE_KEY_FILE", &files.key_file)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let server = TlsServer {
            child,
            port,
            log,
            _dir: dir,
        };
        server.wait_ready(pki);
        server
    }

    fn wait_ready(&self, pki: &Pki) {
        let config = Arc::new(pki.client_config());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let listening = TcpStream::connect(("127.0.0.1", self.port)).is_ok();
            if listening && https(config.clone(), self.port, "/health/ready", &[]).status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not become ready:\n{}", self.log());
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid, which has not been waited for.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits until new connections are given `expected`.
    fn wait_for_certificate(&self, pki: &Pki, expected: &[u8], within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if pki.served_certificate(self.port) == expected {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the new certificate was not served within {within:?}:\n{}",
            self.log()
        );
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Longer than the file watcher needs to see any change.
fn past_a_poll() -> Duration {
    POLL_EVERY * 2 + Duration::from_secs(1)
}

#[test]
fn a_renewed_certificate_is_served_after_sighup() {
    let pki = Pki::new();
    let key = KeyPair::generate().unwrap();
    let first = pki.issue("keywarden-1", 1, &key);
    // The renewal keeps the key and the file's size and time, so only SIGHUP can reveal it.
    let renewed = (2..200)
        .map(|serial| pki.issue("keywarden-2", serial, &key))
        .find(|c| chain_pem(c, &pki.ca).len() == chain_pem(&first, &pki.ca).len())
        .expect("a renewal of the same length");
    let files = pki.files(0);
    fs::write(&files.key_file, key.serialize_pem()).unwrap();
    fs::write(&files.certificate_file, chain_pem(&first, &pki.ca)).unwrap();
    let server = TlsServer::start(&pki);
    assert_eq!(pki.served_certificate(server.port), first.der().to_vec());

    let modified = fs::metadata(&files.certificate_file)
        .unwrap()
        .modified()
        .unwrap();
    let file = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&files.certificate_file)
        .unwrap();
    std::io::Write::write_all(&mut &file, chain_pem(&renewed, &pki.ca).as_bytes()).unwrap();
    file.set_modified(modified).unwrap();
    drop(file);
    std::thread::sleep(past_a_poll());
    assert_eq!(
        pki.served_certificate(server.port),
        first.der().to_vec(),
        "the watcher saw a change that leaves no trace"
    );

    server.signal(libc::SIGHUP);
    server.wait_for_certificate(&pki, renewed.der(), Duration::from_secs(10));
    assert!(server.log().contains("reloaded the TLS certificate"));
}

#[test]
fn a_renewed_certificate_is_served_once_the_files_change_and_a_broken_one_never() {
    let pki = Pki::new();
    let first = pki.install("keywarden-1", 1);
    let server = TlsServer::start(&pki);
    assert_eq!(pki.served_certificate(server.port), first);
    // Anonymous handshakes log nothing, even with an IP address as server name, as curl and
    // openssl send it.
    for _ in 0..3 {
        let handshake = Command::new("openssl")
            .args(["s_client", "-servername", "127.0.0.1", "-connect"])
            .arg(format!("127.0.0.1:{}", server.port))
            .stdin(Stdio::null())
            .output()
            .expect("openssl (scripts/install-test-deps.sh)");
        assert!(handshake.status.success(), "{}", describe(&handshake));
    }
    assert!(!server.log().contains("SNI"), "{}", server.log());

    let files = pki.files(0);
    replace(&files.certificate_file, "-----BEGIN CERTIFICATE-----\nMIIB");
    std::thread::sleep(past_a_poll());
    assert_eq!(pki.served_certificate(server.port), first);
    assert!(
        server
            .log()
            .contains("kept the TLS certificate in use: the new one cannot be loaded"),
        "{}",
        server.log()
    );

    let renewed = pki.install("keywarden-2", 2);
    server.wait_for_certificate(&pki, &renewed, past_a_poll() * 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_login_push_and_pull_through_an_https_token_realm() {
    let pki = Pki::new();
    pki.install("keywarden", 1);
    let (app, https_port) = spawn_with_https(&pki).await;
    app.create_realm("team").await;
    app.create_docker_client("team", "registry").await;
    app.create_user("team", "dev", "pw").await;
    let issuer = format!("https://127.0.0.1:{https_port}/realms/team");
    let bundle = https_async(
        &pki,
        https_port,
        "/realms/team/protocol/docker-v2/trust-chain",
        &[],
    )
    .await
    .body;
    // The registry speaks HTTPS too, with a certificate of the same CA, so that skopeo (given
    // the CA) verifies the token realm. dockerd counts every loopback registry as insecure and
    // then skips verification of the registry and its token realm alike: it speaks TLS to the
    // realm but trusts any certificate.
    let registry_key = KeyPair::generate().unwrap();
    let registry_cert = pki.dir.path().join("registry.crt");
    let registry_key_file = pki.dir.path().join("registry.key");
    fs::write(
        &registry_cert,
        pki.issue("registry", 9, &registry_key).pem(),
    )
    .unwrap();
    fs::write(&registry_key_file, registry_key.serialize_pem()).unwrap();
    let registry = Registry::start_tls(
        &format!("{issuer}/protocol/docker-v2/auth"),
        "registry",
        &issuer,
        &bundle,
        &registry_cert,
        &registry_key_file,
    );
    let host = registry.host();
    let docker = Dockerd::start(&host);
    let layout = tempfile::tempdir().unwrap();
    oci_image_layout(layout.path(), "1");
    let reference = format!("{host}/dev/app:1");
    assert_ok(
        &docker.load_oci_image(layout.path(), "1", &reference),
        "docker load",
    );
    assert_ok(&docker.docker_login(&host, "dev", "pw"), "docker login");
    assert_ok(&docker.docker(&["push", &reference]), "docker push");
    assert_ok(&docker.docker(&["rmi", &reference]), "docker rmi");
    assert_ok(&docker.docker(&["pull", &reference]), "docker pull");

    let certs = tempfile::tempdir().unwrap();
    fs::copy(pki.ca_file(), certs.path().join("ca.crt")).unwrap();
    let source = format!("oci:{}:1", layout.path().display());
    let copy = |tag: &str| {
        skopeo(&[
            "copy",
            "--dest-cert-dir",
            &certs.path().display().to_string(),
            "--dest-creds",
            "dev:pw",
            &source,
            &format!("docker://{host}/dev/copied:{tag}"),
        ])
    };
    assert_ok(&copy("1"), "skopeo copy");

    // keywarden's certificate is renewed by a CA skopeo does not trust: the realm is refused.
    let stranger = Pki::new();
    let key = KeyPair::generate().unwrap();
    let files = pki.files(0);
    replace(&files.key_file, &key.serialize_pem());
    replace(
        &files.certificate_file,
        &stranger.issue("keywarden", 2, &key).pem(),
    );
    let deadline = Instant::now() + past_a_poll();
    while stranger.trusted_certificate(https_port).is_err() {
        assert!(Instant::now() < deadline, "the renewal was not picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = copy("2");
    let text = describe(&refused);
    assert!(
        !refused.status.success()
            && text.contains("/realms/team/protocol/docker-v2/auth")
            && text.contains("x509: certificate signed by unknown authority"),
        "skopeo should refuse a token realm of an unknown CA:\n{text}"
    );
}

fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        describe(output)
    );
}

#[test]
fn a_chain_file_keeps_every_certificate_the_servers_first() {
    let pki = Pki::new();
    let der = pki.install("keywarden", 1);
    let slot = CertificateSlot::load(&pki.files(0)).unwrap();
    let chain = slot.chain();
    assert_eq!(chain.len(), 2, "the chain keeps the CA certificate");
    assert_eq!(chain[0].to_vec(), der);
}
