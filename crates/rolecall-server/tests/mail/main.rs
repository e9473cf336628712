//! The email outbox and its sender, against a SQLite store and a real SMTP
//! server on loopback (`ROLECALL_TEST_SMTP_URL`, started by scripts/smtp.sh,
//! which stores what it receives in the maildir
//! `ROLECALL_TEST_SMTP_MAILDIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_smtp;
mod resend;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rolecall_server::mail::{backoff_ms, deliver_due, MailConfig};
use rolecall_store::{now_ms, Batch, OrgRow, OutgoingEmail, Put, QueuedEmail, Store, StoreError};

const SMTP_URL_VAR: &str = "ROLECALL_TEST_SMTP_URL";
const SMTP_MAILDIR_VAR: &str = "ROLECALL_TEST_SMTP_MAILDIR";
/// Stands for a temporary password: it must appear in no error.
const SECRET: &str = "temporary-password-Zq81xv";

/// The test SMTP server and its maildir, when the suite was given one. In
/// CI a missing server is an error, not a silent skip.
fn smtp() -> Option<(MailConfig, PathBuf)> {
    match std::env::var(SMTP_URL_VAR) {
        Ok(url) if !url.is_empty() => {
            let maildir = std::env::var_os(SMTP_MAILDIR_VAR)
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/smtp/maildir")
                });
            Some((MailConfig::Smtp { url }, maildir))
        }
        _ if std::env::var_os("CI").is_some() => {
            panic!("the mail tests need {SMTP_URL_VAR}; scripts/test.sh sets it")
        }
        _ => {
            eprintln!("skipped: {SMTP_URL_VAR} is not set (see scripts/smtp.sh)");
            None
        }
    }
}

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with_key(
        dir.path().join("t.db").to_str().unwrap(),
        rolecall_store::AuditKey::from_bytes([7; 32]),
    )
    .await
    .unwrap();
    (store, dir)
}

fn org(id: &str) -> Put {
    Put::Org(OrgRow {
        id: id.to_owned(),
        name: id.to_owned(),
        parent: None,
        subscriptions: vec!["web.billing".to_owned()],
        manages: vec![],
        created_at: 1,
    })
}

/// A subject no other test (or earlier run) uses, to find the message in
/// the shared maildir.
fn unique_subject(what: &str) -> String {
    format!("{what} {} {}", std::process::id(), now_ms())
}

fn email(to: &str, subject: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body_text: format!("Welcome to rolecall.\nYour {SECRET} goes here.\n"),
    }
}

