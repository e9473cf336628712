//! From [`CatalogSpec`] to [`Catalog`]: resolve every id, reject what is wrong.
//!
//! Every problem is collected (not just the first) with the path of the field
//! that is wrong, so an administrator fixes a file in one pass.

use std::collections::HashMap;

use super::spec::{self, CatalogSpec, ReachSpec};
use super::{
    AccessLevel, AccessType, Application, Catalog, DefaultRoleRule, DefaultRoles, Lookup, Module,
    Permission, Role, Subscription, UserType,
};
use crate::diagnostic::{FieldPath, Problem};
use crate::grant::split_written;
use crate::{AppIx, Grant, PermissionIx, Scope};

/// Collects problems while building a catalog.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, path: FieldPath, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }
}

/// Names and labels are printed on one line (explanations, `rolecall test`,
/// `catalog show`): a control character, a line break above all, would let
/// one write lines of its own.
fn names_are_text(problems: &mut Problems, spec: &CatalogSpec) {
    let root = FieldPath::root();
    let mut names: Vec<(FieldPath, &str)> = Vec::new();
    // Each table's name fields, by the name they have in the file.
    macro_rules! of {
        ($table:literal, $items:expr, $($key:ident),+) => {
            for (i, item) in $items.iter().enumerate() {
                $(names.push((root.item($table, i).key(stringify!($key)), item.$key.as_str()));)+
            }
        };
    }
    of!("application", spec.application, name);
    of!("service", spec.service, name);
    of!("module", spec.module, name);
    of!("permission", spec.permission, name);
    of!("role", spec.role, name);
    of!("user_type", spec.user_type, name);
    of!("access_level", spec.access_level, name, label);
    of!("access_type", spec.access_type, name);
    for (path, text) in names {
        if text.chars().any(char::is_control) {
            problems.push(
                path,
                "must not contain control characters, such as a line break",
            );
        }
    }
}

/// Checks an id's spelling: lowercase letters, digits, `_`, `-` and `.`.
pub fn id_spelling(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    if id.len() > 128 {
        return Err(format!("`{id}` is longer than 128 characters"));
    }
    match id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')))
    {
        Some(c) => Err(format!(
            "`{id}` contains `{c}`: ids use lowercase letters, digits, `_`, `-` and `.`"
        )),
        None => Ok(()),
    }
}

/// Registers ids of one kind, reporting bad spellings and duplicates.
fn register<'a, T: Copy>(
    problems: &mut Problems,
    kind: &str,
    table: &str,
    ids: impl Iterator<Item = &'a str>,
    make: impl Fn(usize) -> T,
) -> HashMap<String, T> {
    let mut map = HashMap::new();
    let mut first_at: HashMap<&str, usize> = HashMap::new();
    for (i, id) in ids.enumerate() {
        let path = FieldPath::root().item(table, i).key("id");
        if let Err(message) = id_spelling(id) {
            problems.push(path, format!("{kind} id {message}"));
            continue;
        }
        if let Some(first) = first_at.get(id) {
            problems.push(
                path,
                format!("duplicate {kind} id `{id}` (first defined as {table}[{first}])"),
            );
            continue;
        }
        first_at.insert(id, i);
        map.insert(id.to_owned(), make(i));
    }
    map
}

/// The application an `app.name` id belongs to, if the prefix is declared.
fn owning_app(
    problems: &mut Problems,
    path: FieldPath,
    kind: &str,
    id: &str,
    applications: &HashMap<String, AppIx>,
) -> Option<AppIx> {
    let Some((prefix, rest)) = id.split_once('.') else {
        problems.push(
            path,
            format!("{kind} id `{id}` must start with its application: `app.name`"),
        );
        return None;
    };
    if rest.is_empty() {
        problems.push(
            path,
            format!("{kind} id `{id}` has nothing after its application"),
        );
        return None;
    }
    match applications.get(prefix) {
        Some(app) => Some(*app),
        None => {
            problems.push(
                path,
                format!("{kind} id `{id}` names unknown application `{prefix}`"),
            );
            None
        }
    }
}

