//! `rolecall-scale-bench`: how start-up, memory and writes grow with the
//! number of users.
//!
//! For each size, a child process of its own (so that its memory is its
//! own) stores the benchmark workload in a fresh SQLite database, closes
//! it, and then measures what a restarted `rolecall serve` pays: the time
//! to load and compile the world, the resident memory, the latency of one
//! access write at a time (`ops::access::update`, the API's own path, fsync
//! included), and writes per second from concurrent writers while a reader
//! times single checks against the live snapshot. The parent prints one
//! Markdown table.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rolecall_bench::memory::resident_bytes;
use rolecall_bench::{Size, Workload};
use rolecall_model::Catalog;
use rolecall_server::ops::access;
use rolecall_server::ops::people::AccessInput;
use rolecall_server::principal::Principal;
use rolecall_server::{rules, Service};
use rolecall_store::{AuditKey, Store};

/// Measures how rolecall grows with its users.
#[derive(Debug, Parser)]
#[command(name = "rolecall-scale-bench")]
struct Args {
    /// The numbers of users, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    users: Vec<usize>,
    /// Organizations.
    #[arg(long, default_value_t = 1_000)]
    orgs: usize,
    /// Writes timed one after another.
    #[arg(long, default_value_t = 20)]
    writes: usize,
    /// Concurrent writers, each changing a user of its own.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Writes per concurrent writer.
    #[arg(long, default_value_t = 4)]
    writes_each: usize,
    /// Runs one size in this process and prints its row (the parent starts
    /// one child per size).
    #[arg(long, hide = true)]
    one: Option<usize>,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What one size measured.
struct Row {
    users: usize,
    startup: Duration,
    rss_start: u64,
    rss_after: u64,
    write_p50: Duration,
    write_p99: Duration,
    writes_per_s: f64,
    check_p99: Duration,
}

impl Row {
    fn markdown(&self) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "| {} | {:.2} s | {:.0} MiB | {:.0} MiB | {:.1} ms | {:.1} ms | {:.1} | {:.1} µs |",
            self.users,
            self.startup.as_secs_f64(),
            mib(self.rss_start),
            mib(self.rss_after),
            ms(self.write_p50),
            ms(self.write_p99),
            self.writes_per_s,
            self.check_p99.as_secs_f64() * 1e6,
        )
    }
}

