//! The compiled, immutable snapshot and the check path.
//!
//! Layout, chosen so that a check touches three short arrays:
//! - `reach_start[u]..reach_start[u + 1]` is user `u`'s range in
//!   `reach_org`: the organizations they reach, sorted;
//! - the same position is the user's *slot* in `sets`, which holds two
//!   permission bitsets per slot (any scope, then `all` scope), already
//!   limited to what the organization subscribes to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use foldhash::fast::RandomState;
use rolecall_model::{Catalog, OrgIx, PermissionIx, Scope, UserIx, World};
use serde::Serialize;

use crate::bits;
use crate::reach::{reach, Rules, Topology};

/// The answer to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Decision {
    /// Whether the user may do it.
    pub allowed: bool,
    /// When allowed: whether for every resource or only the user's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

impl Decision {
    /// Not allowed.
    pub const DENIED: Decision = Decision {
        allowed: false,
        scope: None,
    };
    /// Allowed for every resource.
    pub const ALL: Decision = Decision {
        allowed: true,
        scope: Some(Scope::All),
    };
    /// Allowed for the user's own resources.
    pub const OWN: Decision = Decision {
        allowed: true,
        scope: Some(Scope::Own),
    };
}

static NEXT_EPOCH: AtomicU32 = AtomicU32::new(1);

macro_rules! key_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        ///
        /// Resolved once with the snapshot's lookup method and valid for that
        /// snapshot only: a key used with another snapshot is denied.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name {
            ix: u32,
            epoch: u32,
        }
    )*};
}

key_type!(
    /// A user id resolved against a snapshot.
    UserKey,
    /// A permission id resolved against a snapshot.
    PermissionKey,
    /// An organization id resolved against a snapshot.
    OrgKey,
);

type Ids = HashMap<Box<str>, u32, RandomState>;

/// A catalog and a world compiled for checking. Immutable: a change builds a
/// new snapshot, which readers swap in while old checks finish on the old one.
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) world: World,
    pub(crate) topology: Topology,
    pub(crate) rules: Rules,
    /// Distinguishes keys of this snapshot from keys of any other.
    epoch: u32,
    /// `u64` words per permission set.
    words: usize,
    user_ids: Ids,
    org_ids: Ids,
    permission_ids: Ids,
    reach_start: Vec<u32>,
    reach_org: Vec<u32>,
    sets: Vec<u64>,
    /// For "who may": per organization, the `(user, slot)` pairs reaching it.
    org_start: Vec<u32>,
    org_reach: Vec<(u32, u32)>,
    /// Per organization, the permissions whose module is on.
    pub(crate) enabled: Vec<u64>,
}

