//! Roles and grants that end: the sweep that removes them on time.
//!
//! A role or grant may carry an end time (`Access::expires`): set by an
//! administrator, or by emergency access ([`super::emergency`]). Two things
//! happen when it is reached:
//!
//! 1. decisions stop counting it at once: [`Service::recompile`] compiles
//!    the stored model again for the current time, which leaves out what
//!    has ended. No database write is needed, so this works even while the
//!    database is down, and every replica does it on its own clock;
//! 2. [`sweep`] removes it from the stored membership, in one write with an
//!    `access.expired` audit record per user and organization, so the
//!    stored access, the user's view and the audit log say what happened.
//!
//! [`run_expiry`] does both, sleeping until the next end time, or until the
//! state changes (a write may add an earlier one).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rolecall_store::{now_ms, Access, AuditEntry, Model, Put};
use tokio::sync::watch;

use crate::error::ServiceError;
use crate::ops::people::format_time;
use crate::principal::Principal;
use crate::service::{Change, Service};

/// The audit action of a sweep's records.
pub const EXPIRED_ACTION: &str = "access.expired";
/// The source the sweep's records name.
const SOURCE: &str = "system";
/// How long to wait before trying again after a failure.
const RETRY: Duration = Duration::from_secs(5);
/// The longest sleep between looks: bounds the effect of a change of the
/// system clock, which the sleep (on a monotonic clock) does not follow.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Ends roles and grants on time until `shutdown` turns true (or its sender
/// is dropped). Errors are logged and retried after a few seconds; the loop
/// never ends otherwise.
pub async fn run_expiry(service: Arc<Service>, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("expiry sweep started");
    let mut revisions = service.subscribe_revision();
    // Every role or grant that ended at or before this time is known to be
    // left out of the published snapshot (every snapshot published since
    // was compiled later). At first nothing is known.
    let mut compiled_at = i64::MIN;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Mark the current revision seen before reading the state, so a
        // write from now on wakes the sleep below.
        revisions.borrow_and_update();
        let wait = match end_due(&service, &mut compiled_at).await {
            Ok(()) => until_next(&service.live_full().model, now_ms()),
            Err(e) => {
                tracing::error!(error = %e, retry_in_s = RETRY.as_secs(), "could not end roles and grants");
                RETRY
            }
        };
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            Ok(()) = revisions.changed() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!("expiry sweep stopped");
}

/// Recompiles when something ended since the last compile, then sweeps.
async fn end_due(service: &Service, compiled_at: &mut i64) -> Result<(), ServiceError> {
    let now = now_ms();
    let due = service
        .live()
        .model
        .next_expiry(*compiled_at)
        .is_some_and(|end| end <= now);
    if due {
        service.recompile().await?;
        *compiled_at = now;
    }
    sweep(service, now).await?;
    Ok(())
}

/// How long until the next end time after `now`, at most [`MAX_SLEEP`].
fn until_next(model: &Model, now: i64) -> Duration {
    model
        .next_expiry(now)
        .and_then(|end| u64::try_from(end.saturating_sub(now)).ok())
        .map_or(MAX_SLEEP, |ms| Duration::from_millis(ms).min(MAX_SLEEP))
}

/// Removes every role and grant that has ended by `now` (and its end time)
/// from every membership, in one write by [`Principal::System`] with an
/// `access.expired` audit record per user and organization. Returns how
/// many roles and grants were removed; writes nothing when none has ended.
pub async fn sweep(service: &Service, now: i64) -> Result<usize, ServiceError> {
    if !anything_ended(&service.live().model, now) {
        return Ok(0);
    }
    // Another replica may sweep first: then the plan, run again on the
    // caught-up state, finds nothing, and refuses rather than commit an
    // empty revision.
    let nothing_left = AtomicBool::new(false);
    let result = service
        .write(&Principal::System, SOURCE, |live| {
            nothing_left.store(false, Ordering::Relaxed);
            let planned = plan(&live.model, now);
            if planned.puts.is_empty() {
                nothing_left.store(true, Ordering::Relaxed);
                return Err(ServiceError::Conflict(
                    "no role or grant has ended".to_owned(),
                ));
            }
            Ok(Change::new(
                planned.puts,
                planned.audit,
                (planned.memberships, planned.items),
            ))
        })
        .await;
    match result {
        Ok((revision, (memberships, items))) => {
            tracing::info!(
                revision,
                memberships,
                items,
                "ended roles and grants removed"
            );
            Ok(items)
        }
        Err(_) if nothing_left.load(Ordering::Relaxed) => Ok(0),
        Err(e) => Err(e),
    }
}

