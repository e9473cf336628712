//! SMTP servers on loopback that misbehave on demand, for what the real test
//! server does not do: hang, or lose its reply to a message it has taken.

use rolecall_server::mail::MailConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A server that accepts connections and never says a word: a sender
/// talking to it is stuck in its delivery attempt.
pub struct SilentServer {
    listener: TcpListener,
    /// The connections accepted, kept open so the sender stays stuck.
    held: Vec<TcpStream>,
}

impl SilentServer {
    pub async fn bind() -> SilentServer {
        SilentServer {
            listener: TcpListener::bind("127.0.0.1:0").await.unwrap(),
            held: Vec::new(),
        }
    }

    pub fn config(&self) -> MailConfig {
        MailConfig::Smtp {
            url: format!("smtp://{}", self.listener.local_addr().unwrap()),
        }
    }

    /// Waits until a sender has connected. A sender connects only after it
    /// has claimed the message it is about to send.
    pub async fn connected(&mut self) {
        let (stream, _) = self.listener.accept().await.unwrap();
        self.held.push(stream);
    }
}

/// A relay in front of a real SMTP server that passes one conversation
/// through, except the server's reply to the end of the message: the server
/// has the message, and the sender sees its connection drop, as when a
/// network or a process fails at the worst moment.
pub struct ReplyLosingRelay {
    url: String,
}

impl ReplyLosingRelay {
    /// Starts the relay to the server at `upstream` (an `smtp://host:port`
    /// URL).
    pub async fn start(upstream: &str) -> ReplyLosingRelay {
        let address = upstream
            .strip_prefix("smtp://")
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        tokio::spawn(relay_once(listener, address));
        ReplyLosingRelay { url }
    }

    pub fn config(&self) -> MailConfig {
        MailConfig::Smtp {
            url: self.url.clone(),
        }
    }
}

/// Relays the first connection to `upstream` until the client has ended a
/// message (`CRLF . CRLF`), then drops both sides instead of passing on the
/// server's reply.
async fn relay_once(listener: TcpListener, upstream: String) {
    let Ok((mut client, _)) = listener.accept().await else {
        return;
    };
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let mut said = Vec::new();
    let mut from_client = [0_u8; 4096];
    let mut from_server = [0_u8; 4096];
    loop {
        tokio::select! {
            read = client.read(&mut from_client) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                said.extend_from_slice(&from_client[..n]);
                if server.write_all(&from_client[..n]).await.is_err() {
                    return;
                }
            }
            read = server.read(&mut from_server) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if said.windows(5).any(|w| w == b"\r\n.\r\n") {
                    // The reply to the message's end: lost.
                    return;
                }
                if client.write_all(&from_server[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
