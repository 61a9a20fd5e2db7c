//! The WebSocket every open page holds: frames for new and changed messages, notices and receipt
//! counts. A client that reconnects says the last message id it has (`after`) and gets what it
//! missed first, so nothing is lost; it drops ids it already shows, so nothing shows twice.

use crate::conversations::{self, store as conv_store};
use crate::hub::{self, Frame};
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use kernel::auth::Actor;
use kernel::{App, AppError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// Messages sent to a reconnecting client at most; past that it is told to reload.
const BACKLOG: i64 = 500;
const PING_EVERY: Duration = Duration::from_secs(30);

/// The sessions of this node's open sockets. They are checked together once a minute (signed
/// out, revoked, timed out) by [`check_sessions`]: with ten thousand sockets open, one statement per
/// thousand sessions instead of one per socket.
#[derive(Default)]
pub struct SessionWatch {
    /// Token hash → (sockets following it, whether it has ended).
    open: Mutex<HashMap<String, (usize, watch::Sender<bool>)>>,
}

impl SessionWatch {
    /// Follows a session; the receiver turns true when it ends.
    fn follow(&self, hash: &str) -> watch::Receiver<bool> {
        let mut open = self.open.lock().expect("session watch lock");
        let entry = open.entry(hash.to_string()).or_insert_with(|| (0, watch::channel(false).0));
        entry.0 += 1;
        entry.1.subscribe()
    }

    fn unfollow(&self, hash: &str) {
        let mut open = self.open.lock().expect("session watch lock");
        if let Some(entry) = open.get_mut(hash) {
            entry.0 -= 1;
            if entry.0 == 0 {
                open.remove(hash);
            }
        }
    }
}

/// Ends the sockets whose session no longer stands; returns how many sessions ended since the
/// last check. API tokens
/// are checked when their socket opens only.
pub async fn check_sessions(app: &App) -> Result<usize, kernel::db::DbError> {
    let watch = app.part::<SessionWatch>().expect("the session watch is part of the app");
    let hashes: Vec<String> = watch.open.lock().expect("session watch lock").keys().cloned().collect();
    if hashes.is_empty() {
        return Ok(0);
    }
    let standing = directory::accounts::sessions::standing(&app.db, app, &hashes).await?;
    let open = watch.open.lock().expect("session watch lock");
    let mut ended = 0;
    for hash in hashes.iter().filter(|h| !standing.contains(*h)) {
        if let Some((_, ended_tx)) = open.get(hash)
            && !ended_tx.send_replace(true)
        {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Resolves when the followed session has ended; never for a socket opened with an API token.
async fn session_ended(followed: &mut Option<watch::Receiver<bool>>) {
    if let Some(rx) = followed
        && rx.wait_for(|ended| *ended).await.is_ok()
    {
        return;
    }
    std::future::pending().await
}

pub fn routes() -> Router<App> {
    Router::new().route("/api/v1/live", get(live))
}

#[derive(Debug, serde::Deserialize)]
pub struct Resume {
    /// The last message id the client has; without it, only what is new from now.
    pub after: Option<i64>,
}

/// A page of another site must not open a socket with the visitor's cookies.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

#[utoipa::path(get, path = "/api/v1/live", tag = "messaging", summary = "WebSocket of live frames: message, changed, notice, notice_read, hello, resync, overflow. Pass the last message id you have as `after` to get what you missed first", params(("after" = Option<i64>, Query, description = "last message id the client has")), responses((status = 101, description = "switching to WebSocket"), (status = 401, description = "not signed in"), (status = 403, description = "another site's page")))]
pub(crate) async fn live(
    State(app): State<App>,
    actor: Actor,
    headers: HeaderMap,
    Query(resume): Query<Resume>,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    if !same_origin(&headers) {
        return Err(AppError::Forbidden);
    }
    let session = kernel::web::cookie(&headers, directory::accounts::SESSION_COOKIE).map(kernel::secret::token_hash);
    // Small buffers: a node holds tens of thousands of mostly idle sockets.
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(app, actor.person_id, session, resume.after, socket)))
}

/// `session` is the hash of the session's token, when the socket was opened with a session cookie.
async fn serve(app: App, person: i64, session: Option<String>, after: Option<i64>, socket: WebSocket) {
    let hub = hub::hub(&app);
    let watch = app.part::<SessionWatch>().expect("the session watch is part of the app");
    let mut followed = session.as_deref().map(|h| watch.follow(h));
    // Registered before the backlog is read, so a message committed meanwhile is not missed
    // (it may come twice; the client keeps one).
    let (id, mut frames) = hub.connect(person);
    let (mut sink, mut stream) = socket.split();
    let opening = opening_frames(&app, person, after).await;
    let mut ok = match opening {
        Ok(list) => {
            let mut ok = true;
            for f in list {
                if sink.send(Message::Text(f.as_ref().into())).await.is_err() {
                    ok = false;
                    break;
                }
            }
            ok
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not prepare a live connection");
            false
        }
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    while ok {
        tokio::select! {
            frame = frames.recv() => match frame {
                Some(f) => ok = sink.send(Message::Text(f.as_ref().into())).await.is_ok(),
                // The hub dropped us: our queue was full. The client reconnects and resumes.
                None => {
                    let _ = sink.send(Message::Text(r#"{"type":"overflow"}"#.into())).await;
                    ok = false;
                }
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => ok = false,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => ok = sink.send(Message::Ping(Default::default())).await.is_ok(),
            _ = session_ended(&mut followed) => {
                let _ = sink.send(Message::Text(r#"{"type":"signed_out"}"#.into())).await;
                ok = false;
            },
        }
    }
    hub.disconnect(person, id);
    if let Some(hash) = &session {
        watch.unfollow(hash);
    }
    let _ = sink.close().await;
}

/// What a client gets on connecting: what it missed (when resuming), then a hello with its counts.
async fn opening_frames(app: &App, person: i64, after: Option<i64>) -> Result<Vec<Frame>, AppError> {
    let mut out: Vec<Frame> = Vec::new();
    let mut last = conv_store::latest_id(&app.db).await?;
    if let Some(after) = after {
        let rows = conv_store::since(&app.db, person, after, BACKLOG).await?;
        if rows.len() as i64 == BACKLOG {
            out.push(std::sync::Arc::from(r#"{"type":"resync"}"#));
        } else {
            for v in conversations::views(app, rows).await? {
                last = last.max(v.id);
                out.push(std::sync::Arc::from(
                    serde_json::json!({ "type": "message", "message": v, "backlog": true }).to_string(),
                ));
            }
        }
    }
    let hello = serde_json::json!({
        "type": "hello",
        "last_id": last,
        "unread_messages": conv_store::unread_total(&app.db, person).await?,
        "unread_notices": crate::notices::store::unread_count(&app.db, person).await?,
    });
    out.push(std::sync::Arc::from(hello.to_string()));
    Ok(out)
}
