//! ES256 realm keys the Keycloak way (an `ecdsa-generated` key-provider component), the client
//! attribute that picks a client's token algorithm, and what registries, docker, podman and
//! skopeo make of ES256 tokens. The token headers are checked with openssl, independently of
//! our own code, against the rules registry 2.8 and v3 apply.

use std::path::Path;
use std::process::{Command, Output};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{basic, jwt_payload, location_id, spawn_app, TestApp};
use crate::peers::{describe, oci_image_layout, require_tool, skopeo, Dockerd, Podman, Registry};

const KEY_PROVIDER: &str = "org.keycloak.keys.KeyProvider";
const ALG: &str = "access.token.signed.response.alg";

async fn realm_id(app: &TestApp, realm: &str) -> String {
    let realm: Value = app
        .admin(Method::GET, &format!("/{realm}"), None)
        .await
        .json()
        .await
        .unwrap();
    realm["id"].as_str().unwrap().to_owned()
}

/// Keycloak's request for a P-256 key provider.
async fn ecdsa_component(app: &TestApp, realm: &str, config: Value) -> reqwest::Response {
    let parent = realm_id(app, realm).await;
    app.admin(
        Method::POST,
        &format!("/{realm}/components"),
        Some(json!({
            "name": "ecdsa-generated",
            "providerId": "ecdsa-generated",
            "providerType": KEY_PROVIDER,
            "parentId": parent,
            "config": config,
        })),
    )
    .await
}

async fn add_ec_key(app: &TestApp, realm: &str) -> String {
    let response = ecdsa_component(
        app,
        realm,
        json!({"priority": ["100"], "ecdsaEllipticCurveKey": ["P-256"],
               "active": ["true"], "enabled": ["true"]}),
    )
    .await;
    assert_eq!(response.status(), 201);
    location_id(&response)
}

async fn keys(app: &TestApp, realm: &str) -> Value {
    app.admin(Method::GET, &format!("/{realm}/keys"), None)
        .await
        .json()
        .await
        .unwrap()
}

async fn jwks(app: &TestApp, realm: &str) -> Value {
    app.get(&format!("/realms/{realm}/protocol/openid-connect/certs"))
        .await
        .json()
        .await
        .unwrap()
}

fn header(token: &str) -> Value {
    let encoded = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
}

/// A client of `protocol` whose tokens are signed with `alg`.
async fn client_with_alg(app: &TestApp, realm: &str, client_id: &str, protocol: &str, alg: &str) {
    let mut body = json!({"clientId": client_id, "protocol": protocol,
                          "attributes": {ALG: alg, "id.token.signed.response.alg": alg}});
    if protocol == "openid-connect" {
        body["publicClient"] = json!(true);
        body["directAccessGrantsEnabled"] = json!(true);
    }
    let response = app
        .admin(Method::POST, &format!("/{realm}/clients"), Some(body))
        .await;
    assert_eq!(response.status(), 201, "create client {client_id}");
}

