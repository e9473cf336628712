//! Why a check is allowed or denied, as data and as one plain sentence.
//!
//! [`Snapshot::explain`] re-derives the user's access in the organization
//! with the same functions the snapshot was compiled with, then names the
//! facts: which role, group, direct grant, level or access type gave the
//! permission, which subscription turned its module on, which restriction
//! narrowed it, or which of the four conditions failed first:
//!
//! 1. the user is active and reaches the organization (as a member, or as a
//!    partner within their access type);
//! 2. the permission's module is on there;
//! 3. their grants include it (minus denials, with prerequisites met);
//! 4. an `own` grant is used on their own resource.

use rolecall_model::world::Status;
use rolecall_model::{Catalog, OrgIx, PermissionIx, Scope, UserIx, World};
use serde::Serialize;

use crate::bits;
use crate::reach::{reach, Contribution, Source};
use crate::snapshot::Snapshot;

/// A decision with the facts that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Whether the user may do it.
    pub allowed: bool,
    /// When allowed: for every resource, or only the user's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// When denied: which of the four conditions failed first (1 to 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_condition: Option<u8>,
    /// The deciding facts.
    pub reason: Reason,
    /// The same, as one plain-English sentence.
    pub sentence: String,
}

/// The deciding facts of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Allowed.
    Granted {
        /// Everything that grants it.
        via: Vec<Via>,
        /// The subscription that turns its module on, if the module is gated.
        #[serde(skip_serializing_if = "Option::is_none")]
        subscription: Option<String>,
        /// The restriction permission that narrows it to `own`, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        narrowed_by: Option<String>,
    },
    /// No user has this id.
    UnknownUser {
        /// The id asked about.
        user: String,
    },
    /// No organization has this id.
    UnknownOrganization {
        /// The id asked about.
        org: String,
    },
    /// The catalog has no permission with this id.
    UnknownPermission {
        /// The id asked about.
        permission: String,
    },
    /// Condition 1: the account is invited or disabled.
    NotActive {
        /// The account's status.
        status: Status,
    },
    /// Condition 1: not a member of the organization, of one above it, or of
    /// a partner managing it.
    NotMember,
    /// Condition 1: reaches the organization only as a partner, and the
    /// partner access type does not include the permission.
    OutsidePartnerAccess {
        /// The access type that reaches the organization.
        access_type: String,
        /// The organization that manages it.
        partner_of: String,
    },
    /// Condition 2: the permission's module is off in the organization.
    ModuleNotSubscribed {
        /// The module.
        module: String,
        /// Subscribing to any of these turns it on.
        needs_any_of: Vec<String>,
    },
    /// Condition 3: nothing grants the permission.
    NotGranted,
    /// Condition 3: a direct denial on the user's profile removes it.
    DeniedOnProfile {
        /// The organization of the membership that denies it.
        membership_org: String,
        /// What would otherwise grant it.
        overrides: Vec<Via>,
    },
    /// Condition 3: granted, but a prerequisite is not held.
    MissingPrerequisite {
        /// The permission it requires.
        requires: String,
        /// What grants it.
        via: Vec<Via>,
    },
    /// Condition 4: granted for own resources only, and the resource is
    /// someone else's.
    NotOwner {
        /// The resource's owner.
        owner: String,
        /// The restriction that narrowed it, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        narrowed_by: Option<String>,
    },
}

/// One source of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Via {
    /// `role`, `group_role`, `direct_grant`, `user_type`, `access_level` or `access_type`.
    pub kind: &'static str,
    /// The role, user type, level or access type id (the permission id for a direct grant).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The organization of the membership or group it comes from.
    pub org: String,
    /// The group, for a group's role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The managing organization, when it reaches as a partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_of: Option<String>,
    /// The scope it grants.
    pub scope: Scope,
}

impl Via {
    fn from(
        catalog: &Catalog,
        world: &World,
        c: &Contribution<'_>,
        permission: PermissionIx,
    ) -> Option<Via> {
        let grant = c.grants.iter().find(|g| g.permission == permission)?;
        let (kind, id, name, group) = match c.source {
            Source::Role(role) => {
                let role = world.role(catalog, role);
                ("role", role.id.clone(), role.name.clone(), None)
            }
            Source::GroupRole(group, role) => {
                let role = world.role(catalog, role);
                (
                    "group_role",
                    role.id.clone(),
                    role.name.clone(),
                    Some(world.groups[group.ix()].id.clone()),
                )
            }
            Source::Direct => {
                let p = catalog.perm(permission);
                ("direct_grant", p.id.clone(), p.name.clone(), None)
            }
            Source::UserType(t) => {
                let t = &catalog.user_types[t.ix()];
                ("user_type", t.id.clone(), t.name.clone(), None)
            }
            Source::Level(l) => {
                let l = &catalog.access_levels[l.ix()];
                ("access_level", l.id.clone(), l.name.clone(), None)
            }
            Source::AccessType(t) => {
                let t = &catalog.access_types[t.ix()];
                ("access_type", t.id.clone(), t.name.clone(), None)
            }
        };
        Some(Via {
            kind,
            id,
            name,
            org: world.orgs[c.from_org.ix()].id.clone(),
            group,
            partner_of: c.partner_of.map(|p| world.orgs[p.ix()].id.clone()),
            scope: grant.scope,
        })
    }

