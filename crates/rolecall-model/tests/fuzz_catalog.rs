//! Hostile input to the catalog parser, [`Catalog::from_toml`]: arbitrary
//! text and bytes, and the shipped catalog mutated. Whatever it is given,
//! the parser returns a catalog or diagnostics naming a place in the file;
//! it never panics. A catalog it accepts reads the same after a trip
//! through a TOML serializer.
//!
//! `PROPTEST_CASES` sets how many inputs each property tries (32 by
//! default, for `cargo test`; `scripts/fuzz.sh` tries thousands). Every
//! file of `tests/corpus/catalog/` is replayed on every run: inputs that
//! once broke the parser, and seeds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/text_mutation.rs"]
mod text_mutation;
#[path = "support/toml_mutation.rs"]
mod toml_mutation;

use proptest::prelude::*;
use rolecall_model::catalog::DEFAULT_CATALOG_TOML;
use rolecall_model::Catalog;

const ORIGIN: &str = "fuzz.toml";

/// The format's own words, for mutations that still parse.
const WORDS: &[&str] = &[
    "[[application]]",
    "[[service]]",
    "[[module]]",
    "[[permission]]",
    "[[role]]",
    "[[default_role]]",
    "[[default_role.rule]]",
    "[[access_level]]",
    "[[user_type]]",
    "[[access_type]]",
    "id = \"web.x\"",
    "id = \"web\"",
    "id = \"\"",
    "id = \"Web.Upper\"",
    "name = \"X\"",
    "module = \"web.general\"",
    "module = \"web.nowhere\"",
    "application = \"web\"",
    "application = \"nowhere\"",
    "scoped = true",
    "\"web.messages\"",
    "\"web.messages:own\"",
    "\"web.view_notes:own\"",
    "\"web.view_notes:nobody\"",
    "\"web.messages:\"",
    "\":own\"",
    "requires = [\"web.messages\"]",
    "requires = [\"emr.analytics_access\"]",
    "narrows = [\"web.messages\"]",
    "narrows = [\"web.view_notes\"]",
    "gated_by = [\"revserve\"]",
    "gated_by = [\"web.general\"]",
    "reaches = [\"own\", \"managed\", \"elsewhere\"]",
    "levels = [\"nowhere\"]",
    "default_level = \"nowhere\"",
    "default_for_users_of = [\"web\", \"web\"]",
    "all_of = []",
    "any_of = [\"web.messages\"]",
    "role = \"web.provider\"",
    "grants = []",
    "grants = [\"emr.analytics_access\"]",
];

/// Field names, for keys added to tables.
const FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "module",
    "scoped",
    "narrows",
    "requires",
    "grants",
    "gated_by",
    "application",
    "role",
    "rule",
    "all_of",
    "any_of",
    "levels",
    "default_level",
    "initial_grants",
    "label",
    "reaches",
    "default_for_users_of",
];

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // A failure is shrunk, but not for ever: some inputs are large.
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    }
}

/// The properties every input must have. `Err` says which one failed.
fn properties(source: &str) -> Result<(), String> {
    match Catalog::from_toml(ORIGIN, source) {
        Ok(catalog) => round_trip(source, &catalog),
        Err(diagnostics) => {
            if diagnostics.0.is_empty() {
                return Err("an error with no diagnostic".to_owned());
            }
            let lines = source.split('\n').count();
            for d in &diagnostics.0 {
                let text = d.to_string();
                if d.origin != ORIGIN || !text.starts_with(&format!("{ORIGIN}:")) {
                    return Err(format!("`{text}` does not name the file"));
                }
                if d.message.trim().is_empty() {
                    return Err(format!("`{text}` does not say what is wrong"));
                }
                match (d.line, d.column) {
                    (Some(line), Some(column)) if (1..=lines).contains(&line) && column >= 1 => {}
                    (None, None) if d.path != Default::default() => {}
                    (line, column) => {
                        return Err(format!(
                            "`{text}` names no place in the file ({line:?}:{column:?} of \
                             {lines} lines)"
                        ))
                    }
                }
            }
            Ok(())
        }
    }
}

/// An accepted catalog, written out again by a TOML serializer (its
/// tables in another order, its strings requoted, comments gone), is the
/// same catalog.
fn round_trip(source: &str, catalog: &Catalog) -> Result<(), String> {
    let table: toml::Table = toml::from_str(source).map_err(|e| e.to_string())?;
    let again = toml::to_string(&table).map_err(|e| format!("not serializable: {e}"))?;
    let reread = Catalog::from_toml(ORIGIN, &again)
        .map_err(|d| format!("accepted, but not once reserialized: {d}\n{again}"))?;
    let view = |c: &Catalog| serde_json::to_value(c.view()).unwrap();
    if view(catalog) != view(&reread) {
        return Err("the catalog changed on a trip through the serializer".to_owned());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_is_a_catalog_or_located_diagnostics(source in "\\PC{0,400}") {
        properties(&source).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn any_bytes_read_as_text_are_a_catalog_or_located_diagnostics(
        bytes in prop::collection::vec(any::<u8>(), 0..400)
    ) {
        properties(&String::from_utf8_lossy(&bytes)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_mutated_shipped_catalog_is_a_catalog_or_located_diagnostics(
        edits in prop::collection::vec(text_mutation::edit(WORDS), 1..8)
    ) {
        let source = text_mutation::apply(DEFAULT_CATALOG_TOML, &edits);
        properties(&source).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_reshaped_shipped_catalog_is_a_catalog_or_located_diagnostics(
        edits in prop::collection::vec(toml_mutation::tree_edit(), 1..6)
    ) {
        // `None`: a tree the serializer cannot write (nothing to test).
        let Some(source) = toml_mutation::apply(DEFAULT_CATALOG_TOML, FIELDS, &edits) else {
            return Ok(());
        };
        properties(&source).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn the_shipped_catalog_survives_a_trip_through_the_serializer() {
    properties(DEFAULT_CATALOG_TOML).unwrap();
}

#[test]
fn every_input_of_the_corpus_is_a_catalog_or_located_diagnostics() {
    corpus::replay(
        env!("CARGO_MANIFEST_DIR"),
        "tests/corpus/catalog",
        |bytes| properties(&String::from_utf8_lossy(bytes)),
    );
}
