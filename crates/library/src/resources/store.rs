//! Resource and publication rows.

use super::model::ResourceInput;
use kernel::db::{Db, DbError, Tx, path_range, sql, sql_in};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Resource {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub stage: String,
    pub grade: Option<i64>,
    pub subject: String,
    pub edition: Option<String>,
    pub volume: Option<String>,
    pub chapter_id: Option<i64>,
    pub resource_type: String,
    pub language: String,
    pub keywords: String,
    pub authors: String,
    pub licence: String,
    pub duration_seconds: Option<i64>,
    pub page_count: Option<i64>,
    /// Empty for a harvested record, which has no file here.
    pub blob_sha256: String,
    pub file_name: String,
    pub format: String,
    pub mime: String,
    pub size: i64,
    /// Where a harvested record comes from (源自 …), and its page there.
    pub source_name: Option<String>,
    pub source_url: Option<String>,
    pub owner_id: i64,
    pub owner_name: String,
    pub unit_id: i64,
    pub unit_path: String,
    pub unit_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub views: i64,
    pub downloads: i64,
    pub rating_count: i64,
    pub rating_sum: i64,
    /// The number of the version shown: 1 until a new version is approved.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
    /// Milliseconds of the last change: what the search index and OAI-PMH datestamps follow.
    pub changed_ms: i64,
}

impl Resource {
    /// The mean rating, or None before anyone has rated it.
    pub fn rating(&self) -> Option<f64> {
        (self.rating_count > 0).then(|| self.rating_sum as f64 / self.rating_count as f64)
    }

    /// What "best rated" sorts by: the mean pulled towards 3 stars by two phantom ratings, so one
    /// 5-star rating does not outrank forty 4.8s.
    pub fn rating_rank(&self) -> f64 {
        (self.rating_sum as f64 + 6.0) / (self.rating_count as f64 + 2.0)
    }
}

/// A resource with its file's format, type and size; a harvested record without a file reads as
/// format `link`, size 0.
pub(crate) const RESOURCE: &str = "SELECT r.id, r.title, r.description, r.stage, r.grade, r.subject, r.edition, r.volume, r.chapter_id, \
    r.resource_type, r.language, r.keywords, r.authors, r.licence, r.duration_seconds, r.page_count, \
    COALESCE(r.blob_sha256, '') AS blob_sha256, r.file_name, COALESCE(b.format, 'link') AS format, \
    COALESCE(b.mime, 'text/html') AS mime, COALESCE(b.size, 0) AS size, r.source_name, r.source_url, \
    r.owner_id, p.name AS owner_name, r.unit_id, r.unit_path, u.name AS unit_name, \
    r.status, r.status_reason, r.views, r.downloads, r.rating_count, r.rating_sum, r.version, r.created_at, r.updated_at, r.published_at, \
    r.changed_ms \
    FROM resources r LEFT JOIN blobs b ON b.sha256 = r.blob_sha256 JOIN people p ON p.id = r.owner_id \
    JOIN org_units u ON u.id = r.unit_id";

pub async fn get(db: &Db, id: i64) -> Result<Option<Resource>, DbError> {
    db.fetch_optional(sql(format!("{RESOURCE} WHERE r.id = $1")).bind(id)).await
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<Resource>, DbError> {
    tx.fetch_optional(sql(format!("{RESOURCE} WHERE r.id = $1")).bind(id)).await
}

/// Resources by id, in no particular order (search hits are put back in rank order by the caller).
pub async fn many(db: &Db, ids: &[i64]) -> Result<Vec<Resource>, DbError> {
    db.fetch_all(sql_in(db.dialect(), &format!("{RESOURCE} WHERE r.id"), ids.iter().copied())).await
}

pub async fn owned_by(db: &Db, person_id: i64) -> Result<Vec<Resource>, DbError> {
    db.fetch_all(sql(format!("{RESOURCE} WHERE r.owner_id = $1 ORDER BY r.updated_at DESC, r.id DESC LIMIT 500")).bind(person_id))
        .await
}

pub struct NewResource<'a> {
    pub input: &'a ResourceInput,
    pub blob_sha256: &'a str,
    pub file_name: &'a str,
    pub owner_id: i64,
    pub unit_id: i64,
    pub unit_path: &'a str,
}

