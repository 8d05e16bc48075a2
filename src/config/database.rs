//! The database options, as Keycloak names them: `--db`, `--db-url` (a `postgres://` URL or
//! Keycloak's `jdbc:postgresql://` form), `--db-url-host`/`-port`/`-database`, `--db-username`,
//! `--db-password`, `--db-schema` and `--db-pool-max-size`, each with its `KC_DB_*` twin.

use clap::{Args, ValueEnum};
use secrecy::SecretString;

use super::ConfigError;
use crate::store::DbOptions;

/// Where SQLite keeps its file unless told otherwise.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://data/keywarden.db";

/// The database vendors keywarden runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DbKind {
    /// One file on disk, for one server (the default).
    Sqlite,
    /// PostgreSQL, for any number of replicas.
    Postgres,
}

/// Options shared by every command that opens the database.
#[derive(Debug, Clone, Default, Args)]
pub struct DbArgs {
    /// The database vendor: sqlite (default) or postgres.
    #[arg(long, env = "KC_DB", value_enum)]
    pub db: Option<DbKind>,

    /// Full database URL: sqlite://PATH, postgres://HOST:PORT/DB or jdbc:postgresql://HOST:PORT/DB.
    #[arg(long, env = "KC_DB_URL")]
    pub db_url: Option<String>,

    /// PostgreSQL host, when --db-url is not given (default localhost).
    #[arg(long, env = "KC_DB_URL_HOST")]
    pub db_url_host: Option<String>,

    /// PostgreSQL port, when --db-url is not given (default 5432).
    #[arg(long, env = "KC_DB_URL_PORT")]
    pub db_url_port: Option<u16>,

    /// PostgreSQL database, when --db-url is not given (default keycloak).
    #[arg(long, env = "KC_DB_URL_DATABASE")]
    pub db_url_database: Option<String>,

    /// The database user.
    #[arg(long, env = "KC_DB_USERNAME")]
    pub db_username: Option<String>,

    /// The database user's password.
    #[arg(long, env = "KC_DB_PASSWORD", hide_env_values = true)]
    pub db_password: Option<String>,

    /// The PostgreSQL schema to use (created if missing).
    #[arg(long, env = "KC_DB_SCHEMA")]
    pub db_schema: Option<String>,

    /// The most connections one server opens to PostgreSQL (default 100).
    #[arg(long, env = "KC_DB_POOL_MAX_SIZE", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub db_pool_max_size: Option<u32>,
}

impl DbArgs {
    /// Resolves the options into how to open the database.
    pub fn options(&self) -> Result<DbOptions, ConfigError> {
        let url = self
            .db_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let kind = self.db.unwrap_or(match url {
            Some(url) if is_postgres_url(url) => DbKind::Postgres,
            _ => DbKind::Sqlite,
        });
        let mut options = DbOptions {
            url: String::new(),
            username: self.db_username.clone(),
            password: self.db_password.clone().map(SecretString::from),
            schema: self.db_schema.clone(),
            pool_max_size: self.db_pool_max_size,
        };
        options.url = match (kind, url) {
            (DbKind::Sqlite, None) => DEFAULT_SQLITE_URL.to_owned(),
            (DbKind::Sqlite, Some(url)) if url.starts_with("sqlite:") => url.to_owned(),
            (DbKind::Postgres, Some(url)) if is_postgres_url(url) => {
                postgres_url(url, &mut options)?
            }
            (DbKind::Postgres, None) => format!(
                "postgres://{}:{}/{}",
                host_for_url(self.db_url_host.as_deref().unwrap_or("localhost")),
                self.db_url_port.unwrap_or(5432),
                self.db_url_database.as_deref().unwrap_or("keycloak"),
            ),
            (kind, Some(url)) => {
                return Err(ConfigError::DbUrlMismatch {
                    kind: kind
                        .to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().into()),
                    url: redacted(url),
                })
            }
        };
        Ok(options)
    }
}

fn is_postgres_url(url: &str) -> bool {
    ["postgres://", "postgresql://", "jdbc:postgresql:"]
        .iter()
        .any(|prefix| url.starts_with(prefix))
}

