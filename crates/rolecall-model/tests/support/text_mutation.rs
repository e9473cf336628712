//! Mutations of a valid text document, for the property tests that feed
//! hostile input to rolecall's parsers: lines deleted, duplicated, swapped
//! or replaced, fragments inserted (unicode, huge numbers, deep nesting,
//! table headers, the format's own words), a value replaced, the text cut
//! short. A mutated valid file is the input most likely to get past the
//! first syntax check into the code behind it.
//!
//! Shared by the fuzz tests of the catalog, the policy test files and the
//! CSV import (included with `#[path]`, so no crate depends on another's
//! tests).

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;

/// One edit of a document.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Delete a line.
    DeleteLine(Index),
    /// Write a line twice.
    DuplicateLine(Index),
    /// Swap two lines.
    SwapLines(Index, Index),
    /// Replace a line by a fragment.
    ReplaceLine(Index, String),
    /// Insert a fragment at a position (moved back to a character boundary).
    Insert(Index, String),
    /// Replace what follows the `=` (or the `,`) of a line by a fragment.
    ReplaceValue(Index, String),
    /// Cut the text at a position.
    Truncate(Index),
}

/// Hostile pieces of text; `words` are the format's own (table headers,
/// field names, ids), which make a mutation likelier to parse.
pub fn fragment(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(words).prop_map(str::to_owned),
        2 => prop::sample::select(HOSTILE).prop_map(str::to_owned),
        1 => (1usize..20_000).prop_map(|n| "[".repeat(n)),
        1 => (1usize..5_000).prop_map(|n| format!("{}1{}", "[".repeat(n), "]".repeat(n))),
        1 => (1usize..5_000).prop_map(|n| format!("{}1{}", "{a=".repeat(n), "}".repeat(n))),
        1 => (1usize..200_000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        1 => any::<u128>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|f| f.to_string()),
        2 => ".{0,24}",
    ]
}

/// Fragments that have broken parsers before: control and direction
/// characters, surrogates, huge and special numbers, unbalanced quotes.
const HOSTILE: &[&str] = &[
    "",
    "\0",
    "\u{202e}",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "e\u{301}",
    "🦀",
    "\t",
    "\r",
    "\r\n",
    "\n\n",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "\\",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "99999999999999999999999999999999",
    "-9223372036854775809",
    "9223372036854775808",
    "1e999",
    "-0",
    "nan",
    "inf",
    "0x7fffffffffffffff",
    "1979-05-27T07:32:00Z",
    "= =",
    "[]",
    "{}",
    "[[]]",
    ",",
    "#",
    "a.b.c.d = 1",
    "\"\" = 1",
];

/// One edit.
pub fn edit(words: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => any::<Index>().prop_map(Edit::DeleteLine),
        1 => any::<Index>().prop_map(Edit::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        2 => (any::<Index>(), fragment(words)).prop_map(|(i, f)| Edit::ReplaceLine(i, f)),
        2 => (any::<Index>(), fragment(words)).prop_map(|(i, f)| Edit::Insert(i, f)),
        3 => (any::<Index>(), fragment(words)).prop_map(|(i, f)| Edit::ReplaceValue(i, f)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// `source` with `edits` applied in order.
pub fn apply(source: &str, edits: &[Edit]) -> String {
    let mut text = source.to_owned();
    for edit in edits {
        text = apply_one(&text, edit);
    }
    text
}

fn apply_one(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let line = |i: &Index| i.index(lines.len());
    match edit {
        Edit::DeleteLine(i) => {
            let at = line(i);
            lines.remove(at);
        }
        Edit::DuplicateLine(i) => {
            let at = line(i);
            lines.insert(at, lines[at].clone());
        }
        Edit::SwapLines(a, b) => {
            let (a, b) = (line(a), line(b));
            lines.swap(a, b);
        }
        Edit::ReplaceLine(i, fragment) => {
            let at = line(i);
            lines[at] = fragment.clone();
        }
        Edit::ReplaceValue(i, fragment) => {
            let at = line(i);
            if let Some(split) = lines[at].find(['=', ',']) {
                lines[at] = format!("{} {fragment}", &lines[at][..=split]);
            }
        }
        Edit::Insert(i, fragment) => {
            let at = boundary(text, i.index(text.len() + 1));
            return format!("{}{fragment}{}", &text[..at], &text[at..]);
        }
        Edit::Truncate(i) => {
            let at = boundary(text, i.index(text.len() + 1));
            return text[..at].to_owned();
        }
    }
    lines.join("\n")
}

/// The nearest character boundary at or before `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
