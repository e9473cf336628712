#![allow(clippy::unwrap_used, clippy::expect_used)]
//! TOTP codes and recovery codes.

use rolecall_server::mfa::{
    current_code, generate_recovery_codes, hash_recovery_code, otpauth_url, use_recovery_code,
    verify_code, MfaError, TotpSecret, RECOVERY_ALPHABET, RECOVERY_CODE_COUNT, STEP_SECONDS,
};

/// 2023-11-14T22:13:20Z, 20 seconds into step 56_666_666.
const NOW: u64 = 1_700_000_000;
const NOW_STEP: i64 = 56_666_666;

/// RFC 6238 appendix B's SHA-1 seed, the ASCII "12345678901234567890".
const RFC_SEED_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The code an authenticator shows `steps` steps from [`NOW`].
fn code_steps_from_now(secret: &TotpSecret, steps: i64) -> String {
    let seconds = NOW.checked_add_signed(steps * STEP_SECONDS as i64).unwrap();
    current_code(secret, seconds)
}

#[test]
fn the_current_code_verifies_and_returns_its_step() {
    let secret = TotpSecret::generate();
    let code = current_code(&secret, NOW);

    let step = verify_code(&secret, &code, NOW, None);

    assert_eq!(code.len(), 6);
    assert_eq!(step, Ok(NOW_STEP));
}

#[test]
fn the_codes_one_step_either_side_verify_for_clock_drift() {
    let secret = TotpSecret::generate();

    let previous = verify_code(&secret, &code_steps_from_now(&secret, -1), NOW, None);
    let next = verify_code(&secret, &code_steps_from_now(&secret, 1), NOW, None);

    assert_eq!(previous, Ok(NOW_STEP - 1));
    assert_eq!(next, Ok(NOW_STEP + 1));
}

#[test]
fn codes_two_steps_away_are_wrong() {
    let secret = TotpSecret::generate();
    let near: Vec<String> = (-1..=1)
        .map(|steps| code_steps_from_now(&secret, steps))
        .collect();

    for steps in [-2, 2] {
        let far = code_steps_from_now(&secret, steps);
        // One chance in a million that a far step shares a near step's code.
        if near.contains(&far) {
            continue;
        }
        assert_eq!(verify_code(&secret, &far, NOW, None), Err(MfaError::Wrong));
    }
}

#[test]
fn a_code_works_once() {
    let secret = TotpSecret::generate();
    let code = current_code(&secret, NOW);
    let step = verify_code(&secret, &code, NOW, None).unwrap();

    let again = verify_code(&secret, &code, NOW + 5, Some(step));

    assert_eq!(again, Err(MfaError::Reused));
}

#[test]
fn an_earlier_step_is_refused_after_a_later_one_was_used_but_the_next_step_works() {
    let secret = TotpSecret::generate();
    let step = verify_code(&secret, &current_code(&secret, NOW), NOW, None).unwrap();

    let previous = verify_code(&secret, &code_steps_from_now(&secret, -1), NOW, Some(step));
    let next = verify_code(&secret, &code_steps_from_now(&secret, 1), NOW, Some(step));

    // Unless the two steps happen to share a code (one in a million).
    if code_steps_from_now(&secret, -1) != current_code(&secret, NOW) {
        assert_eq!(previous, Err(MfaError::Reused));
    }
    assert_eq!(next, Ok(NOW_STEP + 1));
}

#[test]
fn codes_that_are_not_six_digits_are_malformed() {
    let secret = TotpSecret::generate();

    for typed in [
        "12345",
        "abcdef",
        "1234567",
        "",
        "12a456",
        "123-456",
        "１２３４５６",
    ] {
        assert_eq!(
            verify_code(&secret, typed, NOW, None),
            Err(MfaError::Malformed),
            "{typed:?}"
        );
    }
}

