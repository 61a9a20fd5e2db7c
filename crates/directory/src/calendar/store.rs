use kernel::db::{Db, DbError, Tx, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SchoolYear {
    pub id: i64,
    pub name: String,
    pub start_year: i64,
    pub starts_on: time::Date,
    pub ends_on: time::Date,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Term {
    pub id: i64,
    pub school_year_id: i64,
    pub name: String,
    pub starts_on: time::Date,
    pub ends_on: time::Date,
}

pub async fn years(db: &Db) -> Result<Vec<SchoolYear>, DbError> {
    db.fetch_all(sql("SELECT id, name, start_year, starts_on, ends_on FROM school_years ORDER BY start_year DESC")).await
}

pub async fn terms(db: &Db) -> Result<Vec<Term>, DbError> {
    db.fetch_all(sql("SELECT id, school_year_id, name, starts_on, ends_on FROM terms ORDER BY starts_on")).await
}

pub async fn year(db: &Db, id: i64) -> Result<Option<SchoolYear>, DbError> {
    db.fetch_optional(sql("SELECT id, name, start_year, starts_on, ends_on FROM school_years WHERE id = $1").bind(id)).await
}

/// The start year of the school year containing `today`: from the region's calendar when it has
/// one for that day, else by the national rule that school years begin on 1 September.
pub async fn school_year(db: &Db, today: time::Date) -> Result<i64, DbError> {
    let row: Option<(i64,)> =
        db.fetch_optional(sql("SELECT start_year FROM school_years WHERE starts_on <= $1 AND ends_on >= $1").bind(today)).await?;
    Ok(row.map(|r| r.0).unwrap_or_else(|| crate::codes::school_year_of(today)))
}

pub async fn create_year(
    tx: &mut Tx,
    name: &str,
    start_year: i64,
    starts_on: time::Date,
    ends_on: time::Date,
) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO school_years (name, start_year, starts_on, ends_on) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(name)
                .bind(start_year)
                .bind(starts_on)
                .bind(ends_on),
        )
        .await?;
    Ok(id)
}

pub async fn create_term(
    tx: &mut Tx,
    year_id: i64,
    name: &str,
    starts_on: time::Date,
    ends_on: time::Date,
) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO terms (school_year_id, name, starts_on, ends_on) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(year_id)
                .bind(name)
                .bind(starts_on)
                .bind(ends_on),
        )
        .await?;
    Ok(id)
}
