//! Random catalogs, written as TOML text.
//!
//! A [`CatalogPlan`] is a set of choices (counts, and [`Index`] picks whose
//! range is known only once the earlier choices are made); [`CatalogPlan::toml`]
//! turns it into a catalog file that is valid by construction:
//! - ids are `a<n>` for applications, `svc<n>` for services, `a<n>.m<i>`,
//!   `a<n>.p<i>` and `a<n>.r<i>` for modules, permissions and roles,
//!   `lvl<i>`, `ut<i>` and `at<i>` for levels, user types and access types;
//! - prerequisites point only to lower-numbered permissions, and a module's
//!   prerequisites to permissions numbered at most its first one, so
//!   prerequisites never form a cycle;
//! - restrictions narrow only scoped permissions other than themselves;
//! - grants stay within their owner's application, once per permission.

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::sample::Index;

use super::{grant_plan, pick, pick_many, GrantPlan};

/// How a module is gated.
#[derive(Debug, Clone)]
pub enum Gate {
    /// Always on.
    Open,
    /// Gated by its own id.
    Own,
    /// On with any of these services.
    Services(Vec<Index>),
    /// Its own id or any of these services.
    OwnOrServices(Vec<Index>),
}

#[derive(Debug, Clone)]
pub struct ModulePlan {
    app: Index,
    gate: Gate,
    requires: Vec<Index>,
}

#[derive(Debug, Clone)]
pub struct PermissionPlan {
    module: Index,
    scoped: bool,
    narrows: Vec<Index>,
    requires: Vec<Index>,
}

/// A role, access level, user type or access type: an application and grants.
#[derive(Debug, Clone)]
pub struct PresetPlan {
    app: Index,
    grants: Vec<GrantPlan>,
}

#[derive(Debug, Clone)]
pub struct UserTypePlan {
    preset: PresetPlan,
    levels: Vec<Index>,
    default_level: Option<Index>,
    initial_grants: Vec<GrantPlan>,
}

#[derive(Debug, Clone)]
pub struct AccessTypePlan {
    preset: PresetPlan,
    /// 0: own, 1: managed, 2: both.
    reaches: u8,
}

#[derive(Debug, Clone)]
pub struct RulePlan {
    role: Index,
    all_of: Vec<Index>,
    any_of: Vec<Index>,
}

#[derive(Debug, Clone)]
pub struct DefaultRolesPlan {
    app: Index,
    rules: Vec<RulePlan>,
}

/// The choices that make one random catalog.
#[derive(Debug, Clone)]
pub struct CatalogPlan {
    apps: usize,
    services: usize,
    modules: Vec<ModulePlan>,
    permissions: Vec<PermissionPlan>,
    roles: Vec<PresetPlan>,
    levels: Vec<PresetPlan>,
    user_types: Vec<UserTypePlan>,
    access_types: Vec<AccessTypePlan>,
    /// The access type given by default, and to users of which applications.
    default_access: Option<(Index, Vec<Index>)>,
    default_roles: Vec<DefaultRolesPlan>,
}

fn indices(max: usize) -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..=max)
}

/// Mostly none, sometimes one or two: prerequisites and restrictions that
/// are everywhere would leave little effective to compare.
fn rare_indices() -> impl Strategy<Value = Vec<Index>> {
    prop_oneof![
        5 => Just(Vec::new()),
        1 => prop::collection::vec(any::<Index>(), 1..=2),
    ]
}

fn grants(max: usize) -> impl Strategy<Value = Vec<GrantPlan>> {
    prop::collection::vec(grant_plan(), 0..=max)
}

fn gate() -> impl Strategy<Value = Gate> {
    prop_oneof![
        4 => Just(Gate::Open),
        2 => Just(Gate::Own),
        1 => prop::collection::vec(any::<Index>(), 1..=2).prop_map(Gate::Services),
        1 => prop::collection::vec(any::<Index>(), 1..=2).prop_map(Gate::OwnOrServices),
    ]
}

