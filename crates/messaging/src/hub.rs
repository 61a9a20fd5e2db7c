//! The real-time hub: who is connected to this node, and the signals that tell every node that
//! something new is in the database.
//!
//! A write stages its [`Signal`] in its own transaction. On PostgreSQL that is a NOTIFY, which the
//! database delivers only if the transaction commits, to every node's listener (this one's too);
//! on SQLite there is one process, and the signal is handled here once the caller has committed.
//! Either way the data itself is read from the database by each node that has someone to tell.

use crate::conversations::store as conv_store;
use crate::notices::store as notice_store;
use kernel::App;
use kernel::db::{Dialect, Tx, sql};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub const CHANNEL: &str = "hanlin_messaging";

/// Frames waiting for one slow client before it is dropped; it reconnects and resumes.
const CLIENT_QUEUE: usize = 256;
/// Member lists are cached per node; a membership change also clears them everywhere.
const MEMBERS_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "s", rename_all = "snake_case")]
pub enum Signal {
    /// A new message; `v` carries its view when it fits in a NOTIFY, so no node reads it back.
    Message {
        c: i64,
        m: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        v: Option<serde_json::Value>,
    },
    /// A message was recalled or removed.
    Changed { c: i64, m: i64 },
    /// A conversation's members, or its muted state, changed.
    Members { c: i64 },
    /// A notice was sent, or (`reminder`) those who have not read or confirmed it are reminded.
    Notice { n: i64, reminder: bool },
    /// A recipient read or confirmed a notice: its sender's counts change.
    NoticeRead { n: i64, sender: i64 },
}

/// A frame of JSON text, shared by every connection it goes to.
pub type Frame = Arc<str>;

struct Client {
    id: u64,
    tx: mpsc::Sender<Frame>,
}

/// A conversation's member ids, as loaded at an instant.
type CachedMembers = (Instant, Arc<Vec<i64>>);

#[derive(Default)]
pub struct Hub {
    clients: Mutex<HashMap<i64, Vec<Client>>>,
    members: Mutex<HashMap<i64, CachedMembers>>,
    next_id: AtomicU64,
    /// PostgreSQL: whether this node's listener is listening, so it hears other nodes' writes.
    listening: AtomicBool,
}

/// A signal staged in a transaction; [`Staged::deliver`] after the commit.
#[must_use = "deliver the signal once the transaction has committed"]
pub struct Staged(Option<Signal>);

impl Staged {
    pub fn deliver(self, app: &App) {
        if let Some(signal) = self.0 {
            let app = app.clone();
            tokio::spawn(async move { handle(&app, signal).await });
        }
    }
}

/// PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_900;