async fn docker_token(app: &TestApp, realm: &str, service: &str, scope: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!(
            "/realms/{realm}/protocol/docker-v2/auth?service={service}&scope={scope}"
        )))
        .header("Authorization", basic("dev", "pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "docker token");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ecdsa_key_provider_is_created_listed_and_published() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    let id = add_ec_key(&app, "team").await;
    let parent = realm_id(&app, "team").await;

    let listed: Vec<Value> = app
        .admin(
            Method::GET,
            &format!("/team/components?type={KEY_PROVIDER}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let providers: Vec<_> = listed.iter().map(|c| c["providerId"].clone()).collect();
    assert!(providers.contains(&json!("rsa-generated")), "{listed:?}");
    let component = listed.iter().find(|c| c["id"] == id.as_str()).unwrap();
    assert_eq!(component["providerId"], "ecdsa-generated");
    assert_eq!(component["providerType"], KEY_PROVIDER);
    assert_eq!(component["parentId"], parent.as_str());
    assert_eq!(
        component["config"]["ecdsaEllipticCurveKey"],
        json!(["P-256"])
    );
    assert_eq!(component["config"]["active"], json!(["true"]));
    assert!(component["config"].get("ecdsaPrivateKey").is_none());
    let one: Value = app
        .admin(Method::GET, &format!("/team/components/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&one, component);
    let other_type: Vec<Value> = app
        .admin(
            Method::GET,
            "/team/components?type=org.keycloak.storage.UserStorageProvider",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(other_type.is_empty());

    let keys = keys(&app, "team").await;
    let ec = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["type"] == "EC")
        .unwrap()
        .clone();
    assert_eq!(ec["algorithm"], "ES256");
    assert_eq!(ec["providerId"], id.as_str());
    assert_eq!(ec["status"], "ACTIVE");
    assert_eq!(keys["active"]["ES256"], ec["kid"]);
    assert!(keys["active"]["RS256"].is_string());

    let jwks = jwks(&app, "team").await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == ec["kid"])
        .unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["x5c"][0], ec["certificate"]);
    assert!(jwk["x5t"].is_string() && jwk["x5t#S256"].is_string());
    assert!(jwk.get("n").is_none());
    // openssl reads the same point out of the certificate.
    let work = tempfile::tempdir().unwrap();
    let (x, y) = openssl_ec_point(work.path(), ec["certificate"].as_str().unwrap());
    assert_eq!(jwk["x"], URL_SAFE_NO_PAD.encode(x));
    assert_eq!(jwk["y"], URL_SAFE_NO_PAD.encode(y));

    let bundle = app
        .get("/realms/team/protocol/docker-v2/trust-chain")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        bundle.matches("BEGIN CERTIFICATE").count(),
        4,
        "each algorithm's active and next keys"
    );
    assert!(bundle
        .replace('\n', "")
        .contains(&ec["certificate"].as_str().unwrap()[..64]));
}

#[tokio::test(flavor = "multi_thread")]
async fn key_provider_config_is_checked_and_components_switch_and_go() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    for (config, message) in [
        (
            json!({"ecdsaEllipticCurveKey": ["P-999"]}),
            "should be one of",
        ),
        (
            json!({"priority": ["high"]}),
            "'Priority' should be a number",
        ),
        (
            json!({"active": ["yes"]}),
            "'Active' should be 'true' or 'false'",
        ),
        (json!({"ecdsaEllipticCurveKey": ["P-384"]}), "P-256"),
    ] {
        let response = ecdsa_component(&app, "team", config).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        let text = body["errorMessage"].as_str().unwrap();
        assert!(text.contains(message), "{text}");
    }
    // Defaults: P-256, active, enabled.
    let response = ecdsa_component(&app, "team", json!({})).await;
    assert_eq!(response.status(), 201);
    let id = location_id(&response);
    assert!(keys(&app, "team").await["active"]["ES256"].is_string());

    let off = app
        .admin(
            Method::PUT,
            &format!("/team/components/{id}"),
            Some(json!({"config": {"active": ["false"]}})),
        )
        .await;
    assert_eq!(off.status(), 204);
    let listed = keys(&app, "team").await;
    assert!(listed["active"].get("ES256").is_none(), "{listed}");
    let disabled = app
        .admin(
            Method::PUT,
            &format!("/team/components/{id}"),
            Some(json!({"config": {"enabled": ["false"]}})),
        )
        .await;
    assert_eq!(disabled.status(), 204);
    let jwks = jwks(&app, "team").await;
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["kty"] == "RSA"));

    let gone = app
        .admin(Method::DELETE, &format!("/team/components/{id}"), None)
        .await;
    assert_eq!(gone.status(), 204);
    let missing = app
        .admin(Method::GET, &format!("/team/components/{id}"), None)
        .await;
    assert_eq!(missing.status(), 404);

    let rsa = keys(&app, "team").await["keys"][0]["providerId"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .admin(Method::DELETE, &format!("/team/components/{rsa}"), None)
        .await;
    assert_eq!(refused.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_set_to_es256_gets_es256_tokens_that_verify() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    add_ec_key(&app, "team").await;
    client_with_alg(&app, "team", "ec-app", "openid-connect", "ES256").await;
    let ec_kid = keys(&app, "team").await["active"]["ES256"].clone();

    let response = app
        .client
        .post(app.url("/realms/team/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "ec-app"),
            ("username", "dev"),
            ("password", "pw"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(header(access)["alg"], "ES256");
    assert_eq!(header(access)["kid"], ec_kid);
    assert_eq!(header(body["id_token"].as_str().unwrap())["alg"], "ES256");
    assert_eq!(jwt_payload(access)["azp"], "ec-app");

    // Our own verification accepts it by kid.
    let userinfo = app
        .client
        .get(app.url("/realms/team/protocol/openid-connect/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let refreshed = app
        .client
        .post(app.url("/realms/team/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "ec-app"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(
        header(refreshed["access_token"].as_str().unwrap())["alg"],
        "ES256"
    );

    let discovery: Value = app
        .get("/realms/team/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );

    // Clients that ask for nothing keep RS256.
    client_with_alg(&app, "team", "rsa-app", "openid-connect", "RS256").await;
    let token = app.password_token("team", "rsa-app", "dev", "pw").await;
    assert_eq!(header(&token)["alg"], "RS256");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_realm_without_an_ec_key_gets_a_fallback_key_as_keycloak_does() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    client_with_alg(&app, "team", "ec-app", "openid-connect", "ES256").await;
    assert!(keys(&app, "team").await["active"].get("ES256").is_none());
    let token = app.password_token("team", "ec-app", "dev", "pw").await;
    assert_eq!(header(&token)["alg"], "ES256");
    let keys = keys(&app, "team").await;
    assert_eq!(header(&token)["kid"], keys["active"]["ES256"]);
    let again = app.password_token("team", "ec-app", "dev", "pw").await;
    assert_eq!(header(&again)["kid"], keys["active"]["ES256"]);
    let count = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["algorithm"] == "ES256" && k["status"] == "ACTIVE")
        .count();
    assert_eq!(count, 1, "one fallback key, made once: {keys}");
}

/// The docker token's header, checked as distribution's token verification does: the `x5c`
/// leaf certificate (read by openssl) holds the key that verifies the signature, and its
/// public key is the realm key the registry's bundle certifies.
#[tokio::test(flavor = "multi_thread")]
async fn es256_docker_tokens_carry_a_certificate_that_verifies_them() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    add_ec_key(&app, "team").await;
    client_with_alg(&app, "team", "registry", "docker-v2", "ES256").await;
    let body = docker_token(&app, "team", "registry", "repository:dev/app:pull").await;
    let token = body["token"].as_str().unwrap();
    let head = header(token);
    assert_eq!(head["alg"], "ES256");
    let keys = keys(&app, "team").await;
    let ec = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["type"] == "EC")
        .unwrap()
        .clone();
    assert_eq!(head["kid"], ec["kid"]);
    assert_eq!(head["x5c"][0], ec["certificate"]);

    let work = tempfile::tempdir().unwrap();
    let leaf_key = openssl_public_key(work.path(), head["x5c"][0].as_str().unwrap());
    assert_eq!(leaf_key, ec["publicKey"].as_str().unwrap());
    assert!(
        openssl_verifies(work.path(), token),
        "openssl refused the signature"
    );
}

/// Registry 2.8 with the downloaded bundle, then docker, podman and skopeo against it, all
/// with a docker-v2 client set to ES256.
#[tokio::test(flavor = "multi_thread")]
async fn registry_docker_podman_and_skopeo_work_with_es256_tokens() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    add_ec_key(&app, "team").await;
    client_with_alg(&app, "team", "registry", "docker-v2", "ES256").await;
    let registry = start_registry(&app, "team").await;
    let host = registry.host();

    // The registry itself accepts an ES256 token.
    let token = docker_token(&app, "team", "registry", "").await;
    assert_eq!(header(token["token"].as_str().unwrap())["alg"], "ES256");
    assert_eq!(
        registry_status(&registry, token["token"].as_str().unwrap()).await,
        200
    );

    let auth = tempfile::tempdir().unwrap();
    let authfile = auth.path().join("auth.json").display().to_string();
    let login = skopeo(&[
        "login",
        "--tls-verify=false",
        "--authfile",
        &authfile,
        "-u",
        "dev",
        "-p",
        "pw",
        &host,
    ]);
    assert_ok(&login, "skopeo login");
    let layout = tempfile::tempdir().unwrap();
    oci_image_layout(layout.path(), "v1");
    let source = format!("oci:{}:v1", layout.path().display());
    let destination = format!("docker://{host}/dev/tool:v1");
    assert_ok(
        &skopeo(&[
            "copy",
            "--dest-tls-verify=false",
            "--authfile",
            &authfile,
            &source,
            &destination,
        ]),
        "skopeo copy",
    );
    assert_ok(
        &skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--authfile",
            &authfile,
            &destination,
        ]),
        "skopeo inspect",
    );

    let podman = Podman::new();
    let reference = format!("{host}/dev/pod:p1");
    assert_ok(
        &podman.load_oci_image(layout.path(), "v1", &reference),
        "podman load",
    );
    assert_ok(
        &podman.run(&[
            "login",
            "--tls-verify=false",
            "-u",
            "dev",
            "-p",
            "pw",
            &host,
        ]),
        "podman login",
    );
    assert_ok(
        &podman.run(&["push", "--tls-verify=false", &reference]),
        "podman push",
    );
    assert_ok(&podman.run(&["rmi", &reference]), "podman rmi");
    assert_ok(
        &podman.run(&["pull", "--tls-verify=false", &reference]),
        "podman pull",
    );

    let docker = Dockerd::start(&host);
    let reference = format!("{host}/dev/app:1");
    assert_ok(
        &docker.load_oci_image(layout.path(), "v1", &reference),
        "docker load",
    );
    assert_ok(&docker.docker_login(&host, "dev", "pw"), "docker login");
    assert_ok(&docker.docker(&["push", &reference]), "docker push");
    assert_ok(&docker.docker(&["rmi", &reference]), "docker rmi");
    assert_ok(&docker.docker(&["pull", &reference]), "docker pull");
}

pub(crate) async fn start_registry(app: &TestApp, realm: &str) -> Registry {
    let issuer = format!("{}/realms/{realm}", app.address);
    let bundle = app
        .get(&format!("/realms/{realm}/protocol/docker-v2/trust-chain"))
        .await
        .text()
        .await
        .unwrap();
    Registry::start(
        &format!("{issuer}/protocol/docker-v2/auth"),
        "registry",
        &issuer,
        &bundle,
    )
}

/// The status the registry answers `GET /v2/` with `token`.
pub(crate) async fn registry_status(registry: &Registry, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/v2/", registry.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `token` with one signature character changed (not the last, whose low bits are padding).
fn tampered(token: &str) -> String {
    let at = token.len() - 10;
    let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
    format!("{}{swapped}{}", &token[..at], &token[at + 1..])
}

fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        describe(output)
    );
}

fn openssl(args: &[&str]) -> Output {
    require_tool("openssl");
    Command::new("openssl").args(args).output().unwrap()
}

/// Writes a base64 DER certificate as a file and returns its path.
fn certificate_file(dir: &Path, certificate_b64: &str) -> String {
    let path = dir.join("leaf.der");
    std::fs::write(&path, STANDARD.decode(certificate_b64).unwrap()).unwrap();
    path.display().to_string()
}

/// The certificate's public key (SubjectPublicKeyInfo, base64 DER) as openssl reads it.
pub(crate) fn openssl_public_key(dir: &Path, certificate_b64: &str) -> String {
    let cert = certificate_file(dir, certificate_b64);
    let out = openssl(&["x509", "-inform", "DER", "-in", &cert, "-pubkey", "-noout"]);
    assert!(out.status.success(), "{}", describe(&out));
    let pem = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.join("leaf.pub.pem"), &pem).unwrap();
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// The certificate's P-256 point (x, y) as openssl prints it.
pub(crate) fn openssl_ec_point(dir: &Path, certificate_b64: &str) -> (Vec<u8>, Vec<u8>) {
    openssl_public_key(dir, certificate_b64);
    let public = dir.join("leaf.pub.pem").display().to_string();
    let out = openssl(&["ec", "-pubin", "-in", &public, "-text", "-noout"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let hex: String = text
        .lines()
        .skip_while(|l| !l.starts_with("pub:"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .flat_map(|l| l.trim().split(':').map(str::to_owned).collect::<Vec<_>>())
        .filter(|b| !b.is_empty())
        .collect();
    let point: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(point.len(), 65, "{text}");
    assert_eq!(point[0], 4);
    (point[1..33].to_vec(), point[33..].to_vec())
}

/// Whether openssl verifies `token`'s ES256 signature with the key last read by
/// `openssl_public_key` (JWS's r || s becomes the DER openssl expects).
pub(crate) fn openssl_verifies(dir: &Path, token: &str) -> bool {
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(raw.len(), 64);
    let integer = |bytes: &[u8]| {
        let mut bytes = bytes
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect::<Vec<_>>();
        if bytes.first().is_none_or(|b| *b >= 0x80) {
            bytes.insert(0, 0);
        }
        [vec![0x02, bytes.len() as u8], bytes].concat()
    };
    let body = [integer(&raw[..32]), integer(&raw[32..])].concat();
    let der = [vec![0x30, body.len() as u8], body].concat();
    std::fs::write(dir.join("signature.der"), der).unwrap();
    std::fs::write(dir.join("signed.txt"), signed).unwrap();
    let out = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        &dir.join("leaf.pub.pem").display().to_string(),
        "-signature",
        &dir.join("signature.der").display().to_string(),
        &dir.join("signed.txt").display().to_string(),
    ]);
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

/// A docker-v2 client `registry` with `algorithm` and the header choice `header` (None: unset).
async fn docker_client(
    app: &TestApp,
    realm: &str,
    algorithm: &str,
    header: Option<&str>,
) -> String {
    let mut attributes = json!({ALG: algorithm});
    if let Some(header) = header {
        attributes["docker.token.header"] = json!(header);
    }
    let response = app
        .admin(
            Method::POST,
            &format!("/{realm}/clients"),
            Some(
                json!({"clientId": "registry", "protocol": "docker-v2", "attributes": attributes}),
            ),
        )
        .await;
    assert_eq!(response.status(), 201);
    location_id(&response)
}

async fn set_header(app: &TestApp, realm: &str, client: &str, header: &str) -> reqwest::Response {
    let path = format!("/{realm}/clients/{client}");
    let mut repr: Value = app
        .admin(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    repr["attributes"]["docker.token.header"] = json!(header);
    app.admin(Method::PUT, &path, Some(repr)).await
}

/// The RFC 7638 thumbprint of a certificate's key, from what openssl reads out of it.
fn openssl_thumbprint(dir: &Path, certificate_b64: &str, ec: bool) -> String {
    use sha2::Digest;
    let input = if ec {
        let (x, y) = openssl_ec_point(dir, certificate_b64);
        format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(x),
            URL_SAFE_NO_PAD.encode(y)
        )
    } else {
        let cert = certificate_file(dir, certificate_b64);
        let out = openssl(&["x509", "-inform", "DER", "-in", &cert, "-modulus", "-noout"]);
        let text = String::from_utf8(out.stdout).unwrap();
        let hex = text.trim().trim_start_matches("Modulus=");
        let n: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        format!(
            r#"{{"e":"AQAB","kty":"RSA","n":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(n)
        )
    };
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(input.as_bytes()))
}

/// Each header choice against registry 2.8 where 2.8 can take it, and against registry v3's
/// rules (distribution's `VerifySigningKey`: `x5c` first, else `kid` looked up among the
/// bundle's keys by RFC 7638 thumbprint, or among a JWKS file's `kid`s) otherwise.
#[tokio::test(flavor = "multi_thread")]
async fn each_header_choice_satisfies_the_registries_it_is_for() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    add_ec_key(&app, "team").await;
    let client = docker_client(&app, "team", "ES256", Some("kid")).await;
    let registry = start_registry(&app, "team").await;
    let keys = keys(&app, "team").await;
    let key = |kind: &str| {
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["type"] == kind)
            .unwrap()
            .clone()
    };
    let (ec, rsa) = (key("EC"), key("RSA"));
    let jwks = jwks(&app, "team").await;
    let jwks_kids: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();

    // kid: the libtrust kid alone; 2.8 finds it in its bundle, v3 in a JWKS file of /certs.
    let token = docker_token(&app, "team", "registry", "").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let head = header(&token);
    assert!(head.get("x5c").is_none(), "{head}");
    assert_eq!(head["kid"], ec["kid"]);
    assert!(jwks_kids.contains(&head["kid"]));
    assert_eq!(registry_status(&registry, &token).await, 200);

    // jwk-thumbprint: v3's bundle key id. 2.8 knows only libtrust ids and refuses it.
    assert_eq!(
        set_header(&app, "team", &client, "jwk-thumbprint")
            .await
            .status(),
        204
    );
    let work = tempfile::tempdir().unwrap();
    let token = docker_token(&app, "team", "registry", "").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let head = header(&token);
    assert!(head.get("x5c").is_none(), "{head}");
    assert_eq!(
        head["kid"],
        openssl_thumbprint(work.path(), ec["certificate"].as_str().unwrap(), true)
    );
    assert_eq!(registry_status(&registry, &token).await, 401);

    // The RSA key's thumbprint too, for a client that stays on RS256.
    let mut repr: Value = app
        .admin(Method::GET, &format!("/team/clients/{client}"), None)
        .await
        .json()
        .await
        .unwrap();
    repr["attributes"][ALG] = json!("RS256");
    let put = app
        .admin(Method::PUT, &format!("/team/clients/{client}"), Some(repr))
        .await;
    assert_eq!(put.status(), 204);
    let token = docker_token(&app, "team", "registry", "").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        header(&token)["kid"],
        openssl_thumbprint(work.path(), rsa["certificate"].as_str().unwrap(), false)
    );

    // x5c: the certificate verifies the token, whatever the kid; 2.8 accepts it.
    assert_eq!(set_header(&app, "team", &client, "x5c").await.status(), 204);
    let token = docker_token(&app, "team", "registry", "").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(header(&token)["x5c"][0], rsa["certificate"]);
    assert_eq!(registry_status(&registry, &token).await, 200);
    assert_eq!(registry_status(&registry, &tampered(&token)).await, 401);

    // A bad value is refused with the values it takes.
    let refused = set_header(&app, "team", &client, "jwk").await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("docker.token.header") && message.contains("x5c, kid, jwk-thumbprint"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_header_choice_travels_through_export_and_import() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    docker_client(&app, "team", "RS256", Some("kid")).await;
    let exported: Value = app
        .admin(
            Method::POST,
            "/team/partial-export?exportClients=true",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let registry = exported["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "registry")
        .unwrap();
    assert_eq!(registry["attributes"]["docker.token.header"], "kid");

    let mut copy = exported.clone();
    copy["realm"] = json!("copy");
    copy.as_object_mut().unwrap().remove("id");
    let created = app.admin(Method::POST, "", Some(copy.clone())).await;
    assert_eq!(created.status(), 201);
    let clients: Vec<Value> = app
        .admin(Method::GET, "/copy/clients?clientId=registry", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clients[0]["attributes"]["docker.token.header"], "kid");

    let broken = copy["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if c["clientId"] == "registry" {
                c["attributes"]["docker.token.header"] = json!("everything");
            }
            c
        })
        .collect::<Vec<_>>();
    copy["realm"] = json!("broken");
    copy["clients"] = json!(broken);
    let refused = app.admin(Method::POST, "", Some(copy)).await;
    assert_eq!(refused.status(), 400);
}

/// What each part of a docker token response costs, for both algorithms and every header
/// choice (printed for the README's table), and the order the choices must keep.
#[tokio::test(flavor = "multi_thread")]
async fn smaller_header_choices_make_smaller_responses() {
    let app = spawn_app().await;
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    add_ec_key(&app, "team").await;
    let client = docker_client(&app, "team", "RS256", None).await;
    let scope = "repository:dev/app:pull,push";
    let mut sizes = Vec::new();
    for algorithm in ["RS256", "ES256"] {
        for choice in ["x5c", "kid", "jwk-thumbprint"] {
            let path = format!("/team/clients/{client}");
            let mut repr: Value = app
                .admin(Method::GET, &path, None)
                .await
                .json()
                .await
                .unwrap();
            repr["attributes"][ALG] = json!(algorithm);
            repr["attributes"]["docker.token.header"] = json!(choice);
            assert_eq!(
                app.admin(Method::PUT, &path, Some(repr)).await.status(),
                204
            );
            let response = app
                .client
                .get(app.url(&format!(
                    "/realms/team/protocol/docker-v2/auth?service=registry&scope={scope}"
                )))
                .header("Authorization", basic("dev", "pw"))
                .send()
                .await
                .unwrap();
            let body = response.text().await.unwrap();
            let json: Value = serde_json::from_str(&body).unwrap();
            let token = json["token"].as_str().unwrap();
            let parts: Vec<_> = token.split('.').map(str::len).collect();
            eprintln!(
                "{algorithm} {choice:>14}: response {} B, token {} B (header {}, claims {}, signature {}), token twice {} B, wrapper {} B",
                body.len(),
                token.len(),
                parts[0],
                parts[1],
                parts[2],
                2 * token.len(),
                body.len() - 2 * token.len()
            );
            sizes.push((algorithm, choice, body.len(), parts[2]));
        }
    }
    for algorithm in ["RS256", "ES256"] {
        let of = |choice: &str| {
            sizes
                .iter()
                .find(|s| s.0 == algorithm && s.1 == choice)
                .unwrap()
                .2
        };
        // The thumbprint (43 characters) is shorter than the libtrust kid (59).
        assert!(of("jwk-thumbprint") < of("kid") && of("kid") < of("x5c"));
    }
    let signature = |algorithm: &str| sizes.iter().find(|s| s.0 == algorithm).unwrap().3;
    assert_eq!(signature("RS256"), 342);
    assert_eq!(signature("ES256"), 86);
}

/// A Keycloak export with an `ecdsa-generated` provider still imports; its private key is
/// kept and never shown.
#[tokio::test(flavor = "multi_thread")]
async fn a_realm_file_with_an_ecdsa_provider_imports_and_hides_its_key() {
    let app = spawn_app().await;
    let created = app
        .admin(
            Method::POST,
            "",
            Some(json!({"realm": "imported", "enabled": true, "components": {
                KEY_PROVIDER: [{"name": "ecdsa-generated", "providerId": "ecdsa-generated",
                    "subComponents": {}, "config": {"ecdsaPrivateKey": ["MIGHAgEAMBMGByqGSM49"],
                    "ecdsaPublicKey": ["MFkwEwYHKoZIzj0CAQ"], "ecdsaEllipticCurveKey": ["P-256"],
                    "priority": ["100"]}}]}})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let exported = app
        .admin(Method::POST, "/imported/partial-export", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(exported.contains("ecdsaEllipticCurveKey"), "{exported}");
    assert!(!exported.contains("MIGHAgEAMBMGByqGSM49"), "{exported}");
}
