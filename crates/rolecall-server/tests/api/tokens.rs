//! API tokens are listed and revoked one by one. A token is seen and
//! revoked by its owner, by an operator, and by whoever may issue tokens
//! for its user (the one rule for actions on a person); to anyone else it
//! does not exist. A revoked token stops working at once, on every replica.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, token_id, Backend, Reply, TestApp};

on_every_backend!(
    a_listing_shows_the_tokens_in_reach_and_never_a_secret,
    another_companys_token_is_not_found_word_for_word_like_an_unknown_one,
    a_revoked_token_stops_working_at_once_here_and_on_a_replica,
    a_token_manager_cannot_revoke_the_tokens_of_a_system_admin_who_holds_more,
);

/// `acme` with a System Admin who manages API tokens (`boss`), a token manager (`keeper`: Office
/// Staff and "manage API tokens"), a member of staff (`staff`) and someone
/// with no access (`plain`); `beta` with its System Admin (`bob`).
async fn world(app: &TestApp) {
    app.create_org("acme", &["web.billing"]).await;
    app.create_org("beta", &["web.billing"]).await;
    app.active_user(
        "acme",
        "boss",
        json!({ "roles": ["web.system_admin"], "grants": ["rolecall.manage_api_tokens"] }),
    )
    .await;
    app.active_user(
        "acme",
        "keeper",
        json!({ "roles": ["web.office_staff"], "grants": ["rolecall.manage_api_tokens"] }),
    )
    .await;
    app.active_user("acme", "staff", json!({ "roles": ["web.office_staff"] }))
        .await;
    app.active_user("acme", "plain", json!({ "roles": [] }))
        .await;
    app.active_user("beta", "bob", json!({ "roles": ["web.system_admin"] }))
        .await;
}

/// A token of `user` in `org`, issued by the operator: (id, bearer token).
async fn issue(app: &TestApp, org: &str, user: &str) -> (String, String) {
    let token = app.user_token(org, user).await;
    (token_id(&token), token)
}

async fn revoke(app: &TestApp, token: &str, id: &str) -> Reply {
    app.send(
        Method::DELETE,
        &format!("/v1/tokens/{id}"),
        Some(token),
        &[],
        None,
    )
    .await
}

/// The ids of a listing (tokens issued within one millisecond may come in
/// either order).
fn ids(listing: &Value) -> BTreeSet<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).clone()).collect()
}

/// A 404's body with the id it names taken out, to compare refusals.
fn without_id(reply: &Reply, id: &str) -> String {
    reply.text.replace(id, "<id>")
}

