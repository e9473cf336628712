//! The `rolecall` command end to end, through the library entry point.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

mod common;

use common::rolecall;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

#[test]
fn every_shipped_example_passes() {
    let files = examples();
    assert!(files.len() >= 4, "one example per seed application");
    let args: Vec<&str> = std::iter::once("test")
        .chain(files.iter().map(|f| f.to_str().unwrap()))
        .collect();
    let output = rolecall(&args);
    assert_eq!(output.code, 0, "{}{}", output.out, output.err);
    let (passed, failed) = last_line(&output.out).split_once(" passed, ").unwrap();
    assert!(passed.parse::<usize>().unwrap() > 40);
    assert_eq!(failed, "0 failed");
}

#[test]
fn a_wrong_expectation_fails_with_its_line_and_explanation() {
    let source = std::fs::read_to_string(
        examples()
            .into_iter()
            .find(|f| f.ends_with("web-platform.toml"))
            .unwrap(),
    )
    .unwrap();
    let target = "user = \"bill\"\norg = \"basic-pt\"\npermission = \"web.manage_charge_entries\"\nexpect = \"deny\"";
    assert!(source.contains(target));
    let flipped = target.replace("\"deny\"", "\"allow\"");
    let wrong = source.replace(target, &flipped);
    // The `[[check]]` header is the line just before `user = ...`.
    let line = wrong[..wrong.find(&flipped).unwrap()].lines().count();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.toml");
    std::fs::write(&file, wrong).unwrap();

    let output = rolecall(&["test", file.to_str().unwrap()]);

    assert_eq!(output.code, 1);
    let failures: Vec<&str> = output.out.lines().filter(|l| l.contains("FAIL")).collect();
    assert_eq!(failures.len(), 1, "{}", output.out);
    assert!(
        failures[0].starts_with(&format!("{}:{}:", file.display(), line)),
        "{}",
        failures[0]
    );
    assert!(
        failures[0].contains("expected allow, got deny"),
        "{}",
        failures[0]
    );
    assert!(
        failures[0].ends_with("Denied: Basic PT does not subscribe to the Billing module, which Manage charge entries belongs to."),
        "{}",
        failures[0]
    );
    assert!(last_line(&output.out).ends_with(" passed, 1 failed"));
}

#[test]
fn an_invalid_test_file_names_the_line_and_field_and_checks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[org]]\nid = \"acme\"\n\n[[user]]\nid = \"pat\"\n[[user.membership]]\norg = \"acme\"\nroles = [\"web.bilr\"]\n\n[[check]]\nuser = \"pat\"\norg = \"acme\"\npermission = \"web.messages\"\nexpect = \"deny\"\n",
    )
    .unwrap();

    let output = rolecall(&["test", file.to_str().unwrap()]);

    assert_eq!(output.code, 2);
    assert!(
        output
            .err
            .contains(":8:10: field `user[0].membership[0].roles[0]`: unknown role `web.bilr`"),
        "{}",
        output.err
    );
    assert_eq!(last_line(&output.out), "0 passed, 0 failed");
}

#[test]
fn an_expectation_about_an_unknown_permission_is_an_invalid_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[[org]]\nid = \"acme\"\n\n[[user]]\nid = \"pat\"\n\n[[check]]\nuser = \"pat\"\norg = \"acme\"\npermission = \"web.mesages\"\nexpect = \"deny\"\n").unwrap();

    let output = rolecall(&["test", file.to_str().unwrap()]);

    assert_eq!(output.code, 2);
    assert!(
        output
            .err
            .contains(":10:14: field `check[0].permission`: unknown permission `web.mesages`"),
        "{}",
        output.err
    );
}

