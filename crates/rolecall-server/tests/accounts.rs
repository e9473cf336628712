//! The account life cycle over HTTP, with email delivered by a real SMTP
//! server on loopback (`ROLECALL_TEST_SMTP_URL`, started by scripts/smtp.sh,
//! which stores what it receives in the maildir `ROLECALL_TEST_SMTP_MAILDIR`):
//! employee → user → email received → temporary password → forced change →
//! sign-in → lockout after failures → reset link → MFA → disable → signed
//! out; every step in the audit log, and no secret anywhere in it.
//!
//! Every test runs once per backend (`name::sqlite`, `name::postgres`), on a
//! fresh database: a SQLite file in a temporary directory, and, when
//! `ROLECALL_TEST_POSTGRES_URL` names a server, a PostgreSQL database
//! created for the test and dropped after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/backend.rs"]
#[macro_use]
mod backend;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rolecall_model::Catalog;
use rolecall_server::accounts::reset_requests::run_reset_requests;
use rolecall_server::mail::{run_sender, MailConfig};
use rolecall_server::mfa::{current_code, TotpSecret};
use rolecall_server::passwords::{HashParams, Hasher};
use rolecall_server::service::Settings;
use rolecall_server::Service;
use rolecall_store::{now_ms, Store};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::backend::Backend;

const SMTP_URL_VAR: &str = "ROLECALL_TEST_SMTP_URL";
const SMTP_MAILDIR_VAR: &str = "ROLECALL_TEST_SMTP_MAILDIR";
const ORG: &str = "clinic";

/// The test SMTP server and its maildir; in CI a missing server fails.
fn smtp() -> Option<(String, PathBuf)> {
    match std::env::var(SMTP_URL_VAR) {
        Ok(url) if !url.is_empty() => {
            let maildir = std::env::var_os(SMTP_MAILDIR_VAR)
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/smtp/maildir")
                });
            Some((url, maildir))
        }
        _ if std::env::var_os("CI").is_some() => {
            panic!("the account tests need {SMTP_URL_VAR}; scripts/test.sh sets it")
        }
        _ => {
            eprintln!("skipped: {SMTP_URL_VAR} is not set (see scripts/smtp.sh)");
            None
        }
    }
}

/// A running service with its mail sender, and a client that keeps one
/// session cookie.
struct App {
    base: String,
    client: reqwest::Client,
    operator: String,
    maildir: PathBuf,
    service: Arc<Service>,
    /// Keeps the SQLite file's directory alive (none on PostgreSQL).
    _dir: Option<tempfile::TempDir>,
    _stop: watch::Sender<bool>,
}

