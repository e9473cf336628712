//! The floor: a hand-written engine that knows this workload's shape (one
//! organization per user, at most 64 roles and modules) and answers with two
//! comparisons and two mask tests. Nothing general can be faster; it shows
//! what rolecall's generality costs.

use crate::engine::Engine;
use crate::error::BenchError;
use crate::workload::{Check, Workload};

/// A user as the floor stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member {
    /// The one organization the user belongs to.
    org: u32,
    /// Bit `r` set when the user holds role `r`.
    roles: u64,
}

/// A permission as the floor stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    /// Bit `r` set when role `r` grants the permission.
    roles: u64,
    /// The bit of the permission's module.
    module: u64,
}

/// Users, organizations and permissions by dense index.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Indexed by user.
    users: Vec<Member>,
    /// Indexed by organization: bit `m` set when module `m` is on there
    /// (always-on modules are on everywhere).
    org_modules: Vec<u64>,
    /// Indexed by permission.
    rules: Vec<Rule>,
}

impl Baseline {
    /// Packs the workload into masks.
    pub fn build(workload: &Workload) -> Self {
        let matrix = &workload.matrix;
        let always_on = matrix
            .modules
            .iter()
            .enumerate()
            .filter(|(_, m)| m.subscription.is_none())
            .fold(0, |mask, (i, _)| mask | 1 << i);
        let users = workload
            .users
            .iter()
            .map(|user| Member {
                org: u32::try_from(user.org).unwrap_or(u32::MAX),
                roles: user.roles.iter().fold(0, |mask, r| mask | 1 << r),
            })
            .collect();
        let org_modules = workload
            .orgs
            .iter()
            .map(|org| org.modules.iter().fold(always_on, |mask, m| mask | 1 << m))
            .collect();
        let mut rules: Vec<Rule> = matrix
            .permissions
            .iter()
            .map(|p| Rule {
                roles: 0,
                module: 1 << p.module,
            })
            .collect();
        for (r, role) in matrix.roles.iter().enumerate() {
            for p in &role.grants {
                rules[*p].roles |= 1 << r;
            }
        }
        Self {
            users,
            org_modules,
            rules,
        }
    }
}

impl Engine for Baseline {
    type Query<'w> = Check;

    fn name(&self) -> &'static str {
        "baseline (bitmask floor)"
    }

    fn prepare(&self, _: &Workload, checks: &[Check]) -> Result<Vec<Check>, BenchError> {
        // The workload's checks are already dense indices.
        Ok(checks.to_vec())
    }

    #[inline]
    fn allows(&self, q: &Check) -> bool {
        let user = self.users[q.user as usize];
        let rule = self.rules[q.permission as usize];
        user.org == q.org
            && user.roles & rule.roles != 0
            && self.org_modules[q.org as usize] & rule.module != 0
    }
}
