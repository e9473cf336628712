//! The one deterministic workload every engine is built from and checked on.
//!
//! The web matrix (roles, permissions, modules) is read from the catalog;
//! organizations, users and checks are drawn from a seeded generator, so two
//! runs with the same sizes build the same world and ask the same questions.

use rolecall_model::Catalog;

use crate::error::BenchError;

/// The application whose matrix the workload exercises.
pub const APPLICATION: &str = "web";

/// The seed of every run: the same sizes give the same workload.
pub const SEED: u64 = 0x0005_EED0_2026;

/// In how many checks out of a hundred the organization is the user's own.
const OWN_ORG_PERCENT: u64 = 80;

/// A small deterministic generator (SplitMix64): enough randomness for a
/// workload, and no dependency whose output could change between versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0), by multiply-and-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// True `percent` times out of a hundred.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// A module of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Catalog id (`web.billing`).
    pub id: String,
    /// The subscription that turns it on; `None` when it is always on.
    pub subscription: Option<String>,
}

/// A permission of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// Catalog id (`web.manage_charge_entries`).
    pub id: String,
    /// Its module, an index into [`Matrix::modules`].
    pub module: usize,
}

/// A role of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Catalog id (`web.biller`).
    pub id: String,
    /// What it grants, indices into [`Matrix::permissions`].
    pub grants: Vec<usize>,
}

/// One application's roles, permissions and modules, as every engine sees
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// Modules in catalog order.
    pub modules: Vec<Module>,
    /// Permissions in catalog order.
    pub permissions: Vec<Permission>,
    /// Roles in catalog order.
    pub roles: Vec<Role>,
}

impl Matrix {
    /// The matrix of `application` in `catalog`.
    ///
    /// Each gated module must be turned on by exactly one subscription, so
    /// that "the organization subscribes to the module" means one thing to
    /// every engine.
    pub fn from_catalog(catalog: &Catalog, application: &str) -> Result<Matrix, BenchError> {
        let app = catalog
            .application(application)
            .ok_or_else(|| BenchError::Catalog(format!("no application `{application}`")))?;
        let mut modules = Vec::new();
        let mut module_position = vec![None; catalog.modules.len()];
        for (i, module) in catalog.modules.iter().enumerate() {
            if module.application != app {
                continue;
            }
            let subscription = match module.gated_by.as_slice() {
                [] => None,
                [one] => Some(catalog.subscriptions[one.ix()].id.clone()),
                _ => {
                    return Err(BenchError::Catalog(format!(
                        "module `{}` is turned on by more than one subscription",
                        module.id
                    )))
                }
            };
            module_position[i] = Some(modules.len());
            modules.push(Module {
                id: module.id.clone(),
                subscription,
            });
        }
        let mut permissions = Vec::new();
        let mut permission_position = vec![None; catalog.permissions.len()];
        for (i, permission) in catalog.permissions.iter().enumerate() {
            let Some(module) = module_position[permission.module.ix()] else {
                continue;
            };
            permission_position[i] = Some(permissions.len());
            permissions.push(Permission {
                id: permission.id.clone(),
                module,
            });
        }
        let roles = catalog
            .roles
            .iter()
            .filter(|role| role.application == app)
            .map(|role| Role {
                id: role.id.clone(),
                grants: role
                    .grants
                    .iter()
                    .filter_map(|grant| permission_position[grant.permission.ix()])
                    .collect(),
            })
            .collect::<Vec<_>>();
        if roles.is_empty() || roles.len() > 64 {
            return Err(BenchError::Catalog(format!(
                "application `{application}` has {} roles; the workload needs 1 to 64",
                roles.len()
            )));
        }
        if modules.len() > 64 {
            return Err(BenchError::Catalog(format!(
                "application `{application}` has {} modules; the workload needs at most 64",
                modules.len()
            )));
        }
        Ok(Matrix {
            modules,
            permissions,
            roles,
        })
    }

    /// The indices of the modules an organization can subscribe to.
    pub fn gated_modules(&self) -> impl Iterator<Item = usize> + '_ {
        self.modules
            .iter()
            .enumerate()
            .filter(|(_, m)| m.subscription.is_some())
            .map(|(i, _)| i)
    }
}

/// How big a workload to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Users, each a member of one organization.
    pub users: usize,
    /// Organizations.
    pub orgs: usize,
    /// Checks.
    pub checks: usize,
}

impl Default for Size {
    fn default() -> Self {
        Self {
            users: 100_000,
            orgs: 1_000,
            checks: 1_000_000,
        }
    }
}

