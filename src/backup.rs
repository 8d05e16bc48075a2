//! `keywarden backup --to FILE`: a consistent copy of the SQLite database, taken while a
//! server runs on it.
//!
//! This is the one SQL statement kept outside `store`, on purpose: the store opens a database
//! as its only owner (it takes the file's exclusive `flock` and applies migrations), and a
//! backup must do neither while a server owns the file. It opens a read-only connection of its
//! own beside the server and runs `VACUUM INTO`, which writes a transactionally consistent
//! snapshot to a new file; SQLite's own (POSIX) locks and WAL keep the server's writes and
//! the snapshot apart, so the server goes on serving. The copy goes to a temporary file in the
//! destination's directory, is synced, and only then appears under its name, which is never
//! overwritten. PostgreSQL databases are backed up with PostgreSQL's tools (`pg_dump`).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use crate::config::BackupArgs;

/// How long the copy waits for SQLite's locks (a checkpoint of the server, say).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A finished backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The file written.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

impl fmt::Display for Backup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backup written to {} ({} bytes)",
            self.file.display(),
            self.bytes
        )
    }
}

/// Why no backup was written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup is written to a new file, never over one")]
    Exists(String),
    #[error("the database is PostgreSQL: back it up with pg_dump (`keywarden backup` copies SQLite databases only)")]
    Postgres,
    #[error("unsupported database URL (scheme '{0}'): expected sqlite://PATH")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("no database file at {0}")]
    Missing(String),
    #[error("cannot back up to {0}: the path is not valid UTF-8")]
    PathNotUtf8(String),
    #[error("cannot read database {path}: {source}")]
    Read { path: String, source: sqlx::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: io::Error },
}

/// Copies the database of `args.db` to `args.to`.
pub async fn backup(args: &BackupArgs) -> Result<Backup, BackupError> {
    let source = sqlite_file(&args.db.options()?.url)?;
    if !source.is_file() {
        return Err(BackupError::Missing(source.display().to_string()));
    }
    let target = args.to.as_path();
    if target.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(target.display().to_string()));
    }
    let temp = TempFile::create_beside(target)?;
    copy_database(&source, &temp.path).await?;
    File::open(&temp.path)
        .and_then(|file| file.sync_all())
        .map_err(write_error(&temp.path))?;
    publish(&temp.path, target)?;
    drop(temp);
    let bytes = target.metadata().map_err(write_error(target))?.len();
    Ok(Backup {
        file: target.to_path_buf(),
        bytes,
    })
}

/// The file of a `sqlite://PATH` (or `sqlite:PATH`) URL; any query string is ignored.
fn sqlite_file(url: &str) -> Result<PathBuf, BackupError> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    let lower = url.to_ascii_lowercase();
    if ["postgres:", "postgresql:", "jdbc:postgresql:"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
    {
        return Err(BackupError::Postgres);
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && *path != ":memory:")
        .ok_or_else(|| BackupError::UnsupportedUrl(scheme.chars().take(32).collect()))?;
    Ok(PathBuf::from(path))
}

/// Writes a snapshot of `source` into the empty file `target` through a read-only connection.
async fn copy_database(source: &Path, target: &Path) -> Result<(), BackupError> {
    let read_error = |source_err| BackupError::Read {
        path: source.display().to_string(),
        source: source_err,
    };
    let target_text = target
        .to_str()
        .ok_or_else(|| BackupError::PathNotUtf8(target.display().to_string()))?;
    let mut conn = SqliteConnectOptions::new()
        .filename(source)
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        .disable_statement_logging()
        .connect()
        .await
        .map_err(read_error)?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(target_text)
        .execute(&mut conn)
        .await
        .map_err(read_error);
    let closed = conn.close().await.map_err(read_error);
    copied.and(closed).map(|_| ())
}

/// Gives `temp` the name `target`, unless something took that name meanwhile, and syncs the
/// directory so the name survives a crash. A hard link cannot replace a file; where the file
/// system has no hard links, a rename after a last check does the same.
fn publish(temp: &Path, target: &Path) -> Result<(), BackupError> {
    match std::fs::hard_link(temp, target) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        Err(_) if target.symlink_metadata().is_ok() => {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        Err(_) => std::fs::rename(temp, target).map_err(write_error(target))?,
    }
    File::open(directory_of(target))
        .and_then(|dir| dir.sync_all())
        .map_err(write_error(target))
}

/// The directory a file is in (`.` for a bare name).
fn directory_of(file: &Path) -> &Path {
    file.parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// An empty file reserved beside the target, removed when dropped (after a failure, or after
/// it was linked to its final name).
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn create_beside(target: &Path) -> Result<TempFile, BackupError> {
        let name = target
            .file_name()
            .ok_or_else(|| BackupError::Write {
                path: target.display().to_string(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
            })?
            .to_string_lossy();
        let path = directory_of(target).join(format!(
            ".{name}.{}-{:016x}.tmp",
            std::process::id(),
            rand::random::<u64>()
        ));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(write_error(target))?;
        Ok(TempFile { path })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/keywarden.db").unwrap(),
            PathBuf::from("data/keywarden.db")
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/kw.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/kw.db")
        );
        assert_eq!(sqlite_file("sqlite:kw.db").unwrap(), PathBuf::from("kw.db"));
    }

    #[test]
    fn postgres_urls_point_to_pg_dump_without_echoing_the_password() {
        for url in [
            "postgres://kw:secret@db/kw",
            "postgresql://kw:secret@db/kw",
            "jdbc:postgresql://db:5432/kw?password=secret",
        ] {
            let message = sqlite_file(url).unwrap_err().to_string();
            assert!(message.contains("pg_dump"), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn other_urls_are_refused_by_scheme() {
        let message = sqlite_file("mysql://u:secret@db/kw")
            .unwrap_err()
            .to_string();
        assert!(message.contains("'mysql'"), "{message}");
        assert!(!message.contains("secret"), "{message}");
        assert!(sqlite_file("sqlite::memory:").is_err());
        assert!(sqlite_file("sqlite://").is_err());
    }

    #[tokio::test]
    async fn the_copy_holds_the_rows_and_a_second_run_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("kw.db");
        let url = format!("sqlite://{}", source.display());
        let mut conn = SqliteConnectOptions::new()
            .filename(&source)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept')")
            .execute(&mut conn)
            .await
            .unwrap();
        let args = BackupArgs {
            to: dir.path().join("copy.db"),
            db: crate::config::DbArgs {
                db_url: Some(url),
                ..Default::default()
            },
        };
        let done = backup(&args).await.unwrap();
        assert_eq!(done.bytes, args.to.metadata().unwrap().len());
        let mut copy = SqliteConnectOptions::new()
            .filename(&args.to)
            .read_only(true)
            .connect()
            .await
            .unwrap();
        let value: String = sqlx::query_scalar("SELECT v FROM t")
            .fetch_one(&mut copy)
            .await
            .unwrap();
        assert_eq!(value, "kept");
        let again = backup(&args).await.unwrap_err();
        assert!(matches!(again, BackupError::Exists(_)), "{again}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
