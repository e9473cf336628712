//! Reset requests, handled off the request path.
//!
//! Asking for a reset link must not tell whether the email has an account,
//! by its answer or by its timing. So the request path
//! ([`super::credentials::request_reset`]) does the same constant work for
//! every well-formed email: it checks the throttle, stores one
//! [`ResetRequestRow`] and answers 202. Nothing on that path looks the
//! email up.
//!
//! [`run_reset_requests`] (started by `rolecall serve`, beside the mail
//! sender) then handles what is waiting ([`handle_waiting`]): for an email
//! of an account that may sign in, it makes the link and queues its email
//! (through the outbox, [`crate::mail`]), audited as
//! `password.reset.request`; for any other email it does nothing more. In
//! both cases the request is deleted in the same transaction
//! ([`AccountWrite::TakeResetRequest`]), so of replicas racing for one
//! request exactly one makes a link.
//!
//! The link's token exists only in that transaction's email: never in a
//! log line, an error or the audit log.

use std::sync::Arc;
use std::time::Duration;

use rolecall_model::world::Status;
use rolecall_store::{AccountWrite, ResetRequestRow, StoreError};
use tokio::sync::watch;

use super::credentials::issue_reset;
use super::signin::user_by_email;
use crate::error::ServiceError;
use crate::service::Service;

/// How many requests one [`handle_waiting`] takes at most.
const BATCH: i64 = 50;
/// How often [`run_reset_requests`] looks without being woken (requests
/// queued by another replica wake only that replica's worker).
const POLL: Duration = Duration::from_secs(1);
/// How long to wait before trying again after a failure.
const RETRY: Duration = Duration::from_secs(5);

/// Handles reset requests until `shutdown` turns true (or its sender is
/// dropped): at once when a request is queued in this process, and every
/// second otherwise. Errors are logged (they never hold a token) and
/// retried after a few seconds.
pub async fn run_reset_requests(service: Arc<Service>, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("reset request worker started");
    let wake = service.reset_wakeup();
    loop {
        if *shutdown.borrow() {
            break;
        }
        let wait = match handle_waiting(&service).await {
            // A full batch: more may be waiting.
            Ok(handled) if handled as i64 >= BATCH => continue,
            Ok(_) => POLL,
            Err(e) => {
                tracing::error!(error = %e, retry_in_s = RETRY.as_secs(), "could not handle reset requests");
                RETRY
            }
        };
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!("reset request worker stopped");
}

/// Handles up to one batch of the reset requests waiting, the oldest first.
/// Returns how many were handled here (not those another replica took).
pub async fn handle_waiting(service: &Service) -> Result<usize, ServiceError> {
    let mut handled = 0;
    for request in service.store().reset_requests(BATCH).await? {
        match handle(service, &request).await {
            Ok(()) => handled += 1,
            // Another replica handled it first.
            Err(ServiceError::Store(StoreError::Conflict(_))) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(handled)
}

/// One request: a link and its email for an account that may sign in;
/// for any other email, only the request is deleted.
async fn handle(service: &Service, request: &ResetRequestRow) -> Result<(), ServiceError> {
    let taken = AccountWrite::TakeResetRequest {
        id: request.id.clone(),
    };
    let found = {
        let live = service.live();
        user_by_email(&live.model, &request.email)
            .filter(|u| u.status != Status::Disabled && !u.memberships.is_empty())
            .map(|user| {
                let org = live
                    .model
                    .employees
                    .get(&user.employee)
                    .map(|e| e.org.clone());
                (user.clone(), org)
            })
    };
    match found {
        Some((user, org)) => {
            issue_reset(
                service,
                &user,
                "anonymous",
                &request.source,
                org,
                vec![taken],
            )
            .await
        }
        None => {
            service
                .record(
                    "system",
                    &request.source,
                    Vec::new(),
                    vec![taken],
                    Vec::new(),
                )
                .await
        }
    }
}
