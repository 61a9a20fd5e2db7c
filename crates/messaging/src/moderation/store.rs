//! Reports of messages.

use kernel::db::{Db, DbError, Tx, path_range, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Report {
    pub id: i64,
    pub message_id: i64,
    pub conversation_id: i64,
    pub school_path: String,
    pub reporter_name: String,
    pub sender_name: String,
    pub body: String,
    pub reason: String,
    pub status: String,
    pub created_at: i64,
    pub message_gone: bool,
}

const REPORT: &str = "SELECT r.id, r.message_id, m.conversation_id, r.school_path, rp.name AS reporter_name, sp.name AS sender_name, \
                      m.body, r.reason, r.status, r.created_at, \
                      CASE WHEN m.removed_at IS NOT NULL OR m.recalled_at IS NOT NULL THEN TRUE ELSE FALSE END AS message_gone \
                      FROM message_reports r JOIN messages m ON m.id = r.message_id JOIN people rp ON rp.id = r.reporter_id \
                      JOIN people sp ON sp.id = m.sender_id";

pub async fn get(db: &Db, id: i64) -> Result<Option<Report>, DbError> {
    db.fetch_optional(sql(format!("{REPORT} WHERE r.id = $1")).bind(id)).await
}

/// Reports of conversations under a path, open ones first, newest first.
pub async fn under(db: &Db, path: &str, limit: i64) -> Result<Vec<Report>, DbError> {
    let (lo, hi) = path_range(path);
    db.fetch_all(
        sql(format!(
            "{REPORT} WHERE r.school_path >= $1 AND r.school_path < $2 \
             ORDER BY CASE WHEN r.status = 'open' THEN 0 ELSE 1 END, r.created_at DESC, r.id DESC LIMIT $3"
        ))
        .bind(lo)
        .bind(hi)
        .bind(limit),
    )
    .await
}

/// Files a report; a second report of the same message by the same person updates its reason.
pub async fn create(tx: &mut Tx, message: i64, reporter: i64, school_path: &str, reason: &str) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO message_reports (message_id, reporter_id, school_path, reason, status, created_at) \
                 VALUES ($1, $2, $3, $4, 'open', $5) \
                 ON CONFLICT (message_id, reporter_id) DO UPDATE SET reason = excluded.reason RETURNING id")
            .bind(message)
            .bind(reporter)
            .bind(school_path)
            .bind(reason)
            .bind(kernel::now()),
        )
        .await?;
    Ok(id)
}

pub async fn close_for_message(tx: &mut Tx, message: i64, status: &str, by: i64) -> Result<u64, DbError> {
    tx.execute(
        sql("UPDATE message_reports SET status = $2, handled_by = $3, handled_at = $4 WHERE message_id = $1 AND status = 'open'")
            .bind(message)
            .bind(status)
            .bind(by)
            .bind(kernel::now()),
    )
    .await
}

pub async fn open_count(db: &Db, path: &str) -> Result<i64, DbError> {
    let (lo, hi) = path_range(path);
    let (n,): (i64,) = db
        .fetch_one(
            sql("SELECT COUNT(*) FROM message_reports WHERE school_path >= $1 AND school_path < $2 AND status = 'open'")
                .bind(lo)
                .bind(hi),
        )
        .await?;
    Ok(n)
}
