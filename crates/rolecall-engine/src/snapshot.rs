//! The compiled, immutable snapshot and the check path.
//!
//! Layout, chosen so that a check by string ids touches about three cache
//! lines: the user's hash bucket, which holds the id inline (short ids) and
//! the range of the user's slots; then the slot itself.
//!
//! - A *slot* is one (user, organization) pair the user reaches: a record of
//!   `1 + 2 * words` words in `slots`, `[org][any scope bitset][all scope
//!   bitset]`, already limited to what the organization subscribes to.
//! - A user's slots are contiguous and sorted by organization:
//!   [`UserRow`] gives their range.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use compact_str::CompactString;
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

/// A user id resolved against a snapshot, carrying where the user's slots
/// are so that a check by keys reads only the slot itself.
///
/// Resolved once with [`Snapshot::user_key`] and valid for that snapshot
/// only: a key used with another snapshot is denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey {
    ix: u32,
    start: u32,
    len: u32,
    epoch: u32,
}

key_type!(
    /// A permission id resolved against a snapshot.
    PermissionKey,
    /// An organization id resolved against a snapshot.
    OrgKey,
);

type Ids = HashMap<Box<str>, u32, RandomState>;

/// Where a user's slots are. Stored in the user-id table itself, so a check
/// by string id needs no second lookup.
#[derive(Debug, Clone, Copy)]
struct UserRow {
    /// The user's dense index.
    ix: u32,
    /// Index of the user's first slot.
    start: u32,
    /// Number of organizations the user reaches.
    len: u32,
}

