//! The two keyed chains and how they are verified.
//!
//! Two tables are chained, each on its own:
//!
//! - the **audit log** (`audit`): each record's `hash` is the HMAC-SHA256,
//!   with the [audit key](crate::key::AuditKey), of the previous record's
//!   hash and this record's fields;
//! - the **change log** (`changes`): each change's `mac` is the HMAC of the
//!   previous change's MAC and its revision, time, actor and payload (the
//!   rows it wrote). The change log is what the state tables are made of,
//!   so sealing it lets `audit verify` replay it and compare the result
//!   with the tables: a row edited by SQL shows as a difference, and a
//!   change inserted by SQL does not carry a valid MAC.
//!
//! Two chains rather than one: changes and audit records are written by
//! the same transaction but not one for one (a sign-in writes audit
//! records and no change; a bulk import writes one change), and replicas
//! read the change log alone. Each chain's end — the last number and MAC —
//! is kept in `heads`, written in the same transaction; an item past the
//! head, or a head past the last item, is named.
//!
//! What the key cannot show by itself is the newest items deleted *and*
//! the head moved back to the new end: what remains is a valid chain.
//! That is what [checkpoints](crate::checkpoint) written outside the
//! database catch.

use std::collections::HashMap;

use serde::Serialize;

use crate::key::AuditKey;

/// The MAC before the first item of either chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Which chain a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// The audit log.
    Audit,
    /// The change log.
    Changes,
}

impl Chain {
    /// What one item of the chain is called in messages.
    fn item(self) -> &'static str {
        match self {
            Chain::Audit => "audit record",
            Chain::Changes => "change",
        }
    }

    fn log(self) -> &'static str {
        match self {
            Chain::Audit => "the audit log",
            Chain::Changes => "the change log",
        }
    }
}

/// Something wrong with a chain, naming where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// An item's number is not the one after its predecessor's: items
    /// were deleted (or renumbered).
    Gap {
        /// The chain.
        chain: Chain,
        /// The number expected.
        expected: i64,
        /// The number found.
        found: i64,
    },
    /// An item does not point at its predecessor's MAC.
    BrokenLink {
        /// The chain.
        chain: Chain,
        /// The item.
        at: i64,
    },
    /// An item's fields do not match its MAC: it was edited, or written
    /// by someone without the key.
    Edited {
        /// The chain.
        chain: Chain,
        /// The item.
        at: i64,
    },
    /// An item's MAC is valid for another position: items were reordered.
    Moved {
        /// The chain.
        chain: Chain,
        /// Where it is now.
        at: i64,
        /// Where it was written.
        written_as: i64,
    },
    /// Items past the head that do not continue the chain with the key:
    /// they were added outside rolecall.
    PastHead {
        /// The chain.
        chain: Chain,
        /// The first such item.
        at: i64,
        /// The head's number.
        head: i64,
    },
    /// Valid items past the head: the head was moved back.
    HeadBehind {
        /// The chain.
        chain: Chain,
        /// The head's number.
        head: i64,
        /// The last item found.
        last: i64,
    },
    /// The chain ends before the head: the newest items were deleted.
    Truncated {
        /// The chain.
        chain: Chain,
        /// The head's number.
        head: i64,
        /// The last item found.
        last: i64,
    },
    /// The item the head names does not have the head's MAC.
    HeadMismatch {
        /// The chain.
        chain: Chain,
        /// The head's number.
        head: i64,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ChainProblem::Gap {
                chain,
                expected,
                found,
            } => write!(
                f,
                "{} {expected} is missing (the next one is {found}): {} was cut",
                chain.item(),
                chain.log()
            ),
            ChainProblem::BrokenLink { chain, at } => write!(
                f,
                "{} {at} does not follow the one before it: {} was altered",
                chain.item(),
                chain.log()
            ),
            ChainProblem::Edited { chain, at } => write!(
                f,
                "{} {at} does not match its MAC: it was edited, or written without the audit key",
                chain.item()
            ),
            ChainProblem::Moved {
                chain,
                at,
                written_as,
            } => write!(
                f,
                "{} {at} was written as {} {written_as}: {} was reordered",
                chain.item(),
                chain.item(),
                chain.log()
            ),
            ChainProblem::PastHead { chain, at, head } => write!(
                f,
                "{} {at} is past the head ({head}) and does not continue the chain: it was added \
                 outside rolecall",
                chain.item()
            ),
            ChainProblem::HeadBehind { chain, head, last } => write!(
                f,
                "{} goes on to {last} but its head names {head}: the head was moved back",
                chain.log()
            ),
            ChainProblem::Truncated { chain, head, last } => write!(
                f,
                "{} ends at {last} but {} {head} was written: the newest ones were deleted",
                chain.log(),
                chain.item()
            ),
            ChainProblem::HeadMismatch { chain, head } => write!(
                f,
                "{} {head} does not have the MAC the head recorded: the head or the item was altered",
                chain.item()
            ),
        }
    }
}

