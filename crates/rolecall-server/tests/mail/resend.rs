//! When a sender dies holding a message, another sends it soon; while
//! senders live, a message is still sent once.

use rolecall_server::mail::{deliver_due, MailConfig};
use rolecall_store::{now_ms, Store};

use super::fake_smtp::SilentServer;
use super::{commit_with, email, in_maildir, received, smtp, store, unique_subject};

/// A second handle on the database of `dir` (as made by [`store`]): what a
/// restarted process or another replica opens.
async fn reopen(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path().join("t.db").to_str().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_message_held_by_a_killed_sender_is_sent_by_the_next_within_a_minute() {
    let Some((config, maildir)) = smtp() else {
        return;
    };
    let (store, dir) = store().await;
    let subject = unique_subject("Invitation");
    commit_with(&store, email("gil@example.test", &subject)).await;
    let mut silent = SilentServer::bind().await;
    let claimed_at = now_ms();
    let dying = tokio::spawn({
        let (store, config) = (store.clone(), silent.config());
        async move { deliver_due(&store, &config, claimed_at).await }
    });
    // It has claimed the message and is talking to the server: kill it.
    silent.connected().await;
    dying.abort();
    assert!(dying.await.unwrap_err().is_cancelled());
    let next = reopen(&dir).await;

    let sent = deliver_due(&next, &config, claimed_at + 59_000)
        .await
        .unwrap();

    assert_eq!(sent, 1, "sent again less than a minute after the claim");
    assert_eq!(received(&maildir, &subject).len(), 1);
    assert!(next.unsent_emails().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_live_senders_claim_keeps_other_senders_off_the_message() {
    let (store, dir) = store().await;
    commit_with(&store, email("hal@example.test", "Welcome")).await;
    let mut silent = SilentServer::bind().await;
    let claimed_at = now_ms();
    let first = tokio::spawn({
        let (store, config) = (store.clone(), silent.config());
        async move { deliver_due(&store, &config, claimed_at).await }
    });
    silent.connected().await;
    let folder = dir.path().join("mail");
    let other = reopen(&dir).await;

    // Another replica looks a second later, while the first is still sending.
    let sent = deliver_due(
        &other,
        &MailConfig::Folder {
            path: folder.clone(),
        },
        claimed_at + 1_000,
    )
    .await
    .unwrap();

    assert_eq!(sent, 0);
    assert!(!folder.exists(), "the other replica wrote the message");
    first.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_senders_racing_for_a_message_deliver_it_once() {
    let Some((config, maildir)) = smtp() else {
        return;
    };
    let (one, dir) = store().await;
    let two = reopen(&dir).await;
    let subject = unique_subject("Race");
    commit_with(&one, email("ivy@example.test", &subject)).await;
    let now = now_ms();

    let (a, b) = tokio::join!(
        deliver_due(&one, &config, now),
        deliver_due(&two, &config, now)
    );

    assert_eq!(a.unwrap() + b.unwrap(), 1);
    // Both attempts are over, and the server stores a message before it
    // acknowledges it: the maildir is complete.
    assert_eq!(in_maildir(&maildir, &subject).len(), 1);
    assert!(one.unsent_emails().await.unwrap().is_empty());
}