/// User ids inline (up to 24 bytes) next to their rows: one bucket read.
type UserIds = HashMap<CompactString, UserRow, RandomState>;

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
    user_ids: UserIds,
    org_ids: Ids,
    permission_ids: Ids,
    /// Per user, by dense index: where their slots are.
    user_rows: Vec<UserRow>,
    /// Slot records, `stride` words each: `[org][any][all]`.
    slots: Vec<u64>,
    /// Words per slot record: `1 + 2 * words`.
    stride: usize,
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
        let stride = 1 + 2 * words;
        let mut user_rows = Vec::with_capacity(world.users.len());
        let mut slots = Vec::with_capacity(world.users.len() * stride);
        let mut slot_count = 0usize;
        let mut per_org: Vec<Vec<(u32, u32)>> = vec![Vec::new(); world.orgs.len()];
        let mut any = vec![0; words];
        let mut all = vec![0; words];
        for user in 0..world.users.len() {
            let start = slot_count;
            let user_ix = UserIx::from_usize(user);
            for org in topology.reached_orgs(&catalog, &world, user_ix) {
                let Some(found) = reach(&catalog, &world, &topology, user_ix, org) else {
                    continue;
                };
                let org_enabled = &enabled[org.ix() * words..(org.ix() + 1) * words];
                rules.effective(&found, org_enabled, &mut any, &mut all);
                per_org[org.ix()].push((to_u32(user), to_u32(slot_count)));
                slots.push(u64::from(org.0));
                slots.extend_from_slice(&any);
                slots.extend_from_slice(&all);
                slot_count += 1;
            }
            user_rows.push(UserRow {
                ix: to_u32(user),
                start: to_u32(start),
                len: to_u32(slot_count - start),
            });
        }
        let mut org_start = Vec::with_capacity(per_org.len() + 1);
        let mut org_reach = Vec::new();
        for pairs in per_org {
            org_start.push(to_u32(org_reach.len()));
            org_reach.extend(pairs);
        }
        org_start.push(to_u32(org_reach.len()));
        let mut user_ids =
            UserIds::with_capacity_and_hasher(world.users.len(), RandomState::default());
        for (user, row) in world.users.iter().zip(&user_rows) {
            user_ids.insert(CompactString::from(user.id.as_str()), *row);
        }
        Snapshot {
            user_ids,
            org_ids: ids(world.orgs.iter().map(|o| o.id.as_str())),
            permission_ids: ids(catalog.permissions.iter().map(|p| p.id.as_str())),
            epoch: NEXT_EPOCH.fetch_add(1, Ordering::Relaxed),
            catalog,
            world,
            topology,
            rules,
            words,
            user_rows,
            slots,
            stride,
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
        let (Some(row), Some(&p), Some(&o)) = (
            self.user_ids.get(user),
            self.permission_ids.get(permission),
            self.org_ids.get(org),
        ) else {
            return Decision::DENIED;
        };
        // Ids are unique, so the owner is the user exactly when the strings match.
        self.decide(row.start, row.len, p, o, owner.map(|owner| owner == user))
    }

    /// Resolves a user id to a key for [`Snapshot::check_keys`].
    pub fn user_key(&self, id: &str) -> Option<UserKey> {
        self.user_ids.get(id).map(|row| UserKey {
            ix: row.ix,
            start: row.start,
            len: row.len,
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
        self.decide(
            user.start,
            user.len,
            permission.ix,
            org.ix,
            owner.map(|o| o.ix == user.ix),
        )
    }

    /// The record of the slot, among `len` from `start`, for `org`.
    #[inline]
    fn slot(&self, start: u32, len: u32, org: u32) -> Option<&[u64]> {
        let (start, len, stride) = (start as usize, len as usize, self.stride);
        let records = self.slots.get(start * stride..(start + len) * stride)?;
        let org = u64::from(org);
        let found = if len <= 8 {
            (0..len).find(|i| records[i * stride] == org)
        } else {
            let (mut low, mut high) = (0, len);
            while low < high {
                let mid = (low + high) / 2;
                match records[mid * stride].cmp(&org) {
                    std::cmp::Ordering::Less => low = mid + 1,
                    std::cmp::Ordering::Greater => high = mid,
                    std::cmp::Ordering::Equal => {
                        return Some(&records[mid * stride..(mid + 1) * stride])
                    }
                }
            }
            None
        };
        found.map(|i| &records[i * stride..(i + 1) * stride])
    }

    #[inline]
    fn decide(
        &self,
        start: u32,
        len: u32,
        permission: u32,
        org: u32,
        owner_is_user: Option<bool>,
    ) -> Decision {
        match self.slot(start, len, org) {
            Some(record) => self.decide_in(record, permission, owner_is_user),
            None => Decision::DENIED,
        }
    }

    /// The decision read from one slot record.
    #[inline]
    fn decide_in(&self, record: &[u64], permission: u32, owner_is_user: Option<bool>) -> Decision {
        let (word, mask) = bits::locate(permission);
        if record[1 + self.words + word] & mask != 0 {
            Decision::ALL
        } else if record[1 + word] & mask != 0 && owner_is_user != Some(false) {
            Decision::OWN
        } else {
            Decision::DENIED
        }
    }

    /// The sets of `user` in `org`: `(any, all)`.
    pub(crate) fn sets_of(&self, user: UserIx, org: OrgIx) -> Option<(&[u64], &[u64])> {
        let row = self.user_rows.get(user.ix())?;
        let record = self.slot(row.start, row.len, org.0)?;
        Some((&record[1..1 + self.words], &record[1 + self.words..]))
    }

    /// Whether `user` reaches `org` at all: a membership there or above, or
    /// a partner link with an access type that reaches it. The service uses
    /// it to keep organizations apart.
    pub fn reaches(&self, user: &str, org: &str) -> bool {
        let (Some(u), Some(o)) = (self.world.user(user), self.world.org(org)) else {
            return false;
        };
        self.sets_of(u, o).is_some()
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
                let base = slot as usize * self.stride;
                let any = &self.slots[base + 1..base + 1 + self.words];
                let all = &self.slots[base + 1 + self.words..base + self.stride];
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
        let user_id_bytes: usize = self
            .user_ids
            .keys()
            .map(|k| {
                std::mem::size_of::<(CompactString, UserRow)>()
                    + if k.is_heap_allocated() { k.len() } else { 0 }
            })
            .sum();
        self.user_rows.len() * std::mem::size_of::<UserRow>()
            + self.slots.len() * 8
            + self.org_start.len() * 4
            + self.org_reach.len() * 8
            + self.enabled.len() * 8
            + user_id_bytes
            + id_bytes(&self.org_ids)
            + id_bytes(&self.permission_ids)
    }
}