#[test]
fn a_wrong_code_is_wrong() {
    let secret = TotpSecret::generate();
    let near: Vec<String> = (-1..=1)
        .map(|steps| code_steps_from_now(&secret, steps))
        .collect();
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|candidate| !near.contains(candidate))
        .unwrap();

    assert_eq!(
        verify_code(&secret, &wrong, NOW, None),
        Err(MfaError::Wrong)
    );
}

#[test]
fn spaces_in_the_typed_code_are_ignored() {
    let secret = TotpSecret::generate();
    let code = current_code(&secret, NOW);
    let (first, second) = code.split_at(3);

    for typed in [
        format!("{first} {second}"),
        format!(" {code} "),
        format!("{first}\t{second}\n"),
    ] {
        assert_eq!(
            verify_code(&secret, &typed, NOW, None),
            Ok(NOW_STEP),
            "{typed:?}"
        );
    }
}

#[test]
fn the_first_step_after_the_epoch_verifies() {
    let secret = TotpSecret::generate();

    let step = verify_code(&secret, &current_code(&secret, 10), 10, None);

    assert_eq!(step, Ok(0));
}

#[test]
fn codes_match_the_rfc_6238_sha1_test_vectors() {
    // RFC 6238 appendix B gives 8-digit values; a 6-digit code is their last
    // six digits.
    let secret = TotpSecret::from_base32(RFC_SEED_BASE32).unwrap();

    for (time, eight_digits) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(current_code(&secret, time), eight_digits[2..], "T = {time}");
    }
    assert_eq!(current_code(&secret, 59), "287082");
}

#[test]
fn generated_secrets_are_160_bits_and_round_trip_through_base32() {
    let secret = TotpSecret::generate();
    let other = TotpSecret::generate();

    let stored = secret.base32().to_owned();
    let loaded = TotpSecret::from_base32(&stored).unwrap();

    // 160 bits are 32 base32 characters without padding.
    assert_eq!(stored.len(), 32);
    assert!(stored
        .chars()
        .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
    assert_ne!(stored, other.base32());
    assert_eq!(loaded.base32(), stored);
    assert_eq!(current_code(&loaded, NOW), current_code(&secret, NOW));
}

#[test]
fn a_secret_typed_in_lowercase_or_with_padding_is_read_canonically() {
    let lower = TotpSecret::from_base32(&RFC_SEED_BASE32.to_lowercase()).unwrap();
    let padded = TotpSecret::from_base32(&format!(" {RFC_SEED_BASE32}==== ")).unwrap();

    assert_eq!(lower.base32(), RFC_SEED_BASE32);
    assert_eq!(padded.base32(), RFC_SEED_BASE32);
}

#[test]
fn secrets_that_are_not_base32_or_too_short_are_refused() {
    // "GEZDGNBVGY3TQOJQ" is 80 bits, under the 128-bit minimum.
    for stored in [
        "",
        "   ",
        "not base32 at all!",
        "GEZDGNBVGY3TQOJQ",
        "GEZDGNBVGY3TQOJ1",
    ] {
        assert_eq!(
            TotpSecret::from_base32(stored).map(|_| ()),
            Err(MfaError::BadSecret),
            "{stored:?}"
        );
    }
}

#[test]
fn the_otpauth_url_names_the_issuer_the_account_and_the_secret() {
    let secret = TotpSecret::generate();

    let url = otpauth_url(&secret, "rolecall", "alice+mfa@example.com");

    assert!(
        url.starts_with("otpauth://totp/rolecall:alice%2Bmfa%40example.com?"),
        "{url}"
    );
    assert!(
        url.contains(&format!("secret={}", secret.base32())),
        "{url}"
    );
    assert!(url.contains("issuer=rolecall"), "{url}");
}

#[test]
fn an_authenticator_reading_the_otpauth_url_shows_the_same_codes() {
    let secret = TotpSecret::generate();
    let url = otpauth_url(&secret, "rolecall", "alice@example.com");

    let app = totp_rs::TOTP::from_url(&url).unwrap();

    assert_eq!(app.digits, 6);
    assert_eq!(app.step, 30);
    assert_eq!(app.algorithm, totp_rs::Algorithm::SHA1);
    assert_eq!(app.account_name, "alice@example.com");
    assert_eq!(app.issuer.as_deref(), Some("rolecall"));
    assert_eq!(app.generate(NOW), current_code(&secret, NOW));
}

#[test]
fn the_debug_output_of_a_secret_hides_it() {
    let secret = TotpSecret::generate();

    let printed = format!("{secret:?}");

    assert_eq!(printed, "TotpSecret(***)");
    assert!(!printed.contains(secret.base32()));
}

#[test]
fn error_messages_name_the_problem() {
    assert_eq!(MfaError::Malformed.to_string(), "the code must be 6 digits");
    assert_eq!(MfaError::Wrong.to_string(), "the code is not valid");
    assert_eq!(
        MfaError::Reused.to_string(),
        "this code was already used; wait for the next one"
    );
    assert!(MfaError::BadSecret.to_string().contains("secret"));
}

#[test]
fn ten_distinct_recovery_codes_are_generated_with_their_hashes() {
    let (codes, hashes) = generate_recovery_codes();
    let (other_codes, _) = generate_recovery_codes();

    assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
    assert_eq!(hashes.len(), RECOVERY_CODE_COUNT);
    let mut distinct = codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), RECOVERY_CODE_COUNT);
    for (code, hash) in codes.iter().zip(&hashes) {
        let (first, rest) = code.split_at(5);
        assert_eq!(code.len(), 11, "{code}");
        assert!(rest.starts_with('-'), "{code}");
        assert!(
            first
                .chars()
                .chain(rest[1..].chars())
                .all(|c| RECOVERY_ALPHABET.contains(c)),
            "{code}"
        );
        assert_eq!(hash, &hash_recovery_code(code));
        assert_eq!(hash.len(), 64);
        assert!(hash
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(!other_codes.contains(code));
    }
}

