//! Permission sets as `u64` words; bit `p` is permission `p`.

use rolecall_model::PermissionIx;

/// Number of words needed for `permissions` bits (at least one).
pub fn words_for(permissions: usize) -> usize {
    permissions.div_ceil(64).max(1)
}

/// The word and the mask of a permission's bit.
#[inline]
pub fn locate(permission: u32) -> (usize, u64) {
    ((permission >> 6) as usize, 1u64 << (permission & 63))
}

/// Whether `set` holds `permission`.
#[inline]
pub fn has(set: &[u64], permission: PermissionIx) -> bool {
    let (word, mask) = locate(permission.0);
    set[word] & mask != 0
}

/// Adds `permission` to `set`.
pub fn insert(set: &mut [u64], permission: PermissionIx) {
    let (word, mask) = locate(permission.0);
    set[word] |= mask;
}

/// Removes `permission` from `set`.
pub fn remove(set: &mut [u64], permission: PermissionIx) {
    let (word, mask) = locate(permission.0);
    set[word] &= !mask;
}

/// Every permission in `set`, in id order.
pub fn iter(set: &[u64]) -> impl Iterator<Item = PermissionIx> + '_ {
    set.iter().enumerate().flat_map(|(w, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let bit = rest.trailing_zeros();
            rest &= rest - 1;
            Some(PermissionIx((w as u32) * 64 + bit))
        })
    })
}
