//! `rolecall check`

use std::io::{self, Write};

/// Not yet written.
#[allow(clippy::too_many_arguments)]
pub fn run(
    _url: &str,
    _user: &str,
    _permission: &str,
    _org: &str,
    _owner: Option<&str>,
    _json: bool,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
