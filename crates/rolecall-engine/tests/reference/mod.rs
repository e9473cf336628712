//! A second statement of the decision rules, deliberately naive.
//!
//! Written straight from `DESIGN.md` ("Decision") over the validated model,
//! with plain loops, maps and sets and nothing of `rolecall_engine`: no
//! bitsets, no compiled slots, no shared reach computation. The agreement
//! tests hold the compiled snapshot to it, so a shortcut the engine takes
//! (precomputed topology, prerequisite order, masks) is checked against the
//! rules read literally.
//!
//! The rules, as this project applies them:
//!
//! 1. Only an active user is allowed anything.
//! 2. Direct path: a membership whose organization is `org` or above it
//!    contributes its roles' grants (built-in or custom), its direct grants,
//!    its user type's and access level's grants, and its access type's grants
//!    when that access type reaches the user's own organizations.
//! 3. Groups: a group of `org` or above it gives its members its roles' grants.
//! 4. Partner path: a membership whose access type reaches managed
//!    organizations contributes that access type's grants (and nothing else)
//!    in every organization at or below one that an organization at or below
//!    the membership's manages.
//! 5. Every membership that contributed by either path contributes its
//!    denials; a denied permission is removed at every scope.
//! 6. The permission's module must be on in `org`: not gated, or `org`
//!    itself subscribes to one of the subscriptions gating it.
//! 7. A permission is effective only when all its prerequisites are,
//!    evaluated by the same rules in the same organization.
//! 8. Scope: the widest granted; an effective restriction permission that
//!    narrows it makes it `own`.
//! 9. An `own` permission on a resource whose given owner is someone else is
//!    denied. Unknown users, organizations and permissions are denied.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use rolecall_model::world::Status;
use rolecall_model::{Catalog, Grant, OrgIx, PermissionIx, Scope, UserIx, World};

/// The reference's answer: whether allowed, and at which scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// Whether the user may do it.
    pub allowed: bool,
    /// When allowed, the scope.
    pub scope: Option<Scope>,
}

impl Answer {
    const DENIED: Answer = Answer {
        allowed: false,
        scope: None,
    };
}

/// Permissions a user effectively holds in one organization, with scopes.
pub type Effective = HashMap<PermissionIx, Scope>;

/// The naive evaluator over one catalog and one world.
pub struct Reference<'a> {
    catalog: &'a Catalog,
    world: &'a World,
    /// Answers already worked out: the listings ask for every user in every
    /// organization, many times over.
    memo: RefCell<HashMap<(UserIx, OrgIx), Effective>>,
}

