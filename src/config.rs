//! Command line and environment, in Keycloak's words: `start-dev`, `start`, the
//! `KC_*` variables, and the classic `-Dkeycloak.profile.feature.docker=enabled -b 0.0.0.0`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use url::Url;

mod database;
pub use database::{DbArgs, DbKind, DEFAULT_SQLITE_URL};

use crate::store::DbOptions;

/// A small, fast identity provider that speaks Keycloak's language.
#[derive(Debug, Parser)]
#[command(name = "keywarden", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run in development mode: plain HTTP (and HTTPS with a certificate), a bootstrap admin
    /// created on first start.
    StartDev(ServerArgs),
    /// Run in production mode: the hostname (or --hostname-strict=false), a certificate (or
    /// --http-enabled=true) and a bootstrap admin for an empty master realm must be given.
    Start(ServerArgs),
    /// Export realms to a directory or a file, as `kc.sh export` (the server must be stopped).
    Export(ExportArgs),
    /// Import realms from a directory or a file, as `kc.sh import` (the server must be stopped).
    Import(ImportArgs),
    /// Copy the SQLite database to a new file, consistently, while a server may be running on it
    /// (for PostgreSQL, use `pg_dump`).
    Backup(BackupArgs),
    /// Copy every row of the SQLite database into an empty PostgreSQL database, ids kept, to
    /// move an installation (the server must be stopped).
    CopyDatabase(CopyDatabaseArgs),
}

/// Options of `keywarden copy-database`.
#[derive(Debug, Clone, Args)]
pub struct CopyDatabaseArgs {
    /// The database to copy from, as for `start` (the SQLite file).
    #[command(flatten)]
    pub db: DbArgs,

    /// The PostgreSQL database to copy to: postgres://HOST:PORT/DB or jdbc:postgresql://HOST:PORT/DB.
    #[arg(long, value_name = "URL")]
    pub to_db_url: String,

    /// The target database's user.
    #[arg(long)]
    pub to_db_username: Option<String>,

    /// The target database user's password.
    #[arg(long)]
    pub to_db_password: Option<String>,

    /// The schema to copy into on the target (created if missing).
    #[arg(long)]
    pub to_db_schema: Option<String>,
}

impl CopyDatabaseArgs {
    /// How to open the target, resolved as `--db=postgres` with the `--to-db-*` options.
    pub fn target(&self) -> Result<DbOptions, ConfigError> {
        DbArgs {
            db: Some(DbKind::Postgres),
            db_url: Some(self.to_db_url.clone()),
            db_username: self.to_db_username.clone(),
            db_password: self.to_db_password.clone(),
            db_schema: self.to_db_schema.clone(),
            db_pool_max_size: Some(2),
            ..DbArgs::default()
        }
        .options()
    }
}

/// Options of `keywarden backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write the copy to; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,

    /// The database, as for `start` (SQLite only: PostgreSQL has pg_dump).
    #[command(flatten)]
    pub db: DbArgs,
}

/// Options of `keywarden export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Directory to write `{realm}-realm.json` (and `{realm}-users-N.json`) files to.
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    pub dir: Option<PathBuf>,

    /// File to write the realm (or, without --realm, every realm) to, users included.
    #[arg(long)]
    pub file: Option<PathBuf>,

    /// The realm to export (default: every realm).
    #[arg(long)]
    pub realm: Option<String>,

    /// Where users go in a directory export.
    #[arg(long, value_enum, default_value = "different_files")]
    pub users: UsersExport,

    /// Users per file with `--users different_files`.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub users_per_file: u32,

    #[command(flatten)]
    pub db: DbArgs,
}

/// Where `keywarden export --dir` writes users (Keycloak's `--users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsersExport {
    /// Inside `{realm}-realm.json`.
    #[value(name = "realm_file")]
    RealmFile,
    /// All in `{realm}-users-0.json`.
    #[value(name = "same_file")]
    SameFile,
    /// In `{realm}-users-N.json`, `--users-per-file` each.
    #[value(name = "different_files")]
    DifferentFiles,
    /// Not exported.
    #[value(name = "skip")]
    Skip,
}

/// Options of `keywarden import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Directory of realm files (with their users files).
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    pub dir: Option<PathBuf>,

    /// A realm file (one realm, or an array of realms).
    #[arg(long)]
    pub file: Option<PathBuf>,

    /// Replace a realm that exists (true), or leave it and skip the file's (false).
    #[arg(long = "override", default_value_t = true, action = clap::ArgAction::Set)]
    pub replace: bool,

    #[command(flatten)]
    pub db: DbArgs,
}

