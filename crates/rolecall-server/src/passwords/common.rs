//! The embedded list of the most commonly used passwords.

/// One entry a line; lines starting with `#` say where the list comes from.
const LIST: &str = include_str!("common.txt");

/// Whether `plain` is a common password, ignoring case, or one followed only
/// by digits and symbols: people satisfy a length rule with `password2024!`.
pub(super) fn is_common(plain: &str) -> bool {
    let lower = plain.to_lowercase();
    let base = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    entries().any(|entry| entry == lower || (!base.is_empty() && entry == base))
}

fn entries() -> impl Iterator<Item = &'static str> {
    LIST.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}