fn resolve<T: Copy>(
    problems: &mut Problems,
    path: FieldPath,
    kind: &str,
    map: &HashMap<String, T>,
    id: &str,
) -> Option<T> {
    match map.get(id) {
        Some(found) => Some(*found),
        None => {
            problems.push(path, format!("unknown {kind} `{id}`"));
            None
        }
    }
}

fn resolve_all<T: Copy>(
    problems: &mut Problems,
    path: &FieldPath,
    kind: &str,
    map: &HashMap<String, T>,
    ids: &[String],
) -> Vec<T> {
    ids.iter()
        .enumerate()
        .filter_map(|(i, id)| resolve(problems, path.at(i), kind, map, id))
        .collect()
}

/// Resolves one written grant.
pub(crate) fn grant(
    ids: &HashMap<String, PermissionIx>,
    permissions: &[Permission],
    written: &str,
) -> Result<Grant, String> {
    let (id, scope) = split_written(written)?;
    let permission = *ids
        .get(id)
        .ok_or_else(|| format!("unknown permission `{id}`"))?;
    let scoped = permissions[permission.ix()].scoped;
    match scope {
        Some(Scope::Own) if !scoped => Err(format!(
            "permission `{id}` is not scoped: grant it as `{id}`, without `:own`"
        )),
        scope => Ok(Grant {
            permission,
            scope: scope.unwrap_or(Scope::All),
        }),
    }
}

/// Resolves written grants, all of one application when `application` is given.
fn grants(
    problems: &mut Problems,
    path: &FieldPath,
    lookup: &Lookup,
    permissions: &[Permission],
    written: &[String],
    application: Option<(AppIx, &str)>,
) -> Vec<Grant> {
    let mut out: Vec<Grant> = Vec::new();
    for (i, item) in written.iter().enumerate() {
        match grant(&lookup.permissions, permissions, item) {
            Ok(resolved) => {
                if let Some((app, app_id)) = application {
                    if permissions[resolved.permission.ix()].application != app {
                        problems.push(
                            path.at(i),
                            format!("permission `{item}` is not of application `{app_id}`"),
                        );
                        continue;
                    }
                }
                if out.iter().any(|g| g.permission == resolved.permission) {
                    problems.push(path.at(i), format!("permission `{item}` is granted twice"));
                    continue;
                }
                out.push(resolved);
            }
            Err(message) => problems.push(path.at(i), message),
        }
    }
    out
}

