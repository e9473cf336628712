//! The backends every test runs on: a SQLite file in a temporary
//! directory, and (when `ROLECALL_TEST_POSTGRES_URL` names a server) a
//! PostgreSQL database created for the test and dropped after it.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::Connection;

/// The variable naming the PostgreSQL server (an admin URL) for the tests.
pub const POSTGRES_URL_VAR: &str = "ROLECALL_TEST_POSTGRES_URL";

/// Generates one test per backend for each named async body
/// `async fn name(backend: Backend)`: `name::sqlite` and `name::postgres`,
/// so a failure names its backend.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::backend::run($crate::backend::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::backend::Backend::postgres() {
                    $crate::backend::run(backend, super::$name).await;
                }
            }
        }
    )*};
}

/// Where a test's database lives.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A database created on this PostgreSQL server for the test.
    Postgres {
        /// The admin URL (`ROLECALL_TEST_POSTGRES_URL`).
        admin_url: String,
        /// Databases created by this test, dropped when it ends.
        created: Arc<Mutex<Vec<String>>>,
    },
}

impl Backend {
    /// PostgreSQL, when the suite was given a server. In CI a missing
    /// server is an error, not a silent skip.
    pub fn postgres() -> Option<Backend> {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(admin_url) if !admin_url.is_empty() => Some(Backend::Postgres {
                admin_url,
                created: Arc::default(),
            }),
            _ if std::env::var_os("CI").is_some() => {
                panic!("PostgreSQL tests need {POSTGRES_URL_VAR}; scripts/test.sh sets it")
            }
            _ => {
                eprintln!("skipped: {POSTGRES_URL_VAR} is not set");
                None
            }
        }
    }

    /// Creates a fresh PostgreSQL database and returns its URL.
    pub async fn create_database(admin_url: &str, created: &Mutex<Vec<String>>) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        drop_stale_databases(admin_url).await;
        let name = format!(
            "rolecall_api_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        created.lock().unwrap().push(name.clone());
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        format!("{base}/{name}")
    }

    /// Drops the databases this test created, closing their connections.
    async fn drop_databases(&self) {
        let Backend::Postgres { admin_url, created } = self else {
            return;
        };
        let names: Vec<String> = std::mem::take(&mut *created.lock().unwrap());
        if names.is_empty() {
            return;
        }
        let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
        for name in names {
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
        admin.close().await.unwrap();
    }
}

/// Drops, once per run, the databases that earlier runs of this binary left
/// behind (a test that panicked mid-way), recognized by a dead process id.
async fn drop_stale_databases(admin_url: &str) {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'rolecall_api_%'",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        for name in names {
            let pid = name.split('_').nth(2).unwrap_or_default();
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
        admin.close().await.unwrap();
    })
    .await;
}

/// Runs one test body against `backend`, then drops the databases it
/// created, whether it passed or panicked.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Backend) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(body(backend.clone())).await;
    backend.drop_databases().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
