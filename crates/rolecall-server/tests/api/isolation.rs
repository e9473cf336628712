//! Tenants are isolated: nothing of one organization is readable or
//! writable from another, except what a partner link grants.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(
    another_organizations_things_are_not_found,
    a_partner_reaches_managed_organizations_only_with_partner_access,
    another_companys_people_are_explained_and_listed_as_if_they_did_not_exist,
    a_taken_email_is_refused_without_naming_whose_or_where,
);

/// Every request a token could make about `org` and its user `user`.
fn requests_about(org: &str, user: &str) -> Vec<(Method, String, Option<Value>)> {
    let check = json!({ "org": org, "user": user, "permission": "web.messages" });
    vec![
        (Method::GET, format!("/v1/orgs/{org}"), None),
        (Method::GET, format!("/v1/orgs/{org}/users"), None),
        (Method::GET, format!("/v1/orgs/{org}/users/{user}"), None),
        (
            Method::GET,
            format!("/v1/orgs/{org}/users/{user}/permissions"),
            None,
        ),
        (
            Method::GET,
            format!("/v1/orgs/{org}/permissions/web.messages/users"),
            None,
        ),
        (Method::GET, format!("/v1/orgs/{org}/employees"), None),
        (Method::GET, format!("/v1/orgs/{org}/audit"), None),
        (Method::GET, format!("/v1/orgs/{org}/groups"), None),
        (Method::GET, format!("/v1/orgs/{org}/roles"), None),
        (
            Method::POST,
            format!("/v1/orgs/{org}/employees"),
            Some(json!({ "first_name": "A", "last_name": "B", "email": "a@b.test" })),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{org}/users"),
            Some(json!({ "employee_id": user })),
        ),
        (
            Method::PUT,
            format!("/v1/orgs/{org}/subscriptions"),
            Some(json!({ "subscriptions": [] })),
        ),
        (
            Method::PUT,
            format!("/v1/orgs/{org}/users/{user}/status"),
            Some(json!({ "status": "disabled" })),
        ),
        (
            Method::POST,
            format!("/v1/orgs/{org}/users/bulk-access"),
            Some(json!({ "updates": [{ "user": user, "roles": [] }] })),
        ),
        (Method::POST, "/v1/check".to_owned(), Some(check.clone())),
        (
            Method::POST,
            "/v1/check/batch".to_owned(),
            Some(json!({ "checks": [check] })),
        ),
        (
            Method::POST,
            "/v1/tokens".to_owned(),
            Some(json!({ "org": org, "user": user, "name": "stolen" })),
        ),
    ]
}

async fn two_clinics(app: &TestApp) {
    app.create_org("acme", &["web.billing", "revserve"]).await;
    app.create_org("beta", &["web.billing"]).await;
    app.active_user("acme", "boss", json!({ "roles": ["web.system_admin"] }))
        .await;
    app.active_user("beta", "bob", json!({ "roles": ["web.system_admin"] }))
        .await;
}

async fn another_organizations_things_are_not_found(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    two_clinics(&app).await;
    let boss = app.user_token("acme", "boss").await;
    let revision = app.revision().await;

    for (method, path, body) in requests_about("beta", "bob") {
        // Act: the same request about beta, and about an organization that
        // does not exist.
        let theirs = app
            .send(
                method.clone(),
                &path,
                Some(&boss),
                &[("if-match", "*")],
                body.as_ref(),
            )
            .await;
        let ghost_path = path.replace("beta", "ghost");
        let ghost_body = body.map(|b| {
            serde_json::from_str::<Value>(&b.to_string().replace("beta", "ghost")).unwrap()
        });
        let ghost = app
            .send(
                method,
                &ghost_path,
                Some(&boss),
                &[("if-match", "*")],
                ghost_body.as_ref(),
            )
            .await;

        // Assert: 404, indistinguishable from an organization that does not
        // exist.
        let theirs = theirs.problem(404);
        let ghost = ghost.problem(404);
        assert_eq!(
            theirs.body["detail"]
                .as_str()
                .unwrap()
                .replace("beta", "ghost"),
            ghost.body["detail"].as_str().unwrap(),
            "{} tells beta from a missing organization",
            theirs.request
        );
    }
    // The access update is refused before its If-Match is even looked at.
    app.put_if_match(
        &boss,
        "/v1/orgs/beta/users/bob/access",
        "*",
        &json!({ "roles": [] }),
    )
    .await
    .problem(404);
    // beta's user is not found through acme either.
    app.get(&boss, "/v1/orgs/acme/users/bob").await.problem(404);

    // Assert: the list shows acme alone, and nothing changed.
    let orgs = app.get(&boss, "/v1/orgs").await.expect(200).body;
    let ids: Vec<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme"]);
    assert_eq!(app.revision().await, revision);
    let (bob, _) = app.get_user("beta", "bob").await;
    assert_eq!(bob["status"], "active");
    app.assert_audit_intact().await;
}

