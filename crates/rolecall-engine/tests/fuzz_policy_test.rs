//! Hostile input to policy test files ([`PolicyTest::parse`], then
//! [`PolicyTest::run`] on the default catalog): arbitrary text and bytes,
//! and the shipped examples mutated. A file is run, or refused with
//! diagnostics naming a place in it (a line and column, or a field); it
//! never panics. Every outcome of a run names the line of its check.
//!
//! `PROPTEST_CASES` sets how many inputs each property tries (32 by
//! default, for `cargo test`; `scripts/fuzz.sh` tries thousands). Every
//! file of `tests/corpus/policy_test/` is replayed on every run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../rolecall-model/tests/support/corpus.rs"]
mod corpus;
#[path = "../../rolecall-model/tests/support/text_mutation.rs"]
mod text_mutation;
#[path = "../../rolecall-model/tests/support/toml_mutation.rs"]
mod toml_mutation;

use std::sync::{Arc, LazyLock};

use proptest::prelude::*;
use rolecall_engine::policy_test::PolicyTest;
use rolecall_model::{Catalog, Diagnostics};

const ORIGIN: &str = "fuzz.toml";

static CATALOG: LazyLock<Arc<Catalog>> = LazyLock::new(|| Arc::new(Catalog::default_catalog()));

/// The shipped examples, the seeds of the mutations.
const EXAMPLES: &[&str] = &[
    include_str!("../../../examples/web-platform.toml"),
    include_str!("../../../examples/analytics.toml"),
    include_str!("../../../examples/scheduler.toml"),
    include_str!("../../../examples/tasking.toml"),
];

/// The format's own words, for mutations that still parse.
const WORDS: &[&str] = &[
    "[[org]]",
    "[[user]]",
    "[[user.membership]]",
    "[[group]]",
    "[[role]]",
    "[[check]]",
    "catalog = \"default\"",
    "catalog = \"../nowhere.toml\"",
    "id = \"acme-pt\"",
    "id = \"\"",
    "id = \"UPPER\"",
    "org = \"acme-pt\"",
    "org = \"nowhere\"",
    "parent = \"acme-pt\"",
    "parent = \"nowhere\"",
    "manages = [\"acme-pt\"]",
    "subscriptions = [\"revserve\", \"nowhere\"]",
    "user = \"ada\"",
    "user = \"nobody\"",
    "owner = \"ada\"",
    "created_by = \"nobody\"",
    "members = [\"ada\", \"ada\"]",
    "permission = \"web.messages\"",
    "permission = \"web.nowhere\"",
    "expect = \"allow\"",
    "expect = \"deny\"",
    "expect = \"maybe\"",
    "scope = \"own\"",
    "scope = \"all\"",
    "status = \"disabled\"",
    "status = \"gone\"",
    "roles = [\"web.system_admin\"]",
    "roles = [\"web.nowhere\"]",
    "grants = [\"web.view_notes:own\"]",
    "grants = [\"web.messages:own\"]",
    "denials = [\"web.messages\"]",
    "scheduler_type = \"provider\"",
    "scheduler_type = \"office_staff\"",
    "scheduler_level = \"edit_own\"",
    "scheduler_level = \"nowhere\"",
    "tasking_access = \"partner_rcm\"",
    "tasking_access = \"nowhere\"",
];

/// Field names, for keys added to tables.
const FIELDS: &[&str] = &[
    "catalog",
    "id",
    "name",
    "subscriptions",
    "parent",
    "manages",
    "status",
    "membership",
    "org",
    "roles",
    "grants",
    "denials",
    "scheduler_type",
    "scheduler_level",
    "tasking_access",
    "created_by",
    "members",
    "user",
    "permission",
    "owner",
    "expect",
    "scope",
];

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        cases,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    }
}

/// Every diagnostic names the file, a place in it, and what is wrong.
fn located(source: &str, diagnostics: &Diagnostics) -> Result<(), String> {
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
                    "`{text}` names no place in the file ({line:?}:{column:?} of {lines} lines)"
                ))
            }
        }
    }
    Ok(())
}

/// The properties every input must have. `Err` says which one failed.
fn properties(source: &str) -> Result<(), String> {
    let test = match PolicyTest::parse(ORIGIN, source) {
        Ok(test) => test,
        Err(diagnostics) => return located(source, &diagnostics),
    };
    // A file naming another catalog is run on the default one: what is
    // fuzzed is the file, not the loading of a second one.
    match test.run(Arc::clone(&CATALOG)) {
        Ok(report) => {
            let lines = source.split('\n').count();
            for outcome in &report.outcomes {
                if !outcome.line.is_some_and(|line| (1..=lines).contains(&line)) {
                    return Err(format!(
                        "check[{}] ran without its line ({:?})",
                        outcome.index, outcome.line
                    ));
                }
            }
            // Every outcome prints as one line naming the file and its check.
            for line in report.lines() {
                let text = line.to_string();
                let check = format!("check[{}]", line.outcome.index);
                if !text.starts_with(ORIGIN) || !text.contains(&check) || text.contains('\n') {
                    return Err(format!("the outcome of {check} prints as `{text}`"));
                }
            }
            Ok(())
        }
        Err(diagnostics) => located(source, &diagnostics),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_is_run_or_refused_with_located_diagnostics(source in "\\PC{0,400}") {
        properties(&source).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn any_bytes_read_as_text_are_run_or_refused_with_located_diagnostics(
        bytes in prop::collection::vec(any::<u8>(), 0..400)
    ) {
        properties(&String::from_utf8_lossy(&bytes)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_mutated_example_is_run_or_refused_with_located_diagnostics(
        example in prop::sample::select(EXAMPLES),
        edits in prop::collection::vec(text_mutation::edit(WORDS), 1..8),
    ) {
        let source = text_mutation::apply(example, &edits);
        properties(&source).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_reshaped_example_is_run_or_refused_with_located_diagnostics(
        example in prop::sample::select(EXAMPLES),
        edits in prop::collection::vec(toml_mutation::tree_edit(), 1..6),
    ) {
        // `None`: a tree the serializer cannot write (nothing to test).
        let Some(source) = toml_mutation::apply(example, FIELDS, &edits) else {
            return Ok(());
        };
        properties(&source).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn every_shipped_example_runs() {
    for example in EXAMPLES {
        properties(example).unwrap();
    }
}

#[test]
fn every_input_of_the_corpus_is_run_or_refused_with_located_diagnostics() {
    corpus::replay(
        env!("CARGO_MANIFEST_DIR"),
        "tests/corpus/policy_test",
        |bytes| properties(&String::from_utf8_lossy(bytes)),
    );
}