fn preset(max_grants: usize) -> impl Strategy<Value = PresetPlan> {
    (any::<Index>(), grants(max_grants)).prop_map(|(app, grants)| PresetPlan { app, grants })
}

/// Random catalogs: up to 3 applications, 2 services, 5 modules, 14
/// permissions, 6 roles, 4 levels, 3 user types and 3 access types.
pub fn catalog_plan() -> impl Strategy<Value = CatalogPlan> {
    let modules = prop::collection::vec(
        (any::<Index>(), gate(), rare_indices()).prop_map(|(app, gate, requires)| ModulePlan {
            app,
            gate,
            requires,
        }),
        1..=5,
    );
    let permissions = prop::collection::vec(
        (
            any::<Index>(),
            any::<bool>(),
            rare_indices(),
            rare_indices(),
        )
            .prop_map(|(module, scoped, narrows, requires)| PermissionPlan {
                module,
                scoped,
                narrows,
                requires,
            }),
        1..=14,
    );
    let user_types = prop::collection::vec(
        (preset(3), indices(3), any::<Option<Index>>(), grants(2)).prop_map(
            |(preset, levels, default_level, initial_grants)| UserTypePlan {
                preset,
                levels,
                default_level,
                initial_grants,
            },
        ),
        0..=3,
    );
    let access_types = prop::collection::vec(
        (preset(4), 0u8..3).prop_map(|(preset, reaches)| AccessTypePlan { preset, reaches }),
        0..=3,
    );
    let rule =
        (any::<Index>(), indices(2), indices(2)).prop_map(|(role, all_of, any_of)| RulePlan {
            role,
            all_of,
            any_of,
        });
    let default_roles = prop::collection::vec(
        (any::<Index>(), prop::collection::vec(rule, 0..=3))
            .prop_map(|(app, rules)| DefaultRolesPlan { app, rules }),
        0..=2,
    );
    (
        (1usize..=3, 0usize..=2, modules, permissions),
        (
            prop::collection::vec(preset(6), 0..=6),
            prop::collection::vec(preset(3), 0..=4),
            user_types,
            access_types,
            prop::option::of((any::<Index>(), indices(2))),
            default_roles,
        ),
    )
        .prop_map(
            |(
                (apps, services, modules, permissions),
                (roles, levels, user_types, access_types, default_access, default_roles),
            )| CatalogPlan {
                apps,
                services,
                modules,
                permissions,
                roles,
                levels,
                user_types,
                access_types,
                default_access,
                default_roles,
            },
        )
}

/// What the permissions turned out to be, for picking grants.
struct Resolved {
    /// Per permission: id, application, scoped.
    permissions: Vec<(String, usize, bool)>,
}

impl Resolved {
    /// Grants of `app`'s permissions, each permission once.
    fn grants(&self, app: usize, plans: &[GrantPlan]) -> Vec<String> {
        let of_app: Vec<usize> = (0..self.permissions.len())
            .filter(|p| self.permissions[*p].1 == app)
            .collect();
        let mut chosen: Vec<usize> = Vec::new();
        let mut out = Vec::new();
        for plan in plans {
            let Some(p) = pick(&plan.permission, &of_app) else {
                continue;
            };
            if chosen.contains(&p) {
                continue;
            }
            chosen.push(p);
            let (id, _, scoped) = &self.permissions[p];
            out.push(plan.write(id, *scoped));
        }
        out
    }
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

impl CatalogPlan {
    /// The catalog file these choices make.
    pub fn toml(&self) -> String {
        let mut out = String::new();
        let apps: Vec<usize> = (0..self.apps).collect();
        for a in &apps {
            let _ = writeln!(out, "[[application]]\nid = \"a{a}\"\nname = \"App {a}\"\n");
        }
        let services: Vec<String> = (0..self.services).map(|s| format!("svc{s}")).collect();
        for s in &services {
            let _ = writeln!(out, "[[service]]\nid = \"{s}\"\nname = \"Service {s}\"\n");
        }

        let module_apps: Vec<usize> = self
            .modules
            .iter()
            .map(|m| pick(&m.app, &apps).unwrap_or(0))
            .collect();
        let module_ids: Vec<String> = module_apps
            .iter()
            .enumerate()
            .map(|(i, a)| format!("a{a}.m{i}"))
            .collect();
        let module_numbers: Vec<usize> = (0..self.modules.len()).collect();
        let permission_modules: Vec<usize> = self
            .permissions
            .iter()
            .map(|p| pick(&p.module, &module_numbers).unwrap_or(0))
            .collect();
        let resolved = Resolved {
            permissions: self
                .permissions
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let app = module_apps[permission_modules[i]];
                    (format!("a{app}.p{i}"), app, p.scoped)
                })
                .collect(),
        };
        let permission_id = |p: usize| resolved.permissions[p].0.clone();

