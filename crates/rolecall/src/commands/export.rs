//! `rolecall export`

use std::io::{self, Write};

/// Not yet written.
pub fn users(
    _url: &str,
    _org: Option<&str>,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
