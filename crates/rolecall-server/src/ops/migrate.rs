//! One-off data migrations.
//!
//! # Analytics 2.0: Analytics Access for every existing admin
//!
//! The Analytics seed says: "Note: All existing Admin users will
//! automatically have the Analytics Access permission enabled upon
//! transition to 2.0."
//!
//! Who is an "Admin user" is read from the catalog, per membership (a
//! user's access in one organization), from the membership's own roles and
//! direct grants less its denials:
//!
//! - a holder of `emr.clinic_admin` or `emr.company_admin`: the seed's own
//!   table names these, in the same article, as the admins ("Analytics
//!   Access, Clinic or Company Admin" gives "Analytics Admin");
//! - a holder of the role `web.system_admin`: the web platform's System
//!   Admin, "the staff member who configures the system and manages user
//!   accounts", is an admin of the same EMR in every everyday sense, and
//!   leaving them out would make the person who grants Analytics to others
//!   the one who cannot open it.
//!
//! Not admins: `emr.billing_report_admin` (an admin of billing reports only;
//! the seed gives it the Billing User role, not Analytics Admin) and
//! `emr.edit_users` (a user manager, not an admin).
//!
//! Every admin membership that does not hold `emr.analytics_access` gets it
//! as a direct grant, and then the default Analytics role exactly as when a
//! user manager first ticks the box ([`defaults::apply_default_roles`]):
//! `analytics.admin` for a clinic or company admin, the role the catalog's
//! rules derive otherwise, and none when the membership already holds an
//! Analytics role. A membership that denies `emr.analytics_access` directly
//! (someone unchecked it on purpose) is left alone and listed as skipped.
//! Users of every status are migrated, so a disabled admin who is enabled
//! again finds what the other admins have.
//!
//! The migration is one write (one revision), with one
//! `migrate.analytics_access` audit record per changed membership (filed
//! under its organization). Run again, it finds nothing to change and
//! writes nothing.

use rolecall_model::defaults;
use rolecall_store::{Access, AuditEntry, Put};
use serde::Serialize;

use crate::error::ServiceError;
use crate::principal::Principal;
use crate::rules;
use crate::service::{Change, Live, Service};

/// The permission the migration grants.
pub const ANALYTICS_ACCESS: &str = "emr.analytics_access";
/// The EMR permissions that make an admin.
pub const ADMIN_PERMISSIONS: [&str; 2] = ["emr.clinic_admin", "emr.company_admin"];
/// The web platform role that makes an admin.
pub const ADMIN_ROLE: &str = rules::SYSTEM_ADMIN_ROLE;

/// One membership the migration changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationChange {
    /// The user.
    pub user: String,
    /// The organization of the membership.
    pub org: String,
    /// Roles added by the defaults (the derived Analytics role).
    pub roles_added: Vec<String>,
}

/// One admin membership the migration leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationSkip {
    /// The user.
    pub user: String,
    /// The organization of the membership.
    pub org: String,
    /// Why it is left alone.
    pub reason: String,
}

/// What the migration did, or would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    /// The memberships changed (or to change, in a dry run).
    pub changes: Vec<MigrationChange>,
    /// Admin memberships left alone.
    pub skipped: Vec<MigrationSkip>,
    /// The revision of the write; `None` when nothing was written.
    pub revision: Option<i64>,
}

impl MigrationReport {
    /// How many distinct users change.
    pub fn users(&self) -> usize {
        let mut users: Vec<&str> = self.changes.iter().map(|c| c.user.as_str()).collect();
        users.dedup();
        users.len()
    }
}

/// Gives every admin membership Analytics Access (see the module
/// documentation). Operators only. With `dry_run`, reports and writes
/// nothing.
pub async fn analytics_access(
    service: &Service,
    principal: &Principal,
    source: &str,
    dry_run: bool,
) -> Result<MigrationReport, ServiceError> {
    rules::require_operator(principal, "run migrations")?;
    let (puts, _, report) = plan(&service.live())?;
    if dry_run || puts.is_empty() {
        return Ok(report);
    }
    let (revision, report) = service
        .write(principal, source, |live| {
            let (puts, audit, report) = plan(live)?;
            Ok(Change::new(puts, audit, report).guard(rules::administrators_kept))
        })
        .await?;
    Ok(MigrationReport {
        revision: Some(revision),
        ..report
    })
}

type Plan = (Vec<Put>, Vec<AuditEntry>, MigrationReport);

fn plan(live: &Live) -> Result<Plan, ServiceError> {
    let catalog = live.snapshot.catalog();
    let world = live.snapshot.world();
    let analytics = catalog.permission(ANALYTICS_ACCESS).ok_or_else(|| {
        ServiceError::invalid(
            "catalog",
            format!("the catalog has no permission `{ANALYTICS_ACCESS}`"),
        )
    })?;
    let admin_permissions: Vec<_> = ADMIN_PERMISSIONS
        .iter()
        .filter_map(|p| catalog.permission(p))
        .collect();
    let mut puts = Vec::new();
    let mut audit = Vec::new();
    let mut report = MigrationReport::default();
    for row in live.model.users.values() {
        let Some(user_ix) = world.user(&row.id) else {
            continue;
        };
        let mut next = row.clone();
        for membership in &world.users[user_ix.ix()].memberships {
            let org = &world.orgs[membership.org.ix()].id;
            let Some(access) = row.memberships.get(org) else {
                continue;
            };
            let held = defaults::held_permissions(catalog, world, membership);
            let is_admin = admin_permissions.iter().any(|p| held.contains(p))
                || access.roles.iter().any(|r| r == ADMIN_ROLE);
            if !is_admin || held.contains(&analytics) {
                continue;
            }
            if membership.denials.contains(&analytics) {
                report.skipped.push(MigrationSkip {
                    user: row.id.clone(),
                    org: org.clone(),
                    reason: format!("`{ANALYTICS_ACCESS}` is denied directly"),
                });
                continue;
            }
            let mut granted = membership.clone();
            granted.grants.push(rolecall_model::Grant {
                permission: analytics,
                scope: rolecall_model::Scope::All,
            });
            defaults::apply_default_roles(catalog, world, &mut granted);
            let roles_added: Vec<String> = granted.roles[membership.roles.len()..]
                .iter()
                .map(|r| world.role(catalog, *r).id.clone())
                .collect();
            // Edit the stored access rather than rewrite it from the
            // resolved membership: everything else stays byte for byte.
            let mut after: Access = access.clone();
            after.grants.push(ANALYTICS_ACCESS.to_owned());
            after.roles.extend(roles_added.iter().cloned());
            audit.push(AuditEntry {
                actor: String::new(),
                action: "migrate.analytics_access".to_owned(),
                org: Some(org.clone()),
                target: format!("user:{}", row.id),
                before: Some(serde_json::json!(access)),
                after: Some(serde_json::json!(after)),
                ..Default::default()
            });
            next.memberships.insert(org.clone(), after);
            report.changes.push(MigrationChange {
                user: row.id.clone(),
                org: org.clone(),
                roles_added,
            });
        }
        if next != *row {
            puts.push(Put::User(next));
        }
    }
    Ok((puts, audit, report))
}
