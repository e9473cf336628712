//! Hostile CSV to `rolecall import users`, through the library entry
//! point on a SQLite file: arbitrary bytes, and a good file mutated cell by
//! cell and byte by byte. An import either succeeds (and importing the
//! same file again changes nothing) or is refused with every problem
//! naming its line (and, for a cell, its column), and then nothing
//! changed: not the revision, not a row of the export. It never panics.
//!
//! `PROPTEST_CASES` sets how many inputs each property tries (32 by
//! default, for `cargo test`; `scripts/fuzz.sh` tries thousands). Every
//! file of `tests/corpus/import/` is replayed on every run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../rolecall-model/tests/support/corpus.rs"]
mod corpus;
#[path = "../../rolecall-model/tests/support/text_mutation.rs"]
mod text_mutation;

mod common;

use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use proptest::prelude::*;
use proptest::sample::Index;
use rolecall_server::ops::import::COLUMNS;
use rolecall_store::Store;

use common::rolecall;

/// Ann administers acme; Bob bills in acme and is office staff in beta;
/// Cat is on acme's staff without a user.
const GOOD: [[&str; 13]; 4] = [
    [
        "acme",
        "emp-ann",
        "Ann",
        "Admin",
        "ann@acme.test",
        "ann",
        "active",
        "web.system_admin",
        "emr.edit_users;emr.clinic_admin;emr.analytics_access",
        "",
        "",
        "",
        "",
    ],
    [
        "acme",
        "emp-bob",
        "Bob",
        "Biller",
        "bob@acme.test",
        "bob",
        "active",
        "web.biller",
        "emr.analytics_access;emr.billing_report_admin",
        "",
        "",
        "",
        "",
    ],
    [
        "acme",
        "emp-cat",
        "Cat",
        "Clerk",
        "cat@acme.test",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "beta",
        "emp-bob",
        "Bob",
        "Biller",
        "bob@acme.test",
        "bob",
        "active",
        "web.office_staff",
        "",
        "",
        "office_staff",
        "",
        "",
    ],
];

/// The format's own words and values, for cells that almost pass.
const WORDS: &[&str] = &[
    "acme",
    "beta",
    "nowhere",
    "emp-ann",
    "emp-bob",
    "ann",
    "bob",
    "Ann",
    "invited",
    "active",
    "disabled",
    "gone",
    "ann@acme.test",
    "not-an-email",
    "a@b",
    "web.system_admin",
    "web.biller;web.biller",
    "web.nowhere",
    "web.view_notes:own",
    "web.messages:own",
    "emr.edit_users",
    ";;;",
    "provider",
    "office_staff",
    "edit_own",
    "partner_rcm",
    "standard",
    "=HYPERLINK(\"http://x\")",
    "'=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\"",
    "\"\"",
    ",",
    "\n",
    "\r\n",
    "\u{feff}org",
];

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        cases,
        max_shrink_iters: 500,
        ..ProptestConfig::default()
    }
}

/// A database with the organizations `acme` (Billing and Clinical) and
/// `beta`, shared by the cases of one test: a case that imports leaves
/// its rows, and the next case starts from them.
struct Database {
    dir: tempfile::TempDir,
    url: String,
}

impl Database {
    fn new() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("rolecall.db").to_str().unwrap().to_owned();
        common::create_acme_and_beta(&url);
        Database { dir, url }
    }

    /// The whole state as the export writes it, and the revision.
    fn state(&self) -> (String, i64) {
        let export = rolecall(&["export", "users", "--database", &self.url]);
        assert_eq!(export.code, 0, "{}", export.err);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let revision = runtime.block_on(async {
            let store = Store::open_with_key(&self.url, common::audit_key(&self.url))
                .await
                .unwrap();
            let head = store.head().await.unwrap();
            store.close().await;
            head
        });
        (export.out, revision)
    }

    fn import(&self, file: &Path) -> common::Output {
        rolecall(&[
            "import",
            "users",
            "--database",
            &self.url,
            file.to_str().unwrap(),
        ])
    }

    fn write(&self, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join("users.csv");
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// One database per property, its cases run one at a time.
static DATABASES: LazyLock<[Mutex<Database>; 3]> =
    LazyLock::new(|| std::array::from_fn(|_| Mutex::new(Database::new())));

/// The properties of importing `bytes`. `Err` says which one failed.
fn properties(db: &Database, bytes: &[u8]) -> Result<(), String> {
    let file = db.write(bytes);
    let before = db.state();
    let output = db.import(&file);
    match output.code {
        0 => {
            // Imported: a second run of the same file changes nothing.
            let after = db.state();
            let again = db.import(&file);
            if again.code != 0 || db.state() != after {
                return Err(format!(
                    "importing the same file twice changed something: {} {}",
                    again.code, again.err
                ));
            }
            exported_as_text_and_read_back(&after.0)
        }
        2 => {
            if db.state() != before {
                return Err(format!(
                    "a refused import changed something:\n{}",
                    output.err
                ));
            }
            refusal_names_its_place(bytes, &file, &output.err)
        }
        code => Err(format!("exit {code}: {}", output.err)),
    }
}

/// The export is safe to open in a spreadsheet (no cell begins as a
/// formula would), and imported into an empty database it gives the same
/// export.
fn exported_as_text_and_read_back(export: &str) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(export.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| format!("the export is not CSV: {e}"))?;
        if let Some(cell) = record.iter().find(|c| c.starts_with(FORMULA)) {
            return Err(format!("the export has a formula: `{cell}`"));
        }
    }
    let fresh = Database::new();
    let imported = fresh.import(&fresh.write(export.as_bytes()));
    let (again, _) = fresh.state();
    if imported.code != 0 || again != export {
        return Err(format!(
            "the export does not import back as it was: {}\n{export}\n{again}",
            imported.err
        ));
    }
    Ok(())
}