/// Commits one write that sends `mail`, and returns the queued message.
async fn commit_with(store: &Store, mail: OutgoingEmail) -> QueuedEmail {
    let base = store.head().await.unwrap();
    let id = format!("org{base}");
    store
        .commit(
            base,
            "cli",
            "cli",
            Batch {
                puts: &[org(&id)],
                audit: &[],
                emails: &[mail],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
    let mut unsent = store.unsent_emails().await.unwrap();
    assert_eq!(unsent.len(), 1);
    unsent.pop().unwrap()
}

/// The messages in `maildir` whose Subject is `subject`, now.
fn in_maildir(maildir: &Path, subject: &str) -> Vec<String> {
    let wanted = format!("Subject: {subject}");
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .filter(|text| text.lines().any(|line| line.trim_end() == wanted))
        .collect()
}

/// The messages in `maildir` whose Subject is `subject`. Waits up to a few
/// seconds for the first: the server is another process.
fn received(maildir: &Path, subject: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = in_maildir(maildir, subject);
        if !found.is_empty() || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of header `name` in an RFC 5322 message (folded lines joined).
fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_committed_email_is_delivered_by_smtp() {
    let Some((config, maildir)) = smtp() else {
        return;
    };
    let (store, _dir) = store().await;
    let subject = unique_subject("Welcome");
    let queued = commit_with(&store, email("ada@example.test", &subject)).await;

    let sent = deliver_due(&store, &config, now_ms()).await.unwrap();

    assert_eq!(sent, 1);
    let messages = received(&maildir, &subject);
    assert_eq!(messages.len(), 1, "one message with subject {subject}");
    assert_eq!(
        header(&messages[0], "To").as_deref(),
        Some("ada@example.test")
    );
    assert_eq!(
        header(&messages[0], "X-RcptTo").as_deref(),
        Some("ada@example.test")
    );
    let stored = store.email(&queued.id).await.unwrap().unwrap();
    assert!(stored.sent_at.is_some());
    assert!(store.unsent_emails().await.unwrap().is_empty());
    // Nothing is due any more: a second run sends nothing again.
    assert_eq!(deliver_due(&store, &config, now_ms()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_failed_commit_queues_no_email() {
    let (store, _dir) = store().await;
    store
        .commit(
            0,
            "cli",
            "cli",
            Batch {
                puts: &[org("a")],
                audit: &[],
                emails: &[],
                ..Batch::default()
            },
        )
        .await
        .unwrap();

    // Written against revision 0 while the database is at 1.
    let refused = store
        .commit(
            0,
            "cli",
            "cli",
            Batch {
                puts: &[org("b")],
                emails: &[email("ada@example.test", "Welcome")],
                ..Batch::default()
            },
        )
        .await;

    assert!(matches!(refused, Err(StoreError::Behind { .. })));
    assert!(store.unsent_emails().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_email_survives_a_down_smtp_server_and_is_delivered_once_later() {
    let Some((config, maildir)) = smtp() else {
        return;
    };
    let (store, _dir) = store().await;
    let subject = unique_subject("Reset");
    let queued = commit_with(&store, email("bob@example.test", &subject)).await;
    let down = MailConfig::Smtp {
        url: format!("smtp://127.0.0.1:{}", closed_port()),
    };
    let now = now_ms();

    let sent = deliver_due(&store, &down, now).await.unwrap();

    assert_eq!(sent, 0);
    let kept = store.email(&queued.id).await.unwrap().unwrap();
    assert_eq!(kept.attempts, 1);
    assert_eq!(kept.next_attempt_at, now + backoff_ms(1));
    assert!(kept.sent_at.is_none());
    let error = kept.last_error.unwrap();
    assert!(!error.is_empty());
    assert!(!error.contains(SECRET), "last_error holds the message body");

    // Not due yet: nothing is sent, even with the server up.
    assert_eq!(deliver_due(&store, &config, now + 1_000).await.unwrap(), 0);
    assert!(in_maildir(&maildir, &subject).is_empty());

    let later = kept.next_attempt_at + 1;
    assert_eq!(deliver_due(&store, &config, later).await.unwrap(), 1);
    assert_eq!(deliver_due(&store, &config, later + 1).await.unwrap(), 0);
    assert_eq!(received(&maildir, &subject).len(), 1);
    let delivered = store.email(&queued.id).await.unwrap().unwrap();
    assert_eq!(delivered.sent_at, Some(later));
    assert_eq!(delivered.last_error, None);
}

#[tokio::test]
async fn the_folder_transport_writes_a_parseable_message() {
    let (store, dir) = store().await;
    let folder = dir.path().join("rolecall-mail");
    let config = MailConfig::Folder {
        path: folder.clone(),
    };
    let queued = commit_with(&store, email("cy@example.test", "Your account")).await;

    assert_eq!(deliver_due(&store, &config, now_ms()).await.unwrap(), 1);

    let text = std::fs::read_to_string(folder.join(format!("{}.eml", queued.id))).unwrap();
    assert_eq!(header(&text, "To").as_deref(), Some("cy@example.test"));
    assert_eq!(header(&text, "Subject").as_deref(), Some("Your account"));
    assert_eq!(
        header(&text, "From").as_deref(),
        Some("rolecall <no-reply@rolecall.invalid>")
    );
    assert_eq!(
        header(&text, "Message-ID"),
        Some(format!("<{}@rolecall.invalid>", queued.id))
    );
    assert!(header(&text, "Date").is_some());
    assert!(header(&text, "Content-Type")
        .unwrap()
        .starts_with("text/plain"));
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(body.contains("Welcome to rolecall."));
    assert!(store.unsent_emails().await.unwrap().is_empty());
}

#[tokio::test]
async fn only_one_sender_wins_a_claim() {
    let (store, _dir) = store().await;
    let queued = commit_with(&store, email("di@example.test", "Hello")).await;
    let now = now_ms();

    // Two senders read the same due message; both try to claim it.
    let first = store.claim_email(&queued, now + 60_000).await.unwrap();
    let second = store.claim_email(&queued, now + 60_000).await.unwrap();

    assert!(first);
    assert!(!second);
    // Claimed: no longer due until the lease ends.
    assert!(store.due_emails(now, 10).await.unwrap().is_empty());
    assert_eq!(store.due_emails(now + 60_000, 10).await.unwrap().len(), 1);
}

#[test]
fn backoff_doubles_from_five_seconds_to_at_most_fifteen_minutes() {
    assert_eq!(backoff_ms(1), 5_000);
    assert_eq!(backoff_ms(2), 10_000);
    assert_eq!(backoff_ms(3), 20_000);
    assert_eq!(backoff_ms(8), 640_000);
    assert_eq!(backoff_ms(9), 900_000);
    assert_eq!(backoff_ms(1_000), 900_000);
}

#[test]
fn the_smtp_password_is_never_displayed() {
    let config = MailConfig::Smtp {
        url: "smtps://mailer:hunter2-secret@mail.example.test:465/ehlo".to_owned(),
    };

    let shown = [config.to_string(), format!("{config:?}")];

    for text in shown {
        assert!(!text.contains("hunter2"), "the password was shown");
        assert!(text.contains("smtps://mailer:***@mail.example.test:465/ehlo"));
    }
}

#[test]
fn without_smtp_mail_goes_to_a_folder_beside_the_database() {
    assert_eq!(
        MailConfig::default_folder("sqlite:///var/lib/rolecall/rolecall.db?mode=rwc"),
        PathBuf::from("/var/lib/rolecall/rolecall-mail")
    );
    assert_eq!(
        MailConfig::default_folder("data/rolecall.db"),
        PathBuf::from("data/rolecall-mail")
    );
    assert_eq!(
        MailConfig::default_folder("postgres://db/rolecall"),
        PathBuf::from("rolecall-mail")
    );
}

/// Two replicas sharing one PostgreSQL database: of their senders claiming
/// the same message at once, exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_two_replicas_never_both_claim_a_message() {
    let admin_url = match std::env::var("ROLECALL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("PostgreSQL tests need ROLECALL_TEST_POSTGRES_URL; scripts/test.sh sets it")
        }
        _ => return,
    };
    let admin = Store::open(&admin_url).await.unwrap();
    let name = format!("rolecall_mail_{}", std::process::id());
    admin
        .execute_raw(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .execute_raw(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    let one = Store::open_with_key(&url, rolecall_store::AuditKey::from_bytes([7; 32]))
        .await
        .unwrap();
    let two = Store::open_with_key(&url, rolecall_store::AuditKey::from_bytes([7; 32]))
        .await
        .unwrap();
    let queued = commit_with(&one, email("ed@example.test", "Hello")).await;
    let now = now_ms();

    let (a, b) = tokio::join!(
        one.claim_email(&queued, now + 60_000),
        two.claim_email(&queued, now + 60_000)
    );

    assert!(a.unwrap() ^ b.unwrap(), "exactly one replica claims it");
    two.mark_failed(&queued.id, "connection refused", now + 5_000)
        .await
        .unwrap();
    let failed = one.email(&queued.id).await.unwrap().unwrap();
    assert_eq!((failed.attempts, failed.next_attempt_at), (1, now + 5_000));
    one.mark_sent(&queued.id, now + 6_000).await.unwrap();
    assert!(two.unsent_emails().await.unwrap().is_empty());
    one.close().await;
    two.close().await;
    // FORCE: a closed connection's server process may not have exited yet.
    admin
        .execute_raw(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// The sender loop delivers what a write queued when woken, and stops on
/// shutdown.
#[tokio::test]
async fn the_sender_delivers_when_woken_and_stops_on_shutdown() {
    let (store, dir) = store().await;
    let folder = dir.path().join("mail");
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sender = tokio::spawn(rolecall_server::mail::run_sender(
        store.clone(),
        MailConfig::Folder {
            path: folder.clone(),
        },
        std::sync::Arc::clone(&wake),
        async move {
            let _ = stopped.await;
        },
    ));

    let queued = commit_with(&store, email("fi@example.test", "Hi")).await;
    wake.notify_one();
    let file = folder.join(format!("{}.eml", queued.id));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !file.exists() && Instant::now() < deadline {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    sender.await.unwrap();

    assert!(file.exists());
    assert!(store.unsent_emails().await.unwrap().is_empty());
}