/// Stages `signal` in `tx`: a NOTIFY on PostgreSQL (sent at commit), kept for after the commit on SQLite.
pub async fn stage(tx: &mut Tx, signal: Signal) -> Result<Staged, kernel::db::DbError> {
    match tx.dialect() {
        Dialect::Postgres => {
            let mut payload = serde_json::to_string(&signal).unwrap_or_default();
            if payload.len() > MAX_PAYLOAD
                && let Signal::Message { c, m, .. } = signal
            {
                // Too long to carry: the nodes read the message from the database instead.
                payload = serde_json::to_string(&Signal::Message { c, m, v: None }).unwrap_or_default();
            }
            tx.execute(sql("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload)).await?;
            Ok(Staged(None))
        }
        Dialect::Sqlite => Ok(Staged(Some(signal))),
    }
}

pub fn hub(app: &App) -> &Hub {
    app.part::<Hub>().expect("the messaging hub is part of the app")
}

impl Hub {
    /// Registers a connection of `person`; frames for them arrive on the receiver.
    pub fn connect(&self, person: i64) -> (u64, mpsc::Receiver<Frame>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
        self.clients.lock().expect("hub lock").entry(person).or_default().push(Client { id, tx });
        (id, rx)
    }

    pub fn disconnect(&self, person: i64, id: u64) {
        let mut clients = self.clients.lock().expect("hub lock");
        if let Some(list) = clients.get_mut(&person) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                clients.remove(&person);
            }
        }
    }

    /// Whether this node hears every node's signals: always on SQLite (one process); on PostgreSQL
    /// once its listener listens. Until then the node is not ready (`/readyz`): a client served
    /// meanwhile would miss what other nodes send.
    pub fn hears_signals(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Sqlite || self.listening.load(Ordering::Acquire)
    }

    /// Connections open on this node.
    pub fn connections(&self) -> usize {
        self.clients.lock().expect("hub lock").values().map(Vec::len).sum()
    }

    /// Of these people, those connected here.
    fn connected(&self, people: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let clients = self.clients.lock().expect("hub lock");
        people.into_iter().filter(|p| clients.contains_key(p)).collect()
    }

    /// Sends a frame to every connection of these people. A connection whose queue is full is
    /// closed (its receiver sees the end): the client reconnects and resumes from what it has.
    fn send(&self, people: &[i64], frame: Frame) {
        let mut clients = self.clients.lock().expect("hub lock");
        for p in people {
            if let Some(list) = clients.get_mut(p) {
                list.retain(|c| c.tx.try_send(frame.clone()).is_ok());
                if list.is_empty() {
                    clients.remove(p);
                }
            }
        }
    }

    /// Tells every client here to resume from what it has (after a lost NOTIFY connection).
    fn resync_all(&self) {
        let frame: Frame = Arc::from(r#"{"type":"resync"}"#);
        let mut clients = self.clients.lock().expect("hub lock");
        for list in clients.values_mut() {
            list.retain(|c| c.tx.try_send(frame.clone()).is_ok());
        }
    }

    async fn members(&self, app: &App, conversation: i64) -> Result<Arc<Vec<i64>>, kernel::db::DbError> {
        if let Some((at, list)) = self.members.lock().expect("hub lock").get(&conversation)
            && at.elapsed() < MEMBERS_TTL
        {
            return Ok(list.clone());
        }
        let list = Arc::new(conv_store::member_ids(&app.db, conversation).await?);
        self.members.lock().expect("hub lock").insert(conversation, (Instant::now(), list.clone()));
        Ok(list)
    }
}

/// Turns a signal into frames for the people connected here.
pub async fn handle(app: &App, signal: Signal) {
    if let Err(e) = try_handle(app, &signal).await {
        tracing::warn!(error = %e, ?signal, "could not deliver a real-time signal");
    }
}

async fn try_handle(app: &App, signal: &Signal) -> Result<(), kernel::AppError> {
    let hub = hub(app);
    match *signal {
        Signal::Message { c, m, .. } | Signal::Changed { c, m } => {
            let members = hub.members(app, c).await?;
            let here = hub.connected(members.iter().copied());
            if here.is_empty() {
                return Ok(());
            }
            let carried = match signal {
                Signal::Message { v: Some(v), .. } => Some(v.clone()),
                _ => None,
            };
            let view = match carried {
                Some(v) => v,
                None => match crate::conversations::message_view(app, m).await? {
                    Some(view) => serde_json::to_value(view).map_err(kernel::AppError::internal)?,
                    None => return Ok(()),
                },
            };
            let kind = if matches!(signal, Signal::Message { .. }) { "message" } else { "changed" };
            let frame = serde_json::json!({ "type": kind, "message": view }).to_string();
            hub.send(&here, Arc::from(frame));
        }
        Signal::Members { c } => {
            hub.members.lock().expect("hub lock").remove(&c);
        }
        Signal::Notice { n, reminder } => {
            let Some(notice) = notice_store::get(&app.db, n).await? else { return Ok(()) };
            let recipients: HashSet<i64> = if reminder {
                notice_store::outstanding_ids(&app.db, n, notice.needs_confirm).await?
            } else {
                notice_store::recipient_ids(&app.db, n).await?
            }
            .into_iter()
            .collect();
            let here = hub.connected(recipients);
            if here.is_empty() {
                return Ok(());
            }
            let frame = serde_json::json!({ "type": "notice", "notice": {
                "id": notice.id, "kind": notice.kind, "title": notice.title, "issuer_name": notice.issuer_name,
                "needs_confirm": notice.needs_confirm, "created_at": notice.created_at }, "reminder": reminder })
            .to_string();
            hub.send(&here, Arc::from(frame));
        }
        Signal::NoticeRead { n, sender } => {
            let here = hub.connected([sender]);
            if here.is_empty() {
                return Ok(());
            }
            let summary = notice_store::summary(&app.db, n).await?;
            let frame = serde_json::json!({ "type": "notice_read", "notice_id": n, "summary": summary }).to_string();
            hub.send(&here, Arc::from(frame));
        }
    }
    Ok(())
}

/// PostgreSQL: listens for the signals of every node (this one's included) for the life of the
/// process. A lost connection is re-established; clients are then told to resume, since signals
/// sent meanwhile were not heard. None on SQLite, where signals never leave the process.
pub fn spawn_listener(app: App) -> Option<tokio::task::JoinHandle<()>> {
    if app.db.dialect() != Dialect::Postgres {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut wait = Duration::from_millis(500);
        loop {
            if !app.is_ready() {
                tokio::time::sleep(wait).await;
                continue;
            }
            match app.db.listener(CHANNEL).await {
                Ok(Some(mut listener)) => {
                    wait = Duration::from_millis(500);
                    hub(&app).listening.store(true, Ordering::Release);
                    hub(&app).resync_all();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) => match serde_json::from_str::<Signal>(n.payload()) {
                                Ok(signal) => {
                                    let app = app.clone();
                                    tokio::spawn(async move { handle(&app, signal).await });
                                }
                                Err(e) => tracing::warn!(error = %e, "unreadable messaging signal"),
                            },
                            Ok(None) => {
                                tracing::warn!("messaging listener lost its connection; clients will resume");
                                hub(&app).resync_all();
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "messaging listener failed; reconnecting");
                                hub(&app).listening.store(false, Ordering::Release);
                                break;
                            }
                        }
                    }
                }
                Ok(None) => return,
                Err(e) => tracing::warn!(error = %e, "cannot listen for messaging signals; retrying"),
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    }))
}
