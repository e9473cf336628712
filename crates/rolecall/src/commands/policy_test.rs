//! `rolecall test FILE...`

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rolecall_engine::policy_test::{CatalogChoice, PolicyTest, Report};
use rolecall_model::Catalog;

use crate::{EXIT_FAILED, EXIT_INVALID, EXIT_OK};

/// Runs every file; failures and invalid files are reported, then the total.
pub fn run(
    files: &[PathBuf],
    verbose: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let mut passed = 0;
    let mut failed = 0;
    let mut invalid = 0;
    let default_catalog = Arc::new(Catalog::default_catalog());
    for file in files {
        match run_file(file, &default_catalog) {
            Ok(report) => {
                for line in report
                    .lines()
                    .filter(|line| verbose || !line.outcome.passed)
                {
                    writeln!(out, "{line}")?;
                }
                passed += report.passed();
                failed += report.failed();
            }
            Err(message) => {
                writeln!(err, "{message}")?;
                invalid += 1;
            }
        }
    }
    if invalid > 0 {
        writeln!(
            err,
            "{invalid} file(s) invalid: nothing in them was checked"
        )?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if invalid > 0 {
        EXIT_INVALID
    } else if failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

fn run_file(file: &Path, default_catalog: &Arc<Catalog>) -> Result<Report, String> {
    let origin = file.display().to_string();
    let source =
        std::fs::read_to_string(file).map_err(|e| format!("{origin}: cannot read: {e}"))?;
    let test = PolicyTest::parse(&origin, &source).map_err(|d| d.to_string())?;
    let catalog = match test.catalog() {
        CatalogChoice::Default => Arc::clone(default_catalog),
        CatalogChoice::File(path) => {
            // Relative to the test file, so a folder of tests moves as one.
            let path = file.parent().unwrap_or(Path::new(".")).join(path);
            Arc::new(super::load_catalog(&path)?)
        }
    };
    test.run(catalog).map_err(|d| d.to_string())
}
