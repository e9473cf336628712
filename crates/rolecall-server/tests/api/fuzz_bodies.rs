//! Hostile JSON to every route of the router's table that takes a body:
//! the route's example body (from `bodies.rs`) with values of the wrong
//! type, fields missing and extra, huge strings, deep nesting, unicode,
//! nulls, numbers out of range and data after it, sent to a real app. The
//! answer is never a 5xx; every error is problem+json with a stable type
//! and says what is wrong (a 422 names each wrong field); and a refused
//! request changes nothing: the revision, the outbox and the audit log
//! are as before.
//!
//! `PROPTEST_CASES` sets the cases per route (32 by default, for `cargo
//! test`; `scripts/fuzz.sh` tries thousands). Every file of
//! `tests/corpus/bodies/` is replayed on every run: its first line is the
//! route (`POST /v1/orgs`), the rest the body, byte for byte.

#[path = "../../../rolecall-model/tests/support/corpus.rs"]
mod corpus;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use rolecall_server::http::route_table;
use rolecall_store::{AuditQuery, Outcome};
use serde_json::Value;

use crate::bodies::{example, send_raw};
use crate::document::{operations, sample_world, Operation, Session};
use crate::helpers::{spawn_app, Backend, Reply, TestApp};

/// Values that break parsers and validators, written as JSON text.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(HOSTILE).prop_map(str::to_owned),
        2 => prop::sample::select(WORDS).prop_map(|w| format!("\"{w}\"")),
        1 => (1usize..100_000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        1 => (1usize..2_000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        1 => (1usize..2_000).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
        1 => (1usize..5_000).prop_map(|n| format!("[{}]", vec!["\"web.messages\""; n].join(","))),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|f| serde_json::to_string(&f).unwrap_or_default()),
        2 => any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
    ]
}

/// A string, as JSON text.
fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(|w| format!("\"{w}\"")),
        1 => (1usize..100_000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        1 => Just("\"\"".to_owned()),
        1 => Just("\"\\u0000\"".to_owned()),
        1 => Just("\"\\ud800\"".to_owned()),
        1 => Just("\"\u{202e}🦀e\u{301}\"".to_owned()),
        2 => any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
    ]
}

/// A number, as JSON text: in range and out of it.
fn number_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(NUMBERS).prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
    ]
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "4294967296",
    "1.5",
    "-0",
];

const HOSTILE: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\"",
    "\" \"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udfff\\ud800\"",
    "\"\u{202e}\u{feff}🦀e\u{301}\"",
    "\"\\n\\r\\t\"",
    "\"\\u001b[31m\"",
    "[]",
    "{}",
    "[null]",
    "[\"\"]",
    "{\"\":null}",
    "[1,\"a\",null,{}]",
];

/// Ids and values of the sample world and the catalog, so that a mutation
/// can get past "unknown" into deeper checks.
const WORDS: &[&str] = &[
    "acme",
    "staff",
    "sam",
    "emp",
    "front-desk",
    "web.front_desk",
    "web.messages",
    "web.messages:own",
    "web.view_notes:own",
    "web.system_admin",
    "web.office_staff",
    "emr.edit_users",
    "web.billing",
    "revserve",
    "disabled",
    "active",
    "invited",
    "provider",
    "edit_own",
    "partner_rcm",
    "staff@acme.test",
    "sam@acme.test",
    "rc_reset-nope",
    "123456",
    "UPPER",
    "a b",
    "..",
    "-",
];

/// What may be written after a body.
const TRAILING: &[&str] = &[" x", "{}", "[]", "\n0", "\"t\"", " null", ",", "}", "\u{0}"];

/// One edit of a JSON body.
#[derive(Debug, Clone)]
enum JsonEdit {
    /// Replace a value (any node, the whole body too).
    Replace(Index, String),
    /// Replace a value by one of its own type, so that the body still
    /// parses and the handler's own checks see it: a string by another
    /// (the first), a number by another (the second), an array by an array
    /// of the string, a boolean by the other.
    Similar(Index, String, String),
    /// Remove a field of an object.
    Remove(Index),
    /// Add a field to an object (a name it has already, or another).
    Add(Index, Option<Index>, String),
    /// Write something after the body.
    Trail(&'static str),
    /// Cut the text short.
    Truncate(Index),
    /// Put bytes that are not UTF-8 in the text.
    NotUtf8(Index),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        6 => (any::<Index>(), hostile_value()).prop_map(|(i, v)| JsonEdit::Replace(i, v)),
        8 => (any::<Index>(), string_value(), number_value())
            .prop_map(|(i, s, n)| JsonEdit::Similar(i, s, n)),
        2 => any::<Index>().prop_map(JsonEdit::Remove),
        2 => (any::<Index>(), prop::option::of(any::<Index>()), hostile_value())
            .prop_map(|(i, k, v)| JsonEdit::Add(i, k, v)),
        1 => prop::sample::select(TRAILING).prop_map(JsonEdit::Trail),
        1 => any::<Index>().prop_map(JsonEdit::Truncate),
        1 => any::<Index>().prop_map(JsonEdit::NotUtf8),
    ]
}

