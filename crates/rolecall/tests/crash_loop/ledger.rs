//! What was acknowledged, and what the database may hold.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::write::{sorted, Write};
use crate::ROLES;

/// Everything acknowledged so far, in every round, and what went wrong.
#[derive(Default)]
pub struct Ledger {
    /// Each acknowledged revision, the round and the write it was for.
    pub by_revision: BTreeMap<i64, (usize, Write)>,
    pub acknowledged: usize,
    pub refused: usize,
    /// Requests that were in flight when a kill came, summed over rounds.
    pub in_flight_at_kills: usize,
    /// What was already reported as lost (`revision N`, or a user at a
    /// restart), to count each loss once.
    reported_lost: BTreeSet<String>,
    /// Revisions already reported as reissued, likewise.
    reported_reissued: BTreeSet<i64>,
    pub lost: usize,
    pub reissued: usize,
    /// Every violation, with its round and what it concerns.
    pub findings: Vec<String>,
}

impl Ledger {
    /// Records an acknowledgement of `write` at `revision` in `round`, whose
    /// server started at revision `floor`.
    pub fn acknowledge(&mut self, round: usize, floor: i64, write: Write, revision: i64) {
        self.acknowledged += 1;
        if revision <= floor {
            self.reissue(
                revision,
                format!(
                "round {round}: revision {revision} acknowledged for {write:?}, but the server \
                 had restarted at revision {floor}"
            ),
            );
        }
        if let Some((first_round, first)) = self.by_revision.get(&revision) {
            let finding = format!(
                "round {round}: revision {revision} acknowledged for {write:?}, and in round \
                 {first_round} for {first:?}"
            );
            self.reissue(revision, finding);
            return;
        }
        self.by_revision.insert(revision, (round, write));
    }

    pub fn reissue(&mut self, revision: i64, finding: String) {
        if self.reported_reissued.insert(revision) {
            self.reissued += 1;
        }
        self.findings.push(finding);
    }

    pub fn lose(&mut self, what: String, finding: String) {
        if self.reported_lost.insert(what) {
            self.lost += 1;
            self.findings.push(finding);
        }
    }

    pub fn max_revision(&self) -> i64 {
        self.by_revision.keys().next_back().copied().unwrap_or(0)
    }
}

/// One client's user and what the database may hold as its roles.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: String,
    /// The ETag of the last read or acknowledged update.
    pub etag: Option<String>,
    /// The roles last acknowledged (or read after a restart), and the
    /// revision that set them (0 when only read).
    pub known: (Vec<String>, i64),
    /// Updates sent after that one and not acknowledged: the database may
    /// hold any of them.
    pub unacknowledged: Vec<Vec<String>>,
    /// Counts the updates, to pick a different set of roles each time.
    pub updates: usize,
}

impl Member {
    /// The next set of roles: never the one already held.
    pub fn next_roles(&mut self) -> Vec<String> {
        loop {
            self.updates += 1;
            let mask = self.updates % ((1 << ROLES.len()) - 1) + 1;
            let roles: Vec<String> = (0..ROLES.len())
                .filter(|bit| mask & (1 << bit) != 0)
                .map(|bit| ROLES[bit].to_owned())
                .collect();
            let roles = sorted(&json!(roles));
            if roles != self.known.0 {
                return roles;
            }
        }
    }
}
