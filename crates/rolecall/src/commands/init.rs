//! `rolecall init`

use std::io::{self, Write};

/// Not yet written.
pub fn run(_url: &str, _json: bool, _out: &mut dyn Write, _err: &mut dyn Write) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