#[test]
fn a_test_file_can_name_its_own_catalog_relative_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("catalog.toml"),
        "[[application]]\nid = \"lab\"\nname = \"Lab\"\n\n[[module]]\nid = \"lab.orders\"\nname = \"Orders\"\n\n[[permission]]\nid = \"lab.order_test\"\nname = \"Order a test\"\nmodule = \"lab.orders\"\n\n[[role]]\nid = \"lab.technician\"\nname = \"Technician\"\ngrants = [\"lab.order_test\"]\n",
    )
    .unwrap();
    let file = dir.path().join("lab.toml");
    std::fs::write(
        &file,
        "catalog = \"catalog.toml\"\n\n[[org]]\nid = \"acme\"\n\n[[user]]\nid = \"tia\"\n[[user.membership]]\norg = \"acme\"\nroles = [\"lab.technician\"]\n\n[[user]]\nid = \"zed\"\n[[user.membership]]\norg = \"acme\"\n\n[[check]]\nuser = \"tia\"\norg = \"acme\"\npermission = \"lab.order_test\"\nexpect = \"allow\"\n\n[[check]]\nuser = \"zed\"\norg = \"acme\"\npermission = \"lab.order_test\"\nexpect = \"deny\"\n",
    )
    .unwrap();

    let output = rolecall(&["test", file.to_str().unwrap()]);

    assert_eq!(
        (output.code, last_line(&output.out)),
        (0, "2 passed, 0 failed"),
        "{}",
        output.err
    );
}

#[test]
fn catalog_validate_reports_each_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.toml");
    std::fs::write(
        &file,
        "[[application]]\nid = \"lab\"\nname = \"Lab\"\n\n[[module]]\nid = \"lab.orders\"\nname = \"Orders\"\n\n[[permission]]\nid = \"lab.order_test\"\nname = \"Order\"\nmodule = \"lab.order\"\n\n[[role]]\nid = \"lab.tech\"\nname = \"Tech\"\ngrants = [\"lab.order_tests\"]\n",
    )
    .unwrap();

    let output = rolecall(&["catalog", "validate", file.to_str().unwrap()]);

    assert_eq!(output.code, 2);
    let problems: Vec<&str> = output.err.lines().collect();
    assert_eq!(problems.len(), 2, "{}", output.err);
    assert!(
        problems[0].contains(":12:10: field `permission[0].module`: unknown module `lab.order`"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1]
            .contains(":17:11: field `role[0].grants[0]`: unknown permission `lab.order_tests`"),
        "{}",
        problems[1]
    );
}

#[test]
fn the_shipped_catalog_file_validates() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rolecall-model/catalog/default.toml");
    let output = rolecall(&["catalog", "validate", file.to_str().unwrap()]);
    assert_eq!(output.code, 0, "{}", output.err);
    assert!(output.out.contains("valid:"));
}

#[test]
fn catalog_show_json_lists_the_thirty_web_permissions_in_five_modules() {
    let output = rolecall(&["catalog", "show", "--json"]);
    assert_eq!(output.code, 0);
    let catalog: serde_json::Value = serde_json::from_str(&output.out).unwrap();
    let web = catalog["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "web")
        .unwrap();
    let modules = web["modules"].as_array().unwrap();
    let gated: Vec<&str> = modules
        .iter()
        .filter(|m| !m["gated_by"].as_array().unwrap().is_empty())
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(modules.len(), 5);
    assert_eq!(gated, ["web.clinical", "web.billing", "web.engage"]);
    let permissions: usize = modules
        .iter()
        .map(|m| m["permissions"].as_array().unwrap().len())
        .sum();
    assert_eq!(permissions, 30);
}

#[test]
fn catalog_show_draws_the_role_matrix() {
    let output = rolecall(&["catalog", "show"]);
    assert_eq!(output.code, 0);
    let row = output
        .out
        .lines()
        .find(|l| l.trim_start().starts_with("web.view_payout_report"))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().skip(1).take(6).collect();
    // "View payout report | Y | - | - | - | Y | Y"
    assert_eq!(cells, ["Y", "-", "-", "-", "Y", "Y"]);
}

#[test]
fn the_catalog_docs_list_every_id_of_the_default_catalog() {
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/catalog.md"),
    )
    .unwrap();
    let catalog = rolecall_model::Catalog::default_catalog();
    let ids = catalog
        .applications
        .iter()
        .map(|a| &a.id)
        .chain(catalog.modules.iter().map(|m| &m.id))
        .chain(catalog.permissions.iter().map(|p| &p.id))
        .chain(catalog.roles.iter().map(|r| &r.id))
        .chain(catalog.subscriptions.iter().map(|s| &s.id))
        .chain(catalog.user_types.iter().map(|t| &t.id))
        .chain(catalog.access_levels.iter().map(|l| &l.id))
        .chain(catalog.access_types.iter().map(|t| &t.id));
    let missing: Vec<&String> = ids
        .filter(|id| !docs.contains(&format!("`{id}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/catalog.md does not list {missing:?}"
    );
}