fn opt(s: &str) -> Option<&str> {
    if s.trim().is_empty() { None } else { Some(s.trim()) }
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub async fn create(tx: &mut Tx, r: &NewResource<'_>) -> Result<i64, DbError> {
    let i = r.input;
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO resources (title, description, stage, grade, subject, edition, volume, chapter_id, \
                 resource_type, language, keywords, authors, licence, duration_seconds, page_count, blob_sha256, file_name, \
                 owner_id, unit_id, unit_path, status, created_at, updated_at, changed_ms) VALUES ($1, $2, $3, $4, $5, $6, \
                 $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 'draft', $21, $21, $22) RETURNING id")
            .bind(i.title.trim())
            .bind(i.description.trim())
            .bind(i.stage.as_str())
            .bind(i.grade)
            .bind(i.subject.as_str())
            .bind(opt(&i.edition))
            .bind(opt(&i.volume))
            .bind(i.chapter_id)
            .bind(i.resource_type.as_str())
            .bind(i.language.as_str())
            .bind(i.keyword_list().join("，"))
            .bind(super::model::split_list(&i.authors).join("，"))
            .bind(i.licence.as_str())
            .bind(i.duration_seconds)
            .bind(i.page_count)
            .bind(r.blob_sha256)
            .bind(r.file_name)
            .bind(r.owner_id)
            .bind(r.unit_id)
            .bind(r.unit_path)
            .bind(now)
            .bind(now_ms()),
        )
        .await?;
    Ok(id)
}

/// Rewrites the metadata of a draft or rejected resource, which goes back to draft.
pub async fn update(tx: &mut Tx, id: i64, i: &ResourceInput) -> Result<(), DbError> {
    let q = sql(format!("UPDATE resources SET {METADATA_SET}, status = 'draft', status_reason = NULL WHERE id = $1"));
    tx.execute(bind_metadata(q.bind(id), i)).await?;
    Ok(())
}

/// Applies an approved new version: its metadata and file replace the resource's, which stays
/// published.
pub async fn apply_version(
    tx: &mut Tx,
    id: i64,
    i: &ResourceInput,
    blob_sha256: &str,
    file_name: &str,
    number: i64,
) -> Result<(), DbError> {
    let q = sql(format!("UPDATE resources SET {METADATA_SET}, blob_sha256 = $19, file_name = $20, version = $21 WHERE id = $1"));
    tx.execute(bind_metadata(q.bind(id), i).bind(blob_sha256).bind(file_name).bind(number)).await?;
    Ok(())
}

/// The described columns, $2 to $16, then updated_at $17 and changed_ms $18.
const METADATA_SET: &str = "title = $2, description = $3, stage = $4, grade = $5, subject = $6, edition = $7, volume = $8, \
    chapter_id = $9, resource_type = $10, language = $11, keywords = $12, authors = $13, licence = $14, duration_seconds = $15, \
    page_count = $16, updated_at = $17, changed_ms = $18";

fn bind_metadata(q: kernel::db::Query, i: &ResourceInput) -> kernel::db::Query {
    q.bind(i.title.trim())
        .bind(i.description.trim())
        .bind(i.stage.as_str())
        .bind(i.grade)
        .bind(i.subject.as_str())
        .bind(opt(&i.edition))
        .bind(opt(&i.volume))
        .bind(i.chapter_id)
        .bind(i.resource_type.as_str())
        .bind(i.language.as_str())
        .bind(i.keyword_list().join("，"))
        .bind(super::model::split_list(&i.authors).join("，"))
        .bind(i.licence.as_str())
        .bind(i.duration_seconds)
        .bind(i.page_count)
        .bind(kernel::now())
        .bind(now_ms())
}

