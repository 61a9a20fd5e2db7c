//! Storage of favourites, ratings and comments.

use crate::resources::store::{RESOURCE, Resource};
use kernel::db::{Db, DbError, Tx, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub resource_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub body: String,
    pub status: String,
    pub hidden_reason: Option<String>,
    pub created_at: i64,
}

const COMMENT: &str = "SELECT c.id, c.resource_id, c.person_id, p.name AS person_name, c.body, c.status, c.hidden_reason, \
    c.created_at FROM comments c JOIN people p ON p.id = c.person_id";

pub async fn is_favourite(db: &Db, person_id: i64, resource_id: i64) -> Result<bool, DbError> {
    let found: Option<(i64,)> = db
        .fetch_optional(
            sql("SELECT resource_id FROM favourites WHERE person_id = $1 AND resource_id = $2").bind(person_id).bind(resource_id),
        )
        .await?;
    Ok(found.is_some())
}

pub async fn set_favourite(db: &Db, person_id: i64, resource_id: i64, on: bool) -> Result<(), DbError> {
    let q = if on {
        sql("INSERT INTO favourites (person_id, resource_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(person_id)
            .bind(resource_id)
            .bind(kernel::now())
    } else {
        sql("DELETE FROM favourites WHERE person_id = $1 AND resource_id = $2").bind(person_id).bind(resource_id)
    };
    db.execute(q).await?;
    Ok(())
}

/// The person's favourites, newest first.
pub async fn favourites(db: &Db, person_id: i64) -> Result<Vec<Resource>, DbError> {
    db.fetch_all(
        sql(format!(
            "{RESOURCE} JOIN favourites f ON f.resource_id = r.id AND f.person_id = $1 ORDER BY f.created_at DESC, r.id DESC"
        ))
        .bind(person_id),
    )
    .await
}

pub async fn my_rating(db: &Db, person_id: i64, resource_id: i64) -> Result<Option<i64>, DbError> {
    let found: Option<(i64,)> = db
        .fetch_optional(
            sql("SELECT stars FROM ratings WHERE person_id = $1 AND resource_id = $2").bind(person_id).bind(resource_id),
        )
        .await?;
    Ok(found.map(|f| f.0))
}

/// Records (or changes) a rating and keeps the resource's sum and count in step, in one
/// transaction.
pub async fn rate(tx: &mut Tx, person_id: i64, resource_id: i64, stars: i64, now_ms: i64) -> Result<(), DbError> {
    let old: Option<(i64,)> = tx
        .fetch_optional(
            sql("SELECT stars FROM ratings WHERE person_id = $1 AND resource_id = $2").bind(person_id).bind(resource_id),
        )
        .await?;
    let (added, counted) = match old {
        Some((before,)) => {
            tx.execute(
                sql("UPDATE ratings SET stars = $3, rated_at = $4 WHERE person_id = $1 AND resource_id = $2")
                    .bind(person_id)
                    .bind(resource_id)
                    .bind(stars)
                    .bind(now_ms / 1000),
            )
            .await?;
            (stars - before, 0)
        }
        None => {
            tx.execute(
                sql("INSERT INTO ratings (person_id, resource_id, stars, rated_at) VALUES ($1, $2, $3, $4)")
                    .bind(person_id)
                    .bind(resource_id)
                    .bind(stars)
                    .bind(now_ms / 1000),
            )
            .await?;
            (stars, 1)
        }
    };
    tx.execute(
        sql("UPDATE resources SET rating_sum = rating_sum + $2, rating_count = rating_count + $3, changed_ms = $4 WHERE id = $1")
            .bind(resource_id)
            .bind(added)
            .bind(counted)
            .bind(now_ms),
    )
    .await?;
    Ok(())
}

/// A resource's comments, oldest first; hidden ones only when `with_hidden`.
pub async fn comments(db: &Db, resource_id: i64, with_hidden: bool) -> Result<Vec<Comment>, DbError> {
    let filter = if with_hidden { "" } else { " AND c.status = 'visible'" };
    db.fetch_all(sql(format!("{COMMENT} WHERE c.resource_id = $1{filter} ORDER BY c.id")).bind(resource_id)).await
}

pub async fn comment(db: &Db, id: i64) -> Result<Option<Comment>, DbError> {
    db.fetch_optional(sql(format!("{COMMENT} WHERE c.id = $1")).bind(id)).await
}

pub async fn add_comment(tx: &mut Tx, resource_id: i64, person_id: i64, body: &str) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO comments (resource_id, person_id, body, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'visible', $4, $4) RETURNING id")
            .bind(resource_id)
            .bind(person_id)
            .bind(body)
            .bind(now),
        )
        .await?;
    Ok(id)
}

pub async fn hide_comment(tx: &mut Tx, id: i64, by: i64, reason: &str) -> Result<(), DbError> {
    tx.execute(
        sql("UPDATE comments SET status = 'hidden', hidden_by = $2, hidden_reason = $3, updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(by)
            .bind(reason)
            .bind(kernel::now()),
    )
    .await?;
    Ok(())
}
