//! Two administrators never silently overwrite each other: an update of a
//! user's access needs the ETag of what its author read.

use serde_json::json;

use crate::helpers::{spawn_app, Backend};

on_every_backend!(an_access_update_needs_a_current_if_match_and_a_refused_one_changes_nothing);

async fn an_access_update_needs_a_current_if_match_and_a_refused_one_changes_nothing(
    backend: Backend,
) {
    // Arrange: a user, read by two administrators at once.
    let app = spawn_app(&backend).await;
    app.create_org("acme", &["web.billing"]).await;
    let pat = app
        .active_user("acme", "pat", json!({ "roles": ["web.office_staff"] }))
        .await;
    let path = format!("/v1/orgs/acme/users/{pat}/access");
    let (_, read_by_both) = app.get_user("acme", &pat).await;

    // Act: no If-Match at all.
    let revision = app.revision().await;
    let audited = app.assert_audit_intact().await;
    app.put_json(&app.operator, &path, &json!({ "roles": ["web.biller"] }))
        .await
        .problem(428);

    // Assert: refused, nothing changed.
    assert_eq!(app.revision().await, revision);
    let (unchanged, etag) = app.get_user("acme", &pat).await;
    assert_eq!(unchanged["access"]["roles"], json!(["web.office_staff"]));
    assert_eq!(etag, read_by_both, "reading twice gives the same ETag");

    // Act: the first administrator saves; the second saves with the ETag
    // of their older read.
    let first = app
        .put_if_match(
            &app.operator,
            &path,
            &read_by_both,
            &json!({ "roles": ["web.office_staff", "web.provider"] }),
        )
        .await
        .expect(200)
        .revision();
    let stale = app
        .put_if_match(
            &app.operator,
            &path,
            &read_by_both,
            &json!({ "roles": ["web.biller"] }),
        )
        .await;

    // Assert: the second is refused with 412, and the first one's change
    // stands, alone.
    stale.problem(412);
    assert_eq!(app.revision().await, first);
    let (after, current) = app.get_user("acme", &pat).await;
    assert_eq!(
        after["access"]["roles"],
        json!(["web.office_staff", "web.provider"])
    );
    assert_ne!(current, read_by_both);
    assert_eq!(
        app.assert_audit_intact().await,
        audited + 1,
        "only the accepted write is audited"
    );

    // And a garbage ETag is stale too.
    app.put_if_match(&app.operator, &path, "\"nope\"", &json!({ "roles": [] }))
        .await
        .problem(412);
    assert_eq!(app.revision().await, first);
    app.assert_audit_intact().await;
}
