//! A user is the account of one existing employee, and its email is the
//! employee's.

use serde_json::json;

use crate::helpers::{spawn_app, Backend};

on_every_backend!(
    the_users_email_is_the_employees_and_a_user_needs_an_employee_of_the_org,
    user_fields_read_back_as_written,
    removing_a_membership_revokes_its_tokens_and_the_last_one_ends_everything,
);

async fn the_users_email_is_the_employees_and_a_user_needs_an_employee_of_the_org(
    backend: Backend,
) {
    // Arrange: "Confirm that the email is correct within the email field.
    // If not correct, DO NOT correct in this section, Go to the Employee's
    // Profile located in the employee tab and update and save."
    let app = spawn_app(&backend).await;
    app.create_org("acme", &[]).await;
    app.create_org("other", &[]).await;
    let sam = app
        .create_user("acme", "sam", json!({ "roles": ["web.office_staff"] }))
        .await;
    app.create_employee("other", "olga").await;
    app.create_employee("acme", "eve").await;
    let revision = app.revision().await;

    // Act + Assert: the user shows the employee's email.
    let (user, _) = app.get_user("acme", &sam).await;
    assert_eq!(user["email"], "sam@acme.test");
    assert_eq!(user["employee_id"], "sam");
    assert_eq!(user["status"], "invited");

    // A user cannot be given an email of its own.
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/users",
        &json!({ "employee_id": "eve", "email": "eve@elsewhere.test" }),
    )
    .await
    .invalid_field(422, "email");

    // "Employee's Profile must already be created under the employee tab
    // in order to create user access for an employee": another
    // organization's employee, or nobody, is refused.
    for employee in ["olga", "nobody"] {
        app.post_json(
            &app.operator,
            "/v1/orgs/acme/users",
            &json!({ "employee_id": employee, "roles": ["web.office_staff"] }),
        )
        .await
        .invalid_field(422, "employee_id");
    }

    // An employee has one user.
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/users",
        &json!({ "employee_id": "sam", "roles": ["web.biller"] }),
    )
    .await
    .problem(409);

    assert_eq!(
        app.revision().await,
        revision,
        "refused writes change nothing"
    );
    app.assert_audit_intact().await;
}

async fn user_fields_read_back_as_written(backend: Backend) {
    // Arrange: "If Selected Provider (Therapist) User Type: Select the type
    // of permission you want to give your Provider."
    let app = spawn_app(&backend).await;
    app.create_org("acme", &[]).await;

    // Act
    let ada = app
        .create_user(
            "acme",
            "ada",
            json!({
                "roles": ["web.provider"],
                "grants": ["emr.analytics_access"],
                "denials": ["web.messages"],
                "scheduler_type": "provider",
                "scheduler_level": "edit_own",
            }),
        )
        .await;
    let listed = app
        .get(&app.operator, "/v1/orgs/acme/users")
        .await
        .expect(200)
        .body;
    let employees = app
        .get(&app.operator, "/v1/orgs/acme/employees")
        .await
        .expect(200)
        .body;

    // Assert: what was written, plus the defaults the seeds ask for ("The
    // default permission set given to your user in Analytics is based on
    // their user permissions"; "All EMR users are automatically set up in
    // Tasking with Standard Access").
    let (user, _) = app.get_user("acme", &ada).await;
    let access = &user["access"];
    assert_eq!(access["grants"], json!(["emr.analytics_access"]));
    assert_eq!(access["denials"], json!(["web.messages"]));
    assert_eq!(access["scheduler_type"], "provider");
    assert_eq!(access["scheduler_level"], "edit_own");
    assert_eq!(access["tasking_access"], "standard");
    let roles = access["roles"].as_array().unwrap();
    assert!(roles.contains(&json!("web.provider")), "{access}");
    assert!(
        roles.contains(&json!("analytics.reporting_user")),
        "{access}"
    );
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], ada.as_str());
    assert_eq!(employees[0]["user"], ada.as_str());
    app.assert_audit_intact().await;
}

async fn removing_a_membership_revokes_its_tokens_and_the_last_one_ends_everything(
    backend: Backend,
) {
    // Arrange: Sam works at North, with a token; South is another clinic.
    let app = spawn_app(&backend).await;
    app.create_org("north", &[]).await;
    app.create_org("south", &[]).await;
    let sam = app
        .active_user("north", "sam", json!({ "roles": ["web.office_staff"] }))
        .await;
    // Not a member of South: nothing to remove there.
    app.send(
        reqwest::Method::DELETE,
        "/v1/orgs/south/users/sam",
        Some(&app.operator),
        &[],
        None,
    )
    .await
    .problem(404);
    let north_token = app.user_token("north", &sam).await;
    let check = json!({ "org": "north", "user": "sam", "permission": "web.messages" });
    app.post_json(&north_token, "/v1/check", &check)
        .await
        .expect(200);

    // Act: remove Sam from North, Sam's only organization.
    let revision = app.revision().await;
    app.send(
        reqwest::Method::DELETE,
        "/v1/orgs/north/users/sam",
        Some(&app.operator),
        &[],
        None,
    )
    .await
    .expect(200);

    // Assert: the token ends at once, the user is gone from North, and the
    // removal is audited with what was removed.
    app.post_json(&north_token, "/v1/check", &check)
        .await
        .problem(401);
    app.get(&app.operator, "/v1/orgs/north/users/sam")
        .await
        .problem(404);
    assert_eq!(app.revision().await, revision + 1);
    let audit = app.audit().await;
    let removal = audit
        .iter()
        .find(|r| r.action == "user.membership.remove")
        .expect("an audit record of the removal");
    assert!(removal
        .before
        .as_deref()
        .unwrap()
        .contains("web.office_staff"));
    assert!(removal
        .after
        .as_deref()
        .unwrap()
        .contains("\"last_membership\":true"));
    app.assert_audit_intact().await;
}