pub(super) fn catalog(spec: CatalogSpec) -> Result<Catalog, Vec<Problem>> {
    let mut problems = Problems::default();
    let root = FieldPath::root();
    names_are_text(&mut problems, &spec);
    let mut lookup = Lookup {
        applications: register(
            &mut problems,
            "application",
            "application",
            spec.application.iter().map(|a| a.id.as_str()),
            AppIx::from_usize,
        ),
        ..Lookup::default()
    };
    for (i, app) in spec.application.iter().enumerate() {
        if app.id.contains('.') {
            problems.push(
                root.item("application", i).key("id"),
                format!("application id `{}` must not contain `.`", app.id),
            );
        }
    }
    let applications = spec
        .application
        .iter()
        .map(|a| Application {
            id: a.id.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
        })
        .collect();

    // Subscriptions: every service, then every module that gates on its own id.
    let mut subscriptions: Vec<Subscription> = spec
        .service
        .iter()
        .map(|s| Subscription {
            id: s.id.clone(),
            name: s.name.clone(),
            is_service: true,
        })
        .collect();
    for module in &spec.module {
        if module.gated_by.iter().any(|g| g == &module.id) {
            subscriptions.push(Subscription {
                id: module.id.clone(),
                name: module.name.clone(),
                is_service: false,
            });
        }
    }
    lookup.subscriptions = register(
        &mut problems,
        "service",
        "service",
        subscriptions.iter().map(|s| s.id.as_str()),
        crate::SubscriptionIx::from_usize,
    );

    lookup.modules = register(
        &mut problems,
        "module",
        "module",
        spec.module.iter().map(|m| m.id.as_str()),
        crate::ModuleIx::from_usize,
    );
    let mut modules = Vec::new();
    for (i, m) in spec.module.iter().enumerate() {
        let path = root.item("module", i);
        let application = owning_app(
            &mut problems,
            path.key("id"),
            "module",
            &m.id,
            &lookup.applications,
        );
        let mut gated_by = Vec::new();
        for (j, gate) in m.gated_by.iter().enumerate() {
            let is_service = spec.service.iter().any(|s| &s.id == gate);
            if gate != &m.id && !is_service {
                problems.push(
                    path.item("gated_by", j),
                    format!(
                        "`{gate}` is neither a service nor this module's own id `{}`",
                        m.id
                    ),
                );
                continue;
            }
            if let Some(sub) = lookup.subscriptions.get(gate) {
                gated_by.push(*sub);
            }
        }
        modules.push(Module {
            id: m.id.clone(),
            name: m.name.clone(),
            application: application.unwrap_or(AppIx(0)),
            gated_by,
        });
    }

    lookup.permissions = register(
        &mut problems,
        "permission",
        "permission",
        spec.permission.iter().map(|p| p.id.as_str()),
        PermissionIx::from_usize,
    );
    let mut permissions = Vec::new();
    for (i, p) in spec.permission.iter().enumerate() {
        let path = root.item("permission", i);
        let app = owning_app(
            &mut problems,
            path.key("id"),
            "permission",
            &p.id,
            &lookup.applications,
        );
        let module = resolve(
            &mut problems,
            path.key("module"),
            "module",
            &lookup.modules,
            &p.module,
        );
        if let (Some(app), Some(module)) = (app, module) {
            if modules[module.ix()].application != app {
                problems.push(
                    path.key("module"),
                    format!(
                        "module `{}` is not of the permission's application",
                        p.module
                    ),
                );
            }
        }
        permissions.push(Permission {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            module: module.unwrap_or(crate::ModuleIx(0)),
            application: app.unwrap_or(AppIx(0)),
            scoped: p.scoped,
            narrows: Vec::new(),
            requires: Vec::new(),
        });
    }
    // References between permissions, once every permission is known.
    for (i, p) in spec.permission.iter().enumerate() {
        let path = root.item("permission", i);
        let narrows = resolve_all(
            &mut problems,
            &path.key("narrows"),
            "permission",
            &lookup.permissions,
            &p.narrows,
        );
        for (j, target) in narrows.iter().enumerate() {
            if !permissions[target.ix()].scoped {
                problems.push(
                    path.item("narrows", j),
                    format!(
                        "`{}` is not scoped, so it cannot be narrowed to `own`",
                        p.narrows[j]
                    ),
                );
            }
            if target.ix() == i {
                problems.push(path.item("narrows", j), "a permission cannot narrow itself");
            }
        }
        let mut requires = resolve_all(
            &mut problems,
            &path.key("requires"),
            "permission",
            &lookup.permissions,
            &p.requires,
        );
        if let Some(module) = lookup.modules.get(&p.module) {
            let module_spec = &spec.module[module.ix()];
            let module_path = root.item("module", module.ix()).key("requires");
            for required in resolve_all(
                &mut problems,
                &module_path,
                "permission",
                &lookup.permissions,
                &module_spec.requires,
            ) {
                // A module's prerequisite does not apply to itself.
                if required.ix() != i && !requires.contains(&required) {
                    requires.push(required);
                }
            }
        }
        permissions[i].narrows = narrows;
        permissions[i].requires = requires;
    }
    // Module prerequisites were resolved once per permission; report each once.
    dedup_problems(&mut problems);
    let prerequisite_order = prerequisite_order(&mut problems, &permissions);

    lookup.roles = register(
        &mut problems,
        "role",
        "role",
        spec.role.iter().map(|r| r.id.as_str()),
        crate::RoleIx::from_usize,
    );
    let mut roles = Vec::new();
    for (i, r) in spec.role.iter().enumerate() {
        let path = root.item("role", i);
        let app = owning_app(
            &mut problems,
            path.key("id"),
            "role",
            &r.id,
            &lookup.applications,
        );
        let app_id = r.id.split('.').next().unwrap_or_default();
        let grants = grants(
            &mut problems,
            &path.key("grants"),
            &lookup,
            &permissions,
            &r.grants,
            app.map(|a| (a, app_id)),
        );
        roles.push(Role {
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            application: app.unwrap_or(AppIx(0)),
            grants,
        });
    }

    let mut default_roles: Vec<DefaultRoles> = Vec::new();
    for (i, d) in spec.default_role.iter().enumerate() {
        let path = root.item("default_role", i);
        let Some(application) = resolve(
            &mut problems,
            path.key("application"),
            "application",
            &lookup.applications,
            &d.application,
        ) else {
            continue;
        };
        if default_roles
            .iter()
            .any(|existing| existing.application == application)
        {
            problems.push(
                path.key("application"),
                format!("default roles of `{}` are defined twice", d.application),
            );
        }
        let mut rules = Vec::new();
        for (j, rule) in d.rule.iter().enumerate() {
            let rule_path = path.item("rule", j);
            let role = resolve(
                &mut problems,
                rule_path.key("role"),
                "role",
                &lookup.roles,
                &rule.role,
            );
            if let Some(role) = role {
                if roles[role.ix()].application != application {
                    problems.push(
                        rule_path.key("role"),
                        format!(
                            "role `{}` is not of application `{}`",
                            rule.role, d.application
                        ),
                    );
                }
            }
            let all_of = resolve_all(
                &mut problems,
                &rule_path.key("all_of"),
                "permission",
                &lookup.permissions,
                &rule.all_of,
            );
            let any_of = resolve_all(
                &mut problems,
                &rule_path.key("any_of"),
                "permission",
                &lookup.permissions,
                &rule.any_of,
            );
            if let Some(role) = role {
                rules.push(DefaultRoleRule {
                    role,
                    all_of,
                    any_of,
                });
            }
        }
        default_roles.push(DefaultRoles { application, rules });
    }

    lookup.access_levels = register(
        &mut problems,
        "access level",
        "access_level",
        spec.access_level.iter().map(|l| l.id.as_str()),
        crate::AccessLevelIx::from_usize,
    );
    let mut access_levels = Vec::new();
    for (i, l) in spec.access_level.iter().enumerate() {
        let path = root.item("access_level", i);
        let app = resolve(
            &mut problems,
            path.key("application"),
            "application",
            &lookup.applications,
            &l.application,
        );
        let grants = grants(
            &mut problems,
            &path.key("grants"),
            &lookup,
            &permissions,
            &l.grants,
            app.map(|a| (a, l.application.as_str())),
        );
        access_levels.push(AccessLevel {
            id: l.id.clone(),
            name: l.name.clone(),
            label: l.label.clone(),
            application: app.unwrap_or(AppIx(0)),
            grants,
        });
    }

    lookup.user_types = register(
        &mut problems,
        "user type",
        "user_type",
        spec.user_type.iter().map(|t| t.id.as_str()),
        crate::UserTypeIx::from_usize,
    );
    let mut user_types = Vec::new();
    for (i, t) in spec.user_type.iter().enumerate() {
        user_types.push(user_type(
            &mut problems,
            root.item("user_type", i),
            t,
            &lookup,
            &permissions,
            &access_levels,
        ));
    }

    lookup.access_types = register(
        &mut problems,
        "access type",
        "access_type",
        spec.access_type.iter().map(|t| t.id.as_str()),
        crate::AccessTypeIx::from_usize,
    );
    let mut access_types = Vec::new();
    for (i, t) in spec.access_type.iter().enumerate() {
        let path = root.item("access_type", i);
        let app = resolve(
            &mut problems,
            path.key("application"),
            "application",
            &lookup.applications,
            &t.application,
        );
        if t.reaches.is_empty() {
            problems.push(path.key("reaches"), "must name `own`, `managed` or both");
        }
        let grants = grants(
            &mut problems,
            &path.key("grants"),
            &lookup,
            &permissions,
            &t.grants,
            app.map(|a| (a, t.application.as_str())),
        );
        let default_for_users_of = resolve_all(
            &mut problems,
            &path.key("default_for_users_of"),
            "application",
            &lookup.applications,
            &t.default_for_users_of,
        );
        access_types.push(AccessType {
            id: t.id.clone(),
            name: t.name.clone(),
            application: app.unwrap_or(AppIx(0)),
            reaches_own: t.reaches.contains(&ReachSpec::Own),
            reaches_managed: t.reaches.contains(&ReachSpec::Managed),
            grants,
            default_for_users_of,
        });
    }
    if access_types
        .iter()
        .filter(|t| !t.default_for_users_of.is_empty())
        .count()
        > 1
    {
        problems.push(
            root.key("access_type"),
            "only one access type may be given by default (`default_for_users_of`)",
        );
    }

    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    Ok(Catalog {
        applications,
        subscriptions,
        modules,
        permissions,
        roles,
        default_roles,
        user_types,
        access_levels,
        access_types,
        prerequisite_order,
        ids: lookup,
    })
}

