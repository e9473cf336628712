//! A naive but reasonable design: the workload kept as string-keyed maps and
//! sets, looked up per check as the ids arrive.

use std::collections::{HashMap, HashSet};

use crate::engine::{string_queries, Engine};
use crate::error::BenchError;
use crate::workload::{Check, StrCheck, Workload};

/// Roles, grants and subscriptions in standard-library maps keyed by id.
#[derive(Debug, Clone, Default)]
pub struct HashMapEngine {
    /// Roles each user holds in each organization.
    roles: HashMap<(String, String), Vec<String>>,
    /// What each role grants.
    grants: HashMap<String, HashSet<String>>,
    /// The gated modules each organization subscribes to.
    subscriptions: HashMap<String, HashSet<String>>,
    /// Each permission's module.
    modules: HashMap<String, String>,
    /// Modules on in every organization.
    always_on: HashSet<String>,
}

impl HashMapEngine {
    /// Copies the workload into maps.
    pub fn build(workload: &Workload) -> Self {
        let matrix = &workload.matrix;
        let mut engine = Self::default();
        for user in &workload.users {
            let org = workload.orgs[user.org].id.clone();
            let roles = user
                .roles
                .iter()
                .map(|r| matrix.roles[*r].id.clone())
                .collect();
            engine.roles.insert((user.id.clone(), org), roles);
        }
        for role in &matrix.roles {
            let grants = role
                .grants
                .iter()
                .map(|p| matrix.permissions[*p].id.clone())
                .collect();
            engine.grants.insert(role.id.clone(), grants);
        }
        for org in &workload.orgs {
            let modules = org
                .modules
                .iter()
                .map(|m| matrix.modules[*m].id.clone())
                .collect();
            engine.subscriptions.insert(org.id.clone(), modules);
        }
        for permission in &matrix.permissions {
            let module = matrix.modules[permission.module].id.clone();
            engine.modules.insert(permission.id.clone(), module);
        }
        for module in matrix.modules.iter().filter(|m| m.subscription.is_none()) {
            engine.always_on.insert(module.id.clone());
        }
        engine
    }
}

impl Engine for HashMapEngine {
    type Query<'w> = StrCheck<'w>;

    fn name(&self) -> &'static str {
        "HashMap<String, ..> design"
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
        // A `(String, String)` key cannot be borrowed as `(&str, &str)`, so
        // the lookup builds an owned key, as such code usually does.
        let Some(roles) = self.roles.get(&(q.user.to_string(), q.org.to_string())) else {
            return false;
        };
        let Some(module) = self.modules.get(&*q.permission) else {
            return false;
        };
        let module_on = self.always_on.contains(module)
            || self
                .subscriptions
                .get(&*q.org)
                .is_some_and(|subscribed| subscribed.contains(module));
        module_on
            && roles.iter().any(|role| {
                self.grants
                    .get(role)
                    .is_some_and(|granted| granted.contains(&*q.permission))
            })
    }
}
