//! `rolecall serve`

use std::io::{self, Write};

/// Not yet written.
pub fn run(
    _url: &str,
    _listen: &str,
    _demo: bool,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