/// An IPv6 address goes in brackets.
fn host_for_url(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// A `postgres://` URL from either form. From the JDBC form, `user`, `password` and
/// `currentSchema` become the options they stand for (unless given on their own), and the
/// properties libpq also knows (`sslmode`, `ApplicationName`...) are kept.
fn postgres_url(url: &str, options: &mut DbOptions) -> Result<String, ConfigError> {
    let Some(jdbc) = url.strip_prefix("jdbc:") else {
        return Ok(url.to_owned());
    };
    let bad = || ConfigError::BadDbUrl(redacted(url));
    // `jdbc:postgresql:db` and `jdbc:postgresql:/` name no host: localhost.
    let rest = jdbc.strip_prefix("postgresql:").ok_or_else(bad)?;
    let with_host = match rest.strip_prefix("//") {
        Some(after) => after.to_owned(),
        None => format!("localhost/{}", rest.trim_start_matches('/')),
    };
    let parsed = url::Url::parse(&format!("postgres://{with_host}")).map_err(|_| bad())?;
    if parsed.host_str().is_none_or(str::is_empty)
        || with_host.split('/').next().is_some_and(|h| h.contains(','))
    {
        return Err(bad());
    }
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "user" => {
                options.username.get_or_insert_with(|| value.to_string());
            }
            "password" => {
                options
                    .password
                    .get_or_insert_with(|| SecretString::from(value.to_string()));
            }
            "currentSchema" => {
                options.schema.get_or_insert_with(|| value.to_string());
            }
            "ApplicationName" => {
                kept.append_pair("application_name", &value);
            }
            "sslmode" | "sslrootcert" | "sslcert" | "sslkey" | "options" => {
                kept.append_pair(&key, &value);
            }
            "ssl" if value == "true" => {
                kept.append_pair("sslmode", "require");
            }
            _ => {}
        }
    }
    let mut out = parsed.clone();
    let query = kept.finish();
    out.set_query((!query.is_empty()).then_some(query.as_str()));
    Ok(out.to_string())
}

/// The URL without a password, for messages.
fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let (head, tail) = url.split_at(scheme_end + 3);
    let authority_end = tail.find('/').unwrap_or(tail.len());
    match tail[..authority_end].rfind('@') {
        Some(at) => match tail[..at].find(':') {
            Some(colon) => format!("{head}{}:***{}", &tail[..colon], &tail[at..]),
            None => url.to_owned(),
        },
        None => url.split("password=").next().unwrap_or(url).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn resolve(args: DbArgs) -> DbOptions {
        args.options().unwrap()
    }

    #[test]
    fn sqlite_is_the_default() {
        assert_eq!(resolve(DbArgs::default()).url, DEFAULT_SQLITE_URL);
    }

    #[test]
    fn the_jdbc_form_becomes_a_postgres_url_with_its_properties_as_options() {
        let options = resolve(DbArgs {
            db: Some(DbKind::Postgres),
            db_url: Some(
                "jdbc:postgresql://db.internal:6543/kc?user=kc&password=s3cret&currentSchema=idp&sslmode=require&loggerLevel=OFF"
                    .into(),
            ),
            ..DbArgs::default()
        });
        assert_eq!(
            options.url,
            "postgres://db.internal:6543/kc?sslmode=require"
        );
        assert_eq!(options.username.as_deref(), Some("kc"));
        assert_eq!(options.password.unwrap().expose_secret(), "s3cret");
        assert_eq!(options.schema.as_deref(), Some("idp"));
    }

    #[test]
    fn separate_options_win_over_jdbc_properties() {
        let options = resolve(DbArgs {
            db_url: Some("jdbc:postgresql://h/kc?user=a".into()),
            db_username: Some("b".into()),
            ..DbArgs::default()
        });
        assert_eq!(options.url, "postgres://h/kc");
        assert_eq!(
            options.username.as_deref(),
            Some("b"),
            "and --db is inferred"
        );
    }

    #[test]
    fn a_jdbc_url_without_host_means_localhost() {
        let options = resolve(DbArgs {
            db_url: Some("jdbc:postgresql:kc".into()),
            ..DbArgs::default()
        });
        assert_eq!(options.url, "postgres://localhost/kc");
    }

    #[test]
    fn host_port_and_database_build_the_url() {
        let options = resolve(DbArgs {
            db: Some(DbKind::Postgres),
            db_url_host: Some("::1".into()),
            db_url_port: Some(5433),
            db_url_database: Some("idp".into()),
            db_pool_max_size: Some(20),
            ..DbArgs::default()
        });
        assert_eq!(options.url, "postgres://[::1]:5433/idp");
        assert_eq!(options.pool_max_size, Some(20));
        let defaults = resolve(DbArgs {
            db: Some(DbKind::Postgres),
            ..DbArgs::default()
        });
        assert_eq!(
            defaults.url, "postgres://localhost:5432/keycloak",
            "Keycloak's defaults"
        );
    }

    #[test]
    fn a_url_of_the_other_vendor_is_refused_without_its_password() {
        let err = DbArgs {
            db: Some(DbKind::Sqlite),
            db_url: Some("postgres://kc:s3cret@h/kc".into()),
            ..DbArgs::default()
        }
        .options()
        .unwrap_err()
        .to_string();
        assert!(err.contains("postgres://kc:***@h/kc"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let multi_host = DbArgs {
            db_url: Some("jdbc:postgresql://a:5432,b:5432/kc".into()),
            ..DbArgs::default()
        }
        .options();
        assert!(multi_host.is_err());
    }
}
