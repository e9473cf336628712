//! One module per command.

pub mod catalog;
pub mod policy_test;

use std::path::Path;

use rolecall_model::{Catalog, Diagnostics};

/// Reads and validates a catalog file.
pub(crate) fn load_catalog(path: &Path) -> Result<Catalog, String> {
    let origin = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("{origin}: cannot read the catalog: {e}"))?;
    Catalog::from_toml(&origin, &source).map_err(|d: Diagnostics| d.to_string())
}
