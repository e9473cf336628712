//! Mutations of a parsed TOML document, written out again: values replaced
//! by others of the wrong type, by values from elsewhere in the document
//! (an id where another id was: a dangling or crossed reference), by
//! hostile strings and numbers; keys removed and added; array items
//! duplicated and removed. Unlike a text mutation the result still parses
//! as TOML, so it reaches the validation behind the parser.
//!
//! Shared by the fuzz tests of the catalog and of the policy test files
//! (included with `#[path]`).

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use toml::{Table, Value};

/// A value to put somewhere.
#[derive(Debug, Clone)]
pub enum Replacement {
    /// A string found elsewhere in the document.
    FromDocument(Index),
    /// A value of its own.
    Value(Value),
}

/// One edit of the tree.
#[derive(Debug, Clone)]
pub enum TreeEdit {
    /// Replace a value (any node but the root).
    Replace(Index, Replacement),
    /// Remove a key of a table, or an item of an array.
    Remove(Index),
    /// Write an item of an array twice.
    Duplicate(Index),
    /// Add a key to a table (one of `words`, or `unexpected`).
    Add(Index, Option<Index>, Replacement),
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::String(String::new())),
        Just(Value::String("UPPER Case".to_owned())),
        Just(Value::String("\u{202e}\u{0}🦀e\u{301}".to_owned())),
        Just(Value::String("two\nlines".to_owned())),
        Just(Value::String("\r\u{1b}[2K".to_owned())),
        Just(Value::String("web.messages:own".to_owned())),
        Just(Value::String(":own".to_owned())),
        Just(Value::String("a".repeat(129))),
        (1usize..100_000).prop_map(|n| Value::String("x".repeat(n))),
        ".{0,16}".prop_map(Value::String),
        any::<i64>().prop_map(Value::Integer),
        Just(Value::Integer(i64::MIN)),
        Just(Value::Integer(i64::MAX)),
        any::<f64>().prop_map(Value::Float),
        Just(Value::Float(f64::NAN)),
        any::<bool>().prop_map(Value::Boolean),
        Just(Value::Array(Vec::new())),
        Just(Value::Table(Table::new())),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Table(m.into_iter().collect())),
        ]
    })
}

fn replacement() -> impl Strategy<Value = Replacement> {
    prop_oneof![
        3 => any::<Index>().prop_map(Replacement::FromDocument),
        2 => value().prop_map(Replacement::Value),
    ]
}

/// One edit.
pub fn tree_edit() -> impl Strategy<Value = TreeEdit> {
    prop_oneof![
        5 => (any::<Index>(), replacement()).prop_map(|(i, r)| TreeEdit::Replace(i, r)),
        2 => any::<Index>().prop_map(TreeEdit::Remove),
        2 => any::<Index>().prop_map(TreeEdit::Duplicate),
        1 => (any::<Index>(), prop::option::of(any::<Index>()), replacement())
            .prop_map(|(i, k, r)| TreeEdit::Add(i, k, r)),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    At(usize),
}

/// Every node under `value`, by its path.
fn nodes(value: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Table(table) => {
            for (key, child) in table {
                at.push(Step::Key(key.clone()));
                out.push(at.clone());
                nodes(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(Step::At(i));
                out.push(at.clone());
                nodes(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Table(table) => table.values().for_each(|v| strings(v, out)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn get_mut<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut current = value;
    for step in path {
        current = match (step, current) {
            (Step::Key(key), Value::Table(table)) => table.get_mut(key)?,
            (Step::At(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// `source` (valid TOML) with `edits` applied, written out again; `None`
/// when it is not TOML or cannot be written.
pub fn apply(source: &str, words: &[&str], edits: &[TreeEdit]) -> Option<String> {
    let mut root = Value::Table(toml::from_str::<Table>(source).ok()?);
    for edit in edits {
        let mut all = Vec::new();
        nodes(&root, &mut Vec::new(), &mut all);
        if all.is_empty() {
            break;
        }
        let mut found = Vec::new();
        strings(&root, &mut found);
        let pick = |r: &Replacement| match r {
            Replacement::FromDocument(i) if !found.is_empty() => {
                Value::String(found[i.index(found.len())].clone())
            }
            Replacement::FromDocument(_) => Value::String(String::new()),
            Replacement::Value(v) => v.clone(),
        };
        match edit {
            TreeEdit::Replace(i, r) => {
                let new = pick(r);
                if let Some(node) = get_mut(&mut root, &all[i.index(all.len())]) {
                    *node = new;
                }
            }
            TreeEdit::Remove(i) | TreeEdit::Duplicate(i) => {
                let path = &all[i.index(all.len())];
                let (last, parent) = path.split_last()?;
                let duplicate = matches!(edit, TreeEdit::Duplicate(_));
                match (get_mut(&mut root, parent), last) {
                    (Some(Value::Table(table)), Step::Key(key)) if !duplicate => {
                        table.remove(key);
                    }
                    (Some(Value::Array(items)), Step::At(at)) if duplicate => {
                        let item = items[*at].clone();
                        items.insert(*at, item);
                    }
                    (Some(Value::Array(items)), Step::At(at)) => {
                        items.remove(*at);
                    }
                    _ => {}
                }
            }
            TreeEdit::Add(i, key, r) => {
                let new = pick(r);
                let key = match key {
                    Some(k) if !words.is_empty() => words[k.index(words.len())].to_owned(),
                    _ => "unexpected".to_owned(),
                };
                if let Some(Value::Table(table)) = get_mut(&mut root, &all[i.index(all.len())]) {
                    table.insert(key, new);
                }
            }
        }
    }
    let Value::Table(table) = root else {
        return None;
    };
    toml::to_string(&table).ok()
}
