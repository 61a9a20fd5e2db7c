//! Storage of lesson packages and their items.

use super::PackageInput;
use kernel::db::{Db, DbError, Tx, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Package {
    pub id: i64,
    pub owner_id: i64,
    pub owner_name: String,
    pub unit_id: i64,
    pub title: String,
    pub description: String,
    pub stage: String,
    pub subject: String,
    pub grade: Option<i64>,
    pub chapter_id: Option<i64>,
    pub shared: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub items: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Item {
    pub resource_id: i64,
    pub position: i64,
    pub note: String,
}

const PACKAGE: &str = "SELECT k.id, k.owner_id, p.name AS owner_name, k.unit_id, k.title, k.description, k.stage, k.subject, \
    k.grade, k.chapter_id, k.shared, k.created_at, k.updated_at, \
    CAST((SELECT COUNT(*) FROM lesson_package_items i WHERE i.package_id = k.id) AS BIGINT) AS items \
    FROM lesson_packages k JOIN people p ON p.id = k.owner_id";

pub async fn get(db: &Db, id: i64) -> Result<Option<Package>, DbError> {
    db.fetch_optional(sql(format!("{PACKAGE} WHERE k.id = $1")).bind(id)).await
}

/// A person's own packages, and those their school's colleagues share, most recently changed first.
pub async fn for_person(db: &Db, person_id: i64, unit_id: i64) -> Result<Vec<Package>, DbError> {
    db.fetch_all(
        sql(format!(
            "{PACKAGE} WHERE k.owner_id = $1 OR (k.unit_id = $2 AND k.shared = $3) ORDER BY k.updated_at DESC, k.id DESC"
        ))
        .bind(person_id)
        .bind(unit_id)
        .bind(true),
    )
    .await
}

pub async fn items(db: &Db, package_id: i64) -> Result<Vec<Item>, DbError> {
    db.fetch_all(
        sql("SELECT resource_id, position, note FROM lesson_package_items WHERE package_id = $1 ORDER BY position, added_at")
            .bind(package_id),
    )
    .await
}

pub async fn create(tx: &mut Tx, owner_id: i64, unit_id: i64, i: &PackageInput) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql(
                "INSERT INTO lesson_packages (owner_id, unit_id, title, description, stage, subject, grade, chapter_id, shared, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(owner_id)
            .bind(unit_id)
            .bind(i.title.trim())
            .bind(i.description.trim())
            .bind(i.stage.as_str())
            .bind(i.subject.as_str())
            .bind(i.grade)
            .bind(i.chapter_id)
            .bind(i.shared)
            .bind(now),
        )
        .await?;
    Ok(id)
}

pub async fn update(tx: &mut Tx, id: i64, i: &PackageInput) -> Result<(), DbError> {
    tx.execute(
        sql("UPDATE lesson_packages SET title = $2, description = $3, stage = $4, subject = $5, grade = $6, chapter_id = $7, \
             shared = $8, updated_at = $9 WHERE id = $1")
        .bind(id)
        .bind(i.title.trim())
        .bind(i.description.trim())
        .bind(i.stage.as_str())
        .bind(i.subject.as_str())
        .bind(i.grade)
        .bind(i.chapter_id)
        .bind(i.shared)
        .bind(kernel::now()),
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<(), DbError> {
    tx.execute(sql("DELETE FROM lesson_package_items WHERE package_id = $1").bind(id)).await?;
    tx.execute(sql("DELETE FROM lesson_packages WHERE id = $1").bind(id)).await?;
    Ok(())
}

/// Adds a resource at the end (or changes its note if it is there already).
pub async fn add_item(tx: &mut Tx, package_id: i64, resource_id: i64, note: &str) -> Result<(), DbError> {
    let now = kernel::now();
    tx.execute(
        sql("INSERT INTO lesson_package_items (package_id, resource_id, position, note, added_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM lesson_package_items WHERE package_id = $1), $3, $4) \
             ON CONFLICT (package_id, resource_id) DO UPDATE SET note = excluded.note")
        .bind(package_id)
        .bind(resource_id)
        .bind(note)
        .bind(now),
    )
    .await?;
    touch(tx, package_id).await
}

pub async fn remove_item(tx: &mut Tx, package_id: i64, resource_id: i64) -> Result<(), DbError> {
    tx.execute(
        sql("DELETE FROM lesson_package_items WHERE package_id = $1 AND resource_id = $2").bind(package_id).bind(resource_id),
    )
    .await?;
    touch(tx, package_id).await
}

async fn touch(tx: &mut Tx, package_id: i64) -> Result<(), DbError> {
    tx.execute(sql("UPDATE lesson_packages SET updated_at = $2 WHERE id = $1").bind(package_id).bind(kernel::now())).await?;
    Ok(())
}
