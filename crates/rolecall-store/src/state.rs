//! The state tables against the change log: the model the change log
//! replays to, compared row by row with the model the tables hold.
//!
//! Every row of the replicated model (organizations, employees, users and
//! their memberships, groups, custom roles, API tokens, security policies)
//! is written only by a change, and nothing is ever deleted from these
//! tables (a user is disabled, a token revoked: both are rows written
//! again). So replaying the change log from revision 1 with
//! [`Model::apply`], the function replicas use, must give exactly the
//! tables; any difference was made outside rolecall. Credentials,
//! sessions, reset links and the outbox are not in the change log, and are
//! not compared.

use std::fmt;

use imbl::OrdMap;

use crate::chain::ChangeRecord;
use crate::model::{Model, Put};
use crate::store::parse_json;

/// How a stored row disagrees with the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disagreement {
    /// Both have it, with different contents.
    Differs,
    /// The change log has it, the tables do not.
    Missing,
    /// The tables have it, the change log never wrote it.
    NotLogged,
}

/// A difference between the state tables and the change log, or a reason
/// they could not be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateProblem {
    /// One row disagrees.
    Row {
        /// The table, e.g. `memberships`.
        table: &'static str,
        /// The row, e.g. "membership of `bob` in `acme`".
        row: String,
        /// How.
        disagreement: Disagreement,
    },
    /// A change's payload does not parse: the log cannot be replayed.
    UnreadableChange {
        /// The change.
        revision: i64,
        /// Why.
        reason: String,
    },
    /// The state tables cannot be read as the service reads them.
    UnreadableTables(String),
}

impl fmt::Display for StateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateProblem::Row {
                table,
                row,
                disagreement,
            } => {
                let how = match disagreement {
                    Disagreement::Differs => "differs from the change log",
                    Disagreement::Missing => "is in the change log but missing from the table",
                    Disagreement::NotLogged => "was never written by the change log",
                };
                write!(f, "{row} (table `{table}`) {how}")
            }
            StateProblem::UnreadableChange { revision, reason } => write!(
                f,
                "change {revision} cannot be replayed ({reason}): the state was not compared past it"
            ),
            StateProblem::UnreadableTables(reason) => write!(
                f,
                "the state tables cannot be read ({reason}): they were altered outside rolecall"
            ),
        }
    }
}

/// Replays `changes` (in revision order, up to `revision`) from an empty
/// model; stops at the first change that does not parse.
pub(crate) fn replay(changes: &[ChangeRecord], revision: i64) -> (Model, Option<StateProblem>) {
    let mut model = Model::default();
    for change in changes.iter().take_while(|c| c.revision <= revision) {
        match parse_json::<Vec<Put>>(&change.payload, "change payload") {
            Ok(puts) => model.apply_all(&puts),
            Err(e) => {
                let problem = StateProblem::UnreadableChange {
                    revision: change.revision,
                    reason: e.to_string(),
                };
                return (model, Some(problem));
            }
        }
    }
    (model, None)
}

/// Every row where `stored` disagrees with `replayed`.
pub(crate) fn compare(replayed: &Model, stored: &Model) -> Vec<StateProblem> {
    let mut problems = Vec::new();
    let mut table = |table, name: &dyn Fn(&str) -> String, diffs: Vec<(String, Disagreement)>| {
        problems.extend(
            diffs
                .into_iter()
                .map(|(id, disagreement)| StateProblem::Row {
                    table,
                    row: name(&id),
                    disagreement,
                }),
        );
    };
    table(
        "orgs",
        &|id| format!("organization `{id}`"),
        diff(&replayed.orgs, &stored.orgs),
    );
    table(
        "employees",
        &|id| format!("employee `{id}`"),
        diff(&replayed.employees, &stored.employees),
    );
    // A user's own row, then each membership on its own.
    let without_memberships = |users: &OrdMap<String, crate::model::UserRow>| {
        users
            .iter()
            .map(|(id, user)| {
                let mut user = user.clone();
                user.memberships.clear();
                (id.clone(), user)
            })
            .collect::<OrdMap<String, crate::model::UserRow>>()
    };
    table(
        "users",
        &|id| format!("user `{id}`"),
        diff(
            &without_memberships(&replayed.users),
            &without_memberships(&stored.users),
        ),
    );
    let memberships = |model: &Model| {
        model
            .users
            .values()
            .flat_map(|user| {
                user.memberships
                    .iter()
                    .map(|(org, access)| (format!("{}\n{org}", user.id), access.clone()))
            })
            .collect::<OrdMap<String, crate::model::Access>>()
    };
    table(
        "memberships",
        &|key| match key.split_once('\n') {
            Some((user, org)) => format!("membership of `{user}` in `{org}`"),
            None => format!("membership `{key}`"),
        },
        diff(&memberships(replayed), &memberships(stored)),
    );
    table(
        "member_groups",
        &|id| format!("group `{id}`"),
        diff(&replayed.groups, &stored.groups),
    );
    table(
        "custom_roles",
        &|id| format!("custom role `{id}`"),
        diff(&replayed.custom_roles, &stored.custom_roles),
    );
    table(
        "api_tokens",
        &|id| format!("API token `{id}`"),
        diff(&replayed.tokens, &stored.tokens),
    );
    table(
        "security_policies",
        &|org| format!("security policy of `{org}`"),
        diff(&replayed.policies, &stored.policies),
    );
    problems
}

fn diff<V: PartialEq + Clone>(
    replayed: &OrdMap<String, V>,
    stored: &OrdMap<String, V>,
) -> Vec<(String, Disagreement)> {
    let mut found = Vec::new();
    for (id, value) in replayed {
        match stored.get(id) {
            Some(row) if row == value => {}
            Some(_) => found.push((id.clone(), Disagreement::Differs)),
            None => found.push((id.clone(), Disagreement::Missing)),
        }
    }
    for id in stored.keys() {
        if !replayed.contains_key(id) {
            found.push((id.clone(), Disagreement::NotLogged));
        }
    }
    found
}

impl crate::Store {
    /// Replays the whole change log (each change's seal checked) and
    /// compares the result with the state tables, as `serve` does before
    /// it loads them: a row written by SQL rather than by rolecall is named
    /// here instead of being served. Empty when they agree.
    pub async fn verify_state(&self) -> Result<Vec<StateProblem>, crate::StoreError> {
        // The tables first, at their revision, then the log up to it.
        let (stored, revision) = self.load().await?;
        let mut replayed = Model::default();
        for (at, puts) in self.changes_since(0).await? {
            if at > revision {
                break;
            }
            replayed.apply_all(&puts);
        }
        Ok(compare(&replayed, &stored))
    }
}
