//! A fresh PostgreSQL database per run, on the server that
//! `ROLECALL_TEST_POSTGRES_URL` names (scripts/test.sh starts one), so
//! that runs never see each other's data.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

/// The variable naming the PostgreSQL server (an admin URL).
pub const ADMIN_URL_VAR: &str = "ROLECALL_TEST_POSTGRES_URL";

/// The admin URL, when the suite was given a server. In CI a missing
/// server is an error, not a silent skip.
pub fn admin_url() -> Option<String> {
    match std::env::var(ADMIN_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("the PostgreSQL runs need {ADMIN_URL_VAR}; scripts/test.sh sets it")
        }
        _ => {
            eprintln!("skipped: {ADMIN_URL_VAR} is not set");
            None
        }
    }
}

/// A database created for one run; [`Database::drop`] removes it.
pub struct Database {
    /// The server's admin URL.
    admin_url: String,
    /// Its name: `<prefix>_<process id>_<counter>`.
    name: String,
    /// Its URL, for `--database`.
    pub url: String,
}

impl Database {
    /// Creates an empty database named after `prefix` and this process,
    /// first dropping those that runs of dead processes left behind.
    pub async fn create(admin_url: &str, prefix: &str) -> Database {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
        drop_stale(&mut admin, prefix).await;
        let name = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        Database {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop(self) {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        admin.close().await.unwrap();
    }
}

/// Drops the `<prefix>_<pid>_<n>` databases whose process is gone (a run
/// that panicked before dropping its own).
async fn drop_stale(admin: &mut sqlx::PgConnection, prefix: &str) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(format!("{prefix}_"))
            .fetch_all(&mut *admin)
            .await
            .unwrap();
    for name in names {
        let pid = name[prefix.len() + 1..]
            .split('_')
            .next()
            .unwrap_or_default();
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}
