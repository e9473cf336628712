//! Who may administer whom: user managers, system admins, the last
//! administrator, and what only an operator may do.

use serde_json::json;

use crate::helpers::{spawn_app, Backend};

on_every_backend!(
    a_user_manager_creates_users_but_cannot_escalate,
    a_system_admin_may_grant_what_they_do_not_hold,
    the_last_administrator_cannot_be_removed,
    partner_links_and_partner_access_are_for_operators_and_analytics_roles_need_management,
);

async fn a_user_manager_creates_users_but_cannot_escalate(backend: Backend) {
    // Arrange: "If you do not have the Edit Users permission in the EMR and
    // you need to use Analytics, you'll need to ask someone in your clinic
    // (User Manager) to enable this permission for you."
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    let mgr = app.user_token("acme", "mgr").await;

    // Act + Assert: a user manager adds an employee and their user.
    app.post_json(
        &mgr,
        "/v1/orgs/acme/employees",
        &json!({ "id": "newbie", "first_name": "New", "last_name": "Bie", "email": "newbie@acme.test" }),
    )
    .await
    .expect(201);
    app.post_json(
        &mgr,
        "/v1/orgs/acme/users",
        &json!({ "id": "newbie", "employee_id": "newbie", "roles": ["web.office_staff"] }),
    )
    .await
    .expect(201);
    let revision = app.revision().await;

    // Nobody edits their own access.
    let own = app
        .update_access(&mgr, "acme", "mgr", &json!({ "roles": ["web.biller"] }))
        .await;
    own.problem(403);
    let own_status = app
        .put_json(
            &mgr,
            "/v1/orgs/acme/users/mgr/status",
            &json!({ "status": "disabled" }),
        )
        .await;
    own_status.problem(403);
    app.post_json(
        &mgr,
        "/v1/orgs/acme/users/bulk-access",
        &json!({ "updates": [
            { "user": "staff", "roles": ["web.office_staff"] },
            { "user": "mgr", "roles": ["web.office_staff", "web.biller"] },
        ]}),
    )
    .await
    .problem(403);

    // Subscriptions need "Manage User Accounts and Subscriptions", which
    // "Edit Users" alone is not.
    app.put_json(
        &mgr,
        "/v1/orgs/acme/subscriptions",
        &json!({ "subscriptions": [] }),
    )
    .await
    .problem(403);

    // Nobody grants a role they do not hold.
    let role = app
        .update_access(
            &mgr,
            "acme",
            "staff",
            &json!({ "roles": ["web.office_staff", "web.system_admin"] }),
        )
        .await
        .problem(403);
    assert!(role.text.contains("web.system_admin"), "{}", role.text);

    // Nor a direct grant they lack.
    let grant = app
        .update_access(
            &mgr,
            "acme",
            "staff",
            &json!({ "grants": ["emr.billing_report_admin"] }),
        )
        .await
        .problem(403);
    assert!(
        grant.text.contains("emr.billing_report_admin"),
        "{}",
        grant.text
    );

    // Nor a user created with a role they do not hold.
    app.create_employee("acme", "second").await;
    let revision_after_employee = app.revision().await;
    app.post_json(
        &mgr,
        "/v1/orgs/acme/users",
        &json!({ "employee_id": "second", "roles": ["web.biller"] }),
    )
    .await
    .problem(403);

    // Assert: nothing changed.
    assert_eq!(revision + 1, revision_after_employee);
    assert_eq!(app.revision().await, revision_after_employee);
    let (staff, _) = app.get_user("acme", "staff").await;
    assert_eq!(staff["access"]["roles"], json!(["web.office_staff"]));
    assert_eq!(staff["access"]["grants"], json!([]));
    let (mgr_view, _) = app.get_user("acme", "mgr").await;
    assert_eq!(mgr_view["status"], "active");
    let by_mgr: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|r| r.target == "user:newbie" || r.target == "employee:newbie")
        .collect();
    assert_eq!(by_mgr.len(), 2);
    for record in by_mgr {
        assert_eq!(record.actor, "user:mgr");
        assert!(
            record.source.starts_with("127.0.0.1 token:tok-"),
            "{}",
            record.source
        );
    }
    app.assert_audit_intact().await;
}

async fn a_system_admin_may_grant_what_they_do_not_hold(backend: Backend) {
    // Arrange: "System Administrators can assign Web User Roles to manage
    // how users access and utilize the web platform."
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    let boss = app.user_token("acme", "boss").await;

    // Act: Biller and Billing Report Admin, neither of which boss holds.
    app.update_access(
        &boss,
        "acme",
        "staff",
        &json!({
            "roles": ["web.office_staff", "web.biller"],
            "grants": ["emr.billing_report_admin"],
        }),
    )
    .await
    .expect(200);

    // Assert
    let (staff, _) = app.get_user("acme", "staff").await;
    assert_eq!(
        staff["access"]["roles"],
        json!(["web.office_staff", "web.biller"])
    );
    assert_eq!(
        staff["access"]["grants"],
        json!(["emr.billing_report_admin"])
    );
    let check = app
        .check(&boss, "acme", "staff", "web.manage_charge_entries", false)
        .await;
    assert_eq!(check["allowed"], true);
    app.assert_audit_intact().await;
}

