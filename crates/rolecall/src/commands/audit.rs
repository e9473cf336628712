//! `rolecall audit verify` and `rolecall audit checkpoint`.
//!
//! Both open the database read-only (SQLite `mode=ro`, no migrations): a
//! verification changes nothing, and a missing file is an error rather than
//! a new, empty, "intact" database.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rolecall_store::{AuditKey, Checkpoint, Checkpointed, Store, StoreError, Verification};

use super::key::{self, Location};
use super::{block_on, redact};
use crate::cli::Database;
use crate::{EXIT_FAILED, EXIT_INVALID, EXIT_OK};

/// Verifies both chains, the state tables against the change log, and
/// every checkpoint in `checkpoint_files`: exit 0 when intact, 1 naming
/// every problem, 2 when the database, the key or a checkpoint file cannot
/// be read.
pub fn verify(
    db: &Database,
    checkpoint_files: &[PathBuf],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let verified = block_on(async {
        let mut checkpoints = Vec::new();
        for file in checkpoint_files {
            checkpoints.extend(read_checkpoints(file)?);
        }
        let location = key::location(db)?;
        let audit_key = key::read(&location)?;
        let store = open(db).await?;
        let verified = store
            .verify(audit_key.as_ref(), &checkpoints)
            .await
            .map_err(|e| explain(db, &location, e));
        store.close().await;
        verified
    })?;
    match verified {
        Ok(verified) if verified.problems.is_empty() => {
            if !verified.sealed {
                writeln!(
                    out,
                    "note: this audit log is not sealed with an audit key yet; its unkeyed \
                     hashes were checked, which anyone who can write the database can \
                     recompute. `rolecall serve` seals it with the key."
                )?;
            }
            writeln!(out, "audit log intact: {}", summary(&verified))?;
            Ok(EXIT_OK)
        }
        Ok(verified) => {
            for problem in &verified.problems {
                writeln!(out, "{problem}")?;
            }
            let count = verified.problems.len();
            writeln!(
                out,
                "audit log damaged: {count} problem{} in {}",
                if count == 1 { "" } else { "s" },
                summary(&verified)
            )?;
            Ok(EXIT_FAILED)
        }
        Err(message) => {
            writeln!(err, "rolecall audit verify: {message}")?;
            Ok(EXIT_INVALID)
        }
    }
}

/// Writes a checkpoint (the signed heads of both chains) as one JSON line
/// to `out`, or appends it to `file`. The newest records are verified
/// first: a damaged log is not vouched for (exit 1). Exit 2 when the
/// database or the key cannot be read, or the file cannot be written.
pub fn checkpoint(
    db: &Database,
    file: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let taken = block_on(async {
        let location = key::location(db)?;
        let Some(audit_key) = key::read(&location)? else {
            return Err(missing_key(&location));
        };
        let store = open(db).await?;
        let taken = take_checkpoint(store.clone(), audit_key)
            .await
            .map_err(|e| explain(db, &location, e));
        store.close().await;
        taken
    })?;
    let checkpoint = match taken {
        Ok(Ok(checkpoint)) => checkpoint,
        Ok(Err(problems)) => {
            for problem in &problems {
                writeln!(out, "{problem}")?;
            }
            writeln!(
                out,
                "audit log damaged: no checkpoint taken; `rolecall audit verify` names every \
                 problem"
            )?;
            return Ok(EXIT_FAILED);
        }
        Err(message) => {
            writeln!(err, "rolecall audit checkpoint: {message}")?;
            return Ok(EXIT_INVALID);
        }
    };
    let line = checkpoint.to_line();
    let Some(file) = file else {
        writeln!(out, "{line}")?;
        return Ok(EXIT_OK);
    };
    match append_line(file, &line) {
        Ok(()) => {
            writeln!(
                out,
                "checkpoint of audit record {} and revision {} appended to `{}`",
                checkpoint.audit_seq,
                checkpoint.revision,
                file.display()
            )?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            writeln!(
                err,
                "rolecall audit checkpoint: cannot append to `{}`: {e}",
                file.display()
            )?;
            Ok(EXIT_INVALID)
        }
    }
}

/// The checkpoint, or the problems found in the tail that stop it.
async fn take_checkpoint(
    store: Store,
    audit_key: AuditKey,
) -> Result<Result<Checkpoint, Vec<String>>, StoreError> {
    let store = store.with_audit_key_read_only(audit_key).await?;
    let problems = store.verify_tail().await?;
    if !problems.is_empty() {
        return Ok(Err(problems.iter().map(ToString::to_string).collect()));
    }
    Ok(Ok(store.checkpoint().await?))
}

async fn open(db: &Database) -> Result<Store, String> {
    Store::open_read_only(&db.url).await.map_err(|e| match e {
        StoreError::Missing(path) => format!("there is no database at `{path}`"),
        other => format!("cannot open the database {}: {other}", redact(&db.url)),
    })
}

fn explain(db: &Database, location: &Location, error: StoreError) -> String {
    match (error, location) {
        (StoreError::NoAuditKey, Location::File(path)) => key::missing(db, path),
        (StoreError::NoAuditKey, Location::Variable) => missing_key(location),
        (StoreError::WrongAuditKey, _) => format!(
            "the audit key {location} is not the one the database {} is sealed with",
            redact(&db.url)
        ),
        (other, _) => format!("cannot read the audit log of {}: {other}", redact(&db.url)),
    }
}

fn missing_key(location: &Location) -> String {
    format!(
        "no audit key at {location}: give it with `--audit-key FILE`, `ROLECALL_AUDIT_KEY_FILE` \
         or `{}`",
        key::KEY_VARIABLE
    )
}

fn summary(verified: &Verification) -> String {
    let mut text = format!(
        "{} records, {} changes, state tables compared with the change log",
        verified.records, verified.changes
    );
    if verified.checkpoints > 0 {
        text.push_str(&format!(", {} checkpoints", verified.checkpoints));
    }
    text
}

/// Every checkpoint in a file of JSON lines (blank lines skipped).
fn read_checkpoints(file: &Path) -> Result<Vec<Checkpointed>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the checkpoints `{}`: {e}", file.display()))?;
    let mut checkpoints = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let origin = format!("`{}` line {}", file.display(), index + 1);
        let checkpoint = Checkpoint::parse_line(line)
            .map_err(|e| format!("{origin} is not a checkpoint: {e}"))?;
        checkpoints.push(Checkpointed { origin, checkpoint });
    }
    Ok(checkpoints)
}

/// Appends one line and syncs it to disk.
fn append_line(file: &Path, line: &str) -> io::Result<()> {
    let mut handle = OpenOptions::new().create(true).append(true).open(file)?;
    handle.write_all(format!("{line}\n").as_bytes())?;
    handle.sync_all()
}