/// What a spreadsheet runs as a formula at the start of a cell.
const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Every problem of a refused import names its line (a cell: the line and
/// the column), within the file, and the refusal ends by saying nothing
/// was imported.
fn refusal_names_its_place(bytes: &[u8], file: &Path, err: &str) -> Result<(), String> {
    let shown = file.display().to_string();
    let whole_file = [
        format!("{shown}: the file is empty"),
        format!("{shown}: line 1 (the header): "),
    ];
    if whole_file
        .iter()
        .any(|start| err.starts_with(start.as_str()))
    {
        return Ok(());
    }
    let mut problems: Vec<&str> = err.lines().collect();
    if problems.pop() != Some("nothing was imported") || problems.is_empty() {
        return Err(format!("a refusal without its problems or its end:\n{err}"));
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    for problem in problems {
        let Some(rest) = problem.strip_prefix("line ") else {
            return Err(format!("`{problem}` names no line"));
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let line: u64 = digits
            .parse()
            .map_err(|_| format!("`{problem}` names no line"))?;
        if !(1..=lines).contains(&line) {
            return Err(format!("`{problem}` names a line the file does not have"));
        }
        let after = &rest[digits.len()..];
        let column_named = after
            .strip_prefix(", column ")
            .and_then(|c| c.split(':').next())
            .is_some_and(|c| COLUMNS.contains(&c));
        if !column_named && !after.starts_with(": ") {
            return Err(format!("`{problem}` names no column of the file"));
        }
        if after
            .split_once(": ")
            .is_none_or(|(_, why)| why.trim().is_empty())
        {
            return Err(format!("`{problem}` does not say what is wrong"));
        }
    }
    Ok(())
}

/// A file as rows of cells, written by a CSV writer: quoting is right, the
/// cells are not.
fn written(rows: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    writer.write_record(COLUMNS).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.into_inner().unwrap()
}

/// An edit of a good file's cells.
#[derive(Debug, Clone)]
enum CellEdit {
    Set(Index, Index, String),
    Remove(Index, Index),
    Add(Index, String),
    DuplicateRow(Index),
    DeleteRow(Index),
}

fn cell_edit() -> impl Strategy<Value = CellEdit> {
    let value = || text_mutation::fragment(WORDS);
    prop_oneof![
        6 => (any::<Index>(), any::<Index>(), value()).prop_map(|(r, c, v)| CellEdit::Set(r, c, v)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(r, c)| CellEdit::Remove(r, c)),
        1 => (any::<Index>(), value()).prop_map(|(r, v)| CellEdit::Add(r, v)),
        1 => any::<Index>().prop_map(CellEdit::DuplicateRow),
        1 => any::<Index>().prop_map(CellEdit::DeleteRow),
    ]
}

fn edited(edits: &[CellEdit]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = GOOD
        .iter()
        .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
        .collect();
    for edit in edits {
        if rows.is_empty() {
            break;
        }
        let n = rows.len();
        match edit {
            CellEdit::Set(r, c, v) => {
                let row = &mut rows[r.index(n)];
                if !row.is_empty() {
                    let at = c.index(row.len());
                    row[at] = v.clone();
                }
            }
            CellEdit::Remove(r, c) => {
                let row = &mut rows[r.index(n)];
                if !row.is_empty() {
                    row.remove(c.index(row.len()));
                }
            }
            CellEdit::Add(r, v) => rows[r.index(n)].push(v.clone()),
            CellEdit::DuplicateRow(r) => {
                let row = rows[r.index(n)].clone();
                rows.push(row);
            }
            CellEdit::DeleteRow(r) => {
                rows.remove(r.index(n));
            }
        }
    }
    rows
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_import_whole_or_not_at_all(
        bytes in prop::collection::vec(any::<u8>(), 0..300)
    ) {
        let db = DATABASES[0].lock().unwrap_or_else(|e| e.into_inner());
        properties(&db, &bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_good_file_with_cells_changed_imports_whole_or_not_at_all(
        edits in prop::collection::vec(cell_edit(), 1..6)
    ) {
        let db = DATABASES[1].lock().unwrap_or_else(|e| e.into_inner());
        properties(&db, &written(&edited(&edits))).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_good_file_with_its_text_changed_imports_whole_or_not_at_all(
        edits in prop::collection::vec(text_mutation::edit(WORDS), 1..6)
    ) {
        let db = DATABASES[2].lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8(written(&edited(&[]))).unwrap();
        properties(&db, text_mutation::apply(&text, &edits).as_bytes())
            .map_err(TestCaseError::fail)?;
    }
}

#[test]
fn every_input_of_the_corpus_imports_whole_or_not_at_all() {
    // Each input on a database of its own: the corpus is not a sequence.
    corpus::replay(env!("CARGO_MANIFEST_DIR"), "tests/corpus/import", |bytes| {
        properties(&Database::new(), bytes)
    });
}
