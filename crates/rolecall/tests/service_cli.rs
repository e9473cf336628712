//! The service commands (`init`, `token create`, `token list`, `token
//! revoke`, `check`, `audit verify`, `serve`) and the demo, on a temporary
//! SQLite database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use rolecall_model::Catalog;
use rolecall_server::demo::{self, Demo, Presence};
use rolecall_server::ops::check::{self, CheckRequest};
use rolecall_server::{Principal, Service};
use rolecall_store::{AuditQuery, Store};
use tempfile::TempDir;

mod common;

use common::{rolecall, Output};

/// A fresh database file in its own directory, removed at the end.
struct Database {
    _dir: TempDir,
    path: PathBuf,
}

impl Database {
    fn new() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rolecall.db");
        Database { _dir: dir, path }
    }

    fn url(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// Runs a command with `--database` pointing here.
    fn run(&self, args: &[&str]) -> Output {
        let mut args = args.to_vec();
        args.extend(["--database", self.url()]);
        rolecall(&args)
    }

    async fn service(&self) -> Arc<Service> {
        let store = Store::open_with_key(self.url(), common::audit_key(self.url()))
            .await
            .unwrap();
        Service::open(store, Arc::new(Catalog::default_catalog()))
            .await
            .unwrap()
    }

    /// Loads the demo, from outside any runtime (the commands start their own).
    fn with_demo(self) -> Database {
        runtime().block_on(async {
            let service = self.service().await;
            demo::load(&service).await.unwrap();
            service.store().close().await;
        });
        self
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn init_prints_the_first_operator_token_and_refuses_a_second_time() {
    let db = Database::new();

    let first = db.run(&["init", "--json"]);
    let second = db.run(&["init", "--json"]);

    assert_eq!(first.code, 0, "{}", first.err);
    let body = json(&first.out);
    assert_eq!(body.as_object().unwrap().len(), 1, "only `operator_token`");
    assert!(body["operator_token"].as_str().unwrap().starts_with("rc_"));
    assert_eq!(second.code, 2);
    assert!(second.out.is_empty());
    assert!(second.err.contains("already initialized"), "{}", second.err);
    // Nothing was written by the refused init: one audit record, the first token.
    assert_eq!(
        db.run(&["audit", "verify"]).out,
        "audit log intact: 1 records, 1 changes, state tables compared with the change log\n"
    );
}

#[test]
fn init_in_text_says_what_the_token_is_and_how_to_use_it() {
    let db = Database::new();

    let output = db.run(&["init"]);

    assert_eq!(output.code, 0, "{}", output.err);
    assert!(output.out.contains("Operator token"));
    assert!(output.out.contains("shown only this once"));
    assert!(output.out.contains("curl -H \"Authorization: Bearer rc_"));
    assert!(output.out.contains("http://127.0.0.1:8080/v1/orgs"));
}

#[test]
fn token_create_issues_operator_and_user_tokens() {
    let db = Database::new().with_demo();

    let operator = db.run(&["token", "create", "--operator", "--json"]);
    let user = db.run(&[
        "token",
        "create",
        "--org",
        "acme",
        "--user",
        "bob",
        "--name",
        "billing robot",
        "--expires-in-days",
        "30",
        "--json",
    ]);

    assert_eq!(operator.code, 0, "{}", operator.err);
    let body = json(&operator.out);
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("tok-"));
    assert!(body["token"]
        .as_str()
        .unwrap()
        .starts_with(&format!("rc_{id}_")));
    assert_eq!(user.code, 0, "{}", user.err);
    assert!(json(&user.out)["token"]
        .as_str()
        .unwrap()
        .starts_with("rc_"));
}

#[test]
fn token_create_refuses_what_cannot_be_issued() {
    let db = Database::new().with_demo();

    let nobody = db.run(&["token", "create"]);
    let invited = db.run(&["token", "create", "--org", "acme-south", "--user", "judy"]);
    let expiring_operator = db.run(&["token", "create", "--operator", "--expires-in-days", "1"]);

    assert_eq!(nobody.code, 2);
    assert!(nobody.err.contains("--operator"), "{}", nobody.err);
    assert_eq!(invited.code, 2);
    assert!(
        invited
            .err
            .contains("`judy` is not an active user of `acme-south`"),
        "{}",
        invited.err
    );
    assert_eq!(expiring_operator.code, 2);
    assert!(expiring_operator.out.is_empty());
}

#[test]
fn token_list_shows_no_secret_and_token_revoke_ends_one_token_at_once() {
    // Arrange
    let db = Database::new().with_demo();
    let created = db.run(&[
        "token",
        "create",
        "--org",
        "acme",
        "--user",
        "bob",
        "--name",
        "billing robot",
        "--json",
    ]);
    assert_eq!(created.code, 0, "{}", created.err);
    let created = json(&created.out);
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["token"].as_str().unwrap().to_owned();

    // Act
    let listed = db.run(&["token", "list", "--org", "acme", "--user", "bob", "--json"]);
    let table = db.run(&["token", "list"]);
    let revoked = db.run(&["token", "revoke", &id]);
    let after = db.run(&["token", "list", "--user", "bob", "--json"]);
    let again = db.run(&["token", "revoke", &id]);
    let unknown = db.run(&["token", "revoke", "tok-nosuchtoken0"]);

    // Assert: listed without the secret or its hash.
    assert_eq!(listed.code, 0, "{}", listed.err);
    let items = json(&listed.out);
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["name"], "billing robot");
    assert_eq!(items[0]["status"], "active");
    let hash = rolecall_server::tokens::hash_secret(&secret);
    let tail = secret.rsplit('_').next().unwrap();
    for output in [&listed.out, &table.out] {
        assert!(
            !output.contains(tail) && !output.contains(&hash),
            "{output}"
        );
    }
    assert_eq!(table.code, 0, "{}", table.err);
    assert!(table.out.starts_with("ID "), "{}", table.out);
    let row = table.out.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(
        row.contains("active") && row.contains("bob in acme"),
        "{row}"
    );
    assert!(row.ends_with("billing robot"), "{row}");
    // Revoked, listed as such, and refused by the service at once.
    assert_eq!(revoked.code, 0, "{}", revoked.err);
    assert!(
        revoked.out.contains(&format!("`{id}` is revoked")),
        "{}",
        revoked.out
    );
    assert_eq!(json(&after.out)[0]["status"], "revoked");
    assert_eq!(again.code, 0, "{}", again.err);
    assert_eq!(unknown.code, 2);
    assert!(unknown.err.contains("not found"), "{}", unknown.err);
    runtime().block_on(async {
        let service = db.service().await;
        assert!(rolecall_server::tokens::authenticate(&service.live(), &secret).is_err());
        let query = AuditQuery {
            limit: 1000,
            ..AuditQuery::default()
        };
        let records = service.store().audit(&query).await.unwrap();
        let revocations: Vec<_> = records
            .iter()
            .filter(|r| r.action == "token.revoke")
            .collect();
        // Once: the second revocation wrote nothing.
        assert_eq!(revocations.len(), 1);
        assert_eq!(revocations[0].actor, "cli");
        assert_eq!(revocations[0].target, format!("token:{id}"));
    });
}

