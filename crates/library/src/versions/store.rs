//! Storage of proposed versions.

use crate::resources::model::ResourceInput;
use kernel::db::{Db, DbError, Tx, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Version {
    pub id: i64,
    pub resource_id: i64,
    pub number: i64,
    /// The proposed metadata, as JSON.
    #[serde(skip)]
    pub input: String,
    pub blob_sha256: String,
    pub file_name: String,
    pub status: String,
    pub reason: Option<String>,
    pub created_by: i64,
    pub created_at: i64,
    pub reviewed_at: Option<i64>,
}

impl Version {
    pub fn proposed(&self) -> Option<ResourceInput> {
        serde_json::from_str(&self.input).ok()
    }
}

const VERSION: &str = "SELECT v.id, v.resource_id, v.number, v.input, v.blob_sha256, v.file_name, v.status, v.reason, \
    v.created_by, v.created_at, v.reviewed_at FROM resource_versions v";

pub async fn get(db: &Db, id: i64) -> Result<Option<Version>, DbError> {
    db.fetch_optional(sql(format!("{VERSION} WHERE v.id = $1")).bind(id)).await
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<Version>, DbError> {
    tx.fetch_optional(sql(format!("{VERSION} WHERE v.id = $1")).bind(id)).await
}

/// A resource's proposals, newest first.
pub async fn of_resource(db: &Db, resource_id: i64) -> Result<Vec<Version>, DbError> {
    db.fetch_all(sql(format!("{VERSION} WHERE v.resource_id = $1 ORDER BY v.number DESC")).bind(resource_id)).await
}

/// Pending proposals for resources published under `path`, oldest first.
pub async fn pending_under(db: &Db, path: &str) -> Result<Vec<Version>, DbError> {
    let (lo, hi) = kernel::db::path_range(path);
    db.fetch_all(
        sql(format!(
            "{VERSION} WHERE v.status = 'pending' AND EXISTS (SELECT 1 FROM publications p WHERE p.resource_id = v.resource_id \
             AND p.status = 'approved' AND p.scope_path >= $1 AND p.scope_path < $2) ORDER BY v.id"
        ))
        .bind(lo)
        .bind(hi),
    )
    .await
}

pub async fn has_pending(tx: &mut Tx, resource_id: i64) -> Result<bool, DbError> {
    let found: Option<(i64,)> = tx
        .fetch_optional(sql("SELECT id FROM resource_versions WHERE resource_id = $1 AND status = 'pending'").bind(resource_id))
        .await?;
    Ok(found.is_some())
}

pub struct NewVersion<'a> {
    pub resource_id: i64,
    pub input: &'a ResourceInput,
    pub blob_sha256: &'a str,
    pub file_name: &'a str,
    pub created_by: i64,
}

pub async fn create(tx: &mut Tx, v: &NewVersion<'_>) -> Result<(i64, i64), DbError> {
    let (number,): (i64,) = tx
        .fetch_one(
            sql("SELECT CAST(COALESCE(MAX(number), (SELECT version FROM resources WHERE id = $1)) + 1 AS BIGINT) \
                 FROM resource_versions WHERE resource_id = $1")
            .bind(v.resource_id),
        )
        .await?;
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO resource_versions (resource_id, number, input, blob_sha256, file_name, status, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id")
            .bind(v.resource_id)
            .bind(number)
            .bind(serde_json::to_string(v.input).unwrap_or_default())
            .bind(v.blob_sha256)
            .bind(v.file_name)
            .bind(v.created_by)
            .bind(kernel::now()),
        )
        .await?;
    Ok((id, number))
}

pub async fn decide(
    tx: &mut Tx,
    id: i64,
    status: &str,
    by: i64,
    reason: Option<&str>,
    previous: Option<&str>,
) -> Result<(), DbError> {
    tx.execute(
        sql("UPDATE resource_versions SET status = $2, reviewed_by = $3, reviewed_at = $4, reason = $5, previous = $6 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(by)
            .bind(kernel::now())
            .bind(reason)
            .bind(previous),
    )
    .await?;
    Ok(())
}
