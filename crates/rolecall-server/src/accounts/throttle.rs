//! Throttling failed sign-ins per source address.
