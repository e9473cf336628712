//! `rolecall migrate`

use std::io::{self, Write};

/// Not yet written.
pub fn analytics_access(
    _url: &str,
    _dry_run: bool,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
