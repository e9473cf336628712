//! Several replicas over one database converge on the same revision: a
//! write through one is seen through another at the revision it returned.
//!
//! On PostgreSQL the followers listen for change notifications (polling
//! beside); on SQLite (another process, such as `rolecall import`, writing
//! the same file) they poll only, so the SQLite runs cover the polling
//! fallback. `follow` has no switch to turn LISTEN off, so on PostgreSQL
//! the fallback is covered by a replica without any follower, which must
//! catch up when it writes.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(
    a_write_through_one_replica_is_seen_through_another_at_its_revision,
    writes_through_two_replicas_alternately_converge,
    a_replica_that_does_not_follow_waits_boundedly_and_catches_up_when_it_writes,
    a_write_through_a_lagging_replica_is_judged_on_the_latest_state,
);

async fn clinic(app: &TestApp) -> String {
    app.create_org("acme", &["web.billing"]).await;
    app.active_user("acme", "pat", json!({ "roles": ["web.office_staff"] }))
        .await
}

async fn a_write_through_one_replica_is_seen_through_another_at_its_revision(backend: Backend) {
    // Arrange: two replicas over the same database, each with its follower.
    let first = spawn_app(&backend).await;
    let second = first.replica(Some(Duration::from_millis(50))).await;
    let pat = clinic(&first).await;

    // Act: grant Biller through the first replica; check through the
    // second at the write's revision (it waits; no sleeping here).
    let revision = first
        .update_access(
            &first.operator,
            "acme",
            &pat,
            &json!({ "roles": ["web.office_staff", "web.biller"] }),
        )
        .await
        .expect(200)
        .revision();
    let answer = second
        .post_json(
            &second.operator,
            "/v1/check",
            &json!({
                "org": "acme",
                "user": pat,
                "permission": "web.manage_charge_entries",
                "min_revision": revision,
            }),
        )
        .await
        .expect(200)
        .body;

    // Assert
    assert_eq!(answer["allowed"], true, "{answer}");
    assert!(second.service.revision() >= revision);
    let path = format!("/v1/orgs/acme/users/{pat}?min_revision={revision}");
    let through_first = first.get(&first.operator, &path).await.expect(200);
    let through_second = second.get(&second.operator, &path).await.expect(200);
    assert_eq!(through_first.body, through_second.body);
    assert_eq!(through_first.etag(), through_second.etag());
    first.assert_audit_intact().await;
}

async fn writes_through_two_replicas_alternately_converge(backend: Backend) {
    // Arrange
    let first = spawn_app(&backend).await;
    let second = first.replica(Some(Duration::from_millis(50))).await;
    clinic(&first).await;
    let ready = first.revision().await;
    second
        .get(
            &second.operator,
            &format!("/v1/orgs/acme?min_revision={ready}"),
        )
        .await
        .expect(200);
    let replicas = [&first, &second];

    // Act: ten writes, alternating replicas, each replica writing right
    // after the other did (so it may be behind and must catch up first).
    let mut revisions = Vec::new();
    for i in 0..10 {
        let replica = replicas[i % 2];
        let revision = replica
            .post_json(
                &replica.operator,
                "/v1/orgs/acme/employees",
                &json!({
                    "id": format!("emp{i}"),
                    "first_name": "E",
                    "last_name": format!("{i}"),
                    "email": format!("emp{i}@acme.test"),
                }),
            )
            .await
            .expect(201)
            .revision();
        revisions.push(revision);
    }

    // Assert: every write got the next revision, and both replicas read
    // the same at the last one.
    let start = revisions[0];
    assert_eq!(
        revisions,
        (start..start + 10).collect::<Vec<_>>(),
        "one revision per write, in order"
    );
    let last = *revisions.last().unwrap();
    let path = format!("/v1/orgs/acme/employees?min_revision={last}");
    let through_first = first.get(&first.operator, &path).await.expect(200).body;
    let through_second = second.get(&second.operator, &path).await.expect(200).body;
    assert_eq!(through_first.as_array().unwrap().len(), 11);
    assert_eq!(through_first, through_second);
    assert_eq!(first.service.revision(), second.service.revision());
    assert_eq!(first.revision().await, last);
    first.assert_audit_intact().await;
}

