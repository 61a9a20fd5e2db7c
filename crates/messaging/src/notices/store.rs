//! Notices and their receipts.

use kernel::db::{Db, DbError, Tx, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Notice {
    pub id: i64,
    pub kind: String,
    pub sender_id: i64,
    pub sender_name: String,
    pub issuer_name: String,
    pub issuer_path: String,
    pub audience: String,
    pub scope_path: String,
    pub scope_class_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub resource_id: Option<i64>,
    pub needs_confirm: bool,
    pub created_at: i64,
    pub reminded_at: Option<i64>,
}

const NOTICE: &str = "SELECT n.id, n.kind, n.sender_id, s.name AS sender_name, n.issuer_name, n.issuer_path, n.audience, n.scope_path, \
                      n.scope_class_id, n.title, n.body, n.resource_id, n.needs_confirm, n.created_at, n.reminded_at \
                      FROM notices n JOIN people s ON s.id = n.sender_id";

pub async fn get(db: &Db, id: i64) -> Result<Option<Notice>, DbError> {
    db.fetch_optional(sql(format!("{NOTICE} WHERE n.id = $1")).bind(id)).await
}

pub struct NewNotice<'a> {
    pub kind: &'a str,
    pub sender_id: i64,
    pub issuer_name: &'a str,
    pub issuer_path: &'a str,
    pub audience: &'a str,
    pub scope_path: &'a str,
    pub scope_class_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub resource_id: Option<i64>,
    pub needs_confirm: bool,
}

pub async fn create(tx: &mut Tx, n: &NewNotice<'_>) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO notices (kind, sender_id, issuer_name, issuer_path, audience, scope_path, scope_class_id, title, body, \
                 resource_id, needs_confirm, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
            .bind(n.kind)
            .bind(n.sender_id)
            .bind(n.issuer_name)
            .bind(n.issuer_path)
            .bind(n.audience)
            .bind(n.scope_path)
            .bind(n.scope_class_id)
            .bind(n.title)
            .bind(n.body)
            .bind(n.resource_id)
            .bind(n.needs_confirm)
            .bind(kernel::now()),
        )
        .await?;
    Ok(id)
}

/// Receipts for these people, who have not got one yet; a chunk of ids goes as one JSON parameter.
/// (The WHERE lets SQLite read ON CONFLICT as the upsert clause, not a join constraint.)
pub async fn add_recipients(tx: &mut Tx, notice: i64, people: &[i64]) -> Result<(), DbError> {
    let rows = tx.dialect().json_rows(3);
    let now = kernel::now();
    for chunk in people.chunks(5000) {
        let rows_json: Vec<[i64; 1]> = chunk.iter().map(|p| [*p]).collect();
        let payload = serde_json::to_string(&rows_json).unwrap_or_default();
        tx.execute(
            sql(format!(
                "INSERT INTO notice_receipts (notice_id, person_id, delivered_at) \
                 SELECT $1, CAST(value ->> 0 AS BIGINT), $2 FROM {rows} WHERE TRUE ON CONFLICT (notice_id, person_id) DO NOTHING"
            ))
            .bind(notice)
            .bind(now)
            .bind(payload),
        )
        .await?;
    }
    Ok(())
}