/// How MACs are checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seal<'a> {
    /// With the key.
    Keyed(&'a AuditKey),
    /// The unkeyed SHA-256 of a database written before keys (audit log
    /// only; such a change log has no MACs at all).
    Legacy,
}

/// One item of a chain, as verification sees it.
pub(crate) trait Link {
    /// Its number.
    fn position(&self) -> i64;
    /// The MAC it points back at.
    fn prev(&self) -> &str;
    /// Its MAC as stored.
    fn mac(&self) -> &str;
    /// The MAC it would have if it had been written at `position`.
    fn expected_mac(&self, seal: Seal<'_>, position: i64) -> String;
}

/// Where verification starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start {
    /// At the first item, which points at [`GENESIS`].
    Genesis,
    /// At item `position` (the tail of a long chain): its own link back is
    /// not checked, its MAC is.
    At(i64),
}

/// The end of a chain as `heads` records it.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub position: i64,
    pub mac: String,
}

/// Verifies `items` (in stored order) against `head`; returns every
/// problem found, empty when the chain is intact.
pub(crate) fn verify<T: Link>(
    chain: Chain,
    items: &[T],
    start: Start,
    head: &Head,
    seal: Seal<'_>,
) -> Vec<ChainProblem> {
    let mut problems = Vec::new();
    let (mut expected, mut prev) = match (start, items.first()) {
        (Start::Genesis, _) => (1, GENESIS.to_owned()),
        (Start::At(position), Some(first)) => (position, first.prev().to_owned()),
        (Start::At(position), None) => (position, head.mac.clone()),
    };
    let mut edited = Vec::new();
    let mut past_head = None;
    let mut past_head_valid = true;
    for (index, item) in items.iter().enumerate() {
        let position = item.position();
        if position != expected {
            problems.push(ChainProblem::Gap {
                chain,
                expected,
                found: position,
            });
        }
        let linked = item.prev() == prev;
        if !linked {
            problems.push(ChainProblem::BrokenLink {
                chain,
                at: position,
            });
        }
        let valid = item.expected_mac(seal, position) == item.mac();
        if !valid {
            edited.push(index);
        }
        if position > head.position {
            past_head.get_or_insert(position);
            past_head_valid &= valid && linked && position == expected;
        } else if position == head.position && item.mac() != head.mac {
            problems.push(ChainProblem::HeadMismatch {
                chain,
                head: head.position,
            });
        }
        expected = position + 1;
        prev = item.mac().to_owned();
    }
    let last = expected - 1;
    problems.extend(edited_or_moved(chain, items, start, seal, &edited));
    match past_head {
        Some(_) if past_head_valid => problems.push(ChainProblem::HeadBehind {
            chain,
            head: head.position,
            last,
        }),
        Some(at) => problems.push(ChainProblem::PastHead {
            chain,
            at,
            head: head.position,
        }),
        None if last < head.position => problems.push(ChainProblem::Truncated {
            chain,
            head: head.position,
            last,
        }),
        None => {}
    }
    problems
}

