//! `rolecall audit verify`: recomputes the audit log's hash chain.

use std::io::{self, Write};

use rolecall_store::Store;

use super::{block_on, redact};
use crate::{EXIT_FAILED, EXIT_INVALID, EXIT_OK};

/// Verifies the chain: exit 0 when intact, 1 naming every edited, deleted
/// or inserted record, 2 when the database cannot be read.
pub fn verify(url: &str, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    let verified = block_on(async {
        let store = Store::open(url)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", redact(url)))?;
        let verified = store
            .verify_audit()
            .await
            .map_err(|e| format!("cannot read the audit log of {}: {e}", redact(url)));
        store.close().await;
        verified
    })?;
    match verified {
        Ok((count, problems)) if problems.is_empty() => {
            writeln!(out, "audit log intact: {count} records")?;
            Ok(EXIT_OK)
        }
        Ok((count, problems)) => {
            for problem in &problems {
                writeln!(out, "{problem}")?;
            }
            writeln!(
                out,
                "audit log damaged: {} problem{} in {count} records",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            )?;
            Ok(EXIT_FAILED)
        }
        Err(message) => {
            writeln!(err, "rolecall audit verify: {message}")?;
            Ok(EXIT_INVALID)
        }
    }
}