async fn the_last_administrator_cannot_be_removed(backend: Backend) {
    // Arrange: two administrators in acme; one is disabled, which is fine.
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    let boss = app.user_token("acme", "boss").await;
    let mgr = app.user_token("acme", "mgr").await;
    app.put_json(
        &boss,
        "/v1/orgs/acme/users/mgr/status",
        &json!({ "status": "disabled" }),
    )
    .await
    .expect(200);
    let revision = app.revision().await;
    let audited = app.assert_audit_intact().await;
    // A disabled user's token acts no more.
    let refused = app
        .post_json(
            &mgr,
            "/v1/orgs/acme/employees",
            &json!({ "first_name": "A", "last_name": "B", "email": "a@acme.test" }),
        )
        .await;
    assert!(
        [401, 404].contains(&refused.status),
        "a disabled user's token acted: {}",
        refused.text
    );

    // Act: remove the only one left, by disabling or by taking the role.
    let disabled = app
        .put_json(
            &app.operator,
            "/v1/orgs/acme/users/boss/status",
            &json!({ "status": "disabled" }),
        )
        .await;
    let demoted = app
        .update_access(
            &app.operator,
            "acme",
            "boss",
            &json!({ "roles": ["web.office_staff"] }),
        )
        .await;

    // Assert: both conflict, and nothing changed.
    disabled.problem(409);
    demoted.problem(409);
    assert_eq!(app.revision().await, revision);
    assert_eq!(app.assert_audit_intact().await, audited);
    let (boss_view, _) = app.get_user("acme", "boss").await;
    assert_eq!(boss_view["status"], "active");
    assert_eq!(boss_view["access"]["roles"], json!(["web.system_admin"]));
    let admins = app
        .get(
            &boss,
            "/v1/orgs/acme/permissions/web.manage_user_accounts_subscriptions/users",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(admins, json!([{ "user": "boss", "scope": "all" }]));
}

async fn partner_links_and_partner_access_are_for_operators_and_analytics_roles_need_management(
    backend: Backend,
) {
    // Arrange: "Partner RCM Access ... Manually assigned to specific users
    // during Onboarding"; "open the Management section and select User
    // Role Management".
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    app.create_org("partner", &[]).await;
    app.active_user(
        "acme",
        "ana",
        // Office Staff too: only someone who holds all that `staff` holds
        // may change their access.
        json!({
            "roles": ["web.office_staff"],
            "grants": ["emr.analytics_access", "emr.clinic_admin", "emr.edit_users"],
        }),
    )
    .await;
    let boss = app.user_token("acme", "boss").await;
    let ana = app.user_token("acme", "ana").await;
    let revision = app.revision().await;

    // Act + Assert: a system admin may not link partners ...
    app.put_json(
        &boss,
        "/v1/orgs/acme/manages",
        &json!({ "orgs": ["partner"] }),
    )
    .await
    .problem(403);
    // ... nor assign Partner RCM access ...
    let partner = app
        .update_access(
            &boss,
            "acme",
            "staff",
            &json!({ "tasking_access": "partner_rcm" }),
        )
        .await
        .problem(403);
    assert!(partner.text.contains("tasking_access"), "{}", partner.text);
    // ... nor change Analytics roles without the Management section.
    let analytics = app
        .update_access(
            &boss,
            "acme",
            "staff",
            &json!({ "roles": ["web.office_staff", "analytics.admin"] }),
        )
        .await
        .problem(403);
    assert!(
        analytics.text.contains("analytics.management"),
        "{}",
        analytics.text
    );
    assert_eq!(app.revision().await, revision);
    let (staff, _) = app.get_user("acme", "staff").await;
    assert_eq!(staff["access"]["roles"], json!(["web.office_staff"]));
    assert_eq!(staff["access"]["tasking_access"], "standard");

    // An Analytics admin who manages users may ("Analytics admins will have
    // access to all reports and the Management section by default").
    app.update_access(
        &ana,
        "acme",
        "staff",
        &json!({ "roles": ["web.office_staff", "analytics.admin"], "grants": ["emr.analytics_access"] }),
    )
    .await
    .expect(200);
    // And an operator may link partners and assign Partner RCM access.
    app.put_json(
        &app.operator,
        "/v1/orgs/partner/manages",
        &json!({ "orgs": ["acme"] }),
    )
    .await
    .expect(200);
    app.update_access(
        &app.operator,
        "acme",
        "staff",
        &json!({ "tasking_access": "partner_rcm" }),
    )
    .await
    .expect(200);
    app.assert_audit_intact().await;
}