/// Options shared by `start` and `start-dev`; each has a `KC_*` environment twin.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "KC_HTTP_HOST", default_value = "0.0.0.0")]
    pub http_host: IpAddr,

    /// Port to listen on.
    #[arg(long, env = "KC_HTTP_PORT", default_value_t = 8080)]
    pub http_port: u16,

    /// Fixed public base URL (or host name) used in issuers and links.
    #[arg(long, env = "KC_HOSTNAME")]
    pub hostname: Option<String>,

    /// When false, `start` accepts running without --hostname and takes the host from requests.
    #[arg(long, env = "KC_HOSTNAME_STRICT", default_value_t = true, action = clap::ArgAction::Set)]
    pub hostname_strict: bool,

    /// Path prefix to serve under (e.g. /auth). When unset, both / and the legacy /auth are served.
    #[arg(long, env = "KC_HTTP_RELATIVE_PATH")]
    pub http_relative_path: Option<String>,

    /// Serve plain HTTP (default: true with `start-dev`, false with `start`).
    #[arg(long, env = "KC_HTTP_ENABLED", action = clap::ArgAction::Set)]
    pub http_enabled: Option<bool>,

    #[command(flatten)]
    pub https: HttpsArgs,

    /// Comma-separated features to enable (supported: docker).
    #[arg(long, env = "KC_FEATURES", value_delimiter = ',')]
    pub features: Vec<String>,

    #[command(flatten)]
    pub db: DbArgs,

    /// Trust a reverse proxy's `forwarded` or `xforwarded` headers for the request's scheme and host.
    #[arg(long, env = "KC_PROXY_HEADERS", value_parser = ["forwarded", "xforwarded"])]
    pub proxy_headers: Option<String>,

    /// Import the realm JSON files in ./data/import at start (realms that exist are skipped).
    #[arg(long, env = "KC_IMPORT_REALM", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub import_realm: bool,

    /// Log level: error, warn, info, debug, trace, or a tracing filter.
    #[arg(long, env = "KC_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// On SIGTERM, how long to go on serving with /health/ready answering 503 before the
    /// listeners close (e.g. 500ms, 2s), so a load balancer stops sending requests first.
    #[arg(long, env = "KC_SHUTDOWN_DELAY", default_value = "1s", value_parser = crate::shutdown::parse_duration)]
    pub shutdown_delay: Duration,

    /// Once the listeners are closed, how long requests in flight may take to finish
    /// (whole seconds, rounded up).
    #[arg(long, env = "KC_SHUTDOWN_TIMEOUT", default_value = "1s", value_parser = crate::shutdown::parse_duration)]
    pub shutdown_timeout: Duration,

    /// How long credentials that verified stay trusted without hashing the password again,
    /// while the stored password is unchanged and no failure is on record (e.g. 30s, 5m;
    /// 0 hashes every time). Only a keyed hash of them is kept in memory.
    #[arg(long, env = "KC_CREDENTIAL_CACHE_LIFESPAN", default_value = "5m", value_parser = crate::shutdown::parse_duration)]
    pub credential_cache_lifespan: Duration,
}

/// Keycloak's `https-*` options: native TLS from PEM files.
#[derive(Debug, Clone, Args)]
pub struct HttpsArgs {
    /// Port for HTTPS, served when a certificate is configured.
    #[arg(long, env = "KC_HTTPS_PORT", default_value_t = 8443)]
    pub https_port: u16,

    /// PEM file with the server certificate chain, the server's own certificate first.
    #[arg(long, env = "KC_HTTPS_CERTIFICATE_FILE")]
    pub https_certificate_file: Option<PathBuf>,

    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    #[arg(long, env = "KC_HTTPS_CERTIFICATE_KEY_FILE")]
    pub https_certificate_key_file: Option<PathBuf>,
}

/// The HTTPS listener: its port and the PEM files it serves (reloaded when they change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsSettings {
    pub port: u16,
    pub certificate_file: PathBuf,
    pub key_file: PathBuf,
}