/// Names each item whose MAC fails: moved, when following the links from
/// the start puts it at a position its MAC is valid for; edited otherwise.
fn edited_or_moved<T: Link>(
    chain: Chain,
    items: &[T],
    start: Start,
    seal: Seal<'_>,
    edited: &[usize],
) -> Vec<ChainProblem> {
    if edited.is_empty() {
        return Vec::new();
    }
    // Where each item was written: its place in the linked order.
    let by_prev: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(index, item)| (item.prev(), index))
        .collect();
    let mut written_as = vec![None; items.len()];
    let (mut link, mut position) = match (start, items.first()) {
        (Start::Genesis, _) => (GENESIS, 1),
        (Start::At(position), Some(first)) => (first.prev(), position),
        (Start::At(_), None) => return Vec::new(),
    };
    while let Some(&index) = by_prev.get(link) {
        if written_as[index].is_some() {
            break; // a cycle: links were forged
        }
        written_as[index] = Some(position);
        link = items[index].mac();
        position += 1;
    }
    edited
        .iter()
        .map(|&index| {
            let item = &items[index];
            match written_as[index] {
                Some(original)
                    if original != item.position()
                        && item.expected_mac(seal, original) == item.mac() =>
                {
                    ChainProblem::Moved {
                        chain,
                        at: item.position(),
                        written_as: original,
                    }
                }
                _ => ChainProblem::Edited {
                    chain,
                    at: item.position(),
                },
            }
        })
        .collect()
}

/// One row of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Its revision, from 1.
    pub revision: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// Who wrote it.
    pub actor: String,
    /// The rows it put, as JSON.
    pub payload: String,
    /// The previous change's MAC (none before the log was sealed).
    pub prev_mac: Option<String>,
    /// Its MAC (none before the log was sealed).
    pub mac: Option<String>,
}

/// The fields a change's MAC covers, in a fixed order.
#[derive(Serialize)]
struct ChangeFields<'a> {
    revision: i64,
    at: i64,
    actor: &'a str,
    payload: &'a str,
}

impl ChangeRecord {
    /// The MAC this change has at `revision` after `prev`.
    pub(crate) fn seal_with(&self, key: &AuditKey, prev: &str, revision: i64) -> String {
        let fields = ChangeFields {
            revision,
            at: self.at,
            actor: &self.actor,
            payload: &self.payload,
        };
        // Serializing a struct of strings and integers cannot fail.
        let json = serde_json::to_vec(&fields).unwrap_or_default();
        key.mac(&[b"change\n", prev.as_bytes(), b"\n", &json])
    }
}

impl Link for ChangeRecord {
    fn position(&self) -> i64 {
        self.revision
    }

    fn prev(&self) -> &str {
        self.prev_mac.as_deref().unwrap_or_default()
    }

    fn mac(&self) -> &str {
        self.mac.as_deref().unwrap_or_default()
    }

    fn expected_mac(&self, seal: Seal<'_>, position: i64) -> String {
        match seal {
            Seal::Keyed(key) => self.seal_with(key, self.prev(), position),
            // Never compared: a change log from before keys is only
            // checked for gaps.
            Seal::Legacy => self.mac().to_owned(),
        }
    }
}

/// Checks the numbering of a chain that has no MACs (a change log written
/// before keys): from 1, without gaps, ending at the head.
pub(crate) fn verify_numbering(
    chain: Chain,
    positions: impl IntoIterator<Item = i64>,
    head: i64,
) -> Vec<ChainProblem> {
    let mut problems = Vec::new();
    let mut expected = 1;
    let mut past_head = None;
    for position in positions {
        if position != expected {
            problems.push(ChainProblem::Gap {
                chain,
                expected,
                found: position,
            });
        }
        if position > head {
            past_head.get_or_insert(position);
        }
        expected = position + 1;
    }
    let last = expected - 1;
    match past_head {
        Some(at) => problems.push(ChainProblem::PastHead { chain, at, head }),
        None if last < head => problems.push(ChainProblem::Truncated { chain, head, last }),
        None => {}
    }
    problems
}

/// Checks changes about to be applied (consecutive, newest last): each
/// carries a valid MAC and points at the one before it.
pub(crate) fn check_changes(
    key: &AuditKey,
    changes: &[ChangeRecord],
) -> Result<(), crate::store::StoreError> {
    let seal = Seal::Keyed(key);
    let mut prev: Option<&str> = None;
    for change in changes {
        let problem = if change.expected_mac(seal, change.revision) != change.mac() {
            Some(ChainProblem::Edited {
                chain: Chain::Changes,
                at: change.revision,
            })
        } else if prev.is_some_and(|prev| prev != change.prev()) {
            Some(ChainProblem::BrokenLink {
                chain: Chain::Changes,
                at: change.revision,
            })
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(crate::store::StoreError::Damaged(format!(
                "{problem}; it is not applied"
            )));
        }
        prev = Some(change.mac());
    }
    Ok(())
}
