//! Signing in and sessions.