impl HttpsArgs {
    /// The HTTPS listener, if a certificate is given; a certificate without its key (or the
    /// reverse) is an error.
    fn settings(self) -> Result<Option<HttpsSettings>, ConfigError> {
        match (self.https_certificate_file, self.https_certificate_key_file) {
            (Some(certificate_file), Some(key_file)) => Ok(Some(HttpsSettings {
                port: self.https_port,
                certificate_file,
                key_file,
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError::HttpsHalfConfigured(
                "--https-certificate-file",
                "--https-certificate-key-file",
            )),
            (None, Some(_)) => Err(ConfigError::HttpsHalfConfigured(
                "--https-certificate-key-file",
                "--https-certificate-file",
            )),
        }
    }
}

/// Features that can be switched on with `--features`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// The docker-v2 client protocol and its token endpoint.
    pub docker: bool,
}

impl Features {
    /// Parses the `--features` list; unknown names are an error.
    pub fn parse(names: &[String]) -> Result<Self, ConfigError> {
        let mut features = Features::default();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "docker" | "docker:v1" => features.docker = true,
                _ => return Err(ConfigError::UnknownFeature(name.to_owned())),
            }
        }
        Ok(features)
    }
}

/// The first admin, created only while the master realm has no users.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub username: String,
    pub password: SecretString,
}

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dev_mode: bool,
    pub http_host: IpAddr,
    pub http_port: u16,
    /// Whether plain HTTP is served on `http_port`.
    pub http_enabled: bool,
    /// The HTTPS listener, when a certificate is configured.
    pub https: Option<HttpsSettings>,
    /// Fixed public base, without a trailing slash, e.g. `https://id.example.com`.
    pub hostname: Option<Url>,
    /// The one prefix served (e.g. `/auth`), or `None` to serve both `/` and `/auth`.
    pub relative_path: Option<String>,
    pub features: Features,
    /// Whether the scheme and host may come from proxy headers.
    pub proxy_headers: bool,
    /// Import the realm files in `./data/import` at start.
    pub import_realm: bool,
    /// How to reach the database.
    pub db: DbOptions,
    pub log_level: String,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// Serving time between SIGTERM and closing the listeners, readiness down.
    pub shutdown_delay: Duration,
    /// Time requests in flight get to finish once the listeners are closed.
    pub shutdown_timeout: Duration,
    /// How long verified credentials are trusted without hashing (zero: never).
    pub credential_cache_lifespan: Duration,
}

