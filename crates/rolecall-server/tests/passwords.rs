#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Password hashing, temporary passwords and password policies.

use std::time::Instant;

use rolecall_server::passwords::{
    temporary_password, HashParams, Hasher, Password, PasswordError, PasswordPolicy, PolicyContext,
    PolicyProblem, Verified, TEMPORARY_ALPHABET, TEMPORARY_LENGTH,
};
use time::{Duration, OffsetDateTime};

/// Cheap parameters so the tests run in milliseconds; production keeps
/// `HashParams::PRODUCTION`.
const CHEAP: HashParams = HashParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

fn cheap(permits: usize) -> Hasher {
    Hasher::with_params(CHEAP, permits).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn production_hashes_are_argon2id_phc_strings_that_verify() {
    let hasher = Hasher::new();
    let password = Password::new("correct horse battery staple");

    let phc = hasher.hash(&password).await.unwrap();

    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert_eq!(
        hasher.verify(&password, &phc).await.unwrap(),
        Verified {
            needs_rehash: false
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hash_verifies_its_password_and_salts_differ() {
    let hasher = cheap(2);
    let password = Password::new("tangerine-orbit-42");

    let first = hasher.hash(&password).await.unwrap();
    let second = hasher.hash(&password).await.unwrap();

    assert_ne!(first, second, "each hash gets its own salt");
    assert!(!hasher.verify(&password, &first).await.unwrap().needs_rehash);
    assert!(
        !hasher
            .verify(&password, &second)
            .await
            .unwrap()
            .needs_rehash
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_a_mismatch() {
    let hasher = cheap(2);
    let phc = hasher
        .hash(&Password::new("tangerine-orbit-42"))
        .await
        .unwrap();

    let outcome = hasher
        .verify(&Password::new("tangerine-orbit-43"), &phc)
        .await;

    assert!(matches!(outcome, Err(PasswordError::Mismatch)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_stored_hash_is_reported_as_such() {
    let hasher = cheap(1);

    let outcome = hasher
        .verify(&Password::new("anything at all"), "not a phc string")
        .await;

    assert!(matches!(outcome, Err(PasswordError::MalformedHash)));
}

#[tokio::test(flavor = "multi_thread")]
async fn hashes_with_older_parameters_verify_and_ask_for_a_rehash() {
    let old = Hasher::with_params(CHEAP, 1).unwrap();
    let current = Hasher::with_params(
        HashParams {
            memory_kib: 512,
            iterations: 2,
            parallelism: 1,
        },
        1,
    )
    .unwrap();
    let password = Password::new("tangerine-orbit-42");
    let stored = old.hash(&password).await.unwrap();

    let verified = current.verify(&password, &stored).await.unwrap();
    let rehashed = current.hash(&password).await.unwrap();

    assert!(verified.needs_rehash);
    assert!(
        !current
            .verify(&password, &rehashed)
            .await
            .unwrap()
            .needs_rehash
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_verifies_never_runs_more_than_the_permits() {
    let hasher = cheap(2);
    let password = Password::new("tangerine-orbit-42");
    let phc = hasher.hash(&password).await.unwrap();

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let hasher = hasher.clone();
            let password = password.clone();
            let phc = phc.clone();
            tokio::spawn(async move { hasher.verify(&password, &phc).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    let peak = hasher.peak_concurrency();
    assert!((1..=2).contains(&peak), "peak concurrency {peak}");
}

#[tokio::test(flavor = "multi_thread")]
async fn burning_an_unknown_account_costs_a_full_verification() {
    let hasher = cheap(1);
    let password = Password::new("tangerine-orbit-42");

    hasher.burn(&password).await;

    // The dummy hash went through the same permit-holding path as a real
    // verification.
    assert_eq!(hasher.peak_concurrency(), 1);
}

#[test]
fn temporary_passwords_are_16_unambiguous_characters_and_differ() {
    let drawn: Vec<String> = (0..100)
        .map(|_| temporary_password().expose().to_owned())
        .collect();

    for password in &drawn {
        assert_eq!(password.chars().count(), TEMPORARY_LENGTH);
        assert!(password.chars().all(|c| TEMPORARY_ALPHABET.contains(c)));
        assert!(!password.chars().any(|c| "0O1lI".contains(c)));
        // An email's quoted-printable body writes `=` as `=3D`: a password
        // read from the raw message would be wrong.
        assert!(!password.contains('='), "a temporary password with `=`");
    }
    let distinct: std::collections::BTreeSet<_> = drawn.iter().collect();
    assert_eq!(distinct.len(), drawn.len());
}

#[test]
fn temporary_passwords_satisfy_the_strictest_policy() {
    let strictest = PasswordPolicy {
        min_length: 16,
        require_classes: 4,
        ..PasswordPolicy::default()
    };

    for _ in 0..100 {
        let password = temporary_password();
        assert_eq!(
            strictest.check(&password, &PolicyContext::default()),
            Ok(())
        );
    }
}

#[test]
fn the_default_policy_follows_nist() {
    let policy = PasswordPolicy::default();

    assert_eq!(policy.min_length, 12);
    assert_eq!(policy.require_classes, 0);
    assert_eq!(policy.reuse_last, 5);
    assert_eq!(policy.expires_after_days, None);
    assert_eq!(
        policy.check(&Password::new("tangerine orbit"), &PolicyContext::default()),
        Ok(())
    );
}

fn problems(policy: &PasswordPolicy, candidate: &str, context: &PolicyContext<'_>) -> Vec<String> {
    policy
        .check(&Password::new(candidate), context)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn each_rule_names_itself() {
    let policy = PasswordPolicy {
        require_classes: 3,
        ..PasswordPolicy::default()
    };
    let none = PolicyContext::default();

    let short = problems(&policy, "Ab1!", &none);
    let long = problems(&policy, &"Ab1!".repeat(40), &none);
    let classes = problems(&policy, "tangerineorbit", &none);
    let common = problems(&PasswordPolicy::default(), "Password2024!", &none);

    assert!(short[0].contains("too short") && short[0].contains("`min_length`"));
    assert!(long[0].contains("too long"));
    assert!(classes[0].contains("uses 1 of") && classes[0].contains("`require_classes`"));
    assert_eq!(
        PasswordPolicy::default()
            .check(&Password::new("Password2024!"), &none)
            .unwrap_err(),
        vec![PolicyProblem::Common]
    );
    assert!(common[0].contains("`common_passwords`"));
}

#[test]
fn common_passwords_are_refused_whatever_their_case() {
    let policy = PasswordPolicy {
        min_length: 8,
        ..PasswordPolicy::default()
    };

    for candidate in [
        "password",
        "QWERTYUIOP",
        "Iloveyou123",
        "trustno1",
        "1qaz2wsx3edc",
    ] {
        assert_eq!(
            policy.check(&Password::new(candidate), &PolicyContext::default()),
            Err(vec![PolicyProblem::Common]),
            "{candidate}"
        );
    }
}

#[test]
fn the_email_or_name_is_refused_ignoring_case() {
    let policy = PasswordPolicy::default();
    let context = PolicyContext {
        email: Some("Margaret.Hamilton@clinic.example"),
        name: Some("Margaret Hamilton"),
    };

    for candidate in [
        "margaret.hamilton@clinic.example",
        "MARGARET.HAMILTON",
        "margaret hamilton",
        "MargaretHamilton",
    ] {
        let found = problems(&policy, candidate, &context);
        assert_eq!(found.len(), 1, "{candidate}: {found:?}");
        assert!(found[0].contains("`personal_information`"));
    }
    assert_eq!(
        policy.check(&Password::new("margaret's garden gate"), &context),
        Ok(())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn any_of_the_last_n_passwords_counts_as_reuse() {
    let hasher = cheap(2);
    let policy = PasswordPolicy {
        reuse_last: 2,
        ..PasswordPolicy::default()
    };
    // Newest first.
    let mut previous = Vec::new();
    for old in [
        "third harbor lantern",
        "second harbor lantern",
        "first harbor lantern",
    ] {
        previous.push(hasher.hash(&Password::new(old)).await.unwrap());
    }

    let newest = Password::new("third harbor lantern");
    let second = Password::new("second harbor lantern");
    let beyond = Password::new("first harbor lantern");
    let fresh = Password::new("a brand new lantern");

    assert!(!policy
        .not_reused(&hasher, &newest, &previous)
        .await
        .unwrap());
    assert!(!policy
        .not_reused(&hasher, &second, &previous)
        .await
        .unwrap());
    assert!(policy
        .not_reused(&hasher, &beyond, &previous)
        .await
        .unwrap());
    assert!(policy.not_reused(&hasher, &fresh, &previous).await.unwrap());
}

#[test]
fn expiry_applies_only_when_configured() {
    let changed = OffsetDateTime::UNIX_EPOCH;
    let later = changed + Duration::days(90);
    let ninety = PasswordPolicy {
        expires_after_days: Some(90),
        ..PasswordPolicy::default()
    };

    assert!(!PasswordPolicy::default().is_expired(changed, later));
    assert!(ninety.is_expired(changed, later));
    assert!(!ninety.is_expired(changed, later - Duration::seconds(1)));
}

#[test]
fn policies_round_trip_through_json_with_defaults_for_missing_fields() {
    let policy = PasswordPolicy {
        min_length: 14,
        require_classes: 3,
        reuse_last: 10,
        expires_after_days: Some(90),
    };

    let json = serde_json::to_string(&policy).unwrap();
    let back: PasswordPolicy = serde_json::from_str(&json).unwrap();
    let partial: PasswordPolicy = serde_json::from_str(r#"{"min_length": 16}"#).unwrap();

    assert_eq!(back, policy);
    assert_eq!(
        partial,
        PasswordPolicy {
            min_length: 16,
            ..PasswordPolicy::default()
        }
    );
}

#[test]
fn out_of_range_policy_fields_are_named() {
    for (json, field) in [
        (r#"{"min_length": 7}"#, "min_length"),
        (r#"{"min_length": 129}"#, "min_length"),
        (r#"{"require_classes": 5}"#, "require_classes"),
        (r#"{"reuse_last": 25}"#, "reuse_last"),
        (r#"{"expires_after_days": 0}"#, "expires_after_days"),
        (r#"{"min_lenght": 12}"#, "min_lenght"),
    ] {
        let error = serde_json::from_str::<PasswordPolicy>(json).unwrap_err();
        assert!(error.to_string().contains(field), "{json}: {error}");
    }
    let direct = PasswordPolicy {
        min_length: 4,
        ..PasswordPolicy::default()
    };
    assert!(matches!(
        direct.validate(),
        Err(PasswordError::InvalidPolicy {
            field: "min_length",
            ..
        })
    ));
}

/// Parts of the secret long enough that finding one would be a leak.
fn fragments(secret: &str) -> Vec<&str> {
    (0..=secret.len() - 4).map(|i| &secret[i..i + 4]).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_never_appears_in_debug_display_or_errors() {
    let secret = "Zq7-vault-Kx9-secret";
    let password = Password::new(secret);
    let hasher = cheap(1);
    let phc = hasher.hash(&Password::new("another one")).await.unwrap();
    let strict = PasswordPolicy {
        require_classes: 4,
        min_length: 40,
        ..PasswordPolicy::default()
    };

    let mut shown = vec![
        format!("{password:?}"),
        format!("{password}"),
        format!("{:?}", Some(&password)),
        format!("{hasher:?}"),
    ];
    let mismatch = hasher.verify(&password, &phc).await.unwrap_err();
    let malformed = hasher.verify(&password, "$argon2id$bad").await.unwrap_err();
    for error in [mismatch, malformed] {
        shown.push(error.to_string());
        shown.push(format!("{error:?}"));
    }
    for problem in strict
        .check(&password, &PolicyContext::default())
        .unwrap_err()
    {
        shown.push(problem.to_string());
        shown.push(format!("{problem:?}"));
    }

    assert_eq!(format!("{password:?}"), "***");
    assert_eq!(format!("{password}"), "***");
    for text in &shown {
        for fragment in fragments(secret) {
            // Report which output leaked without printing the secret.
            assert!(
                !text.contains(fragment),
                "a secret fragment leaked into output #{}",
                shown.iter().position(|t| t == text).unwrap_or(0)
            );
        }
    }
}

#[test]
fn a_password_deserializes_from_a_json_string() {
    let password: Password = serde_json::from_str(r#""tangerine orbit""#).unwrap();

    assert_eq!(password.expose(), "tangerine orbit");
}

/// One hash with the production parameters. Run with
/// `cargo test --release -p rolecall-server --test passwords -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check"]
async fn measure_the_production_cost() {
    let hasher = Hasher::new();
    let password = Password::new("correct horse battery staple");
    let phc = hasher.hash(&password).await.unwrap();

    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        hasher.verify(&password, &phc).await.unwrap();
    }

    println!(
        "argon2id m=19456 t=2 p=1: {:.1} ms per verification",
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
    );
}
