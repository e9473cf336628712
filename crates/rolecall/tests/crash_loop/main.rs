//! Nothing acknowledged is ever lost, however often the server dies. Round
//! after round, the real `rolecall serve` binary takes writes from several
//! concurrent clients and is killed with SIGKILL while some are in flight,
//! at a moment chosen by counting acknowledgements; a new process on the
//! same database must then serve every acknowledged write, no revision may
//! have been acknowledged for two different writes, revisions only grow
//! across restarts, and `rolecall audit verify` must find the chain intact.
//!
//! `ROLECALL_CRASH_ROUNDS` sets the rounds per backend (default 20);
//! `ROLECALL_CRASH_SEED` repeats the kill points of an earlier run (each
//! run prints its seed). `scripts/crash-loop.sh` runs the long form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../server/mod.rs"]
mod server;

mod checks;
mod ledger;
mod write;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::postgres::{self, Database};
use server::{audit_verify, init, Server};
use tokio::sync::Notify;

use checks::{check_audit_log, check_restart};
use ledger::{Ledger, Member};
use write::{send, Outcome, Write};

const ROUNDS_VAR: &str = "ROLECALL_CRASH_ROUNDS";
const SEED_VAR: &str = "ROLECALL_CRASH_SEED";
const DEFAULT_ROUNDS: usize = 20;
/// Clients writing at once: enough that some request is always in flight
/// when the kill comes.
const CLIENTS: usize = 4;
/// A round ends after 1 to this many acknowledgements.
const MOST_ACKS_PER_ROUND: usize = 40;
/// The organization the clients' users belong to.
pub const HOME: &str = "home";
/// The roles a client's access updates choose from (not System Admin, so
/// that no update is refused as removing the last administrator).
pub const ROLES: [&str; 5] = [
    "web.provider",
    "web.clinical_assistant",
    "web.office_staff",
    "web.biller",
    "web.business_manager",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_no_acknowledged_write_is_lost_across_repeated_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("rolecall.db");
    crash_loop("sqlite", database.to_str().unwrap(), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_no_acknowledged_write_is_lost_across_repeated_sigkills() {
    let Some(admin_url) = postgres::admin_url() else {
        return;
    };
    let database = Database::create(&admin_url, "rolecall_crash").await;
    let url = database.url.clone();
    let dir = tempfile::tempdir().unwrap();
    // In a task, so that the database is dropped whether it passed or not.
    let outcome = tokio::spawn(async move { crash_loop("postgres", &url, dir.path()).await }).await;
    database.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// What every client of a round shares.
struct Round {
    number: usize,
    url: String,
    token: String,
    http: reqwest::Client,
    /// The revision the server started at.
    floor: i64,
    ledger: Arc<Mutex<Ledger>>,
    /// Acknowledgements in this round, and the count that triggers the kill.
    acknowledged: AtomicUsize,
    kill_after: usize,
    /// Requests sent and not yet answered.
    in_flight: AtomicUsize,
    kill: Notify,
}

impl Round {
    /// Round `number` on `server`, killed at acknowledgement `kill_after`
    /// (never when 0).
    fn new(
        number: usize,
        server: &Server,
        token: &str,
        http: &reqwest::Client,
        ledger: &Arc<Mutex<Ledger>>,
        kill_after: usize,
    ) -> Round {
        Round {
            number,
            url: server.url.clone(),
            token: token.to_owned(),
            http: http.clone(),
            floor: server.revision,
            ledger: Arc::clone(ledger),
            acknowledged: AtomicUsize::new(0),
            kill_after,
            in_flight: AtomicUsize::new(0),
            kill: Notify::new(),
        }
    }

    /// Sends `write`, recording it in the ledger when acknowledged; asks
    /// for the kill at the round's chosen acknowledgement.
    async fn send(&self, write: &Write, etag: Option<&str>) -> Outcome {
        let request = write.request(&self.http, &self.url, &self.token, etag);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let outcome = send(request).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        match &outcome {
            Outcome::Acknowledged(revision, _) => {
                self.ledger.lock().unwrap().acknowledge(
                    self.number,
                    self.floor,
                    write.clone(),
                    *revision,
                );
                if self.acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == self.kill_after {
                    self.kill.notify_one();
                }
            }
            Outcome::Refused(status, body) => {
                let mut ledger = self.ledger.lock().unwrap();
                ledger.refused += 1;
                eprintln!(
                    "round {}: {write:?} refused with {status}: {body}",
                    self.number
                );
            }
            Outcome::Unanswered => {}
        }
        outcome
    }
}

/// One client: creates organizations and updates its user's roles, in
/// turn, until the server stops answering.
async fn client(round: Arc<Round>, index: usize, mut member: Member) -> Member {
    for n in 0.. {
        let write = if n % 2 == 0 {
            Write::CreateOrg {
                id: format!("r{}-c{index}-{n}", round.number),
            }
        } else {
            Write::UpdateAccess {
                user: member.user.clone(),
                roles: member.next_roles(),
            }
        };
        let outcome = round.send(&write, member.etag.as_deref()).await;
        match (outcome, write) {
            (Outcome::Acknowledged(revision, etag), Write::UpdateAccess { roles, .. }) => {
                member.known = (roles, revision);
                member.unacknowledged.clear();
                member.etag = etag;
            }
            (Outcome::Acknowledged(..), _) => {}
            (_, Write::UpdateAccess { roles, .. }) => {
                // It may have committed all the same; whether or not, the
                // ETag is no longer to be trusted: stop for this round.
                member.unacknowledged.push(roles);
                break;
            }
            _ => break,
        }
    }
    member
}

/// Runs the rounds on `database`, the servers working in `dir`.
async fn crash_loop(backend: &str, database: &str, dir: &Path) {
    let rounds = rounds();
    let seed = std::env::var(SEED_VAR)
        .map(|s| s.parse().expect("ROLECALL_CRASH_SEED is a number"))
        .unwrap_or_else(|_| rand::random::<u64>());
    eprintln!(
        "crash loop on {backend}: {rounds} rounds, seed {seed} ({SEED_VAR}={seed} repeats it)"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let token = init(database);
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let started = Instant::now();

    // Round 0 sets up the clients' users, and ends with a kill too.
    let server = Server::start(database, dir);
    let mut members = set_up(&Round::new(0, &server, &token, &http, &ledger, 0)).await;
    server.kill();

    for number in 1..=rounds {
        // Arrange: a server on what the last one left behind.
        let server = Server::start(database, dir);
        check_restart(&ledger, number, &server, &http, &token, &mut members).await;
        let kill_after = rng.random_range(1..=MOST_ACKS_PER_ROUND);
        let round = Arc::new(Round::new(
            number, &server, &token, &http, &ledger, kill_after,
        ));

        // Act: clients write until the chosen acknowledgement, then SIGKILL.
        let mut clients = tokio::task::JoinSet::new();
        for (index, member) in members.drain(..).enumerate() {
            clients.spawn(client(Arc::clone(&round), index, member));
        }
        let mut finished = Vec::new();
        tokio::select! {
            () = round.kill.notified() => {}
            // Every client stopped before the kill point (refused writes).
            () = async {
                while let Some(member) = clients.join_next().await {
                    finished.push(member.unwrap());
                }
            } => {}
        }
        ledger.lock().unwrap().in_flight_at_kills += round.in_flight.load(Ordering::SeqCst);
        server.kill();
        members = finished;
        while let Some(member) = clients.join_next().await {
            members.push(member.unwrap());
        }
        members.sort_by(|a, b| a.user.cmp(&b.user));

        // Assert: the chain is intact on what the killed server left.
        let (intact, printed) = audit_verify(database);
        if !intact {
            ledger.lock().unwrap().findings.push(format!(
                "round {number}: `rolecall audit verify` failed after the kill: {printed}"
            ));
        }
    }

    // Assert: one last restart serves everything, and the audit log names
    // each acknowledged write at the revision it was acknowledged with.
    let server = Server::start(database, dir);
    check_restart(&ledger, rounds + 1, &server, &http, &token, &mut members).await;
    check_audit_log(&ledger, &server, &http, &token).await;
    server.kill();
    let elapsed = started.elapsed();

    let ledger = ledger.lock().unwrap();
    // One line for scripts/crash-loop.sh to read, passed or failed.
    println!(
        "crash loop on {backend}: rounds={rounds} acknowledged={} lost={} reissued={} \
         refused={} in_flight_at_kills={} seconds_per_round={:.3} seed={seed}",
        ledger.acknowledged,
        ledger.lost,
        ledger.reissued,
        ledger.refused,
        ledger.in_flight_at_kills,
        elapsed.as_secs_f64() / rounds as f64,
    );
    assert!(
        ledger.findings.is_empty(),
        "{} violation(s) on {backend}:\n{}",
        ledger.findings.len(),
        ledger.findings.join("\n")
    );
    assert!(
        ledger.acknowledged >= rounds,
        "every round acknowledges at least one write"
    );
}

/// Rounds per backend, from `ROLECALL_CRASH_ROUNDS`.
fn rounds() -> usize {
    match std::env::var(ROUNDS_VAR) {
        Ok(text) => match text.parse() {
            Ok(n) if n > 0 => n,
            _ => panic!("{ROUNDS_VAR} must be a positive number, not `{text}`"),
        },
        Err(_) => DEFAULT_ROUNDS,
    }
}

/// Round 0's writes, before any client starts: the organization of
/// their users, and one user per client.
async fn set_up(round: &Round) -> Vec<Member> {
    let mut writes = vec![Write::CreateOrg { id: HOME.into() }];
    for index in 0..CLIENTS {
        let id = format!("staff-{index}");
        writes.push(Write::CreateEmployee { id: id.clone() });
        writes.push(Write::CreateUser { id });
    }
    let mut members = Vec::new();
    for write in writes {
        let Outcome::Acknowledged(revision, _) = round.send(&write, None).await else {
            panic!("the set-up write {write:?} was not acknowledged");
        };
        if let Write::CreateUser { id } = write {
            members.push(Member {
                user: id,
                etag: None,
                known: (vec!["web.office_staff".to_owned()], revision),
                unacknowledged: Vec::new(),
                updates: 0,
            });
        }
    }
    members
}
