//! One module per command.

pub mod audit;
pub mod catalog;
pub mod check;
pub mod export;
pub mod import;
pub mod init;
pub mod migrate;
pub mod policy_test;
pub mod serve;
pub mod token;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use rolecall_server::service::Settings;
use rolecall_server::Service;
use rolecall_store::Store;

use rolecall_model::{Catalog, Diagnostics};

/// Reads and validates a catalog file.
pub(crate) fn load_catalog(path: &Path) -> Result<Catalog, String> {
    let origin = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("{origin}: cannot read the catalog: {e}"))?;
    Catalog::from_toml(&origin, &source).map_err(|d: Diagnostics| d.to_string())
}

/// Runs async work on a fresh multi-threaded runtime.
pub(crate) fn block_on<F: Future>(work: F) -> std::io::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(work))
}

/// Opens (and migrates) the database and loads it into a service with the
/// default catalog. The error names the database without its password.
pub(crate) async fn open_service(url: &str) -> Result<Arc<Service>, String> {
    open_service_with(url, Settings::default()).await
}

/// Opens the database with chosen account settings.
pub(crate) async fn open_service_with(
    url: &str,
    settings: Settings,
) -> Result<Arc<Service>, String> {
    let store = Store::open(url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact(url)))?;
    Service::open_with(store, Arc::new(Catalog::default_catalog()), settings)
        .await
        .map_err(|e| format!("cannot load the database {}: {e}", redact(url)))
}

/// A database URL fit to print: any password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
