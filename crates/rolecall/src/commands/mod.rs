//! One module per command.

pub mod audit;
pub mod catalog;
pub mod check;
pub mod export;
pub mod import;
pub mod init;
pub(crate) mod key;
pub mod migrate;
pub mod policy_test;
pub mod serve;
pub mod token;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use rolecall_server::service::Settings;
use rolecall_server::Service;
use rolecall_store::{OnDamage, Sealing, Store, StoreError};

use crate::cli::Database;

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

/// What a command does with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads only: no audit key needed.
    Read,
    /// Writes: with the audit key, created for a database that has none.
    Write,
    /// Writes, sealing an old damaged log as it is (`serve
    /// --allow-broken-audit`).
    WriteDespiteDamage,
}

/// A service opened for a command, and what the operator should be told
/// about it (a key created, an old log sealed).
pub(crate) struct Opened {
    /// The service.
    pub service: Arc<Service>,
    /// Notes to print, each a paragraph.
    pub notes: Vec<String>,
}

/// Opens (and migrates) the database and loads it into a service with the
/// default catalog. The error names the database without its password.
pub(crate) async fn open_service(db: &Database, access: Access) -> Result<Opened, String> {
    open_service_with(db, Settings::default(), access).await
}

/// Opens the database with chosen account settings.
pub(crate) async fn open_service_with(
    db: &Database,
    settings: Settings,
    access: Access,
) -> Result<Opened, String> {
    let url = &db.url;
    let store = Store::open(url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact(url)))?;
    let mut notes = Vec::new();
    let store = if access == Access::Read {
        store
    } else {
        let (audit_key, created) = key::read_or_create(db, &store).await?;
        notes.extend(created);
        let on_damage = if access == Access::WriteDespiteDamage {
            OnDamage::SealAnyway
        } else {
            OnDamage::Refuse
        };
        let location = key::location(db)?;
        let (store, sealing) = store
            .unlock(audit_key, on_damage)
            .await
            .map_err(|e| match e {
                StoreError::WrongAuditKey => format!(
                    "the audit key {location} is not the one the database {} is sealed with",
                    redact(url)
                ),
                other => format!("cannot open the database {}: {other}", redact(url)),
            })?;
        if let Some(sealing) = sealing {
            notes.push(sealed(&sealing));
        }
        store
    };
    let service = Service::open_with(store, Arc::new(Catalog::default_catalog()), settings)
        .await
        .map_err(|e| format!("cannot load the database {}: {e}", redact(url)))?;
    Ok(Opened { service, notes })
}

/// What to say after sealing a log written before audit keys.
fn sealed(sealing: &Sealing) -> String {
    let mut note = format!(
        "Sealed the audit log written before audit keys with the key: {} records and {} \
         changes, verified first.",
        sealing.records, sealing.changes
    );
    if !sealing.damage.is_empty() {
        note.push_str(" It was damaged, and sealed as it was (--allow-broken-audit):");
        for problem in &sealing.damage {
            note.push_str(&format!("\n    {problem}"));
        }
    }
    note
}

/// Prints notes from opening the database, each a paragraph.
pub(crate) fn print_notes(out: &mut dyn std::io::Write, notes: &[String]) -> std::io::Result<()> {
    for note in notes {
        writeln!(out, "{note}\n")?;
    }
    Ok(())
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
