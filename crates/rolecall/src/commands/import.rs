//! `rolecall import users FILE`: employees and users from CSV, all or
//! nothing. The format is described in `rolecall_server::ops::import`.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rolecall_server::ops::import::{self, ImportReport, ImportRow, Progress};
use rolecall_server::{FieldError, Principal, ServiceError};

use super::{block_on, open_service, print_notes, Access};
use crate::cli::Database;
use crate::{EXIT_INVALID, EXIT_OK};

/// The audit log's `source` of imports.
const SOURCE: &str = "cli import";

/// Imports a users CSV file. Exit 0 when everything was imported; 2 when
/// any row is bad (every problem is printed, and nothing is imported) or
/// the file or database cannot be read.
pub fn users(
    db: &Database,
    file: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let records = match read_records(file) {
        Ok(records) => records,
        Err(problems) => return refuse(err, &problems),
    };
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        writeln!(
            err,
            "{}: the file is empty\n{}",
            file.display(),
            import::FORMAT
        )?;
        return Ok(EXIT_INVALID);
    };
    if let Err(problem) = import::check_header(&header) {
        writeln!(
            err,
            "{}: {}\n{}",
            file.display(),
            problem_text(&problem),
            import::FORMAT
        )?;
        return Ok(EXIT_INVALID);
    }
    let records: Vec<(u64, Vec<String>)> = records.collect();
    let bar = bar(records.len() as u64, "reading");
    let mut rows: Vec<ImportRow> = Vec::with_capacity(records.len());
    let mut problems: Vec<FieldError> = Vec::new();
    for (line, fields) in records {
        match import::parse_row(line, &fields) {
            Ok(row) => rows.push(row),
            Err(mut found) => problems.append(&mut found),
        }
        bar.inc(1);
    }
    bar.set_message("checking");
    bar.set_position(0);
    let spinner = spinner("committing");
    let mut notes = Vec::new();
    let result: Result<Result<ImportReport, ServiceError>, String> = block_on(async {
        let opened = open_service(db, Access::Write).await?;
        notes = opened.notes;
        let service = opened.service;
        if !problems.is_empty() {
            // Nothing will be imported; still name what else is wrong, so
            // one round of fixes is enough.
            let mut all = problems.clone();
            all.extend(import::problems(&service.live(), &rows));
            return Ok(Err(ServiceError::Invalid {
                fields: sort_by_line(all),
            }));
        }
        let progress = |step: Progress| match step {
            Progress::Checked(n) => bar.set_position(n as u64),
            Progress::Committing => {
                bar.finish_and_clear();
                spinner.set_draw_target(target());
                spinner.enable_steady_tick(Duration::from_millis(100));
            }
        };
        Ok(import::users_with_progress(&service, &Principal::Cli, SOURCE, &rows, &progress).await)
    })?;
    print_notes(err, &notes)?;
    bar.finish_and_clear();
    spinner.finish_and_clear();
    match result {
        Err(message) => {
            writeln!(err, "rolecall import: {message}")?;
            Ok(EXIT_INVALID)
        }
        Ok(Err(ServiceError::Invalid { fields })) => refuse(err, &fields),
        Ok(Err(other)) => {
            writeln!(err, "rolecall import: {other}\nnothing was imported")?;
            Ok(EXIT_INVALID)
        }
        Ok(Ok(report)) => {
            writeln!(
                out,
                "imported {} rows: {} employees created, {} updated, {} users created, {} updated; revision {}",
                report.rows,
                report.employees_created,
                report.employees_updated,
                report.users_created,
                report.users_updated,
                report.revision
            )?;
            Ok(EXIT_OK)
        }
    }
}

/// Every record of the file with the line it starts on; a file that cannot
/// be read, or a record that is not CSV, is a problem.
fn read_records(file: &Path) -> Result<Vec<(u64, Vec<String>)>, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Rows of the wrong width are reported by the parser, with their line.
        .flexible(true)
        .from_path(file)
        .map_err(|e| vec![FieldError::new(file.display().to_string(), e.to_string())])?;
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                records.push((line, record.iter().map(str::to_owned).collect()));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push(FieldError::new(format!("line {line}"), csv_message(&e)));
            }
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems)
    }
}

fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_owned(),
        _ => error.to_string(),
    }
}

/// Problems in file order (those of one line keep their order).
fn sort_by_line(mut fields: Vec<FieldError>) -> Vec<FieldError> {
    let line = |f: &FieldError| -> u64 {
        f.field
            .strip_prefix("line ")
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    fields.sort_by_key(line);
    fields
}

fn problem_text(error: &ServiceError) -> String {
    match error {
        ServiceError::Invalid { fields } => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

fn refuse(err: &mut dyn Write, problems: &[FieldError]) -> io::Result<u8> {
    for problem in problems {
        writeln!(err, "{}: {}", problem.field, problem.message)?;
    }
    writeln!(err, "nothing was imported")?;
    Ok(EXIT_INVALID)
}

/// Where progress is drawn: stderr when it is a terminal, nowhere
/// otherwise, so pipes and tests get clean output.
fn target() -> ProgressDrawTarget {
    if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A progress bar over `len` rows.
pub(crate) fn bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target());
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} rows") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// A spinner for a step of unknown length, hidden until the step begins
/// (then give it a draw target and enable ticking).
fn spinner(message: &'static str) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        spinner.set_style(style);
    }
    spinner.set_message(message);
    spinner
}
