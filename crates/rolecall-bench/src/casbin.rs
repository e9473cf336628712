//! Casbin, as its "RBAC with domains" model: a user holds a role in an
//! organization (`g = _, _, _`), an organization holds the modules it
//! subscribes to (`g2 = _, _`), and each policy line grants one permission to
//! one role, tagged with the permission's module.

use ::casbin::prelude::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};

use crate::engine::{string_queries, Engine};
use crate::error::BenchError;
use crate::workload::{Check, Matrix, StrCheck, Workload};

/// The model for `matrix`: always-on modules pass without a subscription.
///
/// The cheap action comparison comes first, so that most policy lines are
/// rejected before the role lookups run.
pub fn model(matrix: &Matrix) -> String {
    let always_on = matrix
        .modules
        .iter()
        .filter(|m| m.subscription.is_none())
        .map(|m| format!(" || p.module == \"{}\"", m.id))
        .collect::<String>();
    format!(
        "[request_definition]\n\
         r = sub, dom, act\n\
         \n\
         [policy_definition]\n\
         p = sub, act, module\n\
         \n\
         [role_definition]\n\
         g = _, _, _\n\
         g2 = _, _\n\
         \n\
         [policy_effect]\n\
         e = some(where (p.eft == allow))\n\
         \n\
         [matchers]\n\
         m = r.act == p.act && g(r.sub, p.sub, r.dom) && (g2(r.dom, p.module){always_on})\n"
    )
}

/// An in-memory enforcer holding the matrix as policy lines and the
/// memberships and subscriptions as grouping lines.
pub struct CasbinEngine {
    enforcer: Enforcer,
}

impl std::fmt::Debug for CasbinEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CasbinEngine").finish_non_exhaustive()
    }
}

fn casbin_error(error: ::casbin::Error) -> BenchError {
    BenchError::Casbin(error.to_string())
}

impl CasbinEngine {
    /// Builds the enforcer. Casbin's set-up API is async; it runs here on a
    /// local executor, as nothing in it waits on I/O.
    pub fn build(workload: &Workload) -> Result<Self, BenchError> {
        futures::executor::block_on(Self::build_async(workload))
    }

    async fn build_async(workload: &Workload) -> Result<Self, BenchError> {
        let matrix = &workload.matrix;
        let model = DefaultModel::from_str(&model(matrix))
            .await
            .map_err(casbin_error)?;
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .map_err(casbin_error)?;
        // The adapter is a throwaway: keep one copy of the rules, the
        // enforcer's.
        enforcer.enable_auto_save(false);
        let grants = matrix
            .roles
            .iter()
            .flat_map(|role| {
                role.grants.iter().map(|p| {
                    let permission = &matrix.permissions[*p];
                    vec![
                        role.id.clone(),
                        permission.id.clone(),
                        matrix.modules[permission.module].id.clone(),
                    ]
                })
            })
            .collect();
        enforcer.add_policies(grants).await.map_err(casbin_error)?;
        let memberships = workload
            .users
            .iter()
            .flat_map(|user| {
                user.roles.iter().map(|r| {
                    vec![
                        user.id.clone(),
                        matrix.roles[*r].id.clone(),
                        workload.orgs[user.org].id.clone(),
                    ]
                })
            })
            .collect();
        enforcer
            .add_named_grouping_policies("g", memberships)
            .await
            .map_err(casbin_error)?;
        let subscriptions = workload
            .orgs
            .iter()
            .flat_map(|org| {
                org.modules
                    .iter()
                    .map(|m| vec![org.id.clone(), matrix.modules[*m].id.clone()])
            })
            .collect::<Vec<_>>();
        if !subscriptions.is_empty() {
            enforcer
                .add_named_grouping_policies("g2", subscriptions)
                .await
                .map_err(casbin_error)?;
        }
        Ok(Self { enforcer })
    }
}

impl Engine for CasbinEngine {
    type Query<'w> = StrCheck<'w>;

    fn name(&self) -> &'static str {
        "casbin 2"
    }

    fn prepare<'w>(
        &self,
        workload: &'w Workload,
        checks: &[Check],
    ) -> Result<Vec<StrCheck<'w>>, BenchError> {
        Ok(string_queries(workload, checks))
    }

    fn decide(&self, q: &StrCheck<'_>) -> Result<bool, BenchError> {
        self.enforcer
            .enforce((&*q.user, &*q.org, &*q.permission))
            .map_err(casbin_error)
    }

    #[inline]
    fn allows(&self, q: &StrCheck<'_>) -> bool {
        self.enforcer
            .enforce((&*q.user, &*q.org, &*q.permission))
            .unwrap_or(false)
    }
}
