//! Every engine decides a small workload exactly as rolecall does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rolecall_bench::baseline::Baseline;
use rolecall_bench::casbin::CasbinEngine;
use rolecall_bench::cedar::CedarEngine;
use rolecall_bench::engine::Engine;
use rolecall_bench::hashmap::HashMapEngine;
use rolecall_bench::rolecall::{RolecallKeys, RolecallStrings};
use rolecall_bench::run::{verify, Recorded};
use rolecall_bench::workload::{Rng, Workload, SEED};
use rolecall_bench::{Settings, Size};

const SMALL: Size = Size {
    users: 300,
    orgs: 12,
    checks: 4_000,
};

fn small_workload() -> Workload {
    Workload::web(SMALL).expect("the default catalog has the web matrix")
}

fn record<E: Engine>(engine: &E, workload: &Workload) -> Recorded {
    let queries = engine
        .prepare(workload, &workload.checks)
        .expect("every id of the workload is known");
    let decisions = queries
        .iter()
        .map(|q| engine.decide(q).expect("the engine decides every check"))
        .collect();
    Recorded {
        engine: engine.name(),
        decisions,
    }
}

#[test]
fn every_engine_decides_every_check_as_rolecall_does() {
    // Arrange
    let workload = small_workload();
    let rolecall = RolecallStrings::build(&workload).expect("the world is valid");
    let keys = RolecallKeys {
        snapshot: &rolecall.snapshot,
    };
    let baseline = Baseline::build(&workload);
    let hashmap = HashMapEngine::build(&workload);
    let cedar = CedarEngine::build(&workload).expect("cedar accepts the policies and entities");
    let casbin = CasbinEngine::build(&workload).expect("casbin accepts the model and rules");

    // Act
    let recorded = vec![
        record(&rolecall, &workload),
        record(&keys, &workload),
        record(&baseline, &workload),
        record(&hashmap, &workload),
        record(&cedar, &workload),
        record(&casbin, &workload),
    ];

    // Assert
    assert_eq!(verify(&workload, &recorded).ok(), Some(SMALL.checks));
}

#[test]
fn the_workload_allows_some_checks_and_denies_others_for_each_reason() {
    // Arrange
    let workload = small_workload();
    let baseline = Baseline::build(&workload);

    // Act
    let decisions = record(&baseline, &workload).decisions;

    // Assert: allowed, denied in another organization, and denied in the
    // user's own organization (a role that does not grant it, or a module
    // not subscribed to) all occur.
    let own = |i: usize| {
        let check = workload.checks[i];
        workload.users[check.user as usize].org == check.org as usize
    };
    let allowed = decisions.iter().filter(|d| **d).count();
    let denied_at_home = (0..decisions.len())
        .filter(|i| own(*i) && !decisions[*i])
        .count();
    let elsewhere = (0..decisions.len()).filter(|i| !own(*i)).count();
    assert!(allowed > SMALL.checks / 10, "allowed {allowed}");
    assert!(
        denied_at_home > SMALL.checks / 10,
        "denied {denied_at_home}"
    );
    assert!(elsewhere > SMALL.checks / 10, "elsewhere {elsewhere}");
    assert!((0..decisions.len()).all(|i| own(i) || !decisions[i]));
}

#[test]
fn the_same_size_and_seed_give_the_same_workload() {
    assert_eq!(small_workload(), small_workload());
    assert_ne!(Rng::new(SEED).next_u64(), Rng::new(SEED + 1).next_u64());
}

#[test]
fn a_small_run_verifies_and_times_every_engine() {
    // Arrange
    let settings = Settings {
        size: SMALL,
        passes: 1,
        slow_passes: 1,
        cedar_checks: SMALL.checks,
        casbin_checks: 1_000,
    };

    // Act
    let report = rolecall_bench::run(&settings).expect("the engines agree");

    // Assert
    let engines: Vec<_> = report.rows.iter().map(|r| r.engine).collect();
    assert_eq!(
        engines,
        [
            "rolecall (string ids)",
            "rolecall (keys)",
            "baseline (bitmask floor)",
            "HashMap<String, ..> design",
            "cedar-policy 4",
            "casbin 2",
        ]
    );
    assert_eq!(report.verified, SMALL.checks);
    assert_eq!(report.rows[5].checks, 1_000);
    assert!(report.to_string().contains("casbin 2"));
}

#[test]
fn building_an_engine_adds_measurable_memory() {
    let measured = rolecall_bench::memory::measure_build(
        rolecall_bench::engine::Kind::HashMap,
        Size {
            users: 20_000,
            orgs: 50,
            checks: 0,
        },
    )
    .expect("/proc/self/status is readable");
    assert!(measured.kept > 0, "{measured:?}");
}