/// A configuration the server refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown feature '{0}' (supported: docker)")]
    UnknownFeature(String),
    #[error("invalid --hostname '{0}': expected a host name or an http(s) URL")]
    BadHostname(String),
    #[error("invalid --http-relative-path '{0}': expected a path such as /auth")]
    BadRelativePath(String),
    #[error(
        "hostname is not configured; either configure --hostname, or set --hostname-strict=false"
    )]
    ProductionNeedsHostname,
    #[error(
        "invalid --db-url '{0}': expected jdbc:postgresql://HOST[:PORT]/DATABASE[?PROPERTIES]"
    )]
    BadDbUrl(String),
    #[error("--db={kind} does not match --db-url '{url}'")]
    DbUrlMismatch { kind: String, url: String },
    #[error("Key material not provided to setup HTTPS. Please configure your keys/certificates, or if HTTPS access is not needed see the `http-enabled` option. If you meant to start the server in development mode, see the `start-dev` command.")]
    NoKeyMaterial,
    #[error("{0} is set but {1} is not: HTTPS needs both the certificate and its key")]
    HttpsHalfConfigured(&'static str, &'static str),
    #[error("invalid -D option '{0}'")]
    BadLegacyProperty(String),
    #[error("bootstrap admin is incomplete: {0} is set but its password is not")]
    BootstrapPasswordMissing(&'static str),
    #[error("`{0}` does not run a server")]
    NotAServer(&'static str),
}

impl Settings {
    /// Settings for `keywarden export` and `import`: the database, nothing served.
    pub fn for_tool(db: DbOptions) -> Settings {
        Settings {
            dev_mode: false,
            http_host: IpAddr::from([127, 0, 0, 1]),
            http_port: 0,
            http_enabled: false,
            https: None,
            hostname: None,
            relative_path: None,
            features: Features { docker: true },
            proxy_headers: false,
            import_realm: false,
            db,
            log_level: "warn".into(),
            bootstrap_admin: None,
            shutdown_delay: Duration::ZERO,
            shutdown_timeout: Duration::ZERO,
            credential_cache_lifespan: Duration::ZERO,
        }
    }

    /// Builds settings from parsed arguments and the bootstrap-admin environment variables.
    pub fn from_cli(cli: Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let (dev_mode, args) = match cli.command {
            Command::StartDev(args) => (true, args),
            Command::Start(args) => (false, args),
            Command::Export(_) => return Err(ConfigError::NotAServer("export")),
            Command::Import(_) => return Err(ConfigError::NotAServer("import")),
            Command::Backup(_) => return Err(ConfigError::NotAServer("backup")),
            Command::CopyDatabase(_) => return Err(ConfigError::NotAServer("copy-database")),
        };
        let hostname = args.hostname.as_deref().map(parse_hostname).transpose()?;
        if !dev_mode && hostname.is_none() && args.hostname_strict {
            return Err(ConfigError::ProductionNeedsHostname);
        }
        let https = args.https.settings()?;
        let http_enabled = args.http_enabled.unwrap_or(dev_mode);
        if !http_enabled && https.is_none() {
            return Err(ConfigError::NoKeyMaterial);
        }
        Ok(Settings {
            dev_mode,
            http_host: args.http_host,
            http_port: args.http_port,
            http_enabled,
            https,
            hostname,
            relative_path: args
                .http_relative_path
                .as_deref()
                .map(parse_relative_path)
                .transpose()?
                .flatten(),
            features: Features::parse(&args.features)?,
            proxy_headers: args.proxy_headers.is_some(),
            import_realm: args.import_realm,
            db: args.db.options()?,
            log_level: args.log_level,
            bootstrap_admin: bootstrap_admin(env)?,
            shutdown_delay: args.shutdown_delay,
            shutdown_timeout: args.shutdown_timeout,
            credential_cache_lifespan: args.credential_cache_lifespan,
        })
    }
}

/// Reads the bootstrap admin from the current variables, then the two older generations.
fn bootstrap_admin(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<BootstrapAdmin>, ConfigError> {
    const PAIRS: [(&str, &str); 3] = [
        ("KC_BOOTSTRAP_ADMIN_USERNAME", "KC_BOOTSTRAP_ADMIN_PASSWORD"),
        ("KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD"),
        ("KEYCLOAK_USER", "KEYCLOAK_PASSWORD"),
    ];
    for (user_var, password_var) in PAIRS {
        let Some(username) = env(user_var).filter(|u| !u.trim().is_empty()) else {
            continue;
        };
        let password = env(password_var)
            .filter(|p| !p.is_empty())
            .ok_or(ConfigError::BootstrapPasswordMissing(user_var))?;
        return Ok(Some(BootstrapAdmin {
            username: username.trim().to_owned(),
            password: SecretString::from(password),
        }));
    }
    Ok(None)
}

fn parse_hostname(raw: &str) -> Result<Url, ConfigError> {
    let bad = || ConfigError::BadHostname(raw.to_owned());
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(with_scheme.trim_end_matches('/')).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    Ok(url)
}

/// `/auth/` becomes `Some("/auth")`; `/` means the root layout only, `Some("")`.
fn parse_relative_path(raw: &str) -> Result<Option<String>, ConfigError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let valid = raw.starts_with('/')
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c))
        && !trimmed.contains("//");
    if !valid {
        return Err(ConfigError::BadRelativePath(raw.to_owned()));
    }
    Ok(Some(trimmed.to_owned()))
}

