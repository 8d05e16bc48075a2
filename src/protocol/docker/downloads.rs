//! What a registry needs to trust a realm, as Keycloak's "Installation" downloads for a
//! docker-v2 client: a Docker Compose bundle, a registry config file and a variable override.
//! Unlike Keycloak's, each also carries the `rootcertbundle` setting, and URLs are built from
//! the base in use (root or `/auth` layout, or the fixed hostname), never with `//realms`.

use std::io::Write;

use zip::write::SimpleFileOptions;

use crate::crypto::keys;
use crate::domain::{Client, Realm};
use crate::http::Base;

/// A file to send: its content type, suggested name and bytes.
pub struct Download {
    pub content_type: &'static str,
    pub filename: String,
    pub body: Vec<u8>,
}

/// Why a download cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("Unknown installation provider '{0}' for this client")]
    UnknownProvider(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The three settings every registry needs: token realm URL, service, issuer.
struct TokenAuth {
    realm_url: String,
    service: String,
    issuer: String,
}

impl TokenAuth {
    fn of(base: &Base, realm: &Realm, client: &Client) -> TokenAuth {
        let issuer = base.issuer(realm.name.as_str());
        TokenAuth {
            realm_url: format!("{issuer}/protocol/docker-v2/auth"),
            service: client.client_id.to_string(),
            issuer,
        }
    }
}

/// Where the registry config and variable override expect the realm certificate.
pub const TRUST_CHAIN_PATH: &str = "/etc/docker/registry/trust_chain.pem";

/// The docker-v2 provider ids, as Keycloak names them, plus the trust chain on its own.
pub const PROVIDERS: [&str; 4] = [
    "docker-v2-compose-yaml",
    "docker-v2-registry-config-file",
    "docker-v2-variable-override",
    "docker-v2-trust-chain",
];

/// Whether the download `provider` carries the trust chain (what a registry trusts), so that
/// handing it out is worth recording (see `store::registry_downloads`).
pub fn carries_trust_chain(provider: &str) -> bool {
    matches!(provider, "docker-v2-compose-yaml" | "docker-v2-trust-chain")
}

/// Builds the download `provider` for a docker-v2 client; `trust_chain` is the PEM bundle of
/// the realm's signing certificates, RSA and EC alike, active, passive and next (see
/// `RealmKeys::trust_chain_pem`), so a registry given it survives the next rotation.
pub fn build(
    provider: &str,
    base: &Base,
    realm: &Realm,
    client: &Client,
    trust_chain: &str,
) -> Result<Download, DownloadError> {
    let auth = TokenAuth::of(base, realm, client);
    match provider {
        "docker-v2-registry-config-file" => Ok(Download {
            content_type: "text/plain; charset=utf-8",
            filename: "config.yml".into(),
            body: registry_config(&auth, realm.name.as_str()).into_bytes(),
        }),
        "docker-v2-variable-override" => Ok(Download {
            content_type: "text/plain; charset=utf-8",
            filename: "registry-variables.txt".into(),
            body: variable_override(&auth).into_bytes(),
        }),
        "docker-v2-trust-chain" => Ok(Download {
            content_type: "application/x-pem-file",
            filename: "trust_chain.pem".into(),
            body: trust_chain.as_bytes().to_vec(),
        }),
        "docker-v2-compose-yaml" => Ok(Download {
            content_type: "application/zip",
            filename: "keycloak-docker-compose-yaml.zip".into(),
            body: compose_zip(&auth, trust_chain)?,
        }),
        other => Err(DownloadError::UnknownProvider(other.to_owned())),
    }
}

fn registry_config(auth: &TokenAuth, realm: &str) -> String {
    format!(
        "# Token authentication against the keywarden realm \"{realm}\".\n\
         # Put the realm's trust chain (the docker-v2-trust-chain download: the certificates of\n\
         # the active, passive and next keys) at the rootcertbundle path below. After each key\n\
         # rotation, fetch it again and reload the registry before the following one.\n\
         auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {TRUST_CHAIN_PATH}\n",
        yaml_string(&auth.realm_url),
        yaml_string(&auth.service),
        yaml_string(&auth.issuer),
    )
}

fn variable_override(auth: &TokenAuth) -> String {
    format!(
        "-e REGISTRY_AUTH_TOKEN_REALM={} \\\n-e REGISTRY_AUTH_TOKEN_SERVICE={} \\\n-e REGISTRY_AUTH_TOKEN_ISSUER={} \\\n-e REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE={TRUST_CHAIN_PATH} \\\n",
        shell_word(&auth.realm_url),
        shell_word(&auth.service),
        shell_word(&auth.issuer),
    )
}

fn compose_yaml(auth: &TokenAuth) -> String {
    format!(
        "services:\n  registry:\n    image: registry:2\n    ports:\n      - 127.0.0.1:5000:5000\n    environment:\n      \
         REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: /data\n      \
         REGISTRY_HTTP_TLS_CERTIFICATE: /opt/certs/localhost.crt\n      \
         REGISTRY_HTTP_TLS_KEY: /opt/certs/localhost.key\n      \
         REGISTRY_AUTH_TOKEN_REALM: {}\n      \
         REGISTRY_AUTH_TOKEN_SERVICE: {}\n      \
         REGISTRY_AUTH_TOKEN_ISSUER: {}\n      \
         REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: /opt/certs/localhost_trust_chain.pem\n    \
         volumes:\n      - ./data:/data:z\n      - ./certs:/opt/certs:z\n",
        yaml_string(&auth.realm_url),
        yaml_string(&auth.service),
        yaml_string(&auth.issuer),
    )
}

const COMPOSE_README: &str = "# Docker registry secured by keywarden\n\n\
Start the registry with `docker compose up -d`. It listens on https://localhost:5000 with the\n\
self-signed certificate in `certs/localhost.crt` (tell docker to trust it, or list\n\
`localhost:5000` under `insecure-registries`), stores images in `data/`, and trusts tokens\n\
signed by the realm certificates in `certs/localhost_trust_chain.pem`: the key that signs,\n\
the previous keys and the next key, so a realm key rotation does not break it. After a\n\
rotation, replace that file with a fresh download and restart the registry before the next.\n\n\
Then `docker login localhost:5000` with a user of the realm.\n";

fn compose_zip(auth: &TokenAuth, trust_chain: &str) -> Result<Vec<u8>, DownloadError> {
    let (tls_cert, tls_key) = keys::localhost_tls_pair().map_err(anyhow::Error::from)?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let root = "keycloak-docker-compose-yaml";
    let files = [
        ("docker-compose.yaml", compose_yaml(auth)),
        ("certs/localhost.crt", tls_cert),
        ("certs/localhost.key", tls_key),
        ("certs/localhost_trust_chain.pem", trust_chain.to_owned()),
        ("README.md", COMPOSE_README.to_owned()),
    ];
    let write = |zip: &mut zip::ZipWriter<_>| -> zip::result::ZipResult<()> {
        zip.add_directory(format!("{root}/data/"), options)?;
        for (name, content) in &files {
            zip.start_file(format!("{root}/{name}"), options)?;
            zip.write_all(content.as_bytes())?;
        }
        Ok(())
    };
    write(&mut zip).map_err(anyhow::Error::from)?;
    Ok(zip.finish().map_err(anyhow::Error::from)?.into_inner())
}

/// A YAML scalar: plain when safe, else double-quoted.
fn yaml_string(value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        && !value.is_empty();
    if plain {
        value.to_owned()
    } else {
        serde_json::to_string(value).expect("strings serialize")
    }
}

/// A shell word: plain when safe, else single-quoted.
fn shell_word(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        && !value.is_empty()
    {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_shell_quoting_protect_odd_values() {
        assert_eq!(
            yaml_string("http://h:8080/auth/realms/a"),
            "http://h:8080/auth/realms/a"
        );
        assert_eq!(yaml_string("a: b"), "\"a: b\"");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
