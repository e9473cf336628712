//! A first end-to-end pass: default catalog, a small world, a few checks.

use std::sync::Arc;

use rolecall_engine::{Decision, Snapshot};
use rolecall_model::world::{Defaults, MembershipSpec, OrgSpec, UserSpec, WorldSpec};
use rolecall_model::{Catalog, World};

fn snapshot(orgs: Vec<OrgSpec>, users: Vec<UserSpec>) -> Snapshot {
    let catalog = Arc::new(Catalog::default_catalog());
    let spec = WorldSpec {
        orgs,
        users,
        ..WorldSpec::default()
    };
    let world = World::build(&catalog, &spec, Defaults::Apply).unwrap_or_else(|p| panic!("{p:?}"));
    Snapshot::build(catalog, world)
}

#[test]
fn a_biller_manages_charges_only_where_billing_is_subscribed() {
    let snapshot = snapshot(
        vec![
            OrgSpec {
                id: "acme".into(),
                name: Some("Acme PT".into()),
                subscriptions: vec!["web.billing".into()],
                ..OrgSpec::default()
            },
            OrgSpec {
                id: "beta".into(),
                name: Some("Beta PT".into()),
                ..OrgSpec::default()
            },
        ],
        vec![UserSpec {
            id: "pat".into(),
            name: Some("Pat Doe".into()),
            membership: vec![
                MembershipSpec {
                    org: "acme".into(),
                    roles: vec!["web.biller".into()],
                    ..MembershipSpec::default()
                },
                MembershipSpec {
                    org: "beta".into(),
                    roles: vec!["web.biller".into()],
                    ..MembershipSpec::default()
                },
            ],
            ..UserSpec::default()
        }],
    );
    assert_eq!(
        snapshot.check("pat", "web.manage_charge_entries", "acme", None),
        Decision::ALL
    );
    assert_eq!(
        snapshot.check("pat", "web.manage_charge_entries", "beta", None),
        Decision::DENIED
    );
    let why = snapshot.explain("pat", "web.manage_charge_entries", "beta", None);
    assert_eq!(why.sentence, "Denied: Beta PT does not subscribe to the Billing module, which Manage charge entries belongs to.");
    let why = snapshot.explain("pat", "web.manage_charge_entries", "acme", None);
    assert_eq!(why.sentence, "Allowed: Pat Doe holds Manage charge entries in Acme PT, through the role Biller. Acme PT subscribes to the Billing module.");
    assert!(
        snapshot
            .check("pat", "tasking.task.add", "acme", None)
            .allowed,
        "EMR users get Standard Tasking access"
    );
}