/// Opens a fresh database on `backend` and serves the API on it, with the
/// test SMTP server behind the mail sender; `None` when there is no SMTP
/// server to use.
async fn start(backend: &Backend) -> Option<App> {
    let (url, maildir) = smtp()?;
    let (database_url, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = dir.path().join("t.db").to_str().unwrap().to_owned();
            (url, Some(dir))
        }
        Backend::Postgres { admin_url, created } => {
            (Backend::create_database(admin_url, created).await, None)
        }
    };
    let store = Store::open_with_key(&database_url, rolecall_store::AuditKey::from_bytes([7; 32]))
        .await
        .unwrap();
    // Cheap hashing keeps the test fast; the production parameters are
    // measured in tests/passwords.rs.
    let cheap = HashParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    let settings = Settings {
        public_url: "https://access.clinic.test".to_owned(),
        hasher: Hasher::with_params(cheap, 2).unwrap(),
    };
    let service = Service::open_with(store, Arc::new(Catalog::default_catalog()), settings)
        .await
        .unwrap();
    let operator = rolecall_server::tokens::init_operator(&service, "test")
        .await
        .unwrap()
        .token;
    let (stop, stopped) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = rolecall_server::http::router(Arc::clone(&service))
        .into_make_service_with_connect_info::<SocketAddr>();
    let mut server_stop = stopped.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await
            .unwrap();
    });
    let mut sender_stop = stopped.clone();
    tokio::spawn(run_sender(
        service.store().clone(),
        MailConfig::Smtp { url },
        service.mail_wakeup(),
        async move {
            let _ = sender_stop.wait_for(|s| *s).await;
        },
    ));
    tokio::spawn(run_reset_requests(Arc::clone(&service), stopped.clone()));
    let app = App {
        base,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        operator,
        maildir,
        service,
        _dir: dir,
        _stop: stop,
    };
    let (status, body) = app
        .call(
            "POST",
            "/v1/orgs",
            Auth::Operator,
            json!({"id": ORG, "name": "Clinic", "subscriptions": ["web.billing"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Some(app)
}

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Operator,
    /// A session cookie and its CSRF token.
    Session(&'a Session),
    Nobody,
}

/// A console session as a browser holds it.
#[derive(Debug, Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

impl App {
    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Value,
    ) -> (StatusCode, Value) {
        let (status, body, _) = self.call_raw(method, path, auth, Some(body)).await;
        (status, body)
    }

    async fn call_raw(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        match auth {
            Auth::Operator => request = request.bearer_auth(&self.operator),
            Auth::Session(session) => {
                request = request
                    .header("Cookie", format!("rolecall_session={}", session.cookie))
                    .header("X-CSRF-Token", &session.csrf);
            }
            Auth::Nobody => {}
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, body, cookie)
    }

    async fn sign_in(&self, email: &str, password: &str) -> (StatusCode, Value, Option<Session>) {
        let (status, body, cookie) = self
            .call_raw(
                "POST",
                "/v1/sign-in",
                Auth::Nobody,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        let session = cookie.map(|cookie| {
            assert!(cookie.contains("HttpOnly"), "{cookie}");
            assert!(cookie.contains("SameSite=Strict"), "{cookie}");
            assert!(cookie.contains("Secure"), "served behind https: {cookie}");
            let value = cookie
                .split(';')
                .next()
                .unwrap()
                .trim_start_matches("rolecall_session=")
                .to_owned();
            Session {
                cookie: value,
                csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            }
        });
        (status, body, session)
    }

    /// The one message to `to` whose subject contains `subject`, decoded.
    async fn email_to(&self, to: &str, subject: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<String> = ["new", "cur"]
                .iter()
                .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
                .flatten()
                .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
                .filter(|text| {
                    header(text, "To").is_some_and(|t| t.contains(to))
                        && header(text, "Subject").is_some_and(|s| s.contains(subject))
                })
                .collect();
            if found.len() == 1 {
                return body_of(&found[0]);
            }
            assert!(
                found.len() < 2,
                "{} messages to {to} about {subject}",
                found.len()
            );
            assert!(
                Instant::now() < deadline,
                "no message to {to} about {subject}"
            );
            // The sender runs on this runtime: yield to it.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn audit_of(&self, user: &str) -> Vec<Value> {
        let (status, body) = self
            .call(
                "GET",
                &format!("/v1/audit?target=user:{user}&sort=seq&limit=1000"),
                Auth::Operator,
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["records"].as_array().unwrap().clone()
    }
}

/// A header's value (folded lines joined).
fn header(message: &str, name: &str) -> Option<String> {
    let head = message.replace("\r\n", "\n");
    let head = head
        .split("\n\n")
        .next()?
        .replace("\n ", " ")
        .replace("\n\t", " ");
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// The text body, decoded from quoted-printable or base64 when so sent.
fn body_of(message: &str) -> String {
    let normalized = message.replace("\r\n", "\n");
    let (_, body) = normalized.split_once("\n\n").unwrap();
    match header(message, "Content-Transfer-Encoding").as_deref() {
        Some(e) if e.eq_ignore_ascii_case("quoted-printable") => {
            let joined = body.replace("=\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' && i + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        }
        _ => body.to_owned(),
    }
}

/// The indented line after the line containing `label`.
fn value_after(body: &str, label: &str) -> String {
    let mut lines = body.lines().skip_while(|l| !l.contains(label)).skip(1);
    lines
        .find(|l| !l.trim().is_empty())
        .unwrap()
        .trim()
        .to_owned()
}

/// An address no other test of this run uses: the same test runs on both
/// backends at once, and their messages share one maildir.
fn unique_email(who: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{who}.{}.{}.{}@clinic.test",
        std::process::id(),
        now_ms(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn actions(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

on_every_backend!(
    the_whole_account_life_cycle,
    pressing_create_again_for_an_invited_user_sends_a_new_temporary_password,
    sessions_end_after_the_inactivity_limit_and_need_the_csrf_token,
    sensitive_actions_want_the_password_again_after_a_few_minutes,
    a_user_manager_cannot_reset_the_password_of_someone_more_privileged,
    failures_from_one_address_are_throttled_across_accounts,
    an_expired_password_must_be_changed_at_sign_in,
    a_locked_account_answers_like_a_wrong_password_and_its_owner_is_told,
    failures_against_one_account_leave_others_behind_the_address_signing_in,
);

async fn the_whole_account_life_cycle(backend: Backend) {
    let Some(app) = start(&backend).await else {
        return;
    };
    let email = unique_email("pat");

    // Employee, then user: "This will send an email to the user with a
    // temporary password so that they are able to create their own."
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/employees"),
            Auth::Operator,
            json!({"id": "emp-pat", "first_name": "Pat", "last_name": "Lee", "email": email}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/users"),
            Auth::Operator,
            json!({"id": "pat", "employee_id": "emp-pat", "roles": ["web.biller"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "invited");
    let mail = app.email_to(&email, "temporary password").await;
    assert!(
        mail.contains("https://access.clinic.test/sign-in"),
        "{mail}"
    );
    let temporary = value_after(&mail, "temporary password:");
    assert_eq!(temporary.chars().count(), 16, "{mail}");
    // Delivered (the sender records it just after the server accepted it),
    // the body is not kept in the database.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !app
        .service
        .store()
        .unsent_emails()
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the sender never recorded the delivery"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kept = app
        .service
        .store()
        .execute_raw("UPDATE outbox SET id = id WHERE body_text <> ''")
        .await
        .unwrap();
    assert_eq!(kept, 0, "a delivered body is still stored");

    // The temporary password works once, and only to choose a new one.
    let (status, body, session) = app.sign_in(&email, &temporary).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "change_password");
    let session = session.unwrap();
    let (status, body) = app
        .call(
            "GET",
            &format!("/v1/orgs/{ORG}/users"),
            Auth::Session(&session),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("choose a new password"),
        "{body}"
    );
    let (status, _, _) = app.sign_in(&email, &temporary).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a temporary password works once"
    );

    // Forced change: the policy names what is wrong; then the account is
    // active and the session signed in.
    let (status, body) = app
        .call(
            "POST",
            "/v1/account/password",
            Auth::Session(&session),
            json!({"new_password": "password1234"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "new_password");
    let first_password = "a sturdy horse on 3 legs";
    let (status, body) = app
        .call(
            "POST",
            "/v1/account/password",
            Auth::Session(&session),
            json!({"new_password": first_password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "active");
    let (_, user) = app
        .call(
            "GET",
            &format!("/v1/orgs/{ORG}/users/pat"),
            Auth::Operator,
            Value::Null,
        )
        .await;
    assert_eq!(
        user["status"], "active",
        "choosing a password activates the account"
    );
    let (status, body) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Sign out, then in with the new password.
    let (status, _) = app
        .call("POST", "/v1/sign-out", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");
    let (status, body, session) = app.sign_in(&email, first_password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "active");
    let session = session.unwrap();
    let (status, _) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK);

    // Lockout after the policy's 5 failures: even the right password is
    // then refused until it ends or the password is reset, in the words
    // of a wrong password.
    for attempt in 1..=5 {
        let (status, body, _) = app.sign_in(&email, "not the password at all").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {body}"
        );
    }
    let (status, body, _) = app.sign_in(&email, first_password).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("the email or password is wrong"),
        "{body}"
    );
    app.email_to(&email, "is locked").await;

    // A reset link: random, single-use; it unlocks the account.
    let (status, body) = app
        .call(
            "POST",
            "/v1/password-reset",
            Auth::Nobody,
            json!({"email": email}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, unknown) = app
        .call(
            "POST",
            "/v1/password-reset",
            Auth::Nobody,
            json!({"email": unique_email("nobody")}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        unknown, body,
        "the answer does not tell whether the account exists"
    );
    let mail = app.email_to(&email, "Reset your rolecall password").await;
    let link = value_after(&mail, "To choose a new one, open");
    let token = link
        .strip_prefix("https://access.clinic.test/reset-password?token=")
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 64);
    let second_password = "another sturdy horse 44";
    let (status, body) = app
        .call(
            "POST",
            "/v1/password-reset/complete",
            Auth::Nobody,
            json!({"token": token, "new_password": first_password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "reused: {body}");
    assert!(
        body["detail"].as_str().unwrap().contains("used recently"),
        "{body}"
    );
    let (status, body) = app
        .call(
            "POST",
            "/v1/password-reset/complete",
            Auth::Nobody,
            json!({"token": token, "new_password": second_password}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app
        .call(
            "POST",
            "/v1/password-reset/complete",
            Auth::Nobody,
            json!({"token": token, "new_password": "yet another horse 55"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "single-use: {body}"
    );
    let (status, _) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a reset ends every session"
    );
    let (status, body, session) = app.sign_in(&email, second_password).await;
    assert_eq!(status, StatusCode::OK, "unlocked by the reset: {body}");
    let session = session.unwrap();

    // MFA: enrol, confirm with a code, get recovery codes.
    let (status, enrolment) = app
        .call(
            "POST",
            "/v1/account/mfa",
            Auth::Session(&session),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    assert!(enrolment["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let secret = TotpSecret::from_base32(enrolment["secret"].as_str().unwrap()).unwrap();
    let now = u64::try_from(now_ms() / 1000).unwrap();
    let (status, body) = app
        .call(
            "POST",
            "/v1/account/mfa/confirm",
            Auth::Session(&session),
            json!({"code": current_code(&secret, now)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let recovery: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    app.call("POST", "/v1/sign-out", Auth::Session(&session), Value::Null)
        .await;

    // Now the password alone is not enough.
    let (status, body, session) = app.sign_in(&email, second_password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "mfa");
    let session = session.unwrap();
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/orgs/{ORG}/users"),
            Auth::Session(&session),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .call(
            "POST",
            "/v1/sign-in/mfa",
            Auth::Session(&session),
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .call(
            "POST",
            "/v1/sign-in/mfa",
            Auth::Session(&session),
            json!({"recovery_code": recovery[0]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "active");
    let (status, body) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A user API token, to see it end with the account.
    let (status, token) = app
        .call(
            "POST",
            "/v1/tokens",
            Auth::Operator,
            json!({"org": ORG, "user": "pat", "name": "pat's script"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let token = token["token"].as_str().unwrap().to_owned();
    let with_token = app
        .client
        .post(format!("{}/v1/check", app.base))
        .bearer_auth(&token)
        .json(&json!({"org": ORG, "user": "pat", "permission": "web.manage_charge_entries"}))
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);

    // Disable: the session and the token end at once; sign-in is refused.
    let (status, body) = app
        .call(
            "PUT",
            &format!("/v1/orgs/{ORG}/users/pat/status"),
            Auth::Operator,
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("disabled"),
        "{body}"
    );
    let with_token = app
        .client
        .post(format!("{}/v1/check", app.base))
        .bearer_auth(&token)
        .json(&json!({"org": ORG, "user": "pat", "permission": "web.manage_charge_entries"}))
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::UNAUTHORIZED);
    let (status, _, _) = app.sign_in(&email, second_password).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Every step is in the audit log, with ASTM E2147's fields, and no
    // secret is anywhere in it.
    let records = app.audit_of("pat").await;
    let seen = actions(&records);
    for expected in [
        "user.create",
        "sign_in",
        "password.change",
        "user.activate",
        "sign_out",
        "sign_in.failed",
        "account.locked",
        "sign_in.refused",
        "password.reset.request",
        "password.reset",
        "mfa.enroll",
        "sign_in.mfa",
        "user.status.update",
    ] {
        assert!(
            seen.iter().any(|a| a == expected),
            "no `{expected}` in {seen:?}"
        );
    }
    for record in &records {
        for field in ["at", "actor", "action", "target", "source", "outcome"] {
            assert!(
                record[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field}: {record}"
            );
        }
    }
    let failures: Vec<&Value> = records
        .iter()
        .filter(|r| r["outcome"] == "failure")
        .collect();
    assert!(failures.len() >= 6, "{failures:?}");
    let (_, everything) = app
        .call("GET", "/v1/audit?limit=1000", Auth::Operator, Value::Null)
        .await;
    let text = everything.to_string();
    for secret in [
        temporary.as_str(),
        first_password,
        second_password,
        token.as_str(),
        recovery[0].as_str(),
        secret.base32(),
    ] {
        assert!(!text.contains(secret), "a secret is in the audit log");
    }
}

async fn pressing_create_again_for_an_invited_user_sends_a_new_temporary_password(
    backend: Backend,
) {
    let Some(app) = start(&backend).await else {
        return;
    };
    let email = unique_email("sam");
    app.call(
        "POST",
        &format!("/v1/orgs/{ORG}/employees"),
        Auth::Operator,
        json!({"id": "emp-sam", "first_name": "Sam", "last_name": "Ray", "email": email}),
    )
    .await;
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/users"),
            Auth::Operator,
            json!({"id": "sam", "employee_id": "emp-sam", "roles": ["web.biller"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let first = value_after(
        &app.email_to(&email, "temporary password").await,
        "temporary password:",
    );

    // The seed: the email is corrected on the employee profile, and the
    // user's email follows at once.
    let corrected = unique_email("sam.ray");
    let (status, body) = app
        .call(
            "PUT",
            &format!("/v1/orgs/{ORG}/employees/emp-sam"),
            Auth::Operator,
            json!({"email": corrected}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, user) = app
        .call(
            "GET",
            &format!("/v1/orgs/{ORG}/users/sam"),
            Auth::Operator,
            Value::Null,
        )
        .await;
    assert_eq!(user["email"], corrected.as_str());

    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/users/sam/invitation"),
            Auth::Operator,
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let second = value_after(
        &app.email_to(&corrected, "temporary password").await,
        "temporary password:",
    );
    assert_ne!(first, second);
    let (status, _, _) = app.sign_in(&corrected, &first).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the new one replaces the old one"
    );
    let (status, body, session) = app.sign_in(&corrected, &second).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "change_password");
    let (status, body) = app
        .call(
            "POST",
            "/v1/account/password",
            Auth::Session(&session.unwrap()),
            json!({"new_password": "sam chose this one 77"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Once the user has chosen a password, the invitation is refused: a
    // reset link is the way.
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/users/sam/invitation"),
            Auth::Operator,
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

/// Creates an employee and user with `roles` and a password of their own;
/// returns their email.
async fn user_with_password(app: &App, id: &str, roles: Value, password: &str) -> String {
    let email = unique_email(id);
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/employees"),
            Auth::Operator,
            json!({"id": format!("emp-{id}"), "first_name": id, "last_name": "Test", "email": email}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/users"),
            Auth::Operator,
            json!({"id": id, "employee_id": format!("emp-{id}"), "roles": roles}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let temporary = value_after(
        &app.email_to(&email, "temporary password").await,
        "temporary password:",
    );
    let (_, _, session) = app.sign_in(&email, &temporary).await;
    let (status, body) = app
        .call(
            "POST",
            "/v1/account/password",
            Auth::Session(&session.unwrap()),
            json!({"new_password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    email
}

async fn sessions_end_after_the_inactivity_limit_and_need_the_csrf_token(backend: Backend) {
    let Some(app) = start(&backend).await else {
        return;
    };
    let email =
        user_with_password(&app, "ida", json!(["web.biller"]), "ida's long password 1").await;
    let (_, _, session) = app.sign_in(&email, "ida's long password 1").await;
    let session = session.unwrap();

    // A change without the CSRF token is refused, and changes nothing.
    let response = app
        .client
        .post(format!("{}/v1/sign-out", app.base))
        .header("Cookie", format!("rolecall_session={}", session.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "still signed in");

    // Sixteen minutes without a request (the default limit is 15): the
    // clock is moved, not waited for.
    app.service
        .store()
        .execute_raw("UPDATE sessions SET last_seen_at = last_seen_at - 960000")
        .await
        .unwrap();
    let (status, body) = app
        .call("GET", "/v1/session", Auth::Session(&session), Value::Null)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("15 minutes without activity"),
        "{body}"
    );
    let records = app.audit_of("ida").await;
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "session.end" && r["after"]["reason"] == "inactivity"),
        "{records:?}"
    );
}

async fn sensitive_actions_want_the_password_again_after_a_few_minutes(backend: Backend) {
    let Some(app) = start(&backend).await else {
        return;
    };
    let email = user_with_password(
        &app,
        "ada",
        json!(["web.system_admin"]),
        "ada administers things 9",
    )
    .await;
    user_with_password(
        &app,
        "ben",
        json!(["web.biller"]),
        "ben bills the clinic 42",
    )
    .await;
    let (_, _, session) = app.sign_in(&email, "ada administers things 9").await;
    let session = session.unwrap();
    let etag = || async {
        app.client
            .get(format!("{}/v1/orgs/{ORG}/users/ben", app.base))
            .bearer_auth(&app.operator)
            .send()
            .await
            .unwrap()
            .headers()
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let grant_admin = |etag: String| {
        let session = session.clone();
        let app = &app;
        async move {
            let response = app
                .client
                .put(format!("{}/v1/orgs/{ORG}/users/ben/access", app.base))
                .header("Cookie", format!("rolecall_session={}", session.cookie))
                .header("X-CSRF-Token", &session.csrf)
                .header("If-Match", etag)
                .json(&json!({"roles": ["web.biller", "web.system_admin"]}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // Signed in ten minutes ago (the default window is five).
    app.service
        .store()
        .execute_raw("UPDATE sessions SET authenticated_at = authenticated_at - 600000")
        .await
        .unwrap();
    let (status, body) = grant_admin(etag().await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["type"],
        "https://rolecall.dev/problems/reauthentication-required"
    );
    // A change that grants no administrator permission needs no password.
    let response = app
        .client
        .put(format!("{}/v1/orgs/{ORG}/users/ben/access", app.base))
        .header("Cookie", format!("rolecall_session={}", session.cookie))
        .header("X-CSRF-Token", &session.csrf)
        .header("If-Match", etag().await)
        .json(&json!({"roles": ["web.biller", "web.office_staff"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = app
        .call(
            "PUT",
            &format!("/v1/orgs/{ORG}/security-policy"),
            Auth::Session(&session),
            json!({"mfa_required": true}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The password again: a wrong one is a wrong field, the right one
    // opens the window.
    let (status, _) = app
        .call(
            "POST",
            "/v1/session/reauthenticate",
            Auth::Session(&session),
            json!({"password": "not it"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = app
        .call(
            "POST",
            "/v1/session/reauthenticate",
            Auth::Session(&session),
            json!({"password": "ada administers things 9"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = grant_admin(etag().await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .call(
            "PUT",
            &format!("/v1/orgs/{ORG}/security-policy"),
            Auth::Session(&session),
            json!({"mfa_required": true, "lockout_threshold": 99}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "lockout_threshold", "{body}");
    let (status, body) = app
        .call(
            "PUT",
            &format!("/v1/orgs/{ORG}/security-policy"),
            Auth::Session(&session),
            json!({"mfa_required": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Required MFA: the next sign-in may only enrol.
    let (status, body, _) = app.sign_in(&email, "ada administers things 9").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "mfa_enroll");
}

async fn a_user_manager_cannot_reset_the_password_of_someone_more_privileged(backend: Backend) {
    let Some(app) = start(&backend).await else {
        return;
    };
    let email = user_with_password(
        &app,
        "uma",
        json!(["web.office_staff"]),
        "uma manages the users 3",
    )
    .await;
    // Edit Users makes Uma a user manager, without System Admin.
    let etag = app
        .client
        .get(format!("{}/v1/orgs/{ORG}/users/uma", app.base))
        .bearer_auth(&app.operator)
        .send()
        .await
        .unwrap()
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let response = app
        .client
        .put(format!("{}/v1/orgs/{ORG}/users/uma/access", app.base))
        .bearer_auth(&app.operator)
        .header("If-Match", etag)
        .json(&json!({"grants": ["web.manage_user_accounts_subscriptions"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    user_with_password(
        &app,
        "vic",
        json!(["web.system_admin"]),
        "vic is the boss here 1",
    )
    .await;
    user_with_password(
        &app,
        "wes",
        json!(["web.office_staff"]),
        "wes works the desk 22",
    )
    .await;
    let (_, _, session) = app.sign_in(&email, "uma manages the users 3").await;
    let session = session.unwrap();

    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/users/vic/password-reset"),
            Auth::Session(&session),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("`vic` holds"),
        "{body}"
    );
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/orgs/{ORG}/users/wes/password-reset"),
            Auth::Session(&session),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

async fn failures_from_one_address_are_throttled_across_accounts(backend: Backend) {
    let Some(app) = start(&backend).await else {
        return;
    };
    // One password tried on many accounts (spraying): the address is
    // refused after failing against this many.
    let ceiling = app.service.throttle().limits().accounts_per_address;
    for i in 0..ceiling {
        let (status, _, _) = app
            .sign_in(&unique_email(&format!("nobody{i}")), "whatever it is")
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, body, _) = app
        .sign_in(&unique_email("someone"), "whatever it is")
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (_, audit) = app
        .call(
            "GET",
            "/v1/audit?action=sign_in.throttled",
            Auth::Operator,
            Value::Null,
        )
        .await;
    assert_eq!(audit["records"].as_array().unwrap().len(), 1, "{audit}");
}

async fn an_expired_password_must_be_changed_at_sign_in(backend: Backend) {
    let Some(app) = start(&backend).await else {
        return;
    };
    let email =
        user_with_password(&app, "eli", json!(["web.biller"]), "eli's first password 8").await;
    // The organization turns expiry on: passwords last 90 days.
    let (status, body) = app
        .call(
            "PUT",
            &format!("/v1/orgs/{ORG}/security-policy"),
            Auth::Operator,
            json!({"password": {"expires_after_days": 90}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = app.sign_in(&email, "eli's first password 8").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "active", "a fresh password has not expired");

    // Ninety-one days later (the clock is moved, not waited for).
    app.service
        .store()
        .execute_raw("UPDATE credentials SET password_set_at = password_set_at - 7862400000")
        .await
        .unwrap();
    let (status, body, session) = app.sign_in(&email, "eli's first password 8").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "change_password");
    let session = session.unwrap();
    let (status, body) = app
        .call(
            "POST",
            "/v1/account/password",
            Auth::Session(&session),
            json!({"new_password": "eli's first password 8"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the same one again: {body}"
    );
    let (status, body) = app
        .call(
            "POST",
            "/v1/account/password",
            Auth::Session(&session),
            json!({"new_password": "eli's second password 9"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "active");
}

async fn a_locked_account_answers_like_a_wrong_password_and_its_owner_is_told(backend: Backend) {
    // Arrange: an account with a password, and the answer for an email
    // that has no account.
    let Some(app) = start(&backend).await else {
        return;
    };
    let password = "lou's own sturdy password 3";
    let email = user_with_password(&app, "lou", json!(["web.biller"]), password).await;
    let hashing = || app.service.hasher().verifications();
    let before = hashing();
    let (status, unknown, _) = app
        .sign_in(&unique_email("nobody"), "not the password at all")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{unknown}");
    let unknown_work = hashing() - before;
    assert_eq!(unknown_work, 1, "an unknown email costs one verification");

    // Act: the policy's 5 failures lock the account; then the right
    // password is given while it is locked.
    let mut answers = Vec::new();
    for _ in 1..=5 {
        let before = hashing();
        let (status, body, _) = app.sign_in(&email, "not the password at all").await;
        answers.push((status, body, hashing() - before));
    }
    let before = hashing();
    let (status, body, session) = app.sign_in(&email, password).await;
    answers.push((status, body, hashing() - before));

    // Assert: every answer, the locked ones included, reads as the
    // unknown email's did, after the same hashing work, and the right
    // password does not get in.
    for (attempt, (status, body, work)) in answers.iter().enumerate() {
        assert_eq!(
            *status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {body}"
        );
        assert_eq!(*body, unknown, "attempt {attempt}");
        assert_eq!(*work, unknown_work, "attempt {attempt}: hashing work");
    }
    assert!(session.is_none(), "a locked account was signed in");
    let seen = actions(&app.audit_of("lou").await);
    assert!(seen.iter().any(|a| a == "account.locked"), "{seen:?}");
    assert!(seen.iter().any(|a| a == "sign_in.refused"), "{seen:?}");

    // The owner is told by email, with no link and no secret in it.
    let mail = app.email_to(&email, "locked").await;
    assert!(mail.contains("failed sign-in"), "{mail}");
    assert!(
        !mail.contains("http"),
        "a link in the lockout email: {mail}"
    );
    assert!(!mail.contains(password));

    // When the lock has ended (the clock is moved, not waited for), the
    // right password works again.
    app.service
        .store()
        .execute_raw("UPDATE credentials SET locked_until = locked_until - 900000")
        .await
        .unwrap();
    let (status, body, _) = app.sign_in(&email, password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn failures_against_one_account_leave_others_behind_the_address_signing_in(backend: Backend) {
    // Arrange: two people of one clinic, behind one address (every request
    // of this test comes from 127.0.0.1).
    let Some(app) = start(&backend).await else {
        return;
    };
    let ann = user_with_password(
        &app,
        "ann",
        json!(["web.biller"]),
        "ann's sturdy password 1",
    )
    .await;
    let bo_password = "bo's sturdy password 2";
    let bo = user_with_password(&app, "bo", json!(["web.biller"]), bo_password).await;

    // Act: someone guesses at Ann's password, far more often than the
    // address alone once allowed (20 in 15 minutes).
    let mut last = StatusCode::OK;
    for _ in 0..25 {
        last = app.sign_in(&ann, "a wrong guess at it").await.0;
    }

    // Assert: that email is throttled from this address, and Bo, behind
    // the same address, still signs in.
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let (status, body, _) = app.sign_in(&bo, bo_password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