impl<'a> Reference<'a> {
    /// An evaluator of `world` under `catalog`.
    pub fn new(catalog: &'a Catalog, world: &'a World) -> Self {
        Self {
            catalog,
            world,
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// May `user` do `permission` in `org`, on a resource owned by `owner`?
    pub fn check(&self, user: &str, permission: &str, org: &str, owner: Option<&str>) -> Answer {
        // Ids are looked up by scanning, not through any index.
        let user_ix = self.world.users.iter().position(|u| u.id == user);
        let org_ix = self.world.orgs.iter().position(|o| o.id == org);
        let permission_ix = self
            .catalog
            .permissions
            .iter()
            .position(|p| p.id == permission);
        let (Some(u), Some(o), Some(p)) = (user_ix, org_ix, permission_ix) else {
            return Answer::DENIED;
        };
        let effective = self.effective(UserIx::from_usize(u), OrgIx::from_usize(o));
        decide(
            &effective,
            PermissionIx::from_usize(p),
            owner.map(|owner| owner == user),
        )
    }

    /// Every permission `user` effectively holds in `org`, with its scope.
    pub fn effective(&self, user: UserIx, org: OrgIx) -> Effective {
        if let Some(known) = self.memo.borrow().get(&(user, org)) {
            return known.clone();
        }
        let effective = self.work_out(user, org);
        self.memo
            .borrow_mut()
            .insert((user, org), effective.clone());
        effective
    }

    fn work_out(&self, user: UserIx, org: OrgIx) -> Effective {
        let account = &self.world.users[user.ix()];
        if account.status != Status::Active {
            return Effective::new();
        }
        let mut granted: HashMap<PermissionIx, Scope> = HashMap::new();
        let mut denied: HashSet<PermissionIx> = HashSet::new();
        let mut grant = |grants: &[Grant]| {
            for g in grants {
                let widest = granted.entry(g.permission).or_insert(g.scope);
                if g.scope == Scope::All {
                    *widest = Scope::All;
                }
            }
        };

        for membership in &account.memberships {
            let mut contributed = false;
            let access_type = membership
                .tasking_access
                .map(|t| &self.catalog.access_types[t.ix()]);
            if self.at_or_above(membership.org, org) {
                contributed = true;
                for role in &membership.roles {
                    grant(&self.world.role(self.catalog, *role).grants);
                }
                grant(&membership.grants);
                if let Some(t) = membership.scheduler_type {
                    grant(&self.catalog.user_types[t.ix()].grants);
                }
                if let Some(level) = membership.scheduler_level {
                    grant(&self.catalog.access_levels[level.ix()].grants);
                }
                if let Some(access) = access_type {
                    if access.reaches_own {
                        grant(&access.grants);
                    }
                }
            }
            if let Some(access) = access_type {
                if access.reaches_managed && self.manages_from(membership.org, org) {
                    contributed = true;
                    grant(&access.grants);
                }
            }
            if contributed {
                denied.extend(membership.denials.iter().copied());
            }
        }
        for group in &self.world.groups {
            if group.members.contains(&user) && self.at_or_above(group.org, org) {
                for role in &group.roles {
                    grant(&self.world.role(self.catalog, *role).grants);
                }
            }
        }

        let mut holds: HashMap<PermissionIx, bool> = HashMap::new();
        for p in 0..self.catalog.permissions.len() {
            self.holds(
                PermissionIx::from_usize(p),
                org,
                &granted,
                &denied,
                &mut holds,
            );
        }
        let held: HashSet<PermissionIx> = holds
            .into_iter()
            .filter_map(|(p, held)| held.then_some(p))
            .collect();
        let mut effective = Effective::new();
        for p in &held {
            let narrowed = held
                .iter()
                .any(|r| self.catalog.permissions[r.ix()].narrows.contains(p));
            let scope = if narrowed { Scope::Own } else { granted[p] };
            effective.insert(*p, scope);
        }
        effective
    }

    /// Whether `permission` is effective at any scope: granted, not denied,
    /// its module on, and every prerequisite effective.
    fn holds(
        &self,
        permission: PermissionIx,
        org: OrgIx,
        granted: &HashMap<PermissionIx, Scope>,
        denied: &HashSet<PermissionIx>,
        memo: &mut HashMap<PermissionIx, bool>,
    ) -> bool {
        if let Some(known) = memo.get(&permission) {
            return *known;
        }
        let perm = &self.catalog.permissions[permission.ix()];
        let mut held = granted.contains_key(&permission)
            && !denied.contains(&permission)
            && self.module_on(permission, org);
        for required in &perm.requires {
            // Prerequisites are evaluated even when already decided, so a
            // missing one is found by the same rules wherever it sits.
            let required_held = self.holds(*required, org, granted, denied, memo);
            held = held && required_held;
        }
        memo.insert(permission, held);
        held
    }

    fn module_on(&self, permission: PermissionIx, org: OrgIx) -> bool {
        let module = &self.catalog.modules[self.catalog.permissions[permission.ix()].module.ix()];
        let subscriptions = &self.world.orgs[org.ix()].subscriptions;
        module.gated_by.is_empty() || module.gated_by.iter().any(|s| subscriptions.contains(s))
    }

    /// Whether `ancestor` is `org` or above it, walking parents one by one.
    fn at_or_above(&self, ancestor: OrgIx, org: OrgIx) -> bool {
        let mut current = Some(org);
        while let Some(c) = current {
            if c == ancestor {
                return true;
            }
            current = self.world.orgs[c.ix()].parent;
        }
        false
    }

    /// Whether an organization at or below `member_org` manages `org` or an
    /// organization above it.
    fn manages_from(&self, member_org: OrgIx, org: OrgIx) -> bool {
        (0..self.world.orgs.len())
            .map(OrgIx::from_usize)
            .any(|partner| {
                self.at_or_above(member_org, partner)
                    && self.world.orgs[partner.ix()]
                        .manages
                        .iter()
                        .any(|managed| self.at_or_above(*managed, org))
            })
    }

    /// What `user` may do in `org`, in catalog order: `Snapshot::permissions_of`.
    pub fn permissions_of(&self, user: UserIx, org: OrgIx) -> Vec<(String, Scope)> {
        let effective = self.effective(user, org);
        let mut listed: Vec<(PermissionIx, Scope)> = effective.into_iter().collect();
        listed.sort();
        listed
            .into_iter()
            .map(|(p, scope)| (self.catalog.permissions[p.ix()].id.clone(), scope))
            .collect()
    }

    /// Who may do `permission` in `org`, in world order: `Snapshot::users_with`.
    pub fn users_with(&self, permission: PermissionIx, org: OrgIx) -> Vec<(String, Scope)> {
        let mut listed = Vec::new();
        for (u, user) in self.world.users.iter().enumerate() {
            if let Some(scope) = self.effective(UserIx::from_usize(u), org).get(&permission) {
                listed.push((user.id.clone(), *scope));
            }
        }
        listed
    }
}

/// The answer for one permission given the user's effective permissions and
/// whether the resource's owner (when given) is the user.
pub fn decide(
    effective: &Effective,
    permission: PermissionIx,
    owner_is_user: Option<bool>,
) -> Answer {
    match (effective.get(&permission), owner_is_user) {
        (None, _) => Answer::DENIED,
        (Some(Scope::All), _) => Answer {
            allowed: true,
            scope: Some(Scope::All),
        },
        (Some(Scope::Own), Some(false)) => Answer::DENIED,
        (Some(Scope::Own), _) => Answer {
            allowed: true,
            scope: Some(Scope::Own),
        },
    }
}
