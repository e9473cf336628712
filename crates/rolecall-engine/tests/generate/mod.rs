//! Random catalogs, worlds and checks for the agreement tests.
//!
//! Strategies produce *plans*: counts and [`Index`] picks. A plan is turned
//! into input once the things it picks from are known (a catalog's
//! permissions, a world's organizations), which keeps every generated input
//! valid and lets proptest shrink a failure to a small one.

pub mod catalog;
pub mod world;

use proptest::prelude::*;
use proptest::sample::Index;

/// One written grant: which permission, and how its scope is written.
#[derive(Debug, Clone)]
pub struct GrantPlan {
    permission: Index,
    /// 0: `id`; 1: `id:all`; 2 and 3: `id:own` when the permission is scoped.
    scope: u8,
}

impl GrantPlan {
    /// The grant as written in a file.
    fn write(&self, id: &str, scoped: bool) -> String {
        match self.scope {
            1 => format!("{id}:all"),
            2 | 3 if scoped => format!("{id}:own"),
            _ => id.to_owned(),
        }
    }
}

/// A random grant.
pub fn grant_plan() -> impl Strategy<Value = GrantPlan> {
    (any::<Index>(), 0u8..4).prop_map(|(permission, scope)| GrantPlan { permission, scope })
}

/// The item `index` picks from `items`, if there are any.
pub fn pick<T: Clone>(index: &Index, items: &[T]) -> Option<T> {
    (!items.is_empty()).then(|| index.get(items).clone())
}

/// The items `indices` pick from `items`, each once, in pick order.
pub fn pick_many<T: Clone + PartialEq>(indices: &[Index], items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for index in indices {
        if let Some(item) = pick(index, items) {
            if !out.contains(&item) {
                out.push(item);
            }
        }
    }
    out
}
