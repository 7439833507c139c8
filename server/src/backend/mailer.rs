//! Notification e-mail (`--smtp-url`, `--smtp-from`): to a user who gave an
//! address for it, a message that says only that there is a new
//! notification, with the link to the Notifications page. Never who, what, a
//! name or a file: whoever reads the mailbox or the mail servers in between
//! learns only that something happened. At most one message per user every
//! [`QUIET_SECS`], so a burst of notices is one e-mail.
//!
//! Sending happens after the change is stored, in a task of its own: a slow
//! or failing mail server never holds up or fails a request. A failure is
//! logged without the address.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use shared::model::Id;

/// Seconds after one e-mail to a user during which they get no other.
pub const QUIET_SECS: u64 = 15 * 60;

/// The longest address taken (RFC 5321's path limit less the brackets).
pub const MAX_ADDRESS_CHARS: usize = 254;

/// The subject line, the same for every message.
pub const SUBJECT: &str = "You have a new notification in medvault";

/// A checked address for notification e-mail, or the sentence why not.
pub fn check_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_ADDRESS_CHARS {
        return Err(format!(
            "Give an e-mail address of 1 to {MAX_ADDRESS_CHARS} characters, such as name@example.org."
        ));
    }
    text.parse::<lettre::Address>()
        .map(|a| a.to_string())
        .map_err(|_| "This is not an e-mail address. Write it as name@example.org.".to_owned())
}

/// The SMTP relay and who the messages come from.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Where the Notifications page is ("https://medvault.example.org").
    origin: Option<String>,
    last_sent: Mutex<HashMap<Id, Instant>>,
}

/// Says which sender, never the relay's URL (it may hold a password).
impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `url` (`smtp://host:port` plain, as for a relay on the
    /// same machine; `smtp://host?tls=required` STARTTLS; `smtps://host` TLS;
    /// user and password in the URL if the relay wants them) sending as
    /// `from`; `origin` makes the link in the message.
    pub fn new(url: &str, from: &str, origin: Option<String>) -> Result<Arc<Mailer>, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| {
                "--smtp-url is not an SMTP URL (smtp://host:port, smtps://host).".to_owned()
            })?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| "--smtp-from is not an e-mail address.".to_owned())?;
        Ok(Arc::new(Mailer {
            transport,
            from,
            origin,
            last_sent: Mutex::new(HashMap::new()),
        }))
    }

    /// Whether `user` may get a message now (and, if so, notes it).
    fn due(&self, user: &Id) -> bool {
        let Ok(mut sent) = self.last_sent.lock() else {
            return false;
        };
        let now = Instant::now();
        match sent.get(user) {
            Some(at) if now.duration_since(*at) < Duration::from_secs(QUIET_SECS) => false,
            _ => {
                sent.insert(*user, now);
                true
            }
        }
    }

    /// The message to `to`.
    fn message(&self, to: &str) -> Result<Message, String> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| "a stored address no longer parses")?;
        let link = match &self.origin {
            Some(o) => format!(
                "\n\nSign in to read it: {}/notifications\n",
                o.trim_end_matches('/')
            ),
            None => "\n\nSign in to medvault to read it.\n".to_owned(),
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(SUBJECT)
            .header(ContentType::TEXT_PLAIN)
            .body(format!(
                "You have a new notification in medvault.{link}\nThis message says nothing more on purpose. \
                 To stop these messages, remove your address on the Notifications page.\n"
            ))
            .map_err(|_| "the message could not be made".to_owned())
    }

    /// Sends the notice e-mail to `user` at `to` in a task of its own,
    /// unless they had one within [`QUIET_SECS`].
    pub fn send_later(self: &Arc<Self>, user: Id, to: String) {
        if !self.due(&user) {
            return;
        }
        let mailer = self.clone();
        tokio::spawn(async move {
            let sent = match mailer.message(&to) {
                Ok(m) => mailer.transport.send(m).await.map(|_| ()).map_err(|e| {
                    if e.is_transient() {
                        "the mail server is busy or unreachable"
                    } else {
                        "the mail server refused it"
                    }
                    .to_owned()
                }),
                Err(e) => Err(e),
            };
            match sent {
                Ok(()) => tracing::info!("notification e-mail sent"),
                Err(why) => tracing::warn!(why, "notification e-mail not sent"),
            }
        });
    }
}
