//! What must hold after every restart and at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use reqwest::header::ETAG;
use serde_json::Value;

use crate::ledger::{Ledger, Member};
use crate::server::Server;
use crate::write::{sorted, Write};
use crate::HOME;

/// After a restart (`number` counts them from 1, the first start): the
/// server starts at or above every acknowledged revision, and every
/// acknowledged organization and each user's last acknowledged roles (or
/// a later update that was sent) are there. Reads each user's ETag for
/// the next round.
pub async fn check_restart(
    ledger: &Mutex<Ledger>,
    number: usize,
    server: &Server,
    http: &reqwest::Client,
    token: &str,
    members: &mut [Member],
) {
    let get = |path: String| {
        let request = http.get(format!("{}{path}", server.url)).bearer_auth(token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let etag = response
                .headers()
                .get(ETAG)
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, etag, body)
        }
    };
    let (status, _, orgs) = get("/v1/orgs".to_owned()).await;
    assert_eq!(status, 200, "GET /v1/orgs after restart {number}: {orgs}");
    let present: BTreeSet<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    {
        let mut book = ledger.lock().unwrap();
        let highest = book.max_revision();
        if server.revision < highest {
            book.findings.push(format!(
                "restart {number}: the server started at revision {}, below revision {highest}, \
                 which was acknowledged",
                server.revision
            ));
        }
        let missing: Vec<(i64, usize, String)> = book
            .by_revision
            .iter()
            .filter_map(|(revision, (round, write))| match write {
                Write::CreateOrg { id } if !present.contains(id.as_str()) => {
                    Some((*revision, *round, id.clone()))
                }
                _ => None,
            })
            .collect();
        for (revision, round, id) in missing {
            book.lose(
                format!("revision {revision}"),
                format!(
                    "restart {number}: organization `{id}`, acknowledged in round {round} at \
                     revision {revision}, is missing"
                ),
            );
        }
    }

    for member in members.iter_mut() {
        let path = format!("/v1/orgs/{HOME}/users/{}", member.user);
        let (status, etag, user) = get(path).await;
        let held = sorted(&user["access"]["roles"]);
        let (known, revision) = member.known.clone();
        // A state only read at the last restart has no revision of its own.
        let what = if revision > 0 {
            format!("revision {revision}")
        } else {
            format!("user {} at restart {number}", member.user)
        };
        let mut ledger = ledger.lock().unwrap();
        if status != 200 {
            ledger.lose(
                what,
                format!(
                    "restart {number}: user `{}` is missing ({status}: {user})",
                    member.user
                ),
            );
            continue;
        }
        if held != known && !member.unacknowledged.contains(&held) {
            ledger.lose(
                what,
                format!(
                    "restart {number}: user `{}` holds {held:?}; the update acknowledged at \
                     revision {revision} set {known:?} (later, unacknowledged: {:?})",
                    member.user, member.unacknowledged
                ),
            );
        }
        // What the database holds is the starting point of the next round.
        member.known = (held, 0);
        member.unacknowledged.clear();
        member.etag = etag;
    }
}

/// Every acknowledged revision is recorded in the audit log, for the write
/// it was acknowledged for: none lost, none given to another write.
pub async fn check_audit_log(
    ledger: &Mutex<Ledger>,
    server: &Server,
    http: &reqwest::Client,
    token: &str,
) {
    let mut records: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    let mut before: Option<i64> = None;
    loop {
        let mut path = format!("{}/v1/audit?limit=1000", server.url);
        if let Some(before) = before {
            path.push_str(&format!("&before={before}"));
        }
        let page: Value = http
            .get(path)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for record in page["records"].as_array().unwrap() {
            records
                .entry(record["revision"].as_i64().unwrap())
                .or_default()
                .push(record.clone());
        }
        match page["next_before"].as_i64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let mut ledger = ledger.lock().unwrap();
    let acknowledged: Vec<(i64, usize, Write)> = ledger
        .by_revision
        .iter()
        .map(|(revision, (round, write))| (*revision, *round, write.clone()))
        .collect();
    for (revision, round, write) in acknowledged {
        let at = records
            .get(&revision)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if at.iter().any(|record| write.is_recorded_by(record)) {
            continue;
        }
        if at.is_empty() {
            ledger.lose(
                format!("revision {revision}"),
                format!(
                    "audit log: no record at revision {revision}, acknowledged in round \
                     {round} for {write:?}"
                ),
            );
        } else {
            let found: Vec<String> = at
                .iter()
                .map(|r| format!("{} {}", r["action"], r["target"]))
                .collect();
            ledger.reissue(
                revision,
                format!(
                    "audit log: revision {revision}, acknowledged in round {round} for \
                     {write:?}, records {found:?}"
                ),
            );
        }
    }
}
