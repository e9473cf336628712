//! Temporary passwords, password changes and reset links.
