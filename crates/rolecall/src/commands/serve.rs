//! `rolecall serve`: the HTTP API, the follower that keeps this process
//! at the database's latest revision, and the workers beside them (the
//! mail sender, the expiry sweep, the reset request worker).
//!
//! A newcomer can start here: an empty database gets its audit key and
//! its first operator token, and `--demo` loads demo organizations and
//! users and prints commands to try.
//!
//! Before serving, the newest records of the audit log and the change log
//! are verified with the key ([`rolecall_store::Store::verify_tail`]): a
//! broken chain, a head moved back or rows past a head stop the start,
//! named, unless `--allow-broken-audit` is given.

use std::future::Future;
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use rolecall_server::accounts::expiry::run_expiry;
use rolecall_server::accounts::reset_requests::run_reset_requests;
use rolecall_server::demo::{self, Demo, Presence};
use rolecall_server::follow::{follow, POLL_INTERVAL};
use rolecall_server::mail::{run_sender, MailConfig};
use rolecall_server::service::Settings;
use rolecall_server::{http, tokens, Service, ServiceError};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use super::{block_on, init::print_operator_token, open_service_with, print_notes, redact, Access};
use crate::cli::Database;
use crate::{EXIT_FAILED, EXIT_INVALID, EXIT_OK};

/// Serves the API on `listener` until `shutdown` resolves, following the
/// change log meanwhile; then lets requests in flight finish.
pub async fn serve(
    service: Arc<Service>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop_signal = |stopped: &tokio::sync::watch::Receiver<bool>| {
        let mut stopped = stopped.clone();
        async move {
            // An error means the sender is gone: stop as well.
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let follower = tokio::spawn(follow(
        Arc::clone(&service),
        POLL_INTERVAL,
        stop_signal(&stopped),
    ));
    let mail = MailConfig::from_env(MailConfig::default_folder(service.store().url()));
    let sender = tokio::spawn(run_sender(
        service.store().clone(),
        mail,
        service.mail_wakeup(),
        stop_signal(&stopped),
    ));
    let expiry = tokio::spawn(run_expiry(Arc::clone(&service), stopped.clone()));
    let resets = tokio::spawn(run_reset_requests(Arc::clone(&service), stopped.clone()));
    let app = http::router(service).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    stop.send_replace(true);
    for (task, name) in [
        (follower, "the change-log follower"),
        (sender, "the mail sender"),
        (expiry, "the expiry sweep"),
        (resets, "the reset request worker"),
    ] {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "{name} failed");
        }
    }
    served
}

/// How `rolecall serve` was asked to run.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The address to listen on.
    pub listen: &'a str,
    /// Load (or find) the demo.
    pub demo: bool,
    /// Where people reach rolecall.
    pub public_url: Option<&'a str>,
    /// Start even when the audit log is damaged.
    pub allow_broken_audit: bool,
}

