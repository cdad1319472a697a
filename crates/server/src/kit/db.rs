//! The database: SQLite (WAL) by default, PostgreSQL for scale-out, through sqlx's `Any`
//! driver so one set of queries serves both. Queries use `$1` placeholders, which both
//! backends accept; types are kept to what both share (TEXT, BIGINT, BLOB/BYTEA).
//! Migrations live per backend in `migrations/` and run at start.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL '{0}' (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A connection pool and which backend it talks to.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The SQLite database file (none for PostgreSQL or an in-memory database), for the
    /// pixel writer's own connection.
    pub sqlite_file: Option<PathBuf>,
}

impl Db {
    /// Connects (creating the SQLite file and its directory when needed) and migrates.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };
        let (url, sqlite_file) = match backend {
            Backend::Sqlite => (sqlite_url(url)?, sqlite_file(url)),
            Backend::Postgres => (url.to_string(), None),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(DbError::Connect)?;
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .max_connections(match backend {
                // One writer at a time anyway; readers share WAL snapshots.
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        let pool = match backend {
            Backend::Sqlite => pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        // The pixel writer lets the WAL reach 4,000 frames between its own
                        // checkpoints (its thread beside it copies pages meanwhile); an API
                        // write should not run the checkpoint at SQLite's default 1,000.
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                         PRAGMA wal_autocheckpoint = 4000;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => pool_options,
        }
        .connect_with(options)
        .await
        .map_err(DbError::Connect)?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Db {
            pool,
            backend,
            sqlite_file,
        })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// The file path of `sqlite://PATH?OPTIONS`; empty or `:memory:` when there is no file.
fn sqlite_path(url: &str) -> &str {
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default()
}

fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = sqlite_path(url);
    let in_memory = path.is_empty() || path == ":memory:" || url.contains("mode=memory");
    (!in_memory).then(|| PathBuf::from(path))
}

/// `sqlite://PATH` with the file (and its directory) created when missing.
fn sqlite_url(url: &str) -> Result<String, DbError> {
    let path = sqlite_path(url);
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_string());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| DbError::DataDir(dir.display().to_string(), e))?;
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(if url.contains("mode=") {
        url.to_string()
    } else {
        format!("{url}{separator}mode=rwc")
    })
}
