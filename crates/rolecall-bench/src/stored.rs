//! The workload as rows of a real database: one employee and one user per
//! user, written the way the service writes them, for the runs that start
//! `rolecall serve`'s own service on it.

use rolecall_store::{now_ms, Access, Batch, EmployeeRow, OrgRow, Put, Store, StoreError, UserRow};

use crate::rolecall::world_spec;
use crate::workload::Workload;

/// The workload's organizations, employees and users as stored rows.
pub fn rows(workload: &Workload) -> Vec<Put> {
    let spec = world_spec(workload);
    let now = now_ms();
    let mut puts: Vec<Put> = spec
        .orgs
        .iter()
        .map(|o| {
            Put::Org(OrgRow {
                id: o.id.clone(),
                name: o.id.clone(),
                parent: None,
                subscriptions: o.subscriptions.clone(),
                manages: Vec::new(),
                created_at: now,
            })
        })
        .collect();
    for user in &spec.users {
        let employee = format!("emp-{}", user.id);
        let org = user.membership[0].org.clone();
        puts.push(Put::Employee(EmployeeRow {
            id: employee.clone(),
            org: org.clone(),
            first_name: "Bench".to_owned(),
            last_name: user.id.clone(),
            email: format!("{}@bench.invalid", user.id),
            created_at: now,
        }));
        puts.push(Put::User(UserRow {
            id: user.id.clone(),
            employee,
            status: user.status,
            memberships: user
                .membership
                .iter()
                .map(|m| (m.org.clone(), Access::from_spec(m)))
                .collect(),
            created_at: now,
        }));
    }
    puts
}

/// Writes the workload into an empty `store`, in chunks (one change-log row
/// per chunk keeps each payload small); returns the revision reached.
pub async fn store(store: &Store, workload: &Workload) -> Result<i64, StoreError> {
    let mut revision = 0;
    for chunk in rows(workload).chunks(20_000) {
        revision = store
            .commit(
                revision,
                "bench",
                "bench",
                Batch {
                    puts: chunk,
                    audit: &[],
                    emails: &[],
                    ..Batch::default()
                },
            )
            .await?
            .revision;
    }
    Ok(revision)
}
