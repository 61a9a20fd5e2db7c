//! Scheduled family-education deliveries.

use kernel::db::{Db, DbError, Tx, path_range, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub created_by: i64,
    pub issuer_name: String,
    pub issuer_path: String,
    pub scope_path: String,
    pub scope_class_id: Option<i64>,
    pub resource_id: i64,
    pub title: String,
    pub send_at: i64,
    pub notice_id: Option<i64>,
    /// Parents it reached, and how many opened it (zero until sent).
    pub delivered: i64,
    pub read: i64,
}

const DELIVERY: &str = "SELECT d.id, d.created_by, d.issuer_name, d.issuer_path, d.scope_path, d.scope_class_id, d.resource_id, d.title, \
                        d.send_at, d.notice_id, \
                        (SELECT COUNT(*) FROM notice_receipts r WHERE r.notice_id = d.notice_id) AS delivered, \
                        (SELECT COUNT(*) FROM notice_receipts r WHERE r.notice_id = d.notice_id AND r.read_at IS NOT NULL) AS read \
                        FROM family_deliveries d";

pub async fn get(db: &Db, id: i64) -> Result<Option<Delivery>, DbError> {
    db.fetch_optional(sql(format!("{DELIVERY} WHERE d.id = $1")).bind(id)).await
}

/// Deliveries issued under a path: the coming ones first, then the sent, newest first.
pub async fn under(db: &Db, path: &str, limit: i64) -> Result<Vec<Delivery>, DbError> {
    let (lo, hi) = path_range(path);
    db.fetch_all(
        sql(format!(
            "{DELIVERY} WHERE d.issuer_path >= $1 AND d.issuer_path < $2 \
             ORDER BY CASE WHEN d.notice_id IS NULL THEN 0 ELSE 1 END, CASE WHEN d.notice_id IS NULL THEN d.send_at ELSE -d.send_at END, d.id LIMIT $3"
        ))
        .bind(lo)
        .bind(hi)
        .bind(limit),
    )
    .await
}

pub struct NewDelivery<'a> {
    pub created_by: i64,
    pub issuer_name: &'a str,
    pub issuer_path: &'a str,
    pub scope_path: &'a str,
    pub scope_class_id: Option<i64>,
    pub resource_id: i64,
    pub title: &'a str,
    pub send_at: i64,
}

pub async fn create(tx: &mut Tx, d: &NewDelivery<'_>) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO family_deliveries (created_by, issuer_name, issuer_path, scope_path, scope_class_id, resource_id, title, send_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(d.created_by)
            .bind(d.issuer_name)
            .bind(d.issuer_path)
            .bind(d.scope_path)
            .bind(d.scope_class_id)
            .bind(d.resource_id)
            .bind(d.title)
            .bind(d.send_at)
            .bind(kernel::now()),
        )
        .await?;
    Ok(id)
}

/// Unsent deliveries whose time has come, oldest first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Delivery>, DbError> {
    db.fetch_all(
        sql(format!("{DELIVERY} WHERE d.notice_id IS NULL AND d.send_at <= $1 ORDER BY d.send_at, d.id LIMIT $2"))
            .bind(now)
            .bind(limit),
    )
    .await
}

/// Locks an unsent delivery for sending; false if it is gone, sent, or being sent elsewhere.
pub async fn claim(tx: &mut Tx, id: i64, lock: &str) -> Result<bool, DbError> {
    let row: Option<(i64,)> = tx
        .fetch_optional(sql(format!("SELECT id FROM family_deliveries WHERE id = $1 AND notice_id IS NULL{lock}")).bind(id))
        .await?;
    Ok(row.is_some())
}

pub async fn set_notice(tx: &mut Tx, id: i64, notice: i64) -> Result<(), DbError> {
    tx.execute(sql("UPDATE family_deliveries SET notice_id = $2 WHERE id = $1").bind(id).bind(notice)).await?;
    Ok(())
}

pub async fn delete_unsent(tx: &mut Tx, id: i64) -> Result<(), DbError> {
    tx.execute(sql("DELETE FROM family_deliveries WHERE id = $1 AND notice_id IS NULL").bind(id)).await?;
    Ok(())
}
