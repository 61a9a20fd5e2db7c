//! Sessions in the database (any node can serve any request), found by the hash of the cookie's token.
//! Idle and absolute timeouts as configured; `last_seen_at` is written at most once a minute, in
//! batches ([`Touches`]).

use super::{SESSION_COOKIE, actor, tokens};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use kernel::App;
use kernel::auth::{Actor, Cache, Credential};
use kernel::db::{Db, DbError, Tx, sql, sql_in};
use kernel::web::{RequestMeta, cookie};
use std::collections::HashSet;

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Session {
    pub id: i64,
    pub person_id: i64,
    pub role_id: Option<i64>,
    #[serde(skip)]
    pub csrf_token: String,
    pub ip: String,
    pub user_agent: String,
    pub second_factor: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, person_id, role_id, csrf_token, ip, user_agent, second_factor, created_at, last_seen_at, expires_at";

/// Opens a session and returns its token (shown once, in the cookie).
pub async fn create(
    tx: &mut Tx,
    app: &App,
    person_id: i64,
    meta: &RequestMeta,
    second_factor_done: bool,
) -> Result<String, DbError> {
    let token = kernel::secret::random_token(32);
    let now = kernel::now();
    tx.execute(
        sql("INSERT INTO sessions (token_hash, person_id, csrf_token, ip, user_agent, second_factor, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)")
        .bind(kernel::secret::token_hash(&token))
        .bind(person_id)
        .bind(kernel::secret::random_token(32))
        .bind(meta.ip.as_str())
        .bind(meta.user_agent.as_str())
        .bind(second_factor_done)
        .bind(now)
        .bind(now + app.config.session.absolute_hours * 3600),
    )
    .await?;
    Ok(token)
}

/// A session's browser and system in a few words ("Chrome · Android"), from its User-Agent: the
/// whole string means nothing to most people, and is too wide for a phone.
pub fn device_of(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("MicroMessenger") {
        "WeChat"
    } else if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("CriOS/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        ""
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") {
        "iPhone"
    } else if ua.contains("iPad") {
        "iPad"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, system) {
        ("", "") => ua.chars().take(40).collect(),
        (b, "") => b.to_string(),
        ("", s) => s.to_string(),
        (b, s) => format!("{b} · {s}"),
    }
}

/// The live session with this token, if any.
pub async fn find(db: &Db, app: &App, token: &str) -> Result<Option<Session>, DbError> {
    let now = kernel::now();
    db.fetch_optional(
        sql(format!(
            "SELECT {COLUMNS} FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3"
        ))
        .bind(kernel::secret::token_hash(token))
        .bind(now)
        .bind(now - app.config.session.idle_minutes * 60),
    )
    .await
}

/// Of these token hashes, those whose session still stands by the rule of [`find`]: a node checks
/// the sessions of all its open sockets at once, a thousand to a statement.
pub async fn standing(db: &Db, app: &App, hashes: &[String]) -> Result<HashSet<String>, DbError> {
    let now = kernel::now();
    let idle_since = now - app.config.session.idle_minutes * 60;
    let mut out = HashSet::with_capacity(hashes.len());
    for chunk in hashes.chunks(1000) {
        // The bounds are integers computed here, so they go into the text; the hashes are bound.
        let prefix = format!(
            "SELECT token_hash FROM sessions WHERE revoked_at IS NULL AND expires_at > {now} AND last_seen_at > {idle_since} AND token_hash"
        );
        let rows: Vec<(String,)> = db.fetch_all(sql_in(db.dialect(), &prefix, chunk)).await?;
        out.extend(rows.into_iter().map(|(h,)| h));
    }
    Ok(out)
}

pub async fn list(db: &Db, person_id: i64) -> Result<Vec<Session>, DbError> {
    db.fetch_all(
        sql(format!(
            "SELECT {COLUMNS} FROM sessions WHERE person_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_seen_at DESC"
        ))
        .bind(person_id)
        .bind(kernel::now()),
    )
    .await
}

/// Revokes one of a person's sessions; false if it was not theirs or already gone.
pub async fn revoke(db: &Db, person_id: i64, session_id: i64) -> Result<bool, DbError> {
    let n = db
        .execute(
            sql("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND person_id = $3 AND revoked_at IS NULL")
                .bind(kernel::now())
                .bind(session_id)
                .bind(person_id),
        )
        .await?;
    Ok(n > 0)
}

pub async fn set_role(db: &Db, session_id: i64, role_id: i64) -> Result<(), DbError> {
    db.execute(sql("UPDATE sessions SET role_id = $1 WHERE id = $2").bind(role_id).bind(session_id)).await.map(|_| ())
}

pub async fn complete_second_factor(db: &Db, session_id: i64) -> Result<(), DbError> {
    db.execute(sql("UPDATE sessions SET second_factor = TRUE WHERE id = $1").bind(session_id)).await.map(|_| ())
}

/// Sessions seen since the last flush. Their `last_seen_at` is written together every
/// [`Touches::EVERY`], one statement a thousand sessions, rather than one write each: a request
/// never waits for the write lock (a large import may hold SQLite's for a minute), and ten
/// thousand active people do not make ten thousand write transactions a minute. A touch lost in
/// a crash only shortens that session's idle timeout by as much.
#[derive(Default)]
pub struct Touches {
    seen: std::sync::Mutex<HashSet<i64>>,
}

impl Touches {
    pub const EVERY: std::time::Duration = std::time::Duration::from_secs(15);

    pub fn note(&self, session_id: i64) {
        self.seen.lock().expect("touches lock").insert(session_id);
    }

    /// Writes the noted sessions' `last_seen_at` (now); returns how many.
    pub async fn flush(&self, db: &Db) -> Result<usize, DbError> {
        let ids: Vec<i64> = std::mem::take(&mut *self.seen.lock().expect("touches lock")).into_iter().collect();
        let now = kernel::now();
        for chunk in ids.chunks(1000) {
            // `now` is an integer computed here; the ids are bound.
            db.execute(sql_in(db.dialect(), &format!("UPDATE sessions SET last_seen_at = {now} WHERE id"), chunk)).await?;
        }
        Ok(ids.len())
    }
}

/// Writes the noted session touches every [`Touches::EVERY`] for the life of the process.
pub fn spawn_touches(app: App) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Touches::EVERY);
        loop {
            tick.tick().await;
            if app.is_ready()
                && let Some(touches) = app.part::<Touches>()
                && let Err(e) = touches.flush(&app.db).await
            {
                tracing::warn!(error = %e, "cannot record session activity");
            }
        }
    });
}