fn user_type(
    problems: &mut Problems,
    path: FieldPath,
    t: &spec::UserTypeSpec,
    lookup: &Lookup,
    permissions: &[Permission],
    access_levels: &[AccessLevel],
) -> UserType {
    let app = resolve(
        problems,
        path.key("application"),
        "application",
        &lookup.applications,
        &t.application,
    );
    let levels = resolve_all(
        problems,
        &path.key("levels"),
        "access level",
        &lookup.access_levels,
        &t.levels,
    );
    if let Some(app) = app {
        for (j, level) in levels.iter().enumerate() {
            if access_levels[level.ix()].application != app {
                problems.push(
                    path.item("levels", j),
                    format!(
                        "access level `{}` is not of application `{}`",
                        t.levels[j], t.application
                    ),
                );
            }
        }
    }
    let default_level = t.default_level.as_ref().and_then(|id| {
        let level = resolve(
            problems,
            path.key("default_level"),
            "access level",
            &lookup.access_levels,
            id,
        )?;
        if !levels.contains(&level) {
            problems.push(
                path.key("default_level"),
                format!("`{id}` is not one of this type's `levels`"),
            );
        }
        Some(level)
    });
    let scoped_app = app.map(|a| (a, t.application.as_str()));
    UserType {
        id: t.id.clone(),
        name: t.name.clone(),
        application: app.unwrap_or(AppIx(0)),
        levels,
        default_level,
        grants: grants(
            problems,
            &path.key("grants"),
            lookup,
            permissions,
            &t.grants,
            scoped_app,
        ),
        initial_grants: grants(
            problems,
            &path.key("initial_grants"),
            lookup,
            permissions,
            &t.initial_grants,
            scoped_app,
        ),
    }
}