async fn a_partner_reaches_managed_organizations_only_with_partner_access(backend: Backend) {
    // Arrange: "Partner RCM Access: Add and Edit tasks and member groups
    // within the organizations they manage".
    let app = spawn_app(&backend).await;
    two_clinics(&app).await;
    app.create_org("rcmco", &[]).await;
    app.put_json(
        &app.operator,
        "/v1/orgs/rcmco/manages",
        &json!({ "orgs": ["acme"] }),
    )
    .await
    .expect(200);
    app.active_user(
        "rcmco",
        "rita",
        json!({ "roles": ["web.biller"], "tasking_access": "partner_rcm" }),
    )
    .await;
    app.active_user("rcmco", "ron", json!({ "roles": ["web.biller"] }))
        .await;
    let rita = app.user_token("rcmco", "rita").await;
    let ron = app.user_token("rcmco", "ron").await;

    // Act + Assert: the partner's tasking permissions reach acme, including
    // "assign to an RCM group", which acme's RevServe subscription turns on.
    for permission in ["tasking.task.add", "tasking.task.assign_rcm_group"] {
        let answer = app.check(&rita, "acme", "rita", permission, true).await;
        assert_eq!(answer["allowed"], true, "{permission}: {answer}");
        let via = &answer["reason"]["via"][0];
        assert_eq!(via["kind"], "access_type");
        assert_eq!(via["id"], "partner_rcm");
        assert_eq!(via["partner_of"], "rcmco");
    }
    // Nothing else of rita's reaches acme: her Biller role is rcmco's.
    let outside = app
        .check(&rita, "acme", "rita", "web.manage_charge_entries", true)
        .await;
    assert_eq!(outside["allowed"], false);
    assert_eq!(outside["reason"]["kind"], "outside_partner_access");
    // She sees acme, but is no user manager there.
    app.get(&rita, "/v1/orgs/acme").await.expect(200);
    app.get(&rita, "/v1/orgs/acme/users").await.problem(403);
    // An organization rcmco does not manage stays out of sight.
    app.get(&rita, "/v1/orgs/beta").await.problem(404);
    app.post_json(
        &rita,
        "/v1/check",
        &json!({ "org": "beta", "user": "rita", "permission": "tasking.task.add" }),
    )
    .await
    .problem(404);
    // A colleague with Standard access does not reach acme at all.
    app.post_json(
        &ron,
        "/v1/check",
        &json!({ "org": "acme", "user": "ron", "permission": "tasking.task.add" }),
    )
    .await
    .problem(404);
    let ron_in_acme = app
        .check(&app.operator, "acme", "ron", "tasking.task.add", true)
        .await;
    assert_eq!(ron_in_acme["allowed"], false);
    assert_eq!(ron_in_acme["reason"]["kind"], "not_member");
    app.assert_audit_intact().await;
}

async fn another_companys_people_are_explained_and_listed_as_if_they_did_not_exist(
    backend: Backend,
) {
    // Arrange: beta has an active and a disabled user.
    let app = spawn_app(&backend).await;
    two_clinics(&app).await;
    app.active_user("beta", "gone", json!({ "roles": ["web.biller"] }))
        .await;
    app.put_json(
        &app.operator,
        "/v1/orgs/beta/users/gone/status",
        &json!({ "status": "disabled" }),
    )
    .await
    .expect(200);
    let boss = app.user_token("acme", "boss").await;

    for theirs in ["bob", "gone"] {
        // Act: acme's admin asks about beta's user, and about nobody.
        let explained = app.check(&boss, "acme", theirs, "web.messages", true).await;
        let ghost = app
            .check(&boss, "acme", "ghost", "web.messages", true)
            .await;
        let listed = app
            .get(&boss, &format!("/v1/orgs/acme/users/{theirs}/permissions"))
            .await;
        let ghost_listed = app
            .get(&boss, "/v1/orgs/acme/users/ghost/permissions")
            .await;

        // Assert: the same answers, with the id swapped.
        assert_eq!(
            explained.to_string().replace(theirs, "ghost"),
            ghost.to_string(),
            "the explanation tells `{theirs}` of beta from nobody"
        );
        assert!(!explained.to_string().contains("Tester"), "{explained}");
        assert_eq!(listed.status, ghost_listed.status);
        assert_eq!(listed.text.replace(theirs, "ghost"), ghost_listed.text);
    }
    // The operator, who reaches everyone, still gets the facts.
    let operator = app
        .check(&app.operator, "acme", "bob", "web.messages", true)
        .await;
    assert!(
        operator.to_string().contains("bob Tester is not a member"),
        "{operator}"
    );
}

async fn a_taken_email_is_refused_without_naming_whose_or_where(backend: Backend) {
    // Arrange: acme has a second user; beta's bob signs in with
    // bob@beta.test.
    let app = spawn_app(&backend).await;
    two_clinics(&app).await;
    app.active_user("acme", "ann", json!({ "roles": [] })).await;
    app.create_employee("acme", "newbie").await;
    let boss = app.user_token("acme", "boss").await;

    // Act: ann's email set to beta's bob's, and to acme's boss's.
    let theirs = app
        .put_json(
            &boss,
            "/v1/orgs/acme/employees/ann",
            &json!({ "email": "bob@beta.test" }),
        )
        .await;
    let ours = app
        .put_json(
            &boss,
            "/v1/orgs/acme/employees/ann",
            &json!({ "email": "boss@acme.test" }),
        )
        .await;

    // Assert: one answer, naming no user.
    let theirs = theirs.problem(409);
    let ours = ours.problem(409);
    let detail = |reply: &crate::reply::Reply, email: &str| {
        reply.body["detail"]
            .as_str()
            .unwrap()
            .replace(email, "EMAIL")
    };
    assert_eq!(
        detail(&theirs, "bob@beta.test"),
        detail(&ours, "boss@acme.test")
    );
    assert!(!theirs.text.contains("`bob`"), "{}", theirs.text);
    assert!(!ours.text.contains("`boss`"), "{}", ours.text);
}
