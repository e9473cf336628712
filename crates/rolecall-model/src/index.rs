//! Dense indices into a [`Catalog`](crate::Catalog) or a [`World`](crate::World).
//!
//! Validation resolves every string id once; afterwards the model and the
//! engine refer to things by these small copyable indices.

macro_rules! index_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The index as a `usize`, for slicing.
            #[inline]
            pub fn ix(self) -> usize {
                self.0 as usize
            }

            /// Builds an index from a position in a `Vec`.
            ///
            /// # Panics
            /// When the position does not fit in `u32` (more than four
            /// billion entries), which no catalog or world reaches.
            #[inline]
            pub fn from_usize(i: usize) -> Self {
                match u32::try_from(i) {
                    Ok(i) => Self(i),
                    Err(_) => panic!("more than 4 billion entries of one kind"),
                }
            }
        }
    )*};
}

index_type!(
    /// An application of the catalog.
    AppIx,
    /// A module of the catalog.
    ModuleIx,
    /// A permission of the catalog.
    PermissionIx,
    /// A role: catalog roles first, then the world's custom roles.
    RoleIx,
    /// A subscription id (a gated module or a service).
    SubscriptionIx,
    /// A user type (Scheduler's Provider/Therapist, Office Staff).
    UserTypeIx,
    /// An access level (Scheduler's A–D).
    AccessLevelIx,
    /// An access type (Tasking's Standard, Partner RCM).
    AccessTypeIx,
    /// An organization of the world.
    OrgIx,
    /// A user of the world.
    UserIx,
    /// A group of the world.
    GroupIx,
);