#[test]
fn the_recovery_alphabet_leaves_out_misreadable_characters() {
    for confusable in ['0', 'o', '1', 'l', 'i'] {
        assert!(!RECOVERY_ALPHABET.contains(confusable), "{confusable}");
    }
    assert!(RECOVERY_ALPHABET
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
}

#[test]
fn each_recovery_code_works_exactly_once() {
    let (codes, mut stored) = generate_recovery_codes();

    for (used, code) in codes.iter().enumerate() {
        let remaining = use_recovery_code(&stored, code).unwrap();

        assert_eq!(remaining.len(), RECOVERY_CODE_COUNT - used - 1);
        assert!(!remaining.contains(&hash_recovery_code(code)));
        assert_eq!(use_recovery_code(&remaining, code), None);
        stored = remaining;
    }
    assert!(stored.is_empty());
}

#[test]
fn recovery_codes_typed_in_upper_case_without_the_dash_or_with_spaces_work() {
    let (codes, stored) = generate_recovery_codes();
    let without_dash = codes[0].replace('-', "").to_uppercase();
    let spaced = format!("  {}  ", codes[1].replace('-', " ").to_uppercase());

    let after_first = use_recovery_code(&stored, &without_dash).unwrap();
    let after_second = use_recovery_code(&after_first, &spaced).unwrap();

    assert_eq!(after_second, stored[2..].to_vec());
}

#[test]
fn an_unknown_recovery_code_is_refused() {
    let (codes, stored) = generate_recovery_codes();
    let unknown = "aaaaa-aaaaa";
    assert!(!codes.iter().any(|code| code == unknown));

    assert_eq!(use_recovery_code(&stored, unknown), None);
    assert_eq!(use_recovery_code(&stored, ""), None);
    assert_eq!(use_recovery_code(&[], &codes[0]), None);
}