pub async fn recipient_ids(db: &Db, notice: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db.fetch_all(sql("SELECT person_id FROM notice_receipts WHERE notice_id = $1").bind(notice)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Those who have not yet done what the notice asks (read it, or confirm it).
pub async fn outstanding_ids(db: &Db, notice: i64, needs_confirm: bool) -> Result<Vec<i64>, DbError> {
    let column = if needs_confirm { "confirmed_at" } else { "read_at" };
    let rows: Vec<(i64,)> = db
        .fetch_all(sql(format!("SELECT person_id FROM notice_receipts WHERE notice_id = $1 AND {column} IS NULL")).bind(notice))
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[derive(Debug, Clone, Default, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Summary {
    pub recipients: i64,
    pub read: i64,
    pub confirmed: i64,
}

pub async fn summary(db: &Db, notice: i64) -> Result<Summary, DbError> {
    db.fetch_one(
        sql("SELECT COUNT(*) AS recipients, COUNT(read_at) AS read, COUNT(confirmed_at) AS confirmed \
             FROM notice_receipts WHERE notice_id = $1")
        .bind(notice),
    )
    .await
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Receipt {
    pub person_id: i64,
    pub name: String,
    pub read_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub reminded_at: Option<i64>,
}

/// Recipients who have not read (or not confirmed) it, by name: whom to remind.
pub async fn outstanding(db: &Db, notice: i64, needs_confirm: bool, limit: i64) -> Result<Vec<Receipt>, DbError> {
    let column = if needs_confirm { "r.confirmed_at" } else { "r.read_at" };
    db.fetch_all(
        sql(format!(
            "SELECT r.person_id, p.name, r.read_at, r.confirmed_at, r.reminded_at FROM notice_receipts r JOIN people p ON p.id = r.person_id \
             WHERE r.notice_id = $1 AND {column} IS NULL ORDER BY p.name, r.person_id LIMIT $2"
        ))
        .bind(notice)
        .bind(limit),
    )
    .await
}

pub async fn receipt(db: &Db, notice: i64, person: i64) -> Result<Option<Receipt>, DbError> {
    db.fetch_optional(
        sql("SELECT r.person_id, p.name, r.read_at, r.confirmed_at, r.reminded_at FROM notice_receipts r JOIN people p ON p.id = r.person_id \
             WHERE r.notice_id = $1 AND r.person_id = $2")
        .bind(notice)
        .bind(person),
    )
    .await
}

/// Stamps the first reading (and, when `confirm`, the confirmation); true when anything changed.
pub async fn stamp(tx: &mut Tx, notice: i64, person: i64, confirm: bool) -> Result<bool, DbError> {
    let now = kernel::now();
    let mut n = tx
        .execute(
            sql("UPDATE notice_receipts SET read_at = $3 WHERE notice_id = $1 AND person_id = $2 AND read_at IS NULL")
                .bind(notice)
                .bind(person)
                .bind(now),
        )
        .await?;
    if confirm {
        n += tx
            .execute(
                sql("UPDATE notice_receipts SET confirmed_at = $3 WHERE notice_id = $1 AND person_id = $2 AND confirmed_at IS NULL")
                    .bind(notice)
                    .bind(person)
                    .bind(now),
            )
            .await?;
    }
    Ok(n > 0)
}

/// Marks the outstanding receipts reminded; returns how many.
pub async fn remind(tx: &mut Tx, notice: i64, needs_confirm: bool) -> Result<u64, DbError> {
    let now = kernel::now();
    let column = if needs_confirm { "confirmed_at" } else { "read_at" };
    let n = tx
        .execute(
            sql(format!("UPDATE notice_receipts SET reminded_at = $2 WHERE notice_id = $1 AND {column} IS NULL"))
                .bind(notice)
                .bind(now),
        )
        .await?;
    tx.execute(sql("UPDATE notices SET reminded_at = $2 WHERE id = $1").bind(notice).bind(now)).await?;
    Ok(n)
}

/// A notice as one recipient has it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Received {
    pub id: i64,
    pub kind: String,
    pub issuer_name: String,
    pub sender_name: String,
    pub title: String,
    pub needs_confirm: bool,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub reminded_at: Option<i64>,
}

/// A person's notices, newest first.
pub async fn received(db: &Db, person: i64, limit: i64) -> Result<Vec<Received>, DbError> {
    db.fetch_all(
        sql("SELECT n.id, n.kind, n.issuer_name, s.name AS sender_name, n.title, n.needs_confirm, n.created_at, r.read_at, r.confirmed_at, r.reminded_at \
             FROM notice_receipts r JOIN notices n ON n.id = r.notice_id JOIN people s ON s.id = n.sender_id \
             WHERE r.person_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2")
        .bind(person)
        .bind(limit),
    )
    .await
}

pub async fn unread_count(db: &Db, person: i64) -> Result<i64, DbError> {
    let (n,): (i64,) =
        db.fetch_one(sql("SELECT COUNT(*) FROM notice_receipts WHERE person_id = $1 AND read_at IS NULL").bind(person)).await?;
    Ok(n)
}

/// A notice with its counts, as its sender and the staff over it see it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Sent {
    pub id: i64,
    pub kind: String,
    pub issuer_name: String,
    pub sender_name: String,
    pub title: String,
    pub audience: String,
    pub needs_confirm: bool,
    pub created_at: i64,
    pub recipients: i64,
    pub read: i64,
    pub confirmed: i64,
}

const SENT: &str = "SELECT n.id, n.kind, n.issuer_name, s.name AS sender_name, n.title, n.audience, n.needs_confirm, n.created_at, \
                    (SELECT COUNT(*) FROM notice_receipts r WHERE r.notice_id = n.id) AS recipients, \
                    (SELECT COUNT(*) FROM notice_receipts r WHERE r.notice_id = n.id AND r.read_at IS NOT NULL) AS read, \
                    (SELECT COUNT(*) FROM notice_receipts r WHERE r.notice_id = n.id AND r.confirmed_at IS NOT NULL) AS confirmed \
                    FROM notices n JOIN people s ON s.id = n.sender_id";

/// Notices the person sent, newest first.
pub async fn sent_by(db: &Db, sender: i64, limit: i64) -> Result<Vec<Sent>, DbError> {
    db.fetch_all(
        sql(format!("{SENT} WHERE n.sender_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2")).bind(sender).bind(limit),
    )
    .await
}

/// Notices issued under a path (a school's or a district's), newest first: what its administrators oversee.
pub async fn issued_under(db: &Db, path: &str, limit: i64) -> Result<Vec<Sent>, DbError> {
    let (lo, hi) = kernel::db::path_range(path);
    db.fetch_all(
        sql(format!("{SENT} WHERE n.issuer_path >= $1 AND n.issuer_path < $2 ORDER BY n.created_at DESC, n.id DESC LIMIT $3"))
            .bind(lo)
            .bind(hi)
            .bind(limit),
    )
    .await
}

/// Receipts for a person who joined a notice's audience after it was sent: notices of the last
/// `days` for `audience` aimed at one of `classes`, or at a part of the tree containing `unit_path`.
pub async fn catch_up(
    tx: &mut Tx,
    person: i64,
    audience: &str,
    classes: &[i64],
    unit_path: &str,
    since: i64,
) -> Result<u64, DbError> {
    let class_list = if classes.is_empty() {
        "NULL".to_string()
    } else {
        classes.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
    };
    tx.execute(
        sql(format!(
            "INSERT INTO notice_receipts (notice_id, person_id, delivered_at) \
             SELECT n.id, $1, $5 FROM notices n WHERE n.audience = $2 AND n.created_at >= $4 \
             AND (n.scope_class_id IN ({class_list}) OR (n.scope_class_id IS NULL AND substr($3, 1, length(n.scope_path)) = n.scope_path)) \
             AND NOT EXISTS (SELECT 1 FROM notice_receipts r WHERE r.notice_id = n.id AND r.person_id = $1)"
        ))
        .bind(person)
        .bind(audience)
        .bind(unit_path)
        .bind(since)
        .bind(kernel::now()),
    )
    .await
}
