//! `rolecall audit`

use std::io::{self, Write};

/// Not yet written.
pub fn verify(_url: &str, _out: &mut dyn Write, _err: &mut dyn Write) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
