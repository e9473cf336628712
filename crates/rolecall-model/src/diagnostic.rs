//! Errors that say where a file is wrong: the file, the line and the field.
//!
//! Validation works on parsed values and reports a [`FieldPath`] such as
//! `user[2].membership[0].roles[1]`; [`Diagnostics::locate`] then finds that
//! path's line and column in the TOML source, so every message points at the
//! exact spot an administrator has to fix.

use std::fmt;

use toml::de::{DeTable, DeValue};

/// Where a value sits in a document: table keys and array positions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl FieldPath {
    /// The root of the document.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path extended by a table key.
    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_owned()));
        next
    }

    /// This path extended by an array position.
    pub fn at(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// `key` then `index`: the `index`-th entry of the array `key`.
    pub fn item(&self, key: &str, index: usize) -> Self {
        self.key(key).at(index)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the document came from (a path, or `default catalog`).
    pub origin: String,
    /// 1-based line of the offending value, when known.
    pub line: Option<usize>,
    /// 1-based column of the offending value, when known.
    pub column: Option<usize>,
    /// The field that is wrong.
    pub path: FieldPath,
    /// What is wrong, lowercase, with user input in backticks.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if self.path.0.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": field `{}`: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one document; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

/// A problem found by validation, before it is placed in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field that is wrong.
    pub path: FieldPath,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: FieldPath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.path, self.message)
    }
}

impl Diagnostics {
    /// Places validation problems in the TOML `source` they were found in.
    pub fn locate(origin: &str, source: &str, problems: Vec<Problem>) -> Self {
        let document = DeTable::parse(source).ok();
        let diagnostics = problems
            .into_iter()
            .map(|problem| {
                let offset = document
                    .as_ref()
                    .and_then(|doc| offset_of(doc.get_ref(), &problem.path));
                let (line, column) = match offset {
                    Some(offset) => {
                        let (line, column) = line_column(source, offset);
                        (Some(line), Some(column))
                    }
                    None => (None, None),
                };
                Diagnostic {
                    origin: origin.to_owned(),
                    line,
                    column,
                    path: problem.path,
                    message: problem.message,
                }
            })
            .collect();
        Diagnostics(diagnostics)
    }

    /// Turns a TOML syntax or type error into a diagnostic.
    pub fn from_toml_error(origin: &str, source: &str, error: &toml::de::Error) -> Self {
        let (line, column) = match error.span() {
            Some(span) => {
                let (line, column) = line_column(source, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Diagnostics(vec![Diagnostic {
            origin: origin.to_owned(),
            line,
            column,
            path: FieldPath::root(),
            message: error.message().trim_end().to_owned(),
        }])
    }
}

/// The byte offset of the deepest part of `path` that exists in the document.
fn offset_of(table: &DeTable<'_>, path: &FieldPath) -> Option<usize> {
    let mut best = None;
    let mut current: Option<&DeValue<'_>> = None;
    let mut current_table = Some(table);
    for segment in &path.0 {
        let next = match (segment, current_table, current) {
            (Segment::Key(key), Some(table), _) => table
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == key.as_str())
                .map(|(_, v)| v),
            (Segment::Index(index), _, Some(DeValue::Array(items))) => items.get(*index),
            _ => None,
        };
        let Some(next) = next else { break };
        best = Some(next.span().start);
        current = Some(next.get_ref());
        current_table = match next.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => None,
        };
    }
    best
}

fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_an_item_of_an_array_of_tables() {
        let source = "[[role]]\nid = \"a\"\n\n[[role]]\nid = \"b\"\ngrants = [\"x\", \"y\"]\n";
        let path = FieldPath::root().item("role", 1).item("grants", 1);
        let diagnostics = Diagnostics::locate("f.toml", source, vec![Problem::new(path, "bad")]);
        let first = &diagnostics.0[0];
        assert_eq!(first.line, Some(6));
        assert_eq!(first.column, Some(16));
        assert_eq!(
            first.to_string(),
            "f.toml:6:16: field `role[1].grants[1]`: bad"
        );
    }

    #[test]
    fn a_missing_field_points_at_its_table() {
        let source = "[[role]]\nid = \"a\"\n";
        let path = FieldPath::root().item("role", 0).key("name");
        let diagnostics =
            Diagnostics::locate("f.toml", source, vec![Problem::new(path, "missing")]);
        assert_eq!(diagnostics.0[0].line, Some(1), "the table header");
    }
}
