//! What the command-line test binaries share: running `rolecall` through the
//! library entry point and capturing what it printed.

use clap::Parser;
use rolecall::cli::Cli;

/// What a run printed, and its exit code.
pub struct Output {
    /// The exit code.
    pub code: u8,
    /// Standard output.
    pub out: String,
    /// Standard error.
    pub err: String,
}

/// Runs `rolecall ARGS...` in this process.
pub fn rolecall(args: &[&str]) -> Output {
    let cli = Cli::try_parse_from(std::iter::once("rolecall").chain(args.iter().copied())).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = rolecall::run(cli, &mut out, &mut err);
    Output {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// The audit key the commands use for the SQLite database at `database`:
/// the file beside it, created as `rolecall init` would when missing.
#[allow(dead_code, reason = "not every test binary opens a database itself")]
pub fn audit_key(database: &str) -> rolecall_store::AuditKey {
    let path = std::path::PathBuf::from(format!("{database}.audit-key"));
    if path.exists() {
        rolecall_store::AuditKey::read_file(&path).unwrap()
    } else {
        rolecall_store::AuditKey::create_file(&path).unwrap()
    }
}

/// Creates, in the new SQLite database at `database`, the organizations
/// `acme` (Billing and Clinical subscribed) and `beta`, as the operator at
/// the command line.
#[allow(dead_code, reason = "not every test binary imports users")]
pub fn create_acme_and_beta(database: &str) {
    use std::sync::Arc;

    use rolecall_model::Catalog;
    use rolecall_server::ops::orgs::{self, NewOrg};
    use rolecall_server::{Principal, Service};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = rolecall_store::Store::open_with_key(database, audit_key(database))
            .await
            .unwrap();
        let service = Service::open(store, Arc::new(Catalog::default_catalog()))
            .await
            .unwrap();
        for (id, subscriptions) in [
            ("acme", &["web.billing", "web.clinical"][..]),
            ("beta", &[]),
        ] {
            let org = NewOrg {
                id: Some(id.to_owned()),
                name: id.to_uppercase(),
                parent: None,
                subscriptions: subscriptions.iter().map(|s| (*s).to_owned()).collect(),
            };
            orgs::create(&service, &Principal::Cli, "test", org)
                .await
                .unwrap();
        }
        service.store().close().await;
    });
}