    /// "the role Biller", "Partner RCM Access as a partner of RCM Co", ...
    fn phrase(&self, world: &World, org: OrgIx) -> String {
        let mut phrase = match self.kind {
            "role" => format!("the role {}", self.name),
            "group_role" => format!(
                "the role {} of the group {}",
                self.name,
                self.group.as_deref().unwrap_or_default()
            ),
            "direct_grant" => "a direct grant on their profile".to_owned(),
            "user_type" => format!("the user type {}", self.name),
            "access_level" => format!("the access level {}", self.name),
            _ => self.name.clone(),
        };
        if let Some(partner) = &self.partner_of {
            phrase.push_str(&format!(" as a partner of {}", org_name(world, partner)));
        } else if self.org != world.orgs[org.ix()].id {
            phrase.push_str(&format!(" held in {}", org_name(world, &self.org)));
        }
        phrase
    }
}

fn org_name<'a>(world: &'a World, id: &'a str) -> &'a str {
    world
        .org(id)
        .map_or(id, |o| world.orgs[o.ix()].name.as_str())
}

fn join(phrases: &[String]) -> String {
    match phrases {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}

fn or_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

impl Explanation {
    /// The answer about a user id that names nobody. A caller that must not
    /// tell whether someone exists (a user of another tenant) answers with
    /// it too.
    pub fn unknown_user(user: &str) -> Explanation {
        Explanation {
            allowed: false,
            scope: None,
            failed_condition: None,
            reason: Reason::UnknownUser {
                user: user.to_owned(),
            },
            sentence: format!("Denied: there is no user `{user}`."),
        }
    }
}

impl Snapshot {
    /// Explains [`Snapshot::check`]: same decision, with its facts.
    pub fn explain(
        &self,
        user: &str,
        permission: &str,
        org: &str,
        owner: Option<&str>,
    ) -> Explanation {
        let catalog = &*self.catalog;
        let world = &self.world;
        let denied = |condition: Option<u8>, reason: Reason, sentence: String| Explanation {
            allowed: false,
            scope: None,
            failed_condition: condition,
            reason,
            sentence: format!("Denied: {sentence}"),
        };
        let Some(u) = world.user(user) else {
            return Explanation::unknown_user(user);
        };
        let Some(o) = world.org(org) else {
            return denied(
                None,
                Reason::UnknownOrganization {
                    org: org.to_owned(),
                },
                format!("there is no organization `{org}`."),
            );
        };
        let Some(p) = catalog.permission(permission) else {
            return denied(
                None,
                Reason::UnknownPermission {
                    permission: permission.to_owned(),
                },
                format!("the catalog has no permission `{permission}`."),
            );
        };
        let account = &world.users[u.ix()];
        let org_name = &world.orgs[o.ix()].name;
        let perm = catalog.perm(p);
        if account.status != Status::Active {
            return denied(
                Some(1),
                Reason::NotActive {
                    status: account.status,
                },
                format!(
                    "{}'s account is {}, not active.",
                    account.name,
                    account.status.as_str()
                ),
            );
        }
        let Some(found) = reach(catalog, world, &self.topology, u, o) else {
            return denied(Some(1), Reason::NotMember,
                format!("{} is not a member of {org_name}, of an organization above it, or of a partner managing it.", account.name));
        };
        let vias: Vec<Via> = found
            .contributions
            .iter()
            .filter_map(|c| Via::from(catalog, world, c, p))
            .collect();
        let phrases: Vec<String> = vias.iter().map(|v| v.phrase(world, o)).collect();
        let (any, all) = self.sets_of(u, o).unwrap_or((&[], &[]));
        if any.is_empty() {
            // Unreachable: `reach` found access, so the snapshot compiled a slot.
            return denied(
                Some(1),
                Reason::NotMember,
                format!("{} has no access in {org_name}.", account.name),
            );
        }
        if bits::has(any, p) {
            return self.allowed(u, o, p, owner, vias, &phrases, all, any);
        }
        if !found.member && vias.is_empty() {
            let partner = found.contributions.iter().find(|c| c.partner_of.is_some());
            if let Some(Contribution {
                source: Source::AccessType(t),
                partner_of: Some(manager),
                ..
            }) = partner
            {
                let access = &catalog.access_types[t.ix()];
                let manager = &world.orgs[manager.ix()];
                return denied(Some(1), Reason::OutsidePartnerAccess { access_type: access.id.clone(), partner_of: manager.id.clone() },
                    format!("{} reaches {org_name} only as a partner of {} with {}, which does not include {}.",
                        account.name, manager.name, access.name, perm.name));
            }
        }
        if !self.module_on(o, p) {
            let module = catalog.module_of(p);
            let needs: Vec<String> = module
                .gated_by
                .iter()
                .map(|s| catalog.subscriptions[s.ix()].id.clone())
                .collect();
            let names: Vec<String> = module
                .gated_by
                .iter()
                .map(|s| catalog.subscriptions[s.ix()].name.clone())
                .collect();
            let sentence = if needs == [module.id.clone()] {
                format!(
                    "{org_name} does not subscribe to the {} module, which {} belongs to.",
                    module.name, perm.name
                )
            } else {
                format!(
                    "{org_name} does not subscribe to {}, which {} needs.",
                    or_list(&names),
                    perm.name
                )
            };
            return denied(
                Some(2),
                Reason::ModuleNotSubscribed {
                    module: module.id.clone(),
                    needs_any_of: needs,
                },
                sentence,
            );
        }
        if vias.is_empty() {
            return denied(
                Some(3),
                Reason::NotGranted,
                format!(
                    "no role, group, access setting or direct grant gives {} {} in {org_name}.",
                    account.name, perm.name
                ),
            );
        }
        if let Some((_, denying_org)) = found.denials.iter().find(|(d, _)| *d == p) {
            let denying = &world.orgs[denying_org.ix()];
            return denied(
                Some(3),
                Reason::DeniedOnProfile {
                    membership_org: denying.id.clone(),
                    overrides: vias.clone(),
                },
                format!(
                    "{} is unchecked on {}'s profile in {}, overriding {}.",
                    perm.name,
                    account.name,
                    denying.name,
                    join(&phrases)
                ),
            );
        }
        let missing = self.rules.missing_prerequisite(any, p);
        let requires = missing.map_or_else(String::new, |m| catalog.perm(m).name.clone());
        denied(
            Some(3),
            Reason::MissingPrerequisite {
                requires: missing.map_or_else(String::new, |m| catalog.perm(m).id.clone()),
                via: vias,
            },
            format!(
                "{} holds {} through {}, but lacks {requires}, which it requires.",
                account.name,
                perm.name,
                join(&phrases)
            ),
        )
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the facts of one decision, gathered by explain"
    )]
    fn allowed(
        &self,
        u: UserIx,
        o: OrgIx,
        p: PermissionIx,
        owner: Option<&str>,
        vias: Vec<Via>,
        phrases: &[String],
        all: &[u64],
        any: &[u64],
    ) -> Explanation {
        let catalog = &*self.catalog;
        let world = &self.world;
        let account = &world.users[u.ix()];
        let org = &world.orgs[o.ix()];
        let perm = catalog.perm(p);
        let narrowed = if bits::has(all, p) {
            None
        } else {
            self.rules.narrowed_by(any, p)
        };
        let narrowed_name = narrowed.map(|r| catalog.perm(r).name.clone());
        let narrowed_id = narrowed.map(|r| catalog.perm(r).id.clone());
        let scope = if bits::has(all, p) {
            Scope::All
        } else {
            Scope::Own
        };
        let narrowing = narrowed_name
            .as_ref()
            .map_or_else(String::new, |n| format!(", narrowed to their own by {n}"));
        if let (Scope::Own, Some(owner)) = (scope, owner) {
            if owner != account.id {
                return Explanation {
                    allowed: false,
                    scope: None,
                    failed_condition: Some(4),
                    reason: Reason::NotOwner { owner: owner.to_owned(), narrowed_by: narrowed_id },
                    sentence: format!("Denied: {} holds {} in {} only for their own resources, through {}{narrowing}, and this one belongs to {owner}.",
                        account.name, perm.name, org.name, join(phrases)),
                };
            }
        }
        let module = catalog.module_of(p);
        let subscription = module
            .gated_by
            .iter()
            .find(|s| org.subscriptions.contains(s))
            .map(|s| catalog.subscriptions[s.ix()].id.clone());
        let scope_words = match scope {
            Scope::All => String::new(),
            Scope::Own => " for their own resources only".to_owned(),
        };
        let subscribed = match subscription.as_ref() {
            Some(s) if *s == module.id => {
                format!(" {} subscribes to the {} module.", org.name, module.name)
            }
            Some(s) => format!(
                " {} subscribes to {}.",
                org.name,
                catalog
                    .subscription(s)
                    .map_or(s.as_str(), |i| catalog.subscriptions[i.ix()].name.as_str())
            ),
            None => String::new(),
        };
        Explanation {
            allowed: true,
            scope: Some(scope),
            failed_condition: None,
            reason: Reason::Granted {
                via: vias,
                subscription,
                narrowed_by: narrowed_id,
            },
            sentence: format!(
                "Allowed: {} holds {} in {}{scope_words}, through {}{narrowing}.{subscribed}",
                account.name,
                perm.name,
                org.name,
                join(phrases)
            ),
        }
    }
}
