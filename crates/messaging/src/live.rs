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
use std::time::Duration;

/// Messages sent to a reconnecting client at most; past that it is told to reload.
const BACKLOG: i64 = 500;
const PING_EVERY: Duration = Duration::from_secs(30);
/// How often an open socket checks that its session still stands (signed out, revoked, timed out).
const SESSION_CHECK_EVERY: Duration = Duration::from_secs(60);

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
    let session = kernel::web::cookie(&headers, directory::accounts::SESSION_COOKIE).map(str::to_string);
    // Small buffers: a node holds tens of thousands of mostly idle sockets.
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(app, actor.person_id, session, resume.after, socket)))
}

/// Whether the session the socket was opened with still stands; API tokens are checked when the
/// socket opens only.
async fn session_stands(app: &App, session: &Option<String>) -> bool {
    match session {
        Some(token) => matches!(directory::accounts::sessions::find(&app.db, app, token).await, Ok(Some(_))),
        None => true,
    }
}

async fn serve(app: App, person: i64, session: Option<String>, after: Option<i64>, socket: WebSocket) {
    let hub = hub::hub(&app);
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
    let mut check = tokio::time::interval(SESSION_CHECK_EVERY);
    check.tick().await;
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
            _ = check.tick() => if !session_stands(&app, &session).await {
                let _ = sink.send(Message::Text(r#"{"type":"signed_out"}"#.into())).await;
                ok = false;
            },
        }
    }
    hub.disconnect(person, id);
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