async fn a_replica_that_does_not_follow_waits_boundedly_and_catches_up_when_it_writes(
    backend: Backend,
) {
    // Arrange: a replica with no follower at all, then writes elsewhere.
    let first = spawn_app(&backend).await;
    let lagging = first.replica(None).await;
    let pat = clinic(&first).await;
    let revision = first.revision().await;
    assert!(lagging.service.revision() < revision);

    // Act: it is asked for a revision it never hears of.
    let waited = lagging
        .get(
            &lagging.operator,
            &format!("/v1/orgs/acme?min_revision={revision}"),
        )
        .await;

    // Assert: after its bounded wait, 503 with Retry-After.
    let waited = waited.problem(503);
    assert!(waited.headers.contains_key("retry-after"));

    // Act: it writes; the database is ahead, so the commit is refused as
    // behind, and the write catches up from the change log and runs again.
    let written = lagging.create_org("beta", &[]).await;

    // Assert: the next revision, and the lagging replica now has it all.
    assert_eq!(written, revision + 1);
    assert_eq!(lagging.service.revision(), written);
    let through_first = first
        .get(
            &first.operator,
            &format!("/v1/orgs/acme/users/{pat}?min_revision={written}"),
        )
        .await
        .expect(200)
        .body;
    let through_lagging = lagging
        .get(&lagging.operator, &format!("/v1/orgs/acme/users/{pat}"))
        .await
        .expect(200)
        .body;
    assert_eq!(through_first, through_lagging);
    first.assert_audit_intact().await;
}

async fn a_write_through_a_lagging_replica_is_judged_on_the_latest_state(backend: Backend) {
    // Arrange: a user created and read through one replica; another replica
    // has not heard of it yet (no follower: the widest possible lag).
    let first = spawn_app(&backend).await;
    let lagging = first.replica(None).await;
    let pat = clinic(&first).await;
    let (_, etag) = first.get_user("acme", &pat).await;

    // Act: the update, with a current ETag, lands on the lagging replica
    // (as behind a load balancer).
    let reply = lagging
        .put_if_match(
            &first.operator,
            &format!("/v1/orgs/acme/users/{pat}/access"),
            &etag,
            &json!({ "roles": ["web.biller"] }),
        )
        .await;

    // Assert: "When another process committed first, the write catches up
    // from the change log and runs again, so its rules always see the
    // latest state" (service.rs): accepted, not 404 or 412.
    let revision = reply.expect(200).revision();
    let user = first
        .get(
            &first.operator,
            &format!("/v1/orgs/acme/users/{pat}?min_revision={revision}"),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(user["access"]["roles"], json!(["web.biller"]));
    assert_eq!(first.revision().await, revision);
    first.assert_audit_intact().await;
}

/// PostgreSQL only: SQLite has no notifications to follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_replica_converges_by_notification_alone() {
    if let Some(backend) = crate::backend::Backend::postgres() {
        crate::backend::run(backend, converges_by_notification).await;
    }
}

async fn converges_by_notification(backend: Backend) {
    // Arrange: a replica that polls once at start and then only every hour,
    // so within this test only LISTEN/NOTIFY can bring it a change.
    let first = spawn_app(&backend).await;
    let pat = clinic(&first).await;
    let second = first.replica(Some(Duration::from_secs(3600))).await;
    second
        .get(
            &second.operator,
            &format!("/v1/orgs/acme?min_revision={}", first.revision().await),
        )
        .await
        .expect(200);

    // Act
    let revision = first
        .update_access(
            &first.operator,
            "acme",
            &pat,
            &json!({ "roles": ["web.biller"] }),
        )
        .await
        .expect(200)
        .revision();

    // Assert: reached within the 5 s that min_revision waits, or 503.
    let answer = second
        .post_json(
            &second.operator,
            "/v1/check",
            &json!({
                "org": "acme",
                "user": pat,
                "permission": "web.manage_charge_entries",
                "min_revision": revision,
            }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(answer["allowed"], true, "{answer}");
}
