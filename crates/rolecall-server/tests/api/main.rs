//! The HTTP API end to end: the real router on a loopback port, over a
//! fresh SQLite file and, when `ROLECALL_TEST_POSTGRES_URL` names a server,
//! a fresh PostgreSQL database per test. One binary, one module per
//! behaviour; every test runs once per backend (`name::sqlite`,
//! `name::postgres`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod backend;
mod document;
mod helpers;
mod reply;

mod admin_rules;
mod anonymous;
mod audit;
mod bad_input;
mod bodies;
mod bulk;
mod challenges;
mod checks;
mod concurrency;
mod console_routes;
mod csv_downloads;
mod faults;
mod fuzz_bodies;
mod group_creators;
mod isolation;
mod newcomer;
mod person_rule;
mod replicas;
mod route_table;
mod surface;
mod taking_away;
mod tokens;
mod users;