const HEADER: &str = "| users | start-up | resident after start | resident after the writes | one write p50 | one write p99 | writes/s, concurrent | check p99 during writes |\n|---|---|---|---|---|---|---|---|";

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = match args.one {
        Some(users) => one_size(&args, users).map(|row| println!("{}", row.markdown())),
        None => every_size(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rolecall-scale-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn every_size(args: &Args) -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    println!("{HEADER}");
    for &users in &args.users {
        println!("{}", child(&exe, args, users)?);
    }
    Ok(())
}

fn child(exe: &Path, args: &Args, users: usize) -> Result<String, Error> {
    let output = Command::new(exe)
        .args(["--one", &users.to_string()])
        .args(["--orgs", &args.orgs.to_string()])
        .args(["--writes", &args.writes.to_string()])
        .args(["--writers", &args.writers.to_string()])
        .args(["--writes-each", &args.writes_each.to_string()])
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "the run at {users} users failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn one_size(args: &Args, users: usize) -> Result<Row, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(measure(args, users))
}

/// The `q` quantile of `times` (sorted here).
fn quantile(times: &mut [Duration], q: f64) -> Duration {
    times.sort_unstable();
    let i = ((times.len() as f64 - 1.0) * q).round() as usize;
    times.get(i).copied().unwrap_or_default()
}

/// One access write: `user`'s roles replaced, as `PUT .../access` does.
async fn write(service: &Service, org: &str, user: &str, i: usize) -> Result<Duration, Error> {
    let role = if i % 2 == 0 {
        "web.biller"
    } else {
        "web.office_staff"
    };
    let input = AccessInput {
        roles: Some(vec![role.to_owned()]),
        ..AccessInput::default()
    };
    let started = Instant::now();
    access::update(
        service,
        &Principal::Cli,
        "bench",
        org,
        user,
        Some("*"),
        input,
    )
    .await?;
    Ok(started.elapsed())
}

async fn measure(args: &Args, users: usize) -> Result<Row, Error> {
    let workload = Workload::web(Size {
        users,
        orgs: args.orgs,
        checks: 100_000,
    })?;
    let dir = tempfile::tempdir()?;
    let url = dir.path().join("bench.db").display().to_string();
    // A throwaway database: a throwaway key, the same for both opens.
    let key = || AuditKey::from_bytes([7; 32]);
    {
        let store = Store::open_with_key(&url, key()).await?;
        rolecall_bench::stored::store(&store, &workload).await?;
        store.close().await;
    }

    // Start-up: what a restarted `rolecall serve` pays before its first check.
    let started = Instant::now();
    let store = Store::open_with_key(&url, key()).await?;
    let service = Service::open(store, Arc::new(Catalog::default_catalog())).await?;
    let startup = started.elapsed();
    let rss_start = resident_bytes().unwrap_or(0);

    // Users whose roles can be replaced without leaving their organization
    // without an administrator: those who administer nothing.
    let live = service.live();
    let plain: Vec<(String, String)> = workload
        .users
        .iter()
        .map(|u| (u.id.clone(), workload.orgs[u.org].id.clone()))
        .filter(|(user, org)| {
            live.snapshot
                .permissions_of(user, org)
                .iter()
                .all(|(p, _)| !rules::USER_ADMIN.contains(p))
        })
        .take(args.writers.max(1) + 1)
        .collect();
    drop(live);
    if plain.len() <= args.writers.max(1) {
        return Err("too few users who administer nothing to write to".into());
    }

    // One write at a time.
    let (target, org) = &plain[0];
    let mut times = Vec::with_capacity(args.writes);
    for i in 0..args.writes {
        times.push(write(&service, org, target, i).await?);
    }
    let write_p50 = quantile(&mut times, 0.5);
    let write_p99 = quantile(&mut times, 0.99);

    // Concurrent writers, while a reader times single checks.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (service, stop) = (Arc::clone(&service), Arc::clone(&stop));
        let checks: Vec<(String, String, String)> = workload
            .checks
            .iter()
            .map(|c| {
                let ids = workload.ids(c);
                (
                    ids.user.to_string(),
                    ids.permission.to_string(),
                    ids.org.to_string(),
                )
            })
            .collect();
        std::thread::spawn(move || {
            // Room for a few seconds of checks, taken before the writers
            // start, so that the record does not grow while they run.
            let mut times = Vec::with_capacity(4_000_000);
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let (user, permission, org) = &checks[i % checks.len()];
                let started = Instant::now();
                let live = service.live();
                std::hint::black_box(live.snapshot.check(user, permission, org, None));
                drop(live);
                if times.len() < times.capacity() {
                    times.push(started.elapsed());
                }
                i += 1;
            }
            times
        })
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..args.writers.max(1) {
        let service = Arc::clone(&service);
        let (user, org) = plain[w + 1].clone();
        let each = args.writes_each;
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                write(&service, &org, &user, i).await?;
            }
            Ok::<(), Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut checks = reader.join().map_err(|_| "the reader panicked")?;
    let check_p99 = quantile(&mut checks, 0.99);
    // The reader's own record is not the service's memory.
    drop(checks);
    let writes_per_s = (args.writers.max(1) * args.writes_each) as f64 / seconds;
    Ok(Row {
        users,
        startup,
        rss_start,
        rss_after: resident_bytes().unwrap_or(0),
        write_p50,
        write_p99,
        writes_per_s,
        check_p99,
    })
}