#[test]
fn check_exits_0_when_allowed_and_1_when_denied_with_the_sentence() {
    let db = Database::new().with_demo();
    let ask = |org: &str| {
        db.run(&[
            "check",
            "--user",
            "bob",
            "--permission",
            "web.manage_charge_entries",
            "--org",
            org,
        ])
    };

    let north = ask("acme-north");
    let south = ask("acme-south");

    assert_eq!(north.code, 0, "{}", north.err);
    assert_eq!(
        north.out,
        "allowed (scope: all)\nAllowed: Bob Baker holds Manage charge entries in Acme North \
         Clinic, through the role Biller held in Acme Health. Acme North Clinic subscribes to \
         the Billing module.\n"
    );
    assert_eq!(south.code, 1);
    assert_eq!(
        south.out,
        "denied\nDenied: Acme South Clinic does not subscribe to the Billing module, which \
         Manage charge entries belongs to.\n"
    );
}

#[test]
fn check_with_an_owner_narrows_an_own_grant() {
    let db = Database::new().with_demo();
    let ask = |owner: &str| {
        db.run(&[
            "check",
            "--user",
            "dave",
            "--permission",
            "scheduler.schedule.view",
            "--org",
            "acme-north",
            "--owner",
            owner,
        ])
    };

    let own = ask("dave");
    let other = ask("carol");

    assert_eq!(own.code, 0, "{}", own.err);
    assert!(own.out.starts_with("allowed (scope: own)\n"), "{}", own.out);
    assert_eq!(other.code, 1, "{}", other.out);
    assert!(other.out.starts_with("denied\n"));
}

