//! One delivery attempt: the message built from an outbox row, handed to the
//! SMTP server or written to the folder, within [`ATTEMPT_TIMEOUT`].
//!
//! The message's `Message-ID` is made from the row's id and the From
//! address's domain ([`message_id`]), so every attempt at one row sends the
//! same message: a receiving server (or a person) can tell a resend from a
//! new email, and the folder transport overwrites the same `<id>.eml`.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rolecall_store::QueuedEmail;

use super::{redact, MailConfig, MailError};

/// The longest one attempt may take, from connecting to the SMTP server's
/// last reply (or the folder's rename). Shorter than the lease (see the
/// [module docs of `mail`](super)), so the sender that claimed a message is
/// done with it before another may claim it.
pub(super) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// A transport built from a [`MailConfig`].
pub(super) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

impl Transport {
    pub(super) fn new(config: &MailConfig) -> Result<Transport, MailError> {
        Ok(match config {
            MailConfig::Smtp { url } => {
                // lettre's error names no part of the URL, so it may be shown.
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Config(format!("SMTP URL `{}`: {e}", redact(url))))?;
                // Each command gets no longer than the whole attempt;
                // `attempt` bounds their sum.
                Transport::Smtp(builder.timeout(Some(ATTEMPT_TIMEOUT)).build())
            }
            MailConfig::Folder { path } => Transport::Folder(path.clone()),
        })
    }

    /// Delivers one message, giving up after [`ATTEMPT_TIMEOUT`]; the error
    /// is safe to store and log.
    pub(super) async fn attempt(&self, email: &QueuedEmail, from: &Mailbox) -> Result<(), String> {
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.send(email, from)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "no delivery within {} s; given up",
                ATTEMPT_TIMEOUT.as_secs()
            )),
        }
    }

    async fn send(&self, email: &QueuedEmail, from: &Mailbox) -> Result<(), String> {
        let message = build_message(email, from)?;
        match self {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::Folder(dir) => {
                let path = write_eml(dir, &email.id, &message.formatted())
                    .await
                    .map_err(|e| format!("writing to {}: {e}", dir.display()))?;
                tracing::info!(path = %path.display(), id = %email.id, "email written to the mail folder (no SMTP server configured)");
                Ok(())
            }
        }
    }
}

/// The `Message-ID` of the outbox row `id` sent from `from`:
/// `<id@domain-of-from>`. The same for every attempt at the row, and unique
/// since the row's id is random.
fn message_id(id: &str, from: &Mailbox) -> String {
    format!("<{id}@{}>", from.email.domain())
}

/// The RFC 5322 message for an outbox row.
fn build_message(email: &QueuedEmail, from: &Mailbox) -> Result<Message, String> {
    let to: Mailbox = email
        .recipient
        .parse()
        .map_err(|e| format!("recipient is not an address: {e}"))?;
    let date = UNIX_EPOCH + Duration::from_millis(u64::try_from(email.created_at).unwrap_or(0));
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(message_id(&email.id, from)))
        .date(date)
        .header(ContentType::TEXT_PLAIN)
        .body(email.body_text.clone())
        // The builder's errors are about headers, never the body.
        .map_err(|e| format!("building the message: {e}"))
}

/// Writes `<id>.eml` whole: to a temporary name first, then renamed, so a
/// reader never sees half a message, and a resend replaces the file.
async fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(format!("{id}.eml"));
    let partial = dir.join(format!(".{id}.eml.partial"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await?;
    Ok(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;
    use tokio::time::{sleep, Instant};

    use super::*;

    fn queued(id: &str) -> QueuedEmail {
        QueuedEmail {
            id: id.to_owned(),
            created_at: 1_700_000_000_000,
            recipient: "lee@example.test".to_owned(),
            subject: "Welcome".to_owned(),
            body_text: "Hello.".to_owned(),
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            sent_at: None,
        }
    }

    #[test]
    fn the_message_id_is_the_rows_id_at_the_from_domain() {
        let from: Mailbox = "Clinic Access <access@clinic.example>".parse().unwrap();

        let first = build_message(&queued("mail_abc123"), &from).unwrap();
        let again = build_message(&queued("mail_abc123"), &from).unwrap();

        let id = |m: &Message| m.headers().get_raw("Message-ID").map(str::to_owned);
        assert_eq!(id(&first).as_deref(), Some("<mail_abc123@clinic.example>"));
        assert_eq!(id(&again), id(&first));
    }

    /// Answers every SMTP command correctly, each `delay` late.
    async fn slow_smtp_server(listener: TcpListener, delay: Duration) {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        sleep(delay).await;
        write.write_all(b"220 slow.test ESMTP\r\n").await.unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data && line != "." {
                continue;
            }
            sleep(delay).await;
            let command = line.to_ascii_uppercase();
            let reply: &[u8] = if in_data {
                in_data = false;
                b"250 queued\r\n"
            } else if command.starts_with("EHLO") {
                b"250 slow.test\r\n"
            } else if command.starts_with("DATA") {
                in_data = true;
                b"354 go on\r\n"
            } else if command.starts_with("QUIT") {
                b"221 bye\r\n"
            } else {
                b"250 ok\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_smtp_server_cannot_stretch_an_attempt_past_its_timeout() {
        // Each reply comes in well under the per-command timeout, but the
        // whole conversation (seven replies) would last 35 s.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        tokio::spawn(slow_smtp_server(listener, Duration::from_secs(5)));
        let transport = Transport::new(&MailConfig::Smtp { url }).unwrap();
        let from: Mailbox = "access@clinic.example".parse().unwrap();
        let started = Instant::now();

        let outcome = transport.attempt(&queued("mail_slow"), &from).await;

        let error = outcome.unwrap_err();
        assert!(error.contains("given up"), "{error}");
        assert!(started.elapsed() <= ATTEMPT_TIMEOUT);
    }
}