/// Runs `rolecall serve` until Ctrl-C or SIGTERM. Exit 2 when the database
/// cannot be opened, its audit log is damaged (unless allowed) or the
/// address cannot be bound.
pub fn run(
    db: &Database,
    options: &Options<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let Options {
        listen,
        demo,
        public_url,
        allow_broken_audit,
    } = *options;
    let url = db.url.as_str();
    init_logging();
    let public_url = public_url
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{listen}"));
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        return refuse(
            err,
            &format!("--public-url `{public_url}` must start with http:// or https://"),
        );
    }
    let settings = Settings {
        public_url,
        ..Settings::default()
    };
    block_on(async {
        let access = if allow_broken_audit {
            Access::WriteDespiteDamage
        } else {
            Access::Write
        };
        let (service, notes) = match open_service_with(db, settings, access).await {
            Ok(opened) => (opened.service, opened.notes),
            Err(message) => return refuse(err, &message),
        };
        if let Err(message) = check_audit_tail(&service, url, allow_broken_audit).await {
            return refuse(err, &message);
        }
        // Refused before anything is written or bound.
        if demo && demo::presence(&service.live()) == Presence::OtherData {
            return refuse(
                err,
                &format!(
                    "--demo loads into a database without organizations, and {} holds other \
                     data; use another --database",
                    redact(url)
                ),
            );
        }
        let listener = match TcpListener::bind(listen).await {
            Ok(listener) => listener,
            Err(e) => return refuse(err, &format!("cannot listen on `{listen}`: {e}")),
        };
        let base = format!("http://{}", listener.local_addr()?);
        let first_token = match first_operator_token(&service).await {
            Ok(token) => token,
            Err(e) => return refuse(err, &format!("cannot create an operator token: {e}")),
        };
        let demo = if demo {
            match load_demo(&service).await {
                Ok(loaded) => Some(loaded),
                Err(message) => return refuse(err, &message),
            }
        } else {
            None
        };
        let revision = service.revision();
        tracing::info!(address = %base, revision, "serving");
        writeln!(
            out,
            "rolecall is serving {base} (database {}, revision {revision})\n\
             OpenAPI document: {base}/v1/openapi.json\n",
            redact(url),
        )?;
        print_notes(out, &notes)?;
        if let Some(token) = &first_token {
            print_operator_token(out, token, &base)?;
        }
        match &demo {
            Some(demo) => {
                let mail = MailConfig::from_env(MailConfig::default_folder(service.store().url()));
                print_demo(out, demo, &base, &mail)?;
            }
            None if first_token.is_some() => writeln!(
                out,
                "Tip: `rolecall serve --demo` loads demo organizations and users to try.\n"
            )?,
            None => {}
        }
        out.flush()?;
        let served = serve(Arc::clone(&service), listener, shutdown_signal()).await;
        // Closing the connections now, inside the runtime, lets SQLite
        // checkpoint its log and the process exit at once.
        service.store().close().await;
        match served {
            Ok(()) => {
                tracing::info!("stopped");
                Ok(EXIT_OK)
            }
            Err(e) => {
                writeln!(err, "rolecall serve: the server failed: {e}")?;
                Ok(EXIT_FAILED)
            }
        }
    })?
}

/// Verifies the newest records of both chains: an error naming every
/// problem, unless `allow_broken` (then each is logged as an error).
async fn check_audit_tail(service: &Service, url: &str, allow_broken: bool) -> Result<(), String> {
    let cannot = |e: rolecall_store::StoreError| {
        format!("cannot verify the audit log of {}: {e}", redact(url))
    };
    let mut problems: Vec<String> = service
        .store()
        .verify_tail()
        .await
        .map_err(cannot)?
        .iter()
        .map(ToString::to_string)
        .collect();
    // The state tables against the change log: access granted by SQL is
    // refused here rather than served.
    problems.extend(
        service
            .store()
            .verify_state()
            .await
            .map_err(cannot)?
            .iter()
            .map(ToString::to_string),
    );
    if problems.is_empty() {
        return Ok(());
    }
    if allow_broken {
        for problem in &problems {
            tracing::error!(%problem, "the audit log is damaged");
        }
        tracing::warn!(
            "STARTING WITH A DAMAGED AUDIT LOG (--allow-broken-audit): what it records may have \
             been altered; run `rolecall audit verify` and restore the database from a backup"
        );
        return Ok(());
    }
    let mut message = format!(
        "the audit log of {} is damaged, so rolecall does not start:",
        redact(url)
    );
    for problem in &problems {
        message.push_str(&format!("\n    {problem}"));
    }
    message.push_str(
        "\n`rolecall audit verify` checks the whole log; `--allow-broken-audit` starts anyway.",
    );
    Err(message)
}

