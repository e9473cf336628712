//! Replaying a fuzz target's corpus: every file of a directory, kept
//! because it once found a bug or seeds the search, checked on every run.

use std::path::Path;

/// Runs `check` on the bytes of every file in `dir` (relative to the
/// crate's directory, `manifest_dir`) and fails naming each file it refuses;
/// an empty corpus fails too.
pub fn replay(manifest_dir: &str, dir: &str, mut check: impl FnMut(&[u8]) -> Result<(), String>) {
    let dir = Path::new(manifest_dir).join(dir);
    let mut failures = Vec::new();
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        replayed += 1;
        if let Err(why) = check(&bytes) {
            failures.push(format!("{}: {why}", path.display()));
        }
    }
    assert!(replayed > 0, "the corpus {} is empty", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
