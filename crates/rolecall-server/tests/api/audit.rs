//! "an append-only audit trail of every change ... (who, what, when, from
//! where, before and after), hash-chained so tampering is detectable".

use rolecall_store::AuditRecord;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(every_write_is_audited_with_its_actor_source_and_states);

/// The records of one revision.
async fn records_of(app: &TestApp, revision: i64) -> Vec<AuditRecord> {
    app.audit()
        .await
        .into_iter()
        .filter(|r| r.revision == revision)
        .collect()
}

/// Who the audit log should name: the actor, and where from.
struct Who {
    /// `operator:<token id>` or `user:<id>`.
    actor: String,
    /// The address, and for a user the token they acted through.
    source: String,
}

/// Asserts the one record of `revision`, and returns it.
async fn the_record(
    app: &TestApp,
    revision: i64,
    who: &Who,
    action: &str,
    target: &str,
) -> AuditRecord {
    let records = records_of(app, revision).await;
    assert_eq!(records.len(), 1, "revision {revision}: {records:?}");
    let record = records.into_iter().next().unwrap();
    assert_eq!(record.actor, who.actor);
    assert_eq!(record.source, who.source);
    assert_eq!(record.action, action);
    assert_eq!(record.target, target);
    record
}

fn parsed(json: Option<&str>) -> Value {
    json.map_or(Value::Null, |text| serde_json::from_str(text).unwrap())
}

/// The public id inside a token `rc_<id>_<secret>`.
fn token_id(token: &str) -> &str {
    token.split('_').nth(1).unwrap()
}

async fn every_write_is_audited_with_its_actor_source_and_states(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    let operator = Who {
        actor: format!("operator:{}", token_id(&app.operator)),
        source: "127.0.0.1".to_owned(),
    };

    // Act + Assert, write by write. Organizations, by the operator.
    let revision = app.create_org("acme", &["web.billing"]).await;
    let created = the_record(&app, revision, &operator, "org.create", "org:acme").await;
    assert_eq!(created.org.as_deref(), Some("acme"));
    assert!(created.before.is_none());
    assert_eq!(
        parsed(created.after.as_deref())["subscriptions"],
        json!(["web.billing"])
    );
    let revision = app
        .put_json(
            &app.operator,
            "/v1/orgs/acme/subscriptions",
            &json!({ "subscriptions": ["web.billing", "revserve"] }),
        )
        .await
        .expect(200)
        .revision();
    let changed = the_record(
        &app,
        revision,
        &operator,
        "org.subscriptions.update",
        "org:acme",
    )
    .await;
    assert_eq!(
        parsed(changed.before.as_deref())["subscriptions"],
        json!(["web.billing"])
    );
    assert_eq!(
        parsed(changed.after.as_deref())["subscriptions"],
        json!(["web.billing", "revserve"])
    );
    app.create_org("rcmco", &[]).await;
    let revision = app
        .put_json(
            &app.operator,
            "/v1/orgs/rcmco/manages",
            &json!({ "orgs": ["acme"] }),
        )
        .await
        .expect(200)
        .revision();
    the_record(
        &app,
        revision,
        &operator,
        "org.partners.update",
        "org:rcmco",
    )
    .await;

    // People, by the operator.
    let revision = app.create_employee("acme", "boss").await;
    the_record(
        &app,
        revision,
        &operator,
        "employee.create",
        "employee:boss",
    )
    .await;
    let revision = app
        .post_json(
            &app.operator,
            "/v1/orgs/acme/users",
            &json!({ "id": "boss", "employee_id": "boss", "roles": ["web.system_admin"] }),
        )
        .await
        .expect(201)
        .revision();
    let user = the_record(&app, revision, &operator, "user.create", "user:boss").await;
    assert_eq!(parsed(user.after.as_deref())["email"], "boss@acme.test");
    let revision = app.activate("acme", "boss").await;
    let status = the_record(&app, revision, &operator, "user.status.update", "user:boss").await;
    assert_eq!(
        parsed(status.before.as_deref()),
        json!({ "status": "invited" })
    );
    assert_eq!(
        parsed(status.after.as_deref()),
        json!({ "status": "active" })
    );

    // A token: audited without its secret.
    let token = app.user_token("acme", "boss").await;
    let revision = app.revision().await;
    let issued = the_record(
        &app,
        revision,
        &operator,
        "token.create",
        &format!("token:{}", token_id(&token)),
    )
    .await;
    let secret = token.rsplit('_').next().unwrap();
    assert!(
        !format!("{issued:?}").contains(secret),
        "the audit log holds a token's secret"
    );

    // Writes by a user, through their token.
    let boss = Who {
        actor: "user:boss".to_owned(),
        source: format!("127.0.0.1 token:{}", token_id(&token)),
    };
    let revision = app
        .post_json(
            &token,
            "/v1/orgs/acme/employees",
            &json!({ "id": "pat", "first_name": "Pat", "last_name": "Doe", "email": "pat@acme.test" }),
        )
        .await
        .expect(201)
        .revision();
    the_record(&app, revision, &boss, "employee.create", "employee:pat").await;
    app.post_json(
        &token,
        "/v1/orgs/acme/users",
        &json!({ "id": "pat", "employee_id": "pat", "roles": ["web.office_staff"] }),
    )
    .await
    .expect(201);
    let revision = app
        .update_access(&token, "acme", "pat", &json!({ "roles": ["web.biller"] }))
        .await
        .expect(200)
        .revision();
    let access = the_record(&app, revision, &boss, "user.access.update", "user:pat").await;
    assert_eq!(
        parsed(access.before.as_deref())["roles"],
        json!(["web.office_staff"])
    );
    assert_eq!(
        parsed(access.after.as_deref())["roles"],
        json!(["web.biller"])
    );
    app.create_user("acme", "sam", json!({ "roles": ["web.office_staff"] }))
        .await;
    let revision = app
        .post_json(
            &token,
            "/v1/orgs/acme/users/bulk-access",
            &json!({ "updates": [
                { "user": "pat", "roles": ["web.office_staff"] },
                { "user": "sam", "roles": ["web.biller"] },
            ]}),
        )
        .await
        .expect(200)
        .revision();
    let bulk = records_of(&app, revision).await;
    let targets: Vec<&str> = bulk.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["user:pat", "user:sam"]);
    assert!(bulk
        .iter()
        .all(|r| r.actor == boss.actor && r.source == boss.source));

    // Assert: one record per change at least, all chained, nothing missing.
    let audited = app.assert_audit_intact().await;
    assert!(audited as i64 >= app.revision().await);
    let revisions: std::collections::BTreeSet<i64> =
        app.audit().await.iter().map(|r| r.revision).collect();
    assert_eq!(
        revisions,
        (1..=app.revision().await).collect(),
        "every revision has its audit record"
    );
}
