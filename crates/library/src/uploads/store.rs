//! Upload and blob rows.

use kernel::db::{Db, DbError, Tx, sql};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub id: i64,
    pub owner_id: i64,
    pub unit_id: i64,
    pub file_name: String,
    pub size: i64,
    pub chunk_size: i64,
    pub status: String,
    pub blob_sha256: Option<String>,
    pub updated_at: i64,
}

impl UploadRow {
    pub fn chunks(&self) -> i64 {
        (self.size + self.chunk_size - 1) / self.chunk_size
    }

    /// The byte length chunk `idx` must have: all are `chunk_size` but the last.
    pub fn chunk_len(&self, idx: i64) -> i64 {
        (self.size - idx * self.chunk_size).min(self.chunk_size)
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Blob {
    pub sha256: String,
    pub size: i64,
    pub format: String,
    pub mime: String,
    pub storage_key: String,
}

const UPLOAD: &str = "SELECT id, owner_id, unit_id, file_name, size, chunk_size, status, blob_sha256, updated_at FROM uploads";

pub async fn upload(db: &Db, id: i64) -> Result<Option<UploadRow>, DbError> {
    db.fetch_optional(sql(format!("{UPLOAD} WHERE id = $1")).bind(id)).await
}

pub async fn upload_in(tx: &mut Tx, id: i64) -> Result<Option<UploadRow>, DbError> {
    tx.fetch_optional(sql(format!("{UPLOAD} WHERE id = $1")).bind(id)).await
}

pub struct NewUpload<'a> {
    pub owner_id: i64,
    pub unit_id: i64,
    pub file_name: &'a str,
    pub size: i64,
    pub chunk_size: i64,
    pub expires_at: i64,
}

pub async fn create(tx: &mut Tx, u: &NewUpload<'_>) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO uploads (owner_id, unit_id, file_name, size, chunk_size, status, created_at, updated_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, 'receiving', $6, $6, $7) RETURNING id")
            .bind(u.owner_id)
            .bind(u.unit_id)
            .bind(u.file_name)
            .bind(u.size)
            .bind(u.chunk_size)
            .bind(now)
            .bind(u.expires_at),
        )
        .await?;
    Ok(id)
}

/// Indexes of the chunks received so far.
pub async fn received(db: &Db, upload_id: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> =
        db.fetch_all(sql("SELECT idx FROM upload_chunks WHERE upload_id = $1 ORDER BY idx").bind(upload_id)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn record_chunk(db: &Db, upload_id: i64, idx: i64, size: i64, sha256: &str) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.execute(
        sql("INSERT INTO upload_chunks (upload_id, idx, size, sha256) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (upload_id, idx) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256")
        .bind(upload_id)
        .bind(idx)
        .bind(size)
        .bind(sha256),
    )
    .await?;
    tx.execute(sql("UPDATE uploads SET updated_at = $2 WHERE id = $1").bind(upload_id).bind(kernel::now())).await?;
    tx.commit().await
}

/// Moves an upload from one status to another; false when it was not in `from` (someone else
/// got there first).
pub async fn transition(db: &Db, id: i64, from: &str, to: &str) -> Result<bool, DbError> {
    let n = db
        .execute(
            sql("UPDATE uploads SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2")
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(kernel::now()),
        )
        .await?;
    Ok(n == 1)
}

/// Marks an upload complete with its blob, recording the blob if this content is new.
pub async fn complete(db: &Db, id: i64, blob: &Blob) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    record_blob(&mut tx, blob).await?;
    tx.execute(
        sql("UPDATE uploads SET status = 'complete', blob_sha256 = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(blob.sha256.as_str())
            .bind(kernel::now()),
    )
    .await?;
    tx.execute(sql("DELETE FROM upload_chunks WHERE upload_id = $1").bind(id)).await?;
    tx.commit().await
}

/// Records stored content, unless the same content is already recorded.
pub async fn record_blob(tx: &mut Tx, blob: &Blob) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO blobs (sha256, size, format, mime, storage_key, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (sha256) DO NOTHING")
        .bind(blob.sha256.as_str())
        .bind(blob.size)
        .bind(blob.format.as_str())
        .bind(blob.mime.as_str())
        .bind(blob.storage_key.as_str())
        .bind(kernel::now()),
    )
    .await?;
    Ok(())
}

pub async fn blob(db: &Db, sha256: &str) -> Result<Option<Blob>, DbError> {
    db.fetch_optional(sql("SELECT sha256, size, format, mime, storage_key FROM blobs WHERE sha256 = $1").bind(sha256)).await
}

/// Bytes a person, or a unit, already takes up: their resources' files, new versions awaiting
/// review, unfinished uploads, and files attached to homework and questions.
pub async fn usage(db: &Db, column: Usage, id: i64) -> Result<i64, DbError> {
    let col = match column {
        Usage::Owner => "owner_id",
        Usage::Unit => "unit_id",
    };
    let (used,): (i64,) = db
        .fetch_one(
            sql(format!(
                "SELECT CAST(COALESCE((SELECT SUM(b.size) FROM resources r JOIN blobs b ON b.sha256 = r.blob_sha256 \
                 WHERE r.{col} = $1), 0) + COALESCE((SELECT SUM(b.size) FROM resource_versions v \
                 JOIN resources r ON r.id = v.resource_id JOIN blobs b ON b.sha256 = v.blob_sha256 \
                 WHERE v.status = 'pending' AND r.{col} = $1), 0) \
                 + COALESCE((SELECT SUM(size) FROM uploads WHERE {col} = $1), 0) \
                 + COALESCE((SELECT SUM(size) FROM attachments WHERE {col} = $1), 0) AS BIGINT)"
            ))
            .bind(id),
        )
        .await?;
    Ok(used)
}

#[derive(Debug, Clone, Copy)]
pub enum Usage {
    Owner,
    Unit,
}

/// Uploads past their expiry, with the chunks they hold.
pub async fn expired(db: &Db, now: i64) -> Result<Vec<(i64, i64)>, DbError> {
    db.fetch_all(sql("SELECT id, size FROM uploads WHERE expires_at < $1 ORDER BY id LIMIT 500").bind(now)).await
}

pub async fn delete(db: &Db, id: i64) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.execute(sql("DELETE FROM upload_chunks WHERE upload_id = $1").bind(id)).await?;
    tx.execute(sql("DELETE FROM uploads WHERE id = $1").bind(id)).await?;
    tx.commit().await
}

/// Uploads left `assembling` by a process that died go back to `receiving`, so they can be completed again.
pub async fn release_stuck(db: &Db, older_than: i64) -> Result<u64, DbError> {
    db.execute(sql("UPDATE uploads SET status = 'receiving' WHERE status = 'assembling' AND updated_at < $1").bind(older_than))
        .await
}