        for (i, m) in self.modules.iter().enumerate() {
            let id = &module_ids[i];
            let service_ids = |picks: &[Index]| -> Vec<String> {
                pick_many(picks, &services).into_iter().collect()
            };
            let gated_by: Vec<String> = match &m.gate {
                Gate::Open => Vec::new(),
                Gate::Own => vec![id.clone()],
                Gate::Services(picks) => service_ids(picks),
                Gate::OwnOrServices(picks) => {
                    let mut gates = vec![id.clone()];
                    gates.extend(service_ids(picks));
                    gates
                }
            };
            // At most its first permission (which is exempt from its own
            // module's prerequisite), so no cycle can form.
            let first = permission_modules.iter().position(|pm| *pm == i);
            let candidates: Vec<usize> = match first {
                Some(first) => (0..=first).collect(),
                None => (0..self.permissions.len()).collect(),
            };
            let requires: Vec<String> = pick_many(&m.requires, &candidates)
                .into_iter()
                .map(permission_id)
                .collect();
            let _ = writeln!(
                out,
                "[[module]]\nid = \"{id}\"\nname = \"Module {i}\"\ngated_by = {}\nrequires = {}\n",
                list(&gated_by),
                list(&requires)
            );
        }

        let scoped: Vec<usize> = (0..self.permissions.len())
            .filter(|p| self.permissions[*p].scoped)
            .collect();
        for (i, p) in self.permissions.iter().enumerate() {
            let lower: Vec<usize> = (0..i).collect();
            let requires: Vec<String> = pick_many(&p.requires, &lower)
                .into_iter()
                .map(permission_id)
                .collect();
            let others: Vec<usize> = scoped.iter().copied().filter(|s| *s != i).collect();
            let narrows: Vec<String> = pick_many(&p.narrows, &others)
                .into_iter()
                .map(permission_id)
                .collect();
            let _ = writeln!(
                out,
                "[[permission]]\nid = \"{}\"\nname = \"Permission {i}\"\nmodule = \"{}\"\nscoped = {}\nnarrows = {}\nrequires = {}\n",
                permission_id(i),
                module_ids[permission_modules[i]],
                p.scoped,
                list(&narrows),
                list(&requires)
            );
        }

        let role_apps: Vec<usize> = self
            .roles
            .iter()
            .map(|r| pick(&r.app, &apps).unwrap_or(0))
            .collect();
        for (i, r) in self.roles.iter().enumerate() {
            let app = role_apps[i];
            let _ = writeln!(
                out,
                "[[role]]\nid = \"a{app}.r{i}\"\nname = \"Role {i}\"\ngrants = {}\n",
                list(&resolved.grants(app, &r.grants))
            );
        }