#[test]
fn check_json_is_the_api_answer_with_its_reason() {
    let db = Database::new().with_demo();

    let output = db.run(&[
        "check",
        "--user",
        "judy",
        "--permission",
        "web.view_notes",
        "--org",
        "acme-south",
        "--json",
    ]);

    assert_eq!(output.code, 1);
    let body = json(&output.out);
    assert_eq!(body["allowed"], false);
    assert_eq!(body["reason"]["failed_condition"], 1);
    assert_eq!(
        body["reason"]["sentence"],
        "Denied: Judy Jones's account is invited, not active."
    );
}

#[test]
fn check_exits_2_for_an_unknown_organization_or_permission() {
    let db = Database::new().with_demo();

    let org = db.run(&[
        "check",
        "--user",
        "bob",
        "--permission",
        "web.messages",
        "--org",
        "nowhere",
    ]);
    let permission = db.run(&[
        "check",
        "--user",
        "bob",
        "--permission",
        "web.fly",
        "--org",
        "acme",
    ]);

    assert_eq!(org.code, 2);
    assert!(org.out.is_empty());
    assert!(
        org.err.contains("organization `nowhere` not found"),
        "{}",
        org.err
    );
    assert_eq!(permission.code, 2);
    assert!(
        permission.err.contains("unknown permission `web.fly`"),
        "{}",
        permission.err
    );
}

#[test]
fn audit_verify_passes_and_names_an_edited_record() {
    let db = Database::new().with_demo();

    let intact = db.run(&["audit", "verify"]);
    runtime().block_on(async {
        let store = Store::open(db.url()).await.unwrap();
        let edited = store
            .execute_raw("UPDATE audit SET actor = 'x' WHERE seq = 1")
            .await
            .unwrap();
        assert_eq!(edited, 1);
        store.close().await;
    });
    let tampered = db.run(&["audit", "verify"]);

    assert_eq!(intact.code, 0, "{}", intact.err);
    assert!(
        intact.out.starts_with("audit log intact: "),
        "{}",
        intact.out
    );
    assert_eq!(tampered.code, 1);
    assert!(
        tampered
            .out
            .contains("audit record 1 does not match its MAC: it was edited"),
        "{}",
        tampered.out
    );
}

async fn ask(service: &Service, user: &str, permission: &str, org: &str) -> bool {
    let live = service.live();
    let request = CheckRequest {
        org: org.into(),
        user: user.into(),
        permission: permission.into(),
        owner: None,
        explain: false,
        min_revision: None,
    };
    check::check(&live, &Principal::Cli, &request, None)
        .unwrap()
        .allowed
}

#[tokio::test]
async fn the_demo_biller_enters_charges_only_where_billing_is_subscribed() {
    let db = Database::new();
    let service = db.service().await;

    demo::load(&service).await.unwrap();

    let charges = "web.manage_charge_entries";
    assert!(ask(&service, "bob", charges, "acme-north").await);
    assert!(!ask(&service, "bob", charges, "acme-south").await);
    // The partner reaches Tasking in the clinics it manages, RCM groups only
    // where RevServe is subscribed.
    let rcm = "tasking.task.assign_rcm_group";
    assert!(ask(&service, "ivan", rcm, "acme-north").await);
    assert!(!ask(&service, "ivan", rcm, "acme-south").await);
    assert!(!ask(&service, "ivan", "web.messages", "acme-north").await);
    // A user manager holds `emr.edit_users`; the invited user nothing.
    assert!(ask(&service, "heidi", "emr.edit_users", "acme-north").await);
    assert!(!ask(&service, "judy", "web.messages", "acme-south").await);
}

