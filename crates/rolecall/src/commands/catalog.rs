//! `rolecall catalog show|validate`

use std::io::{self, Write};
use std::path::Path;

use rolecall_model::Catalog;

use crate::{EXIT_INVALID, EXIT_OK};

/// Checks a catalog file.
pub fn validate(file: &Path, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    match super::load_catalog(file) {
        Ok(catalog) => {
            writeln!(
                out,
                "{}: valid: {} applications, {} modules, {} permissions, {} roles",
                file.display(),
                catalog.applications.len(),
                catalog.modules.len(),
                catalog.permissions.len(),
                catalog.roles.len()
            )?;
            Ok(EXIT_OK)
        }
        Err(message) => {
            writeln!(err, "{message}")?;
            Ok(EXIT_INVALID)
        }
    }
}

/// Prints a catalog as text or JSON.
pub fn show(
    file: Option<&Path>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let catalog = match file {
        None => Catalog::default_catalog(),
        Some(file) => match super::load_catalog(file) {
            Ok(catalog) => catalog,
            Err(message) => {
                writeln!(err, "{message}")?;
                return Ok(EXIT_INVALID);
            }
        },
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &catalog.view()).map_err(io::Error::other)?;
        writeln!(out)?;
    } else {
        write_text(&catalog, out)?;
    }
    Ok(EXIT_OK)
}

fn write_text(catalog: &Catalog, out: &mut dyn Write) -> io::Result<()> {
    let view = catalog.view();
    for app in &view.applications {
        writeln!(out, "{} ({})", app.name, app.id)?;
        if !app.description.is_empty() {
            writeln!(out, "  {}", app.description)?;
        }
        let roles: Vec<_> = view
            .roles
            .iter()
            .filter(|r| r.id.split('.').next() == Some(app.id))
            .collect();
        if !roles.is_empty() {
            writeln!(out, "  roles:")?;
            for (i, role) in roles.iter().enumerate() {
                writeln!(out, "    [{}] {} ({})", i + 1, role.name, role.id)?;
            }
        }
        let header: String = (1..=roles.len()).map(|i| format!("{i:>3}")).collect();
        for module in &app.modules {
            let gate = if module.gated_by.is_empty() {
                "always on".to_owned()
            } else {
                format!("with a subscription to {}", module.gated_by.join(" or "))
            };
            writeln!(out, "  {} ({}), {gate}", module.name, module.id)?;
            if !roles.is_empty() {
                writeln!(out, "    {:<46}{header}", "")?;
            }
            for permission in &module.permissions {
                let cells: String = roles
                    .iter()
                    .map(|role| {
                        let held = role
                            .grants
                            .iter()
                            .any(|g| g.split(':').next() == Some(permission.id));
                        format!("{:>3}", if held { "Y" } else { "-" })
                    })
                    .collect();
                let mut notes = Vec::new();
                if permission.scoped {
                    notes.push("scoped".to_owned());
                }
                if !permission.narrows.is_empty() {
                    notes.push(format!("narrows {} to own", permission.narrows.join(", ")));
                }
                if !permission.requires.is_empty() {
                    notes.push(format!("requires {}", permission.requires.join(", ")));
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", notes.join("; "))
                };
                writeln!(
                    out,
                    "    {:<46}{cells}  {}{notes}",
                    permission.id, permission.name
                )?;
            }
        }
        for rules in view
            .default_roles
            .iter()
            .filter(|d| d.application == app.id)
        {
            writeln!(out, "  default role, first match wins:")?;
            for rule in &rules.rules {
                let mut condition = rule.all_of.join(" and ");
                if !rule.any_of.is_empty() {
                    condition.push_str(&format!(" and one of {}", rule.any_of.join(", ")));
                }
                writeln!(out, "    {condition} -> {}", rule.role)?;
            }
        }
        for t in view.user_types.iter().filter(|t| t.application == app.id) {
            writeln!(out, "  user type {} ({})", t.name, t.id)?;
            if !t.levels.is_empty() {
                writeln!(
                    out,
                    "    levels: {} (default {})",
                    t.levels.join(", "),
                    t.default_level.unwrap_or("none")
                )?;
            }
            if !t.initial_grants.is_empty() {
                writeln!(out, "    on creation: {}", t.initial_grants.join(", "))?;
            }
        }
        for l in view
            .access_levels
            .iter()
            .filter(|l| l.application == app.id)
        {
            writeln!(
                out,
                "  access level {} {} ({}): {}",
                l.label,
                l.name,
                l.id,
                l.grants.join(", ")
            )?;
        }
        for t in view.access_types.iter().filter(|t| t.application == app.id) {
            writeln!(
                out,
                "  access type {} ({}), reaches {}",
                t.name,
                t.id,
                t.reaches.join(" and ")
            )?;
            if !t.default_for_users_of.is_empty() {
                writeln!(
                    out,
                    "    given by default to users of {}",
                    t.default_for_users_of.join(", ")
                )?;
            }
        }
        writeln!(out)?;
    }
    let services: Vec<_> = view
        .subscriptions
        .iter()
        .filter(|s| s.kind == "service")
        .map(|s| format!("{} ({})", s.name, s.id))
        .collect();
    writeln!(out, "services: {}", services.join(", "))?;
    Ok(())
}