/// Marks where raw text goes in a serialized body.
const HOLE: &str = "☃hole☃";

/// Every node of a value, by JSON pointer, the root first.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The body with `edits` applied, as bytes.
fn mutate(body: &Value, edits: &[JsonEdit]) -> Vec<u8> {
    let mut value = body.clone();
    let mut holes: Vec<String> = Vec::new();
    let mut after: Vec<&JsonEdit> = Vec::new();
    for edit in edits {
        let mut nodes = Vec::new();
        pointers(&value, String::new(), &mut nodes);
        match edit {
            JsonEdit::Replace(i, raw) => {
                let pointer = &nodes[i.index(nodes.len())];
                let hole = Value::String(format!("{HOLE}{}", holes.len()));
                holes.push(raw.clone());
                if pointer.is_empty() {
                    value = hole;
                } else if let Some(node) = value.pointer_mut(pointer) {
                    *node = hole;
                }
            }
            JsonEdit::Similar(i, string, number) => {
                let pointer = &nodes[i.index(nodes.len())];
                let raw = match value.pointer(pointer) {
                    Some(Value::String(_)) => string.clone(),
                    Some(Value::Number(_)) => number.clone(),
                    Some(Value::Array(_)) => format!("[{string}]"),
                    Some(Value::Bool(b)) => (!b).to_string(),
                    _ => continue,
                };
                let hole = Value::String(format!("{HOLE}{}", holes.len()));
                holes.push(raw);
                if pointer.is_empty() {
                    value = hole;
                } else if let Some(node) = value.pointer_mut(pointer) {
                    *node = hole;
                }
            }
            JsonEdit::Remove(i) => {
                let pointer = &nodes[i.index(nodes.len())];
                if let Some((parent, key)) = pointer.rsplit_once('/') {
                    if let Some(Value::Object(map)) = value.pointer_mut(parent) {
                        map.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                }
            }
            JsonEdit::Add(i, key, raw) => {
                let pointer = nodes[i.index(nodes.len())].clone();
                let hole = format!("{HOLE}{}", holes.len());
                holes.push(raw.clone());
                if let Some(Value::Object(map)) = value.pointer_mut(&pointer) {
                    let name = match key {
                        // A name the object has: written a second time below.
                        Some(k) if !map.is_empty() => {
                            let name = map.keys().nth(k.index(map.len())).cloned();
                            name.map(|n| format!("{n}{HOLE}dup"))
                        }
                        _ => Some("unexpected".to_owned()),
                    };
                    if let Some(name) = name {
                        map.insert(name, Value::String(hole));
                    }
                }
            }
            other => after.push(other),
        }
    }
    let mut text = serde_json::to_string(&value).unwrap();
    text = text.replace(&format!("{HOLE}dup"), "");
    for (n, raw) in holes.iter().enumerate().rev() {
        text = text.replace(&format!("\"{HOLE}{n}\""), raw);
    }
    let mut bytes = text.into_bytes();
    for edit in after {
        match edit {
            JsonEdit::Trail(tail) => bytes.extend_from_slice(tail.as_bytes()),
            JsonEdit::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
            JsonEdit::NotUtf8(i) => {
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, [0xff, 0xc3, 0x28]);
            }
            _ => {}
        }
    }
    bytes
}

/// What a refused request must leave as it was: the revision, the outbox
/// and the audit log's records of what happened (the newest one's number).
/// A refusal may add records of a failed attempt: a wrong password is
/// audited, and counts towards a lockout.
async fn state(app: &TestApp) -> (i64, usize, Option<i64>) {
    let store = app.service.store();
    let newest_success = AuditQuery {
        outcome: Some(Outcome::Success),
        limit: 1,
        ..AuditQuery::default()
    };
    (
        store.head().await.unwrap(),
        store.unsent_emails().await.unwrap().len(),
        store
            .audit(&newest_success)
            .await
            .unwrap()
            .first()
            .map(|r| r.seq),
    )
}