/// A session that still waits for its TOTP code: it reaches only the code page.
#[derive(Debug, Clone)]
pub struct PendingSecondFactor {
    pub session_id: i64,
    pub person_id: i64,
}

fn bearer(req: &Request) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// What a credential stands for.
enum Resolved {
    Signed(Box<Actor>),
    PendingSecondFactor(PendingSecondFactor),
    Nobody,
}

async fn resolve(app: &App, token: &str, is_bearer: bool) -> Result<Resolved, DbError> {
    if is_bearer {
        return Ok(tokens::actor_for(app, token).await?.map(|a| Resolved::Signed(Box::new(a))).unwrap_or(Resolved::Nobody));
    }
    session_actor(app, token).await
}

/// Middleware: finds the session cookie or bearer token and puts the [`Actor`] on the request.
pub async fn authenticate(State(app): State<App>, mut req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/static/") {
        return next.run(req).await;
    }
    let credential = match bearer(&req) {
        Some(t) => Some((t, true)),
        None => cookie(req.headers(), SESSION_COOKIE).map(|t| (t.to_string(), false)),
    };
    if let Some((token, is_bearer)) = credential {
        let key = kernel::secret::token_hash(&token);
        match app.actors.get(&key) {
            Cache::Fresh(a) => {
                req.extensions_mut().insert(a);
            }
            Cache::Stale(a) => {
                req.extensions_mut().insert(a);
                let app = app.clone();
                tokio::spawn(async move {
                    match resolve(&app, &token, is_bearer).await {
                        Ok(Resolved::Signed(a)) => app.actors.put(key, *a),
                        Ok(_) => app.actors.forget(&key),
                        Err(e) => {
                            tracing::error!(error = %e, "cannot refresh session");
                            app.actors.forget(&key);
                        }
                    }
                });
            }
            Cache::Miss => match resolve(&app, &token, is_bearer).await {
                Ok(Resolved::Signed(a)) => {
                    app.actors.put(key, (*a).clone());
                    req.extensions_mut().insert(*a);
                }
                Ok(Resolved::PendingSecondFactor(p)) => {
                    req.extensions_mut().insert(p);
                }
                Ok(Resolved::Nobody) => {}
                Err(e) => tracing::error!(error = %e, "cannot load session"),
            },
        }
    }
    next.run(req).await
}

async fn session_actor(app: &App, token: &str) -> Result<Resolved, DbError> {
    let Some(session) = find(&app.db, app, token).await? else { return Ok(Resolved::Nobody) };
    let now = kernel::now();
    if now - session.last_seen_at > 60 {
        app.part::<Touches>().expect("session touches are part of the app").note(session.id);
    }
    let totp_on: Option<(bool,)> =
        app.db.fetch_optional(sql("SELECT totp_enabled FROM people WHERE id = $1").bind(session.person_id)).await?;
    if totp_on.is_some_and(|(on,)| on) && !session.second_factor {
        return Ok(Resolved::PendingSecondFactor(PendingSecondFactor { session_id: session.id, person_id: session.person_id }));
    }
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let actor = actor::load(&app.db, session.person_id, session.role_id, Credential::Session, today).await?;
    Ok(actor
        .map(|mut a| {
            a.csrf = session.csrf_token.clone();
            a.session_id = Some(session.id);
            Resolved::Signed(Box::new(a))
        })
        .unwrap_or(Resolved::Nobody))
}

#[cfg(test)]
mod tests {
    use super::device_of;

    #[test]
    fn devices_are_named_in_a_few_words() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
                "Chrome · Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari · iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; V2307A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.49",
                "WeChat · Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge · Windows",
            ),
            ("curl/8.5.0", "curl/8.5.0"),
        ];
        for (ua, expected) in cases {
            assert_eq!(device_of(ua), expected, "{ua}");
        }
    }
}