async fn a_listing_shows_the_tokens_in_reach_and_never_a_secret(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    world(&app).await;
    let (boss_id, boss) = issue(&app, "acme", "boss").await;
    let (keeper_id, keeper) = issue(&app, "acme", "keeper").await;
    let (staff_id, staff) = issue(&app, "acme", "staff").await;
    let (bob_id, bob) = issue(&app, "beta", "bob").await;
    let operator_id = token_id(&app.operator);

    // Act
    let everything = app.get(&app.operator, "/v1/tokens").await.expect(200);
    let by_boss = app.get(&boss, "/v1/tokens").await.expect(200).body;
    let by_keeper = app.get(&keeper, "/v1/tokens").await.expect(200).body;
    let by_staff = app.get(&staff, "/v1/tokens").await.expect(200).body;
    let by_bob = app.get(&bob, "/v1/tokens").await.expect(200).body;
    let keeper_on_staff = app.get(&keeper, "/v1/tokens?user=staff").await.expect(200);
    let keeper_on_beta = app.get(&keeper, "/v1/tokens?org=beta").await.expect(200);
    let unknown_filter = app.get(&keeper, "/v1/tokens?colour=red").await;

    // Assert: an operator sees every token, the operator's own too.
    assert_eq!(
        ids(&everything.body),
        set(&[&operator_id, &boss_id, &keeper_id, &staff_id, &bob_id])
    );
    // The System Admin sees what they may issue in acme: everyone's there.
    assert_eq!(ids(&by_boss), set(&[&boss_id, &keeper_id, &staff_id]));
    // The token manager: their own, and staff's, who holds no more; not the
    // System Admin's, who holds more.
    assert_eq!(ids(&by_keeper), set(&[&keeper_id, &staff_id]));
    // Without the permission: only one's own.
    assert_eq!(ids(&by_staff), set(&[&staff_id]));
    assert_eq!(ids(&by_bob), set(&[&bob_id]));
    assert_eq!(ids(&keeper_on_staff.body), set(&[&staff_id]));
    assert_eq!(keeper_on_beta.body, json!([]));
    unknown_filter.invalid_field(422, "colour");

    // Each item says what the token is, never its secret nor the hash.
    let item = &by_staff[0];
    assert_eq!(item["name"], "test token");
    assert_eq!(item["user"], "staff");
    assert_eq!(item["org"], "acme");
    assert_eq!(item["operator"], false);
    assert_eq!(item["status"], "active");
    assert!(item["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(item["expires_at"], Value::Null);
    assert_eq!(item["revoked_at"], Value::Null);
    let fields: Vec<&String> = item.as_object().unwrap().keys().collect();
    for secretive in ["token", "secret", "secret_hash", "hash"] {
        assert!(!fields.iter().any(|f| *f == secretive), "{fields:?}");
    }
    for token in [&app.operator, &boss, &keeper, &staff, &bob] {
        let secret = token.rsplit('_').next().unwrap();
        let hash = rolecall_server::tokens::hash_secret(token);
        assert!(!everything.text.contains(secret), "a secret was listed");
        assert!(!everything.text.contains(&hash), "a hash was listed");
    }
}

async fn another_companys_token_is_not_found_word_for_word_like_an_unknown_one(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    world(&app).await;
    let (_, boss) = issue(&app, "acme", "boss").await;
    let (bob_id, bob) = issue(&app, "beta", "bob").await;
    let operator_id = token_id(&app.operator);
    let revision = app.revision().await;
    let audited = app.audit().await.len();

    // Act: acme's System Admin revokes beta's token, the operator's token,
    // and an id that names nothing.
    let theirs = revoke(&app, &boss, &bob_id).await.problem(404);
    let operators = revoke(&app, &boss, &operator_id).await.problem(404);
    let unknown_id = "tok-nosuchtoken0";
    let unknown = revoke(&app, &boss, unknown_id).await.problem(404);

    // Assert: the same answer, and nothing changed.
    assert_eq!(
        without_id(&theirs, &bob_id),
        without_id(&unknown, unknown_id)
    );
    assert_eq!(
        without_id(&operators, &operator_id),
        without_id(&unknown, unknown_id)
    );
    assert_eq!(app.revision().await, revision, "a refusal wrote a revision");
    assert_eq!(app.audit().await.len(), audited, "a refusal was audited");
    app.get(&bob, "/v1/catalog").await.expect(200);
    app.get(&app.operator, "/v1/catalog").await.expect(200);
}

async fn a_revoked_token_stops_working_at_once_here_and_on_a_replica(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    let second = app.replica(Some(Duration::from_millis(50))).await;
    world(&app).await;
    let (_, keeper) = issue(&app, "acme", "keeper").await;
    let (staff_id, staff) = issue(&app, "acme", "staff").await;
    let (own_id, own) = issue(&app, "acme", "staff").await;
    let ready = app.revision().await;
    second
        .get(&second.operator, &format!("/v1/orgs?min_revision={ready}"))
        .await
        .expect(200);

    // Act: the token manager revokes one of staff's tokens; staff revokes
    // the other with itself.
    let revoked = revoke(&app, &keeper, &staff_id).await.expect(200);
    let revision = revoked.revision();
    let here = app.get(&staff, "/v1/catalog").await;
    second
        .get(
            &second.operator,
            &format!("/v1/orgs?min_revision={revision}"),
        )
        .await
        .expect(200);
    let there = second.get(&staff, "/v1/catalog").await;
    let by_itself = revoke(&app, &own, &own_id).await.expect(200);
    let after_itself = app.get(&own, "/v1/catalog").await;

    // Assert: refused at once, here and on the replica, with the challenge.
    for refused in [here, there, after_itself] {
        let refused = refused.problem(401);
        let challenge = refused.headers[WWW_AUTHENTICATE].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer realm=\"rolecall\""),
            "{challenge}"
        );
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }
    assert!(by_itself.revision() > revision);
    // Written through the change log, with its audit record.
    let records = app.audit().await;
    let record = records
        .iter()
        .find(|r| r.action == "token.revoke" && r.target == format!("token:{staff_id}"))
        .expect("an audit record of the revocation");
    assert_eq!(record.actor, "user:keeper");
    assert_eq!(record.org.as_deref(), Some("acme"));
    assert_eq!(record.revision, revision);
    assert_eq!(app.assert_audit_intact().await, records.len());
    // The listing says so.
    let listed = app
        .get(&app.operator, "/v1/tokens?user=staff")
        .await
        .expect(200)
        .body;
    for item in listed.as_array().unwrap() {
        assert_eq!(item["status"], "revoked", "{item}");
        assert!(item["revoked_at"].is_string(), "{item}");
    }

    // Act: revoking again.
    let head = app.revision().await;
    let again = revoke(&app, &keeper, &staff_id).await.expect(200);

    // Assert: the same 200, and nothing written.
    assert_eq!(again.revision(), head);
    assert_eq!(app.revision().await, head);
    assert_eq!(app.audit().await.len(), records.len());
}

async fn a_token_manager_cannot_revoke_the_tokens_of_a_system_admin_who_holds_more(
    backend: Backend,
) {
    // Arrange
    let app = spawn_app(&backend).await;
    world(&app).await;
    let (boss_id, boss) = issue(&app, "acme", "boss").await;
    let (_, keeper) = issue(&app, "acme", "keeper").await;
    let (staff_id, staff) = issue(&app, "acme", "staff").await;
    let (_, plain) = issue(&app, "acme", "plain").await;
    let revision = app.revision().await;
    let audited = app.audit().await.len();
    let unknown_id = "tok-nosuchtoken0";

    // Act
    let on_boss = revoke(&app, &keeper, &boss_id).await.problem(404);
    let by_plain = revoke(&app, &plain, &staff_id).await.problem(404);
    let unknown = revoke(&app, &keeper, unknown_id).await.problem(404);

    // Assert: refused as if the tokens did not exist; nothing changed and
    // both still work.
    assert_eq!(
        without_id(&on_boss, &boss_id),
        without_id(&unknown, unknown_id)
    );
    assert_eq!(
        without_id(&by_plain, &staff_id),
        without_id(&unknown, unknown_id)
    );
    assert_eq!(app.revision().await, revision, "a refusal wrote a revision");
    assert_eq!(app.audit().await.len(), audited, "a refusal was audited");
    app.get(&boss, "/v1/catalog").await.expect(200);
    app.get(&staff, "/v1/catalog").await.expect(200);

    // The System Admin may revoke staff's token; the token manager too.
    let (other_id, _) = issue(&app, "acme", "staff").await;
    revoke(&app, &boss, &staff_id).await.expect(200);
    revoke(&app, &keeper, &other_id).await.expect(200);
    app.get(&staff, "/v1/catalog").await.problem(401);
}