/// The properties of one answer. `Err` says which one failed.
fn answer_properties(reply: &Reply) -> Result<(), String> {
    let shown = || {
        let mut text = reply.text.clone();
        text.truncate(300);
        format!("{} answered {}: {text}", reply.request, reply.status)
    };
    if reply.status >= 500 {
        return Err(format!("a server error: {}", shown()));
    }
    if reply.status < 400 {
        return Ok(());
    }
    let body = &reply.body;
    let problem = reply.content_type().starts_with("application/problem+json")
        && body["status"] == reply.status
        && body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://rolecall.dev/problems/"))
        && body["title"].as_str().is_some_and(|t| !t.is_empty());
    if !problem {
        return Err(format!("not a problem document: {}", shown()));
    }
    if body["detail"].as_str().is_none_or(|d| d.trim().is_empty()) {
        return Err(format!(
            "a problem that does not say what is wrong: {}",
            shown()
        ));
    }
    if reply.status == 422 {
        let named = body["errors"].as_array().is_some_and(|errors| {
            !errors.is_empty()
                && errors.iter().all(|e| {
                    e["field"].as_str().is_some_and(|f| !f.is_empty())
                        && e["message"].as_str().is_some_and(|m| !m.trim().is_empty())
                })
        });
        if !named {
            return Err(format!("a 422 that names no field: {}", shown()));
        }
    }
    Ok(())
}

/// Sends `bytes` to `operation` and checks the answer and, when it is a
/// refusal, that nothing changed.
async fn probe(
    app: &TestApp,
    session: &Session,
    operation: &Operation,
    bytes: Vec<u8>,
) -> Result<(), String> {
    let before = state(app).await;
    let reply = send_raw(app, session, operation, "*", bytes).await;
    answer_properties(&reply)?;
    if reply.status >= 400 && state(app).await != before {
        return Err(format!(
            "{} was refused with {} but changed something: {}",
            reply.request, reply.status, reply.text
        ));
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32)
}

/// A running app with the sample world, and the operations of the route
/// table that take a JSON body.
struct Target {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
    session: Session,
    policy: Value,
    routes: Vec<Operation>,
}

fn target() -> Target {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, session, policy, documented) = runtime.block_on(async {
        let app = spawn_app(&Backend::Sqlite).await;
        let session = sample_world(&app).await;
        let (_, documented) = operations(&app).await;
        let policy = app
            .get(&app.operator, "/v1/orgs/acme/security-policy")
            .await
            .expect(200)
            .body;
        (app, session, policy, documented)
    });
    let mut routes = Vec::new();
    for route in route_table() {
        if !matches!(route.method.as_str(), "POST" | "PUT" | "DELETE") {
            continue;
        }
        let template = format!("/v1{}", route.path);
        let operation = documented
            .iter()
            .find(|o| o.method.as_str() == route.method.as_str() && o.template == template)
            .unwrap_or_else(|| panic!("{} {template} is not in the document", route.method));
        if operation.has_json_body() {
            routes.push(operation.clone());
        }
    }
    assert!(routes.len() >= 25, "{} routes take a body", routes.len());
    Target {
        runtime,
        app,
        session,
        policy,
        routes,
    }
}

#[test]
fn every_json_body_mutated_gets_no_5xx_a_problem_naming_the_field_and_no_change_when_refused() {
    let Target {
        runtime,
        app,
        session,
        policy,
        routes,
    } = target();
    let mut failures = Vec::new();
    for operation in &routes {
        let mut body = example(operation, &policy);
        if operation.name() == "POST /v1/orgs/{org}/groups" {
            // As the operator sends it: someone must create the group.
            body["created_by"] = "staff".into();
        }
        let mut runner = TestRunner::new(Config {
            cases: cases(),
            max_shrink_iters: 200,
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
                "proptest-regressions",
            ))),
            source_file: Some(file!()),
            ..Config::default()
        });
        let strategy = prop::collection::vec(json_edit(), 1..5);
        let result = runner.run(&strategy, |edits| {
            let bytes = mutate(&body, &edits);
            runtime
                .block_on(probe(&app, &session, operation, bytes))
                .map_err(TestCaseError::fail)
        });
        if let Err(error) = result {
            failures.push(format!("{}: {error}", operation.name()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_body_of_the_corpus_gets_no_5xx_a_problem_naming_the_field_and_no_change_when_refused() {
    let Target {
        runtime,
        app,
        session,
        routes,
        ..
    } = target();
    corpus::replay(env!("CARGO_MANIFEST_DIR"), "tests/corpus/bodies", |bytes| {
        let newline = bytes
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        let first = String::from_utf8_lossy(&bytes[..newline]).trim().to_owned();
        let body = bytes.get(newline + 1..).unwrap_or_default().to_vec();
        let Some(operation) = routes.iter().find(|o| o.name() == first) else {
            return Err(format!("no route `{first}` takes a body"));
        };
        runtime.block_on(probe(&app, &session, operation, body))
    });
}