#[tokio::test]
async fn the_demo_covers_every_seed_role_and_is_audited() {
    let db = Database::new();
    let service = db.service().await;

    let loaded: Demo = demo::load(&service).await.unwrap();

    let live = service.live();
    let held = |pick: fn(&rolecall_store::Access) -> Vec<String>| -> BTreeSet<String> {
        live.model
            .users
            .values()
            .flat_map(|u| u.memberships.values())
            .flat_map(pick)
            .collect()
    };
    let roles = held(|a| a.roles.clone());
    for role in [
        "web.system_admin",
        "web.provider",
        "web.clinical_assistant",
        "web.office_staff",
        "web.biller",
        "web.business_manager",
        "analytics.admin",
        "analytics.billing_user",
        "analytics.reporting_user",
        "rolecall.auditor",
    ] {
        assert!(roles.contains(role), "nobody holds `{role}`");
    }
    let levels = held(|a| a.scheduler_level.clone().into_iter().collect());
    assert!(levels.contains("my_schedule") && levels.contains("view_edit_all"));
    let types = held(|a| a.scheduler_type.clone().into_iter().collect());
    assert!(types.contains("provider") && types.contains("office_staff"));
    let access = held(|a| a.tasking_access.clone().into_iter().collect());
    assert!(access.contains("standard") && access.contains("partner_rcm"));
    assert_eq!(loaded.orgs.len(), 4);
    assert_eq!(loaded.users.len(), live.model.users.len());
    assert!(loaded.admin_token.token.starts_with("rc_"));
    let query = AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    };
    let records = service.store().audit(&query).await.unwrap();
    assert!(records.len() > 30);
    assert!(records
        .iter()
        .all(|r| r.source == "demo" && r.actor == "cli"));
}

#[tokio::test]
async fn the_demo_is_found_again_with_a_fresh_admin_token() {
    let db = Database::new();
    let service = db.service().await;
    assert_eq!(demo::presence(&service.live()), Presence::Empty);
    let first = demo::load(&service).await.unwrap();
    let revision = service.revision();

    let again = demo::resume(&service).await.unwrap();

    assert_eq!(demo::presence(&service.live()), Presence::Loaded);
    assert_ne!(again.admin_token.id, first.admin_token.id);
    assert_eq!(
        service.revision(),
        revision + 1,
        "only the token was written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_health_and_checks_then_stops_on_shutdown() {
    let db = Database::new();
    let service = db.service().await;
    let loaded = demo::load(&service).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rolecall::serve(service, listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    let decision = client
        .post(format!("{base}/v1/check"))
        .bearer_auth(&loaded.admin_token.token)
        .json(&serde_json::json!({
            "org": "acme-north",
            "user": "bob",
            "permission": "web.manage_charge_entries",
            "explain": true,
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");
    assert_eq!(decision.status(), 200);
    let body: serde_json::Value = decision.json().await.unwrap();
    assert_eq!(body["allowed"], true);
    assert!(body["reason"]["sentence"]
        .as_str()
        .unwrap()
        .starts_with("Allowed: Bob Baker"));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[test]
fn serve_refuses_an_address_in_use() {
    let db = Database::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();

    let output = db.run(&["serve", "--listen", &address]);

    assert_eq!(output.code, 2);
    assert!(output.out.is_empty());
    assert!(
        output
            .err
            .contains(&format!("cannot listen on `{address}`")),
        "{}",
        output.err
    );
}

#[test]
fn serve_demo_refuses_a_database_with_other_data() {
    let db = Database::new();
    runtime().block_on(async {
        let service = db.service().await;
        let org = rolecall_server::ops::orgs::NewOrg {
            id: Some("other".to_owned()),
            name: "Other Clinic".to_owned(),
            parent: None,
            subscriptions: Vec::new(),
        };
        rolecall_server::ops::orgs::create(&service, &Principal::Cli, "test", org)
            .await
            .unwrap();
        service.store().close().await;
    });

    let output = db.run(&["serve", "--demo", "--listen", "127.0.0.1:0"]);

    assert_eq!(output.code, 2);
    assert!(output.err.contains("holds other data"), "{}", output.err);
}
