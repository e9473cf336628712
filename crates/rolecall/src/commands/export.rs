//! `rolecall export users [--org ORG]`: employees and users as CSV, in the
//! format `rolecall import users` reads back.

use std::io::{self, Write};

use rolecall_server::ops::import::{self, UserRecord};
use rolecall_server::Principal;

use super::{block_on, open_service, Access};
use crate::cli::Database;
use crate::{EXIT_INVALID, EXIT_OK};

/// Writes every employee and user (only `org`'s when given) as CSV to
/// `out`, header first. Exit 2 when the organization does not exist or the
/// database cannot be read.
pub fn users(
    db: &Database,
    org: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let records: Result<Vec<UserRecord>, String> = block_on(async {
        let service = open_service(db, Access::Read).await?.service;
        let live = service.live();
        import::export(&live, &Principal::Cli, org).map_err(|e| e.to_string())
    })?;
    let records = match records {
        Ok(records) => records,
        Err(message) => {
            writeln!(err, "rolecall export: {message}")?;
            return Ok(EXIT_INVALID);
        }
    };
    let bar = super::import::bar(records.len() as u64, "writing");
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(import::COLUMNS)?;
    for record in &records {
        // A name that begins like a formula is not run by a spreadsheet.
        writer.write_record(record.to_fields().map(import::as_text))?;
        bar.inc(1);
    }
    writer.flush()?;
    bar.finish_and_clear();
    Ok(EXIT_OK)
}