fn ids<'a>(names: impl Iterator<Item = &'a str>) -> Ids {
    let mut map = Ids::default();
    for (i, name) in names.enumerate() {
        map.insert(name.into(), u32::try_from(i).unwrap_or(u32::MAX));
    }
    map
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Snapshot {
    /// Compiles a validated world against its catalog.
    pub fn build(catalog: Arc<Catalog>, world: World) -> Snapshot {
        let rules = Rules::new(&catalog);
        let topology = Topology::new(&world);
        let words = rules.words;
        let mut enabled = Vec::with_capacity(world.orgs.len() * words);
        for org in 0..world.orgs.len() {
            enabled.extend(rules.enabled(&catalog, &world, OrgIx::from_usize(org)));
        }
        let mut reach_start = Vec::with_capacity(world.users.len() + 1);
        let mut reach_org = Vec::with_capacity(world.users.len());
        let mut sets = Vec::with_capacity(world.users.len() * 2 * words);
        let mut per_org: Vec<Vec<(u32, u32)>> = vec![Vec::new(); world.orgs.len()];
        let mut any = vec![0; words];
        let mut all = vec![0; words];
        for user in 0..world.users.len() {
            reach_start.push(to_u32(reach_org.len()));
            let user_ix = UserIx::from_usize(user);
            for org in topology.reached_orgs(&catalog, &world, user_ix) {
                let Some(found) = reach(&catalog, &world, &topology, user_ix, org) else {
                    continue;
                };
                let org_enabled = &enabled[org.ix() * words..(org.ix() + 1) * words];
                rules.effective(&found, org_enabled, &mut any, &mut all);
                per_org[org.ix()].push((to_u32(user), to_u32(reach_org.len())));
                reach_org.push(org.0);
                sets.extend_from_slice(&any);
                sets.extend_from_slice(&all);
            }
        }
        reach_start.push(to_u32(reach_org.len()));
        let mut org_start = Vec::with_capacity(per_org.len() + 1);
        let mut org_reach = Vec::new();
        for pairs in per_org {
            org_start.push(to_u32(org_reach.len()));
            org_reach.extend(pairs);
        }
        org_start.push(to_u32(org_reach.len()));
        Snapshot {
            user_ids: ids(world.users.iter().map(|u| u.id.as_str())),
            org_ids: ids(world.orgs.iter().map(|o| o.id.as_str())),
            permission_ids: ids(catalog.permissions.iter().map(|p| p.id.as_str())),
            epoch: NEXT_EPOCH.fetch_add(1, Ordering::Relaxed),
            catalog,
            world,
            topology,
            rules,
            words,
            reach_start,
            reach_org,
            sets,
            org_start,
            org_reach,
            enabled,
        }
    }

    /// The catalog the snapshot was built from.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The world the snapshot was built from.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// May `user` do `permission` in `org`, on a resource owned by `owner`?
    ///
    /// Unknown ids are denied. Allocates nothing.
    pub fn check(&self, user: &str, permission: &str, org: &str, owner: Option<&str>) -> Decision {
        let (Some(&u), Some(&p), Some(&o)) = (
            self.user_ids.get(user),
            self.permission_ids.get(permission),
            self.org_ids.get(org),
        ) else {
            return Decision::DENIED;
        };
        // Ids are unique, so the owner is the user exactly when the strings match.
        self.decide(u, p, o, owner.map(|owner| owner == user))
    }

    /// Resolves a user id to a key for [`Snapshot::check_keys`].
    pub fn user_key(&self, id: &str) -> Option<UserKey> {
        self.user_ids.get(id).map(|&ix| UserKey {
            ix,
            epoch: self.epoch,
        })
    }

    /// Resolves a permission id to a key for [`Snapshot::check_keys`].
    pub fn permission_key(&self, id: &str) -> Option<PermissionKey> {
        self.permission_ids.get(id).map(|&ix| PermissionKey {
            ix,
            epoch: self.epoch,
        })
    }

    /// Resolves an organization id to a key for [`Snapshot::check_keys`].
    pub fn org_key(&self, id: &str) -> Option<OrgKey> {
        self.org_ids.get(id).map(|&ix| OrgKey {
            ix,
            epoch: self.epoch,
        })
    }

    /// [`Snapshot::check`] with ids resolved once, for host applications that
    /// check in loops. Keys from another snapshot are denied.
    #[inline]
    pub fn check_keys(
        &self,
        user: UserKey,
        permission: PermissionKey,
        org: OrgKey,
        owner: Option<UserKey>,
    ) -> Decision {
        let epoch = self.epoch;
        if user.epoch != epoch || permission.epoch != epoch || org.epoch != epoch {
            return Decision::DENIED;
        }
        self.decide(user.ix, permission.ix, org.ix, owner.map(|o| o == user))
    }

    /// The user's slot in `org`: where their sets are.
    #[inline]
    fn slot(&self, user: u32, org: u32) -> Option<usize> {
        let start = self.reach_start[user as usize] as usize;
        let end = self.reach_start[user as usize + 1] as usize;
        let orgs = &self.reach_org[start..end];
        let found = if orgs.len() <= 8 {
            orgs.iter().position(|&o| o == org)
        } else {
            orgs.binary_search(&org).ok()
        };
        found.map(|i| start + i)
    }

    #[inline]
    fn decide(
        &self,
        user: u32,
        permission: u32,
        org: u32,
        owner_is_user: Option<bool>,
    ) -> Decision {
        let Some(slot) = self.slot(user, org) else {
            return Decision::DENIED;
        };
        let (word, mask) = bits::locate(permission);
        let base = slot * 2 * self.words;
        if self.sets[base + self.words + word] & mask != 0 {
            Decision::ALL
        } else if self.sets[base + word] & mask != 0 && owner_is_user != Some(false) {
            Decision::OWN
        } else {
            Decision::DENIED
        }
    }

    /// The sets of `user` in `org`: `(any, all)`.
    pub(crate) fn sets_of(&self, user: UserIx, org: OrgIx) -> Option<(&[u64], &[u64])> {
        let slot = self.slot(user.0, org.0)?;
        let base = slot * 2 * self.words;
        Some((
            &self.sets[base..base + self.words],
            &self.sets[base + self.words..base + 2 * self.words],
        ))
    }

    /// What may `user` do in `org`: each permission id with its scope, in
    /// catalog order. Empty for unknown ids and for users with no access.
    pub fn permissions_of(&self, user: &str, org: &str) -> Vec<(&str, Scope)> {
        let (Some(u), Some(o)) = (self.world.user(user), self.world.org(org)) else {
            return Vec::new();
        };
        let Some((any, all)) = self.sets_of(u, o) else {
            return Vec::new();
        };
        bits::iter(any)
            .map(|p| {
                let scope = if bits::has(all, p) {
                    Scope::All
                } else {
                    Scope::Own
                };
                (self.catalog.perm(p).id.as_str(), scope)
            })
            .collect()
    }

    /// Who may do `permission` in `org`: each user id with its scope, in
    /// world order. Empty for unknown ids.
    pub fn users_with(&self, permission: &str, org: &str) -> Vec<(&str, Scope)> {
        let (Some(p), Some(o)) = (self.catalog.permission(permission), self.world.org(org)) else {
            return Vec::new();
        };
        let range = self.org_start[o.ix()] as usize..self.org_start[o.ix() + 1] as usize;
        self.org_reach[range]
            .iter()
            .filter_map(|&(user, slot)| {
                let base = slot as usize * 2 * self.words;
                let any = &self.sets[base..base + self.words];
                let all = &self.sets[base + self.words..base + 2 * self.words];
                bits::has(any, p).then(|| {
                    let scope = if bits::has(all, p) {
                        Scope::All
                    } else {
                        Scope::Own
                    };
                    (self.world.users[user as usize].id.as_str(), scope)
                })
            })
            .collect()
    }

    /// Whether `permission`'s module is on in `org`.
    pub(crate) fn module_on(&self, org: OrgIx, permission: PermissionIx) -> bool {
        bits::has(
            &self.enabled[org.ix() * self.words..(org.ix() + 1) * self.words],
            permission,
        )
    }

    /// Approximate bytes held by the compiled check structures (not the
    /// catalog and world they came from).
    pub fn compiled_bytes(&self) -> usize {
        let id_bytes = |ids: &Ids| ids.keys().map(|k| k.len() + 24).sum::<usize>();
        self.reach_start.len() * 4
            + self.reach_org.len() * 4
            + self.sets.len() * 8
            + self.org_start.len() * 4
            + self.org_reach.len() * 8
            + self.enabled.len() * 8
            + id_bytes(&self.user_ids)
            + id_bytes(&self.org_ids)
            + id_bytes(&self.permission_ids)
    }
}
