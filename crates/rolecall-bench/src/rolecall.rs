//! rolecall itself: the workload as a rolecall world, compiled to a
//! [`Snapshot`], checked by string ids and by keys resolved up front.

use std::sync::Arc;

use rolecall_engine::{OrgKey, PermissionKey, Snapshot, UserKey};
use rolecall_model::world::{Defaults, MembershipSpec, OrgSpec, UserSpec, WorldSpec};
use rolecall_model::{Catalog, World};

use crate::engine::{string_queries, Engine};
use crate::error::BenchError;
use crate::workload::{Check, StrCheck, Workload};

/// The workload as rolecall's input: organizations with their subscriptions,
/// users with one membership each.
pub fn world_spec(workload: &Workload) -> WorldSpec {
    let matrix = &workload.matrix;
    let orgs = workload
        .orgs
        .iter()
        .map(|org| OrgSpec {
            id: org.id.clone(),
            subscriptions: org
                .modules
                .iter()
                .filter_map(|m| matrix.modules[*m].subscription.clone())
                .collect(),
            ..OrgSpec::default()
        })
        .collect();
    let users = workload
        .users
        .iter()
        .map(|user| UserSpec {
            id: user.id.clone(),
            membership: vec![MembershipSpec {
                org: workload.orgs[user.org].id.clone(),
                roles: user
                    .roles
                    .iter()
                    .map(|r| matrix.roles[*r].id.clone())
                    .collect(),
                ..MembershipSpec::default()
            }],
            ..UserSpec::default()
        })
        .collect();
    WorldSpec {
        orgs,
        users,
        ..WorldSpec::default()
    }
}

/// rolecall called with string ids, as a host application calls it per
/// request: [`Snapshot::check`].
#[derive(Debug)]
pub struct RolecallStrings {
    /// The compiled catalog and world.
    pub snapshot: Snapshot,
}

impl RolecallStrings {
    /// Validates the workload's world against the default catalog (applying
    /// creation defaults, as a policy test file does) and compiles it.
    pub fn build(workload: &Workload) -> Result<Self, BenchError> {
        let catalog = Catalog::default_catalog();
        let world =
            World::build(&catalog, &world_spec(workload), Defaults::Apply).map_err(|problems| {
                let first = problems.first().map(ToString::to_string);
                BenchError::World(first.unwrap_or_default())
            })?;
        Ok(Self {
            snapshot: Snapshot::build(Arc::new(catalog), world),
        })
    }
}

impl Engine for RolecallStrings {
    type Query<'w> = StrCheck<'w>;

    fn name(&self) -> &'static str {
        "rolecall (string ids)"
    }

    fn prepare<'w>(
        &self,
        workload: &'w Workload,
        checks: &[Check],
    ) -> Result<Vec<StrCheck<'w>>, BenchError> {
        Ok(string_queries(workload, checks))
    }

    #[inline]
    fn allows(&self, q: &StrCheck<'_>) -> bool {
        self.snapshot
            .check(&q.user, &q.permission, &q.org, None)
            .allowed
    }
}

/// rolecall called with keys resolved once ([`Snapshot::user_key`] ...),
/// then [`Snapshot::check_keys`]: the path for host applications that check
/// in loops. Shares the snapshot of [`RolecallStrings`].
#[derive(Debug, Clone, Copy)]
pub struct RolecallKeys<'s> {
    /// The snapshot the keys are resolved against.
    pub snapshot: &'s Snapshot,
}

/// A check as three keys of one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCheck {
    /// The user.
    pub user: UserKey,
    /// The permission.
    pub permission: PermissionKey,
    /// The organization.
    pub org: OrgKey,
}

impl Engine for RolecallKeys<'_> {
    type Query<'w> = KeyCheck;

    fn name(&self) -> &'static str {
        "rolecall (keys)"
    }

    fn prepare(&self, workload: &Workload, checks: &[Check]) -> Result<Vec<KeyCheck>, BenchError> {
        let unknown = |id: &str| BenchError::UnknownId(id.to_owned());
        checks
            .iter()
            .map(|check| {
                let ids = workload.ids(check);
                Ok(KeyCheck {
                    user: self
                        .snapshot
                        .user_key(&ids.user)
                        .ok_or_else(|| unknown(&ids.user))?,
                    permission: self
                        .snapshot
                        .permission_key(&ids.permission)
                        .ok_or_else(|| unknown(&ids.permission))?,
                    org: self
                        .snapshot
                        .org_key(&ids.org)
                        .ok_or_else(|| unknown(&ids.org))?,
                })
            })
            .collect()
    }

    #[inline]
    fn allows(&self, q: &KeyCheck) -> bool {
        self.snapshot
            .check_keys(q.user, q.permission, q.org, None)
            .allowed
    }
}
