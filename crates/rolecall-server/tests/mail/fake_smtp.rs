//! SMTP servers on loopback that misbehave on demand, for what the real test
//! server does not do.

use rolecall_server::mail::MailConfig;
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