/// Creates the first operator token of a database that has none, so a
/// newcomer can start at once; `None` when it has one.
async fn first_operator_token(service: &Service) -> Result<Option<String>, ServiceError> {
    if service.live().model.tokens.values().any(|t| t.operator) {
        return Ok(None);
    }
    match tokens::init_operator(service, "serve").await {
        Ok(created) => Ok(Some(created.token)),
        // Another process initialized it meanwhile: nothing to show.
        Err(ServiceError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Loads the demo into an empty database, or finds it loaded and issues a
/// fresh token for its admin.
async fn load_demo(service: &Service) -> Result<Demo, String> {
    let loaded = match demo::presence(&service.live()) {
        Presence::Empty => demo::load(service).await,
        Presence::Loaded => demo::resume(service).await,
        // Checked before starting; another process wrote meanwhile.
        Presence::OtherData => {
            return Err("the database received other data meanwhile".to_owned());
        }
    };
    loaded.map_err(|e| format!("cannot load the demo: {e}"))
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal());
    // The caller may hold the standard error lock for the whole run (the
    // binary passes `stderr().lock()` as `err`); log lines written from the
    // runtime's threads would wait on it forever. Writing through a
    // duplicate of the descriptor needs no lock.
    #[cfg(unix)]
    let result = {
        use std::os::fd::AsFd;
        match io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => subscriber
                .with_writer(std::sync::Mutex::new(std::fs::File::from(fd)))
                .try_init(),
            Err(_) => subscriber.with_writer(io::stderr).try_init(),
        }
    };
    #[cfg(not(unix))]
    let result = subscriber.with_writer(io::stderr).try_init();
    // Already set (a test calling `serve` twice): keep the first.
    drop(result);
}

fn refuse(err: &mut dyn Write, message: &str) -> io::Result<u8> {
    writeln!(err, "rolecall serve: {message}")?;
    Ok(EXIT_INVALID)
}

/// Prints the demo's ids, its admin's token and commands to try.
fn print_demo(out: &mut dyn Write, demo: &Demo, base: &str, mail: &MailConfig) -> io::Result<()> {
    writeln!(out, "Demo organizations:")?;
    for (id, description) in &demo.orgs {
        writeln!(out, "    {id:<14} {description}")?;
    }
    writeln!(out, "\nDemo users:")?;
    for (id, description) in &demo.users {
        writeln!(out, "    {id:<14} {description}")?;
    }
    writeln!(
        out,
        "\nSign in to the web console at {base}/sign-in as {} with the email `{}` and this \
         temporary password, shown only this once (it works once, to choose a password of \
         your own):\n\
         \n    {}\n\
         \nor with curl:\n\
         \n    curl -si -X POST {base}/v1/sign-in -H 'Content-Type: application/json' \\\n        \
         -d '{{\"email\": \"{}\", \"password\": \"{}\"}}'",
        demo::ADMIN,
        demo.admin_email,
        demo.admin_password.expose(),
        demo.admin_email,
        demo.admin_password.expose(),
    )?;
    writeln!(
        out,
        "\nEvery other demo user was emailed a temporary password when the demo was \
         loaded (mail goes to the {mail}), so you can sign in as them too; the \
         password above replaces the one {} was emailed.",
        demo::ADMIN,
    )?;
    writeln!(
        out,
        "\nA token acting as {} (company admin of `{}`), shown only this once; \
         the commands below use it:\n\
         \n    export TOKEN='{}'\n",
        demo::ADMIN,
        demo::ADMIN_ORG,
        demo.admin_token.token
    )?;
    let check = |org: &str| {
        format!(
            "    curl -s -w '\\n' -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n\
             \x20        -d '{{\"org\": \"{org}\", \"user\": \"bob\", \"permission\": \
             \"web.manage_charge_entries\", \"explain\": true}}' \\\n\
             \x20        {base}/v1/check"
        )
    };
    writeln!(
        out,
        "Try it:\n\
         \n    # Bob, a biller, may enter charges at North, which subscribes to Billing:\n\
         {allowed}\n\
         \n    # ... but not at South, which does not:\n\
         {denied}\n\
         \n    # Everything Carol, a provider at North, may do there:\n\
         \x20   curl -s -w '\\n' -H \"Authorization: Bearer $TOKEN\" \
         {base}/v1/orgs/acme-north/users/carol/permissions\n",
        allowed = check("acme-north"),
        denied = check("acme-south"),
    )
}

/// Resolves on Ctrl-C, or on SIGTERM (how service managers stop a process).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down; letting requests in flight finish");
}
