use super::model::{Class, ClassInput};
use kernel::db::{Db, DbError, Tx, sql};

const COLUMNS: &str = "id, school_id, kind, stage, entry_year, number, name, subject";

pub async fn get(db: &Db, id: i64) -> Result<Option<Class>, DbError> {
    db.fetch_optional(sql(format!("SELECT {COLUMNS} FROM classes WHERE id = $1")).bind(id)).await
}

pub async fn of_school(db: &Db, school_id: i64) -> Result<Vec<Class>, DbError> {
    db.fetch_all(
        sql(format!("SELECT {COLUMNS} FROM classes WHERE school_id = $1 ORDER BY kind, stage, entry_year DESC, number"))
            .bind(school_id),
    )
    .await
}

pub async fn create(tx: &mut Tx, school_id: i64, input: &ClassInput) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO classes (school_id, kind, stage, entry_year, number, name, subject, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
            .bind(school_id)
            .bind(input.kind.as_str())
            .bind(input.stage.as_str())
            .bind(input.entry_year)
            .bind(input.number)
            .bind(input.name.trim())
            .bind((!input.subject.trim().is_empty()).then(|| input.subject.trim().to_string()))
            .bind(now),
        )
        .await?;
    Ok(id)
}

/// Current student counts per class of a school.
pub async fn student_counts(db: &Db, school_id: i64, today: time::Date) -> Result<Vec<(i64, i64)>, DbError> {
    db.fetch_all(
        sql("SELECT r.class_id, COUNT(*) FROM role_assignments r JOIN classes c ON c.id = r.class_id \
             WHERE c.school_id = $1 AND r.role = 'student' AND r.starts_on <= $2 AND (r.ends_on IS NULL OR r.ends_on > $2) \
             GROUP BY r.class_id")
        .bind(school_id)
        .bind(today),
    )
    .await
}
