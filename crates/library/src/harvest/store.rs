//! Storage of harvest sources, and of harvested records as resources that link to their source.

use super::SourceInput;
use crate::resources::model::ResourceInput;
use crate::resources::store::now_ms;
use kernel::db::{Db, DbError, Tx, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Source {
    pub id: i64,
    pub name: String,
    pub base_url: String,
    pub set_spec: String,
    pub stage: String,
    pub subject: String,
    pub resource_type: String,
    pub licence: String,
    pub interval_hours: i64,
    pub owner_id: i64,
    pub unit_id: i64,
    pub last_run_at: Option<i64>,
    pub last_datestamp: Option<String>,
    pub last_result: Option<String>,
    pub created_at: i64,
}

const SOURCE: &str = "SELECT id, name, base_url, set_spec, stage, subject, resource_type, licence, interval_hours, owner_id, \
    unit_id, last_run_at, last_datestamp, last_result, created_at FROM harvest_sources";

pub async fn all(db: &Db) -> Result<Vec<Source>, DbError> {
    db.fetch_all(sql(format!("{SOURCE} ORDER BY name, id"))).await
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Source>, DbError> {
    db.fetch_optional(sql(format!("{SOURCE} WHERE id = $1")).bind(id)).await
}

pub async fn create(tx: &mut Tx, i: &SourceInput, owner_id: i64, unit_id: i64) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql(
                "INSERT INTO harvest_sources (name, base_url, set_spec, stage, subject, resource_type, licence, interval_hours, \
                 owner_id, unit_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(i.name.trim())
            .bind(i.base_url.trim())
            .bind(i.set_spec.trim())
            .bind(i.stage.as_str())
            .bind(i.subject.as_str())
            .bind(i.resource_type.as_str())
            .bind(i.licence.as_str())
            .bind(i.interval_hours)
            .bind(owner_id)
            .bind(unit_id)
            .bind(kernel::now()),
        )
        .await?;
    Ok(id)
}

pub async fn delete(db: &Db, id: i64) -> Result<(), DbError> {
    db.execute(sql("DELETE FROM harvest_sources WHERE id = $1").bind(id)).await?;
    Ok(())
}

/// Claims a run of the source: true for the one node that moves `last_run_at` on, so two
/// nodes never harvest the same source at once. `due_before` 0 claims it whenever.
pub async fn claim(db: &Db, id: i64, due_before: i64) -> Result<bool, DbError> {
    let now = kernel::now();
    let n = db
        .execute(
            sql("UPDATE harvest_sources SET last_run_at = $2 WHERE id = $1 AND (last_run_at IS NULL OR last_run_at <= $3 OR $3 = 0)")
                .bind(id)
                .bind(now)
                .bind(due_before),
        )
        .await?;
    Ok(n == 1)
}

/// Sources whose interval has passed.
pub async fn due(db: &Db, now: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db
        .fetch_all(
            sql("SELECT id FROM harvest_sources WHERE last_run_at IS NULL OR last_run_at + interval_hours * 3600 <= $1 ORDER BY id")
                .bind(now),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn finish(db: &Db, id: i64, datestamp: Option<&str>, result: &str) -> Result<(), DbError> {
    db.execute(
        sql("UPDATE harvest_sources SET last_datestamp = COALESCE($2, last_datestamp), last_result = $3 WHERE id = $1")
            .bind(id)
            .bind(datestamp)
            .bind(result),
    )
    .await?;
    Ok(())
}

/// The resource already made of a harvested record, with its status.
pub async fn harvested(tx: &mut Tx, identifier: &str) -> Result<Option<(i64, String)>, DbError> {
    tx.fetch_optional(sql("SELECT id, status FROM resources WHERE source_identifier = $1").bind(identifier)).await
}

pub struct HarvestedResource<'a> {
    pub input: &'a ResourceInput,
    pub source: &'a Source,
    pub identifier: &'a str,
    pub url: &'a str,
    pub unit_path: &'a str,
}

/// A resource made of a harvested record, submitted for review; None when another node made it
/// first.
pub async fn create_resource(tx: &mut Tx, h: &HarvestedResource<'_>) -> Result<Option<i64>, DbError> {
    let i = h.input;
    let now = kernel::now();
    let made: Option<(i64,)> = tx
        .fetch_optional(
            sql("INSERT INTO resources (title, description, stage, grade, subject, edition, volume, chapter_id, resource_type, \
                 language, keywords, authors, licence, file_name, source_name, source_url, source_identifier, owner_id, unit_id, \
                 unit_path, status, created_at, updated_at, changed_ms) VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, $6, $7, $8, \
                 $9, $10, $11, $12, $13, $14, $15, $16, $17, 'submitted', $18, $18, $19) \
                 ON CONFLICT (source_identifier) WHERE source_identifier IS NOT NULL DO NOTHING RETURNING id")
            .bind(i.title.trim())
            .bind(i.description.trim())
            .bind(i.stage.as_str())
            .bind(i.grade)
            .bind(i.subject.as_str())
            .bind(i.resource_type.as_str())
            .bind(i.language.as_str())
            .bind(i.keyword_list().join("，"))
            .bind(crate::resources::model::split_list(&i.authors).join("，"))
            .bind(i.licence.as_str())
            .bind(i.title.trim())
            .bind(h.source.name.as_str())
            .bind(h.url)
            .bind(h.identifier)
            .bind(h.source.owner_id)
            .bind(h.source.unit_id)
            .bind(h.unit_path)
            .bind(now)
            .bind(now_ms()),
        )
        .await?;
    Ok(made.map(|m| m.0))
}
