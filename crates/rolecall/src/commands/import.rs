//! `rolecall import`

use std::io::{self, Write};
use std::path::Path;

/// Not yet written.
pub fn users(
    _url: &str,
    _file: &Path,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