fn dedup_problems(problems: &mut Problems) {
    let mut seen = Vec::new();
    problems.0.retain(|p| {
        if seen.contains(p) {
            false
        } else {
            seen.push(p.clone());
            true
        }
    });
}

/// Orders permissions so that prerequisites come first; reports cycles.
fn prerequisite_order(problems: &mut Problems, permissions: &[Permission]) -> Vec<PermissionIx> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    let mut marks = vec![Mark::New; permissions.len()];
    let mut order = Vec::with_capacity(permissions.len());
    for start in 0..permissions.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative depth-first search: (permission, next prerequisite to visit).
        let mut stack = vec![(start, 0usize)];
        marks[start] = Mark::Visiting;
        while let Some((current, next)) = stack.pop() {
            match permissions[current].requires.get(next) {
                Some(required) => {
                    stack.push((current, next + 1));
                    match marks[required.ix()] {
                        Mark::New => {
                            marks[required.ix()] = Mark::Visiting;
                            stack.push((required.ix(), 0));
                        }
                        Mark::Visiting => {
                            let cycle: Vec<&str> = stack
                                .iter()
                                .skip_while(|(p, _)| *p != required.ix())
                                .map(|(p, _)| permissions[*p].id.as_str())
                                .chain([permissions[required.ix()].id.as_str()])
                                .collect();
                            problems.push(
                                FieldPath::root()
                                    .item("permission", current)
                                    .key("requires"),
                                format!("prerequisites form a cycle: {}", cycle.join(" → ")),
                            );
                            // Report each cycle once: stop following it.
                            marks[required.ix()] = Mark::Done;
                        }
                        Mark::Done => {}
                    }
                }
                None => {
                    marks[current] = Mark::Done;
                    order.push(PermissionIx::from_usize(current));
                }
            }
        }
    }
    order
}
