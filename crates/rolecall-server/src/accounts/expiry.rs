//! Roles and grants that end: the sweep that removes them on time.