/// An organization of the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Id, `org-17`.
    pub id: String,
    /// The gated modules it subscribes to, indices into [`Matrix::modules`].
    pub modules: Vec<usize>,
}

/// A user of the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id, `user-4242`.
    pub id: String,
    /// The one organization the user belongs to, an index into
    /// [`Workload::orgs`].
    pub org: usize,
    /// One or two distinct roles held there, indices into [`Matrix::roles`].
    pub roles: Vec<usize>,
}

/// One question: may this user do this permission in this organization?
/// Dense indices into the workload, so every engine can turn it into the
/// form it takes before timing starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// Index into [`Workload::users`].
    pub user: u32,
    /// Index into [`Matrix::permissions`].
    pub permission: u32,
    /// Index into [`Workload::orgs`].
    pub org: u32,
}

/// A check spelled with string ids, as a host application receives it:
/// the ids are the request's own copies (in check order in memory, as
/// request buffers arrive), not pointers into the workload's tables, so no
/// string engine is charged for reading ids scattered over 100,000 users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrCheck<'w> {
    /// User id.
    pub user: Box<str>,
    /// Permission id.
    pub permission: Box<str>,
    /// Organization id.
    pub org: Box<str>,
    /// Built from this workload.
    pub workload: std::marker::PhantomData<&'w Workload>,
}

/// The matrix, the world and the questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Roles, permissions and modules.
    pub matrix: Matrix,
    /// Organizations with their subscriptions.
    pub orgs: Vec<Org>,
    /// Users with their roles.
    pub users: Vec<User>,
    /// The checks, in the order every engine runs them.
    pub checks: Vec<Check>,
}

impl Workload {
    /// Draws a workload of `size` over `matrix` from `seed`.
    ///
    /// Each organization subscribes to each gated module with even odds;
    /// each user holds one or two distinct roles in one organization; each
    /// check names a random user and permission, and the user's own
    /// organization 80% of the time, another one otherwise.
    pub fn generate(matrix: Matrix, size: Size, seed: u64) -> Workload {
        let mut rng = Rng::new(seed);
        let orgs_count = size.orgs.max(1);
        let users_count = size.users.max(1);
        let gated: Vec<usize> = matrix.gated_modules().collect();
        let orgs = (0..orgs_count)
            .map(|i| Org {
                id: format!("org-{i}"),
                modules: gated.iter().copied().filter(|_| rng.percent(50)).collect(),
            })
            .collect::<Vec<_>>();
        let role_count = matrix.roles.len();
        let users = (0..users_count)
            .map(|i| {
                let first = rng.below(role_count);
                let mut roles = vec![first];
                if role_count > 1 && rng.percent(50) {
                    let second = (first + 1 + rng.below(role_count - 1)) % role_count;
                    roles.push(second);
                }
                User {
                    id: format!("user-{i}"),
                    org: rng.below(orgs_count),
                    roles,
                }
            })
            .collect::<Vec<_>>();
        let permission_count = matrix.permissions.len().max(1);
        let checks = (0..size.checks)
            .map(|_| {
                let user = rng.below(users_count);
                let permission = rng.below(permission_count);
                let own = users[user].org;
                let org = if orgs_count == 1 || rng.percent(OWN_ORG_PERCENT) {
                    own
                } else {
                    // Any organization but the user's own.
                    let other = rng.below(orgs_count - 1);
                    if other >= own {
                        other + 1
                    } else {
                        other
                    }
                };
                Check {
                    user: dense(user),
                    permission: dense(permission),
                    org: dense(org),
                }
            })
            .collect();
        Workload {
            matrix,
            orgs,
            users,
            checks,
        }
    }

    /// The default catalog's web matrix with a workload of `size` drawn from
    /// [`SEED`].
    pub fn web(size: Size) -> Result<Workload, BenchError> {
        let matrix = Matrix::from_catalog(&Catalog::default_catalog(), APPLICATION)?;
        Ok(Workload::generate(matrix, size, SEED))
    }

    /// A check's string ids.
    pub fn ids(&self, check: &Check) -> StrCheck<'_> {
        StrCheck {
            user: self.users[check.user as usize].id.as_str().into(),
            permission: self.matrix.permissions[check.permission as usize]
                .id
                .as_str()
                .into(),
            org: self.orgs[check.org as usize].id.as_str().into(),
            workload: std::marker::PhantomData,
        }
    }
}

/// A position as a `u32`: workloads stay far below four billion items.
fn dense(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