/// Rewrites the classic (WildFly-era) command line into the current one:
/// `-Dkeycloak.profile.feature.docker=enabled` becomes `--features=docker`, `-b ADDR` becomes
/// `--http-host ADDR`, and a command line without a subcommand but with such options runs
/// `start-dev`, as the old distribution did.
pub fn rewrite_legacy_args(args: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut legacy = false;
    let mut iter = args.into_iter();
    if let Some(program) = iter.next() {
        out.push(program);
    }
    while let Some(arg) = iter.next() {
        if let Some(property) = arg.strip_prefix("-D") {
            legacy = true;
            let (key, value) = property
                .split_once('=')
                .ok_or_else(|| ConfigError::BadLegacyProperty(arg.clone()))?;
            match (key, value) {
                ("keycloak.profile.feature.docker", "enabled") => {
                    out.push("--features=docker".into())
                }
                ("keycloak.profile.feature.docker", "disabled") => {}
                ("jboss.bind.address", addr) => out.push(format!("--http-host={addr}")),
                ("jboss.http.port", port) => out.push(format!("--http-port={port}")),
                _ => tracing::warn!(property = %key, "ignoring unsupported -D option"),
            }
        } else if arg == "-b" {
            legacy = true;
            let addr = iter
                .next()
                .ok_or_else(|| ConfigError::BadLegacyProperty(arg.clone()))?;
            out.push(format!("--http-host={addr}"));
        } else if let Some(addr) = arg.strip_prefix("-b=") {
            legacy = true;
            out.push(format!("--http-host={addr}"));
        } else {
            out.push(arg);
        }
    }
    let has_subcommand = out.get(1).is_some_and(|a| {
        !a.starts_with('-') || a == "--help" || a == "-h" || a == "--version" || a == "-V"
    });
    if legacy && !has_subcommand {
        out.insert(1, "start-dev".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn classic_tutorial_command_line_becomes_start_dev_with_docker() {
        let out = rewrite_legacy_args(args(
            "keywarden -Dkeycloak.profile.feature.docker=enabled -b 0.0.0.0",
        ))
        .unwrap();
        assert_eq!(
            out,
            args("keywarden start-dev --features=docker --http-host=0.0.0.0")
        );
    }

    #[test]
    fn modern_command_line_is_left_alone() {
        let line = args("keywarden start-dev --http-port 9000");
        assert_eq!(rewrite_legacy_args(line.clone()).unwrap(), line);
    }

    #[test]
    fn dash_b_without_address_is_an_error() {
        assert!(rewrite_legacy_args(args("keywarden -b")).is_err());
    }

    #[test]
    fn unknown_feature_is_rejected_with_its_name() {
        let err = Features::parse(&["dokcer".into()]).unwrap_err();
        assert!(err.to_string().contains("dokcer"));
    }

    #[test]
    fn features_accept_docker_in_any_case() {
        assert!(Features::parse(&["Docker".into()]).unwrap().docker);
        assert!(!Features::parse(&[]).unwrap().docker);
    }

    #[test]
    fn bootstrap_admin_prefers_the_newest_variables() {
        let env = |k: &str| match k {
            "KC_BOOTSTRAP_ADMIN_USERNAME" => Some("new".to_owned()),
            "KC_BOOTSTRAP_ADMIN_PASSWORD" => Some("p1".to_owned()),
            "KEYCLOAK_USER" => Some("old".to_owned()),
            "KEYCLOAK_PASSWORD" => Some("p2".to_owned()),
            _ => None,
        };
        assert_eq!(bootstrap_admin(&env).unwrap().unwrap().username, "new");
    }

    #[test]
    fn bootstrap_admin_without_password_is_an_error() {
        let env = |k: &str| (k == "KEYCLOAK_ADMIN").then(|| "admin".to_owned());
        assert!(bootstrap_admin(&env).is_err());
    }

    #[test]
    fn relative_path_is_normalised() {
        assert_eq!(
            parse_relative_path("/auth/").unwrap(),
            Some("/auth".to_owned())
        );
        assert_eq!(parse_relative_path("/").unwrap(), Some(String::new()));
        assert!(parse_relative_path("auth").is_err());
        assert!(parse_relative_path("/a b").is_err());
    }

    fn settings(line: &str) -> Result<Settings, ConfigError> {
        let cli = Cli::try_parse_from(args(line)).unwrap();
        Settings::from_cli(cli, &|_| None)
    }

    #[test]
    fn production_without_key_material_is_refused_unless_http_is_enabled() {
        let err = settings("keywarden start --hostname-strict=false").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("Key material not provided to setup HTTPS."));
        let plain = settings("keywarden start --hostname-strict=false --http-enabled=true");
        assert!(plain.unwrap().http_enabled);
        assert!(matches!(
            settings("keywarden start-dev --http-enabled=false"),
            Err(ConfigError::NoKeyMaterial)
        ));
    }

    #[test]
    fn https_serves_alone_in_production_and_beside_http_in_development() {
        let tls = "--https-certificate-file=c.pem --https-certificate-key-file=k.pem";
        let production = settings(&format!("keywarden start --hostname=id.test {tls}")).unwrap();
        assert!(!production.http_enabled);
        let https = production.https.unwrap();
        assert_eq!(https.port, 8443);
        assert_eq!(https.key_file, PathBuf::from("k.pem"));
        let dev = settings(&format!("keywarden start-dev --https-port=9443 {tls}")).unwrap();
        assert!(dev.http_enabled);
        assert_eq!(dev.https.unwrap().port, 9443);
    }

    #[test]
    fn a_certificate_without_its_key_is_refused() {
        let err = settings("keywarden start-dev --https-certificate-file=c.pem").unwrap_err();
        assert!(err.to_string().contains("--https-certificate-key-file"));
        let err = settings("keywarden start-dev --https-certificate-key-file=k.pem").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("--https-certificate-key-file is set"));
    }

    #[test]
    fn hostname_accepts_bare_hosts_and_urls() {
        assert_eq!(
            parse_hostname("id.example.com").unwrap().as_str(),
            "https://id.example.com/"
        );
        assert_eq!(
            parse_hostname("http://localhost:8080").unwrap().as_str(),
            "http://localhost:8080/"
        );
        assert!(parse_hostname("ftp://x").is_err());
    }
}