fn anything_ended(model: &Model, now: i64) -> bool {
    model
        .users
        .values()
        .flat_map(|u| u.memberships.values())
        .any(|access| access.expires.values().any(|&end| end <= now))
}

/// The rows and audit records of one sweep.
struct Plan {
    puts: Vec<Put>,
    audit: Vec<AuditEntry>,
    /// Memberships changed.
    memberships: usize,
    /// Roles and grants removed.
    items: usize,
}

fn plan(model: &Model, now: i64) -> Plan {
    let mut planned = Plan {
        puts: Vec::new(),
        audit: Vec::new(),
        memberships: 0,
        items: 0,
    };
    for row in model.users.values() {
        let mut next = row.clone();
        for (org, access) in &row.memberships {
            let Some((after, ended)) = without_ended(access, now) else {
                continue;
            };
            let roles: Vec<&String> = access
                .roles
                .iter()
                .filter(|r| ended.contains_key(*r))
                .collect();
            let grants: Vec<&String> = access
                .grants
                .iter()
                .filter(|g| ended.contains_key(*g))
                .collect();
            planned.items += roles.len() + grants.len();
            planned.memberships += 1;
            let ended_at: BTreeMap<&String, String> = ended
                .iter()
                .map(|(item, &end)| (item, format_time(end)))
                .collect();
            planned.audit.push(AuditEntry {
                action: EXPIRED_ACTION.to_owned(),
                org: Some(org.clone()),
                target: format!("user:{}", row.id),
                before: Some(serde_json::json!({
                    "roles": roles,
                    "grants": grants,
                    "expires": ended_at,
                })),
                after: Some(serde_json::json!({ "roles": [], "grants": [] })),
                ..Default::default()
            });
            next.memberships.insert(org.clone(), after);
        }
        if next != *row {
            planned.puts.push(Put::User(next));
        }
    }
    planned
}

/// `access` without what has ended by `now`, and the end times of what
/// ended; none when nothing has.
fn without_ended(access: &Access, now: i64) -> Option<(Access, BTreeMap<String, i64>)> {
    let ended: BTreeMap<String, i64> = access
        .expires
        .iter()
        .filter(|(_, &end)| end <= now)
        .map(|(item, &end)| (item.clone(), end))
        .collect();
    if ended.is_empty() {
        return None;
    }
    let mut after = access.clone();
    after.roles.retain(|r| !ended.contains_key(r));
    after.grants.retain(|g| !ended.contains_key(g));
    after.expires.retain(|item, _| !ended.contains_key(item));
    Some((after, ended))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_has_ended_is_removed() {
        let access = Access {
            roles: vec!["web.biller".to_owned(), "web.office_staff".to_owned()],
            grants: vec!["emr.edit_users".to_owned()],
            expires: BTreeMap::from([
                ("web.biller".to_owned(), 100),
                ("emr.edit_users".to_owned(), 200),
            ]),
            ..Access::default()
        };

        let before_the_end = without_ended(&access, 99);
        let at_the_end = without_ended(&access, 100);

        assert_eq!(before_the_end, None);
        let after = Access {
            roles: vec!["web.office_staff".to_owned()],
            grants: vec!["emr.edit_users".to_owned()],
            expires: BTreeMap::from([("emr.edit_users".to_owned(), 200)]),
            ..Access::default()
        };
        let ended = BTreeMap::from([("web.biller".to_owned(), 100)]);
        assert_eq!(at_the_end, Some((after, ended)));
    }

    #[test]
    fn sleeps_until_the_next_end_but_never_long() {
        let mut model = Model::default();
        assert_eq!(until_next(&model, 0), MAX_SLEEP);
        let access = Access {
            expires: BTreeMap::from([("web.biller".to_owned(), 1_500)]),
            ..Access::default()
        };
        model.users.insert(
            "u".to_owned(),
            rolecall_store::UserRow {
                id: "u".to_owned(),
                employee: "e".to_owned(),
                status: rolecall_model::world::Status::Active,
                memberships: BTreeMap::from([("acme".to_owned(), access)]),
                created_at: 0,
            },
        );

        assert_eq!(until_next(&model, 1_000), Duration::from_millis(500));
        assert_eq!(until_next(&model, 1_500), MAX_SLEEP);
        assert!(anything_ended(&model, 1_500));
        assert!(!anything_ended(&model, 1_499));
    }
}
