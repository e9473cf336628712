//! Following the change log: how a replica learns of writes made by other
//! processes on the same database.
//!
//! On PostgreSQL, each commit notifies [`rolecall_store::store::CHANNEL`]
//! and the follower catches up at once; polling runs beside it, so a lost
//! notification or a dropped listener connection only delays convergence
//! by one poll interval. On SQLite (other processes, such as `rolecall
//! import`, writing to the same file) polling alone does the work.

use std::sync::Arc;
use std::time::Duration;

use rolecall_store::store::CHANNEL;
use rolecall_store::Backend;
use sqlx::postgres::PgListener;

use crate::service::Service;

/// How often the follower polls the change log when nothing is notified.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Follows the change log until `shutdown` resolves.
pub async fn follow(
    service: Arc<Service>,
    poll: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut listener = listen(&service).await;
    let mut ticker = tokio::time::interval(poll);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let notified = async {
            match listener.as_mut() {
                Some(l) => l.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut shutdown => return,
            _ = ticker.tick() => {}
            result = notified => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "change notifications lost; polling until reconnected");
                    listener = None;
                }
            }
        }
        if listener.is_none() && service.store().backend() == Backend::Postgres {
            listener = listen(&service).await;
        }
        if let Err(e) = service.catch_up().await {
            tracing::error!(error = %e, "could not apply the change log");
        }
    }
}

async fn listen(service: &Service) -> Option<PgListener> {
    if service.store().backend() != Backend::Postgres {
        return None;
    }
    let mut listener = match PgListener::connect(service.store().url()).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for changes; polling instead");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for changes; polling instead");
            None
        }
    }
}
