//! When a sender dies holding a message, another sends it soon, under the
//! same Message-ID; while senders live, a message is still sent once.

use rolecall_server::mail::{deliver_due, MailConfig};
use rolecall_store::{now_ms, Store};

use super::fake_smtp::{ReplyLosingRelay, SilentServer};
use super::{commit_with, email, header, in_maildir, received, smtp, store, unique_subject};

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

#[tokio::test]
async fn a_message_sent_twice_carries_the_same_message_id_both_times() {
    let Some((config, maildir)) = smtp() else {
        return;
    };
    let MailConfig::Smtp { url } = &config else {
        unreachable!("smtp() gives an SMTP configuration")
    };
    let (store, _dir) = store().await;
    let subject = unique_subject("Reset your password");
    let queued = commit_with(&store, email("jo@example.test", &subject)).await;
    let relay = ReplyLosingRelay::start(url).await;
    let now = now_ms();
    // The server takes the message, but its reply is lost: to the sender
    // the attempt failed, and the message is due again later.
    assert_eq!(deliver_due(&store, &relay.config(), now).await.unwrap(), 0);
    let kept = store.email(&queued.id).await.unwrap().unwrap();
    assert_eq!(kept.attempts, 1);

    let sent = deliver_due(&store, &config, kept.next_attempt_at)
        .await
        .unwrap();

    assert_eq!(sent, 1);
    let messages = received(&maildir, &subject);
    assert_eq!(messages.len(), 2, "the server received it twice");
    let expected = format!("<{}@rolecall.invalid>", queued.id);
    for message in &messages {
        assert_eq!(header(message, "Message-ID").as_deref(), Some(&*expected));
    }
}

#[tokio::test]
async fn a_message_written_twice_to_the_folder_is_one_file_with_one_message_id() {
    let (store, dir) = store().await;
    let folder = dir.path().join("rolecall-mail");
    let config = MailConfig::Folder {
        path: folder.clone(),
    };
    let queued = commit_with(&store, email("kay@example.test", "Your account")).await;
    let file = folder.join(format!("{}.eml", queued.id));
    assert_eq!(deliver_due(&store, &config, now_ms()).await.unwrap(), 1);
    let first = std::fs::read_to_string(&file).unwrap();
    // As if the database had failed between the file's writing and its
    // record: the message is unsent again, due when its claim ends.
    store
        .execute_raw(&format!(
            "UPDATE outbox SET sent_at = NULL, body_text = 'Again.' WHERE id = '{}'",
            queued.id
        ))
        .await
        .unwrap();
    let again = store.email(&queued.id).await.unwrap().unwrap();

    let sent = deliver_due(&store, &config, again.next_attempt_at)
        .await
        .unwrap();

    assert_eq!(sent, 1);
    let names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, [format!("{}.eml", queued.id)]);
    let second = std::fs::read_to_string(&file).unwrap();
    assert!(second.contains("Again."), "the file was not rewritten");
    let expected = format!("<{}@rolecall.invalid>", queued.id);
    assert_eq!(header(&first, "Message-ID").as_deref(), Some(&*expected));
    assert_eq!(header(&second, "Message-ID").as_deref(), Some(&*expected));
}
