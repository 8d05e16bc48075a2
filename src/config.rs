//! Command line and environment, in Keycloak's words: `start-dev`, `start`, the
//! `KC_*` variables, and the classic `-Dkeycloak.profile.feature.docker=enabled -b 0.0.0.0`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use url::Url;

/// A small, fast identity provider that speaks Keycloak's language.
#[derive(Debug, Parser)]
#[command(name = "keywarden", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run in development mode: plain HTTP, a bootstrap admin created on first start.
    StartDev(ServerArgs),
    /// Run in production mode: the hostname (or --hostname-strict=false) and a bootstrap admin
    /// for an empty master realm must be given.
    Start(ServerArgs),
    /// Export realms to a directory or a file, as `kc.sh export` (the server must be stopped).
    Export(ExportArgs),
    /// Import realms from a directory or a file, as `kc.sh import` (the server must be stopped).
    Import(ImportArgs),
    /// Copy the SQLite database to a new file, consistently, while a server may be running on it
    /// (for PostgreSQL, use `pg_dump`).
    Backup(BackupArgs),
}

/// Options of `keywarden backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write the copy to; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,

    /// Database URL, as for `start` (SQLite only).
    #[arg(long, env = "KC_DB_URL", default_value = "sqlite://data/keywarden.db")]
    pub db_url: String,
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

    /// Database URL, as for `start`.
    #[arg(long, env = "KC_DB_URL", default_value = "sqlite://data/keywarden.db")]
    pub db_url: String,
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

    /// Database URL, as for `start`.
    #[arg(long, env = "KC_DB_URL", default_value = "sqlite://data/keywarden.db")]
    pub db_url: String,
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

    /// Enable plain HTTP in production mode.
    #[arg(long, env = "KC_HTTP_ENABLED", default_value_t = false, action = clap::ArgAction::Set)]
    pub http_enabled: bool,

    /// Comma-separated features to enable (supported: docker).
    #[arg(long, env = "KC_FEATURES", value_delimiter = ',')]
    pub features: Vec<String>,

    /// Database URL, e.g. sqlite://data/keywarden.db (created on first start).
    #[arg(long, env = "KC_DB_URL", default_value = "sqlite://data/keywarden.db")]
    pub db_url: String,

    /// Trust a reverse proxy's `forwarded` or `xforwarded` headers for the request's scheme and host.
    #[arg(long, env = "KC_PROXY_HEADERS", value_parser = ["forwarded", "xforwarded"])]
    pub proxy_headers: Option<String>,

    /// Import the realm JSON files in ./data/import at start (realms that exist are skipped).
    #[arg(long, env = "KC_IMPORT_REALM", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub import_realm: bool,

    /// Log level: error, warn, info, debug, trace, or a tracing filter.
    #[arg(long, env = "KC_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
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
    /// Fixed public base, without a trailing slash, e.g. `https://id.example.com`.
    pub hostname: Option<Url>,
    /// The one prefix served (e.g. `/auth`), or `None` to serve both `/` and `/auth`.
    pub relative_path: Option<String>,
    pub features: Features,
    /// Whether the scheme and host may come from proxy headers.
    pub proxy_headers: bool,
    /// Import the realm files in `./data/import` at start.
    pub import_realm: bool,
    pub db_url: String,
    pub log_level: String,
    pub bootstrap_admin: Option<BootstrapAdmin>,
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
    #[error("`start` needs --hostname (or --hostname-strict=false) and --http-enabled=true (no TLS is built in)")]
    ProductionNeedsHostname,
    #[error("invalid -D option '{0}'")]
    BadLegacyProperty(String),
    #[error("bootstrap admin is incomplete: {0} is set but its password is not")]
    BootstrapPasswordMissing(&'static str),
    #[error("`{0}` does not run a server")]
    NotAServer(&'static str),
}

impl Settings {
    /// Settings for `keywarden export` and `import`: the database, nothing served.
    pub fn for_tool(db_url: &str) -> Settings {
        Settings {
            dev_mode: false,
            http_host: IpAddr::from([127, 0, 0, 1]),
            http_port: 0,
            hostname: None,
            relative_path: None,
            features: Features { docker: true },
            proxy_headers: false,
            import_realm: false,
            db_url: db_url.to_owned(),
            log_level: "warn".into(),
            bootstrap_admin: None,
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
        };
        let hostname = args.hostname.as_deref().map(parse_hostname).transpose()?;
        if !dev_mode && ((hostname.is_none() && args.hostname_strict) || !args.http_enabled) {
            return Err(ConfigError::ProductionNeedsHostname);
        }
        Ok(Settings {
            dev_mode,
            http_host: args.http_host,
            http_port: args.http_port,
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
            db_url: args.db_url,
            log_level: args.log_level,
            bootstrap_admin: bootstrap_admin(env)?,
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