pub async fn set_status(tx: &mut Tx, id: i64, status: &str, reason: Option<&str>) -> Result<(), DbError> {
    let now = kernel::now();
    tx.execute(
        sql("UPDATE resources SET status = $2, status_reason = $3, updated_at = $4, changed_ms = $5, \
             published_at = CASE WHEN $2 = 'approved' THEN COALESCE(published_at, $4) ELSE published_at END WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(reason)
        .bind(now)
        .bind(now_ms()),
    )
    .await?;
    Ok(())
}

pub async fn count_use(tx: &mut Tx, id: i64, download: bool) -> Result<(), DbError> {
    let column = if download { "downloads" } else { "views" };
    tx.execute(sql(format!("UPDATE resources SET {column} = {column} + 1 WHERE id = $1")).bind(id)).await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Publication {
    pub id: i64,
    pub resource_id: i64,
    pub level: String,
    pub scope_id: i64,
    pub scope_path: String,
    pub scope_name: String,
    pub status: String,
    pub requested_by: i64,
    pub requested_at: i64,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<i64>,
    pub reason: Option<String>,
}

const PUBLICATION: &str = "SELECT p.id, p.resource_id, p.level, p.scope_id, p.scope_path, u.name AS scope_name, p.status, \
    p.requested_by, p.requested_at, p.reviewed_by, p.reviewed_at, p.reason FROM publications p \
    JOIN org_units u ON u.id = p.scope_id";

pub async fn publications(db: &Db, resource_id: i64) -> Result<Vec<Publication>, DbError> {
    db.fetch_all(sql(format!("{PUBLICATION} WHERE p.resource_id = $1 ORDER BY p.requested_at, p.id")).bind(resource_id)).await
}

pub async fn publications_in(tx: &mut Tx, resource_id: i64) -> Result<Vec<Publication>, DbError> {
    tx.fetch_all(sql(format!("{PUBLICATION} WHERE p.resource_id = $1 ORDER BY p.requested_at, p.id")).bind(resource_id)).await
}

pub async fn publication_in(tx: &mut Tx, id: i64) -> Result<Option<Publication>, DbError> {
    tx.fetch_optional(sql(format!("{PUBLICATION} WHERE p.id = $1")).bind(id)).await
}

/// Asks for (or asks again for) publication at a scope.
pub async fn request_publication(
    tx: &mut Tx,
    resource_id: i64,
    level: &str,
    scope_id: i64,
    scope_path: &str,
    by: i64,
) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO publications (resource_id, level, scope_id, scope_path, status, requested_by, requested_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT (resource_id, scope_id) DO UPDATE SET \
             status = 'pending', requested_by = excluded.requested_by, requested_at = excluded.requested_at, \
             reviewed_by = NULL, reviewed_at = NULL, reason = NULL")
        .bind(resource_id)
        .bind(level)
        .bind(scope_id)
        .bind(scope_path)
        .bind(by)
        .bind(kernel::now()),
    )
    .await?;
    Ok(())
}

pub async fn decide(tx: &mut Tx, id: i64, status: &str, by: i64, reason: Option<&str>) -> Result<(), DbError> {
    tx.execute(
        sql("UPDATE publications SET status = $2, reviewed_by = $3, reviewed_at = $4, reason = $5 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(by)
            .bind(kernel::now())
            .bind(reason),
    )
    .await?;
    Ok(())
}

/// A publication waiting for review, with what a reviewer needs to decide.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct QueueItem {
    pub publication_id: i64,
    pub level: String,
    pub scope_name: String,
    pub requested_at: i64,
    pub resource_id: i64,
    pub title: String,
    pub subject: String,
    pub stage: String,
    pub resource_type: String,
    pub format: String,
    pub owner_name: String,
    pub unit_name: String,
}

pub struct QueueFilter<'a> {
    pub subject: &'a str,
    pub resource_type: &'a str,
    pub level: &'a str,
}

/// Pending publications at scopes under `path`, not asked for by `not_owner`, oldest first.
pub async fn queue(db: &Db, path: &str, not_owner: i64, f: &QueueFilter<'_>) -> Result<Vec<QueueItem>, DbError> {
    let (lo, hi) = path_range(path);
    let mut q =
        sql("SELECT p.id AS publication_id, p.level, s.name AS scope_name, p.requested_at, r.id AS resource_id, r.title, \
         r.subject, r.stage, r.resource_type, COALESCE(b.format, 'link') AS format, o.name AS owner_name, u.name AS unit_name \
         FROM publications p JOIN resources r ON r.id = p.resource_id LEFT JOIN blobs b ON b.sha256 = r.blob_sha256 \
         JOIN people o ON o.id = r.owner_id JOIN org_units u ON u.id = r.unit_id JOIN org_units s ON s.id = p.scope_id \
         WHERE p.status = 'pending' AND r.status <> 'taken_down' AND p.scope_path >= $1 AND p.scope_path < $2 \
         AND r.owner_id <> $3")
        .bind(lo)
        .bind(hi)
        .bind(not_owner);
    let mut n = 4;
    for (column, value) in [("r.subject", f.subject), ("r.resource_type", f.resource_type), ("p.level", f.level)] {
        if !value.is_empty() {
            q = q.append(&format!(" AND {column} = ${n}")).bind(value);
            n += 1;
        }
    }
    db.fetch_all(q.append(" ORDER BY p.requested_at, p.id LIMIT 500")).await
}

/// Ids changed since `since_ms` (milliseconds), for the search index to catch up with.
pub async fn changed_since(db: &Db, since_ms: i64) -> Result<Vec<(i64, i64)>, DbError> {
    db.fetch_all(sql("SELECT id, changed_ms FROM resources WHERE changed_ms > $1 ORDER BY changed_ms LIMIT 5000").bind(since_ms))
        .await
}

/// The scope paths of a resource's approved publications, with their levels.
pub async fn approved_scopes(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String, String)>, DbError> {
    let q = sql_in(
        db.dialect(),
        "SELECT resource_id, scope_path, level FROM publications WHERE status = 'approved' AND resource_id",
        ids.iter().copied(),
    );
    db.fetch_all(q).await
}

/// All resource ids, in pages, for a full index rebuild.
pub async fn ids_after(db: &Db, after: i64, limit: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> =
        db.fetch_all(sql("SELECT id FROM resources WHERE id > $1 ORDER BY id LIMIT $2").bind(after).bind(limit)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