        let mut default_apps = Vec::new();
        for d in &self.default_roles {
            let app = pick(&d.app, &apps).unwrap_or(0);
            if default_apps.contains(&app) {
                continue;
            }
            default_apps.push(app);
            let roles_of_app: Vec<usize> = (0..self.roles.len())
                .filter(|r| role_apps[*r] == app)
                .collect();
            let all_permissions: Vec<usize> = (0..self.permissions.len()).collect();
            let rules: Vec<String> = d
                .rules
                .iter()
                .filter_map(|rule| {
                    let role = pick(&rule.role, &roles_of_app)?;
                    let all_of: Vec<String> = pick_many(&rule.all_of, &all_permissions)
                        .into_iter()
                        .map(permission_id)
                        .collect();
                    let any_of: Vec<String> = pick_many(&rule.any_of, &all_permissions)
                        .into_iter()
                        .map(permission_id)
                        .collect();
                    Some(format!(
                        "[[default_role.rule]]\nrole = \"a{app}.r{role}\"\nall_of = {}\nany_of = {}\n",
                        list(&all_of),
                        list(&any_of)
                    ))
                })
                .collect();
            if rules.is_empty() {
                let _ = writeln!(
                    out,
                    "[[default_role]]\napplication = \"a{app}\"\nrule = []\n"
                );
            } else {
                let _ = writeln!(
                    out,
                    "[[default_role]]\napplication = \"a{app}\"\n\n{}",
                    rules.join("\n")
                );
            }
        }

        let level_apps: Vec<usize> = self
            .levels
            .iter()
            .map(|l| pick(&l.app, &apps).unwrap_or(0))
            .collect();
        for (i, l) in self.levels.iter().enumerate() {
            let app = level_apps[i];
            let _ = writeln!(
                out,
                "[[access_level]]\nid = \"lvl{i}\"\nname = \"Level {i}\"\nlabel = \"{i}\"\napplication = \"a{app}\"\ngrants = {}\n",
                list(&resolved.grants(app, &l.grants))
            );
        }

        for (i, t) in self.user_types.iter().enumerate() {
            let app = pick(&t.preset.app, &apps).unwrap_or(0);
            let levels_of_app: Vec<usize> = (0..self.levels.len())
                .filter(|l| level_apps[*l] == app)
                .collect();
            let levels = pick_many(&t.levels, &levels_of_app);
            let default_level = t
                .default_level
                .as_ref()
                .and_then(|d| pick(d, &levels))
                .map_or_else(String::new, |l| format!("default_level = \"lvl{l}\"\n"));
            let level_ids: Vec<String> = levels.iter().map(|l| format!("lvl{l}")).collect();
            let _ = writeln!(
                out,
                "[[user_type]]\nid = \"ut{i}\"\nname = \"Type {i}\"\napplication = \"a{app}\"\nlevels = {}\n{default_level}grants = {}\ninitial_grants = {}\n",
                list(&level_ids),
                list(&resolved.grants(app, &t.preset.grants)),
                list(&resolved.grants(app, &t.initial_grants))
            );
        }

        let access_numbers: Vec<usize> = (0..self.access_types.len()).collect();
        let default_access = self
            .default_access
            .as_ref()
            .and_then(|(t, users_of)| Some((pick(t, &access_numbers)?, users_of)));
        for (i, t) in self.access_types.iter().enumerate() {
            let app = pick(&t.preset.app, &apps).unwrap_or(0);
            let reaches = match t.reaches {
                0 => "[\"own\"]",
                1 => "[\"managed\"]",
                _ => "[\"own\", \"managed\"]",
            };
            let default_for: Vec<String> = match default_access {
                Some((d, users_of)) if d == i => pick_many(users_of, &apps)
                    .into_iter()
                    .map(|a| format!("a{a}"))
                    .collect(),
                _ => Vec::new(),
            };
            let _ = writeln!(
                out,
                "[[access_type]]\nid = \"at{i}\"\nname = \"Access {i}\"\napplication = \"a{app}\"\nreaches = {reaches}\ngrants = {}\ndefault_for_users_of = {}\n",
                list(&resolved.grants(app, &t.preset.grants)),
                list(&default_for)
            );
        }
        out
    }
}
