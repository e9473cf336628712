//! `rolecall-http-bench`: check throughput over HTTP, end to end.
//!
//! Stores the benchmark workload (organizations and users of the web
//! matrix) in a fresh SQLite database, starts the service on it (timing the
//! load), serves the API on loopback, and sends `POST /v1/check/batch` and
//! `POST /v1/check` requests from concurrent clients in the same process.
//! Before timing, it verifies that the answers over HTTP equal the
//! snapshot's own. Client and server share the machine's cores, so the
//! figures are a floor for a server with cores of its own.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use rolecall_bench::workload::Workload;
use rolecall_bench::Size;
use rolecall_model::Catalog;
use rolecall_server::principal::Principal;
use rolecall_server::{tokens, Service};
use rolecall_store::Store;

/// Measures check throughput over HTTP.
#[derive(Debug, Parser)]
#[command(name = "rolecall-http-bench")]
struct Args {
    /// Users, each holding one or two web roles in one organization.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Organizations.
    #[arg(long, default_value_t = 1_000)]
    orgs: usize,
    /// Checks per batch request.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Batch requests in the timed run.
    #[arg(long, default_value_t = 400)]
    batches: usize,
    /// Single-check requests in the timed run.
    #[arg(long, default_value_t = 20_000)]
    singles: usize,
    /// Access updates in the timed write run, one after another.
    #[arg(long, default_value_t = 10)]
    writes: usize,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 8)]
    clients: usize,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rolecall-http-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let size = Size {
        users: args.users,
        orgs: args.orgs,
        checks: args.batch * args.batches.max(1),
    };
    let workload = Workload::web(size)?;
    let dir = tempfile::tempdir()?;
    let url = dir.path().join("bench.db").display().to_string();
    // A throwaway database: a throwaway key.
    let store = Store::open_with_key(&url, rolecall_store::AuditKey::generate()).await?;
    let started = Instant::now();
    rolecall_bench::stored::store(&store, &workload).await?;
    println!(
        "stored {} users in {} organizations in SQLite: {:.2} s",
        args.users,
        args.orgs,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let service = Service::open(store, Arc::new(Catalog::default_catalog())).await?;
    println!(
        "loaded and compiled at start: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let token = tokens::create_operator(&service, &Principal::Cli, "bench", "bench", false)
        .await?
        .token;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = rolecall_server::http::router(Arc::clone(&service))
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let checks: Vec<serde_json::Value> = workload
        .checks
        .iter()
        .map(|c| {
            let ids = workload.ids(c);
            serde_json::json!({"user": &*ids.user, "permission": &*ids.permission, "org": &*ids.org})
        })
        .collect();
    let bodies: Vec<Vec<u8>> = checks
        .chunks(args.batch.max(1))
        .map(|chunk| serde_json::to_vec(&serde_json::json!({ "checks": chunk })))
        .collect::<Result<_, _>>()?;
    let client = reqwest::Client::new();
    let batch_url = format!("http://{address}/v1/check/batch");
    let single_url = format!("http://{address}/v1/check");

    // The answers over HTTP are the snapshot's.
    let first: serde_json::Value = client
        .post(&batch_url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(bodies[0].clone())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let live = service.live();
    for (i, check) in workload.checks.iter().take(args.batch).enumerate() {
        let ids = workload.ids(check);
        let expected = live
            .snapshot
            .check(&ids.user, &ids.permission, &ids.org, None)
            .allowed;
        if first["results"][i]["allowed"].as_bool() != Some(expected) {
            return Err(format!("check {i} over HTTP disagrees with the snapshot").into());
        }
    }
    drop(live);

    let bodies = Arc::new(bodies);
    let started = Instant::now();
    let per_client = args.batches.div_ceil(args.clients.max(1));
    drive(
        &client,
        &batch_url,
        &token,
        &bodies,
        args.clients,
        per_client,
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let total = (per_client * args.clients.max(1) * args.batch) as f64;
    println!(
        "POST /v1/check/batch: {} clients, {} checks per request: {:.0} checks/s ({:.2} s for {:.0} checks)",
        args.clients,
        args.batch,
        total / seconds,
        seconds,
        total
    );

    let singles: Arc<Vec<Vec<u8>>> = Arc::new(
        checks
            .iter()
            .take(args.singles.max(1))
            .map(serde_json::to_vec)
            .collect::<Result<_, _>>()?,
    );
    let started = Instant::now();
    let per_client = args.singles.div_ceil(args.clients.max(1));
    drive(
        &client,
        &single_url,
        &token,
        &singles,
        args.clients,
        per_client,
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let total = (per_client * args.clients.max(1)) as f64;
    println!(
        "POST /v1/check: {} clients: {:.0} requests/s ({:.2} s for {:.0} requests)",
        args.clients,
        total / seconds,
        seconds,
        total
    );

    // Writes: each recompiles the snapshot, so their cost grows with the
    // installation. One user's roles changed back and forth, one at a time.
    let user = &workload.users[0].id;
    let org = &workload.orgs[workload.users[0].org].id;
    let user_url = format!("http://{address}/v1/orgs/{org}/users/{user}");
    let started = Instant::now();
    for i in 0..args.writes {
        let read = client
            .get(&user_url)
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        let etag = read
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("*")
            .to_owned();
        let role = if i % 2 == 0 {
            "web.biller"
        } else {
            "web.office_staff"
        };
        client
            .put(format!("{user_url}/access"))
            .bearer_auth(&token)
            .header("if-match", etag)
            .json(&serde_json::json!({ "roles": [role] }))
            .send()
            .await?
            .error_for_status()?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "PUT /v1/orgs/{{org}}/users/{{user}}/access, one at a time: {:.0} ms per write ({} writes)",
        seconds * 1000.0 / args.writes.max(1) as f64,
        args.writes
    );
    Ok(())
}

/// Sends `per_client` requests from each of `clients` concurrent clients,
/// cycling through `bodies`, and waits for every answer.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    bodies: &Arc<Vec<Vec<u8>>>,
    clients: usize,
    per_client: usize,
) -> Result<(), Error> {
    let mut tasks = Vec::new();
    for c in 0..clients.max(1) {
        let (client, url, token, bodies) = (
            client.clone(),
            url.to_owned(),
            token.to_owned(),
            Arc::clone(bodies),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..per_client {
                let body = bodies[(c * per_client + i) % bodies.len()].clone();
                client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await?;
            }
            Ok::<(), reqwest::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
