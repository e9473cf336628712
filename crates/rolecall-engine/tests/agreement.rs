//! The compiled engine agrees with a naive reference evaluator.
//!
//! Random catalogs (written as TOML and loaded through `Catalog::from_toml`)
//! and random worlds (built with creation defaults applied) are compiled into
//! a [`Snapshot`]; then every answer the snapshot gives — `check`,
//! `check_keys`, `explain`, `permissions_of` and `users_with` — must equal
//! the answer of `reference`, which evaluates the rules of `DESIGN.md`
//! ("Decision") literally over the validated model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod generate;
mod reference;

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rolecall_engine::Snapshot;
use rolecall_model::world::{Defaults, WorldSpec};
use rolecall_model::{Catalog, OrgIx, PermissionIx, UserIx, World};

use generate::catalog::catalog_plan;
use generate::world::{checks, world_plan, CheckPlan};
use reference::{decide, Reference};

/// Random checks per world, on top of the sweep over every user,
/// permission and organization.
const CHECKS_PER_WORLD: usize = 50;

/// Builds the world and the snapshot, then holds every answer of the
/// snapshot to the reference. `context` describes the input on failure.
fn assert_agreement(
    catalog: &Arc<Catalog>,
    spec: &WorldSpec,
    checks: &[CheckPlan],
    context: &dyn Fn() -> String,
) -> Result<(), TestCaseError> {
    // Arrange
    let world = match World::build(catalog, spec, Defaults::Apply) {
        Ok(world) => world,
        Err(problems) => {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(TestCaseError::fail(format!(
                "the generated world is invalid: {problems:#?}\n{}",
                context()
            )));
        }
    };
    let snapshot = Snapshot::build(Arc::clone(catalog), world.clone());
    let reference = Reference::new(catalog, &world);

    // Act and assert: every user, permission and organization.
    sweep(catalog, &world, &snapshot, &reference, context)?;

    // Act and assert: random checks, some with unknown ids and owners.
    for plan in checks {
        let check = plan.resolve(catalog, spec);
        let owner = check.owner.as_deref();
        let expected = reference.check(&check.user, &check.permission, &check.org, owner);
        let decision = snapshot.check(&check.user, &check.permission, &check.org, owner);
        prop_assert_eq!(
            (decision.allowed, decision.scope),
            (expected.allowed, expected.scope),
            "check {:?}\n{}",
            check,
            context()
        );
        let explanation = snapshot.explain(&check.user, &check.permission, &check.org, owner);
        prop_assert_eq!(
            (explanation.allowed, explanation.scope),
            (expected.allowed, expected.scope),
            "explain {:?}: {}\n{}",
            check,
            explanation.sentence,
            context()
        );
        let keys = (
            snapshot.user_key(&check.user),
            snapshot.permission_key(&check.permission),
            snapshot.org_key(&check.org),
        );
        // An unknown owner has no key: the string path above covers it.
        let owner_key = match owner {
            None => Some(None),
            Some(id) => snapshot.user_key(id).map(Some),
        };
        if let ((Some(u), Some(p), Some(o)), Some(owner_key)) = (keys, owner_key) {
            let decision = snapshot.check_keys(u, p, o, owner_key);
            prop_assert_eq!(
                (decision.allowed, decision.scope),
                (expected.allowed, expected.scope),
                "check_keys {:?}\n{}",
                check,
                context()
            );
        }
    }
    Ok(())
}

/// Every `(user, permission, organization)`, without an owner, as its own
/// owner and on another user's resource; and both listings everywhere.
fn sweep(
    catalog: &Catalog,
    world: &World,
    snapshot: &Snapshot,
    reference: &Reference<'_>,
    context: &dyn Fn() -> String,
) -> Result<(), TestCaseError> {
    for (u, user) in world.users.iter().enumerate() {
        let other = &world.users[(u + 1) % world.users.len()].id;
        let owners = [None, Some(user.id.as_str()), Some(other.as_str())];
        for (o, org) in world.orgs.iter().enumerate() {
            let (u_ix, o_ix) = (UserIx::from_usize(u), OrgIx::from_usize(o));
            let effective = reference.effective(u_ix, o_ix);
            for (p, permission) in catalog.permissions.iter().enumerate() {
                for owner in owners {
                    let owner_is_user = owner.map(|owner| owner == user.id);
                    let expected = decide(&effective, PermissionIx::from_usize(p), owner_is_user);
                    let decision = snapshot.check(&user.id, &permission.id, &org.id, owner);
                    prop_assert_eq!(
                        (decision.allowed, decision.scope),
                        (expected.allowed, expected.scope),
                        "check({}, {}, {}, {:?})\n{}",
                        user.id,
                        permission.id,
                        org.id,
                        owner,
                        context()
                    );
                }
            }
            let listed: Vec<(String, _)> = snapshot
                .permissions_of(&user.id, &org.id)
                .into_iter()
                .map(|(p, scope)| (p.to_owned(), scope))
                .collect();
            prop_assert_eq!(
                listed,
                reference.permissions_of(u_ix, o_ix),
                "permissions_of({}, {})\n{}",
                user.id,
                org.id,
                context()
            );
        }
    }
    for (o, org) in world.orgs.iter().enumerate() {
        for (p, permission) in catalog.permissions.iter().enumerate() {
            let listed: Vec<(String, _)> = snapshot
                .users_with(&permission.id, &org.id)
                .into_iter()
                .map(|(u, scope)| (u.to_owned(), scope))
                .collect();
            prop_assert_eq!(
                listed,
                reference.users_with(PermissionIx::from_usize(p), OrgIx::from_usize(o)),
                "users_with({}, {})\n{}",
                permission.id,
                org.id,
                context()
            );
        }
        prop_assert!(snapshot.permissions_of("ghost", &org.id).is_empty());
        prop_assert!(snapshot.users_with("zz.unknown", &org.id).is_empty());
    }
    Ok(())
}

fn default_catalog() -> &'static Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(|| Arc::new(Catalog::default_catalog()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_agrees_with_the_reference_on_random_catalogs_and_worlds(
        catalog_plan in catalog_plan(),
        world_plan in world_plan(),
        checks in checks(CHECKS_PER_WORLD),
    ) {
        // Arrange
        let text = catalog_plan.toml();
        let catalog = match Catalog::from_toml("random.toml", &text) {
            Ok(catalog) => Arc::new(catalog),
            Err(diagnostics) => {
                return Err(TestCaseError::fail(format!(
                    "the generated catalog is invalid:\n{diagnostics}\n{text}"
                )));
            }
        };
        let spec = world_plan.spec(&catalog);
        let context = || format!("catalog:\n{text}\nworld: {spec:#?}");

        // Act and assert
        assert_agreement(&catalog, &spec, &checks, &context)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_agrees_with_the_reference_on_the_default_catalog(
        world_plan in world_plan(),
        checks in checks(CHECKS_PER_WORLD),
    ) {
        // Arrange
        let catalog = default_catalog();
        let spec = world_plan.spec(catalog);
        let context = || format!("default catalog, world: {spec:#?}");

        // Act and assert
        assert_agreement(catalog, &spec, &checks, &context)?;
    }
}
