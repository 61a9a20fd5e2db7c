//! Storage of bell schedules, timetables, their lessons and publications, and calendar feeds.

use kernel::db::{Db, DbError, Dialect, Tx, sql, sql_in};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Schedule {
    pub id: i64,
    pub school_id: i64,
    pub term_id: i64,
    pub days_per_week: i64,
    pub periods_per_day: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Variant {
    pub id: i64,
    pub name: String,
    pub starts_on: time::Date,
    pub ends_on: time::Date,
}

#[derive(Debug, Clone, Copy, serde::Serialize, sqlx::FromRow)]
pub struct BellPeriod {
    pub variant_id: i64,
    pub period: i64,
    pub starts_minute: i64,
    pub ends_minute: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Timetable {
    pub id: i64,
    pub class_id: i64,
    pub term_id: i64,
    pub school_id: i64,
    pub published_version: i64,
    pub published_at: Option<i64>,
    pub updated_at: i64,
}

/// One lesson of a class's week.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct Lesson {
    pub weekday: i64,
    pub period: i64,
    pub subject: String,
    pub teacher_id: Option<i64>,
    pub room: String,
}

/// A lesson of another timetable of the term, for the clash check.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OtherLesson {
    pub class_id: i64,
    pub school_id: i64,
    pub state: String,
    pub weekday: i64,
    pub period: i64,
    pub teacher_id: Option<i64>,
    pub room: String,
}

/// A published lesson with the class it belongs to (a teacher's or a person's week).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct PlacedLesson {
    pub timetable_id: i64,
    pub class_id: i64,
    pub school_id: i64,
    pub term_id: i64,
    pub published_version: i64,
    pub published_at: Option<i64>,
    pub weekday: i64,
    pub period: i64,
    pub subject: String,
    pub teacher_id: Option<i64>,
    pub room: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Publication {
    pub id: i64,
    pub timetable_id: i64,
    pub version: i64,
    pub published_at: i64,
    pub published_by: i64,
    pub changes: String,
}

pub async fn schedule(db: &Db, school_id: i64, term_id: i64) -> Result<Option<Schedule>, DbError> {
    db.fetch_optional(
        sql("SELECT id, school_id, term_id, days_per_week, periods_per_day, updated_at FROM bell_schedules \
             WHERE school_id = $1 AND term_id = $2")
        .bind(school_id)
        .bind(term_id),
    )
    .await
}

pub async fn variants(db: &Db, schedule_id: i64) -> Result<Vec<Variant>, DbError> {
    db.fetch_all(
        sql("SELECT id, name, starts_on, ends_on FROM bell_variants WHERE schedule_id = $1 ORDER BY position").bind(schedule_id),
    )
    .await
}

pub async fn periods(db: &Db, schedule_id: i64) -> Result<Vec<BellPeriod>, DbError> {
    db.fetch_all(
        sql("SELECT p.variant_id, p.period, p.starts_minute, p.ends_minute FROM bell_periods p \
             JOIN bell_variants v ON v.id = p.variant_id WHERE v.schedule_id = $1 ORDER BY v.position, p.period")
        .bind(schedule_id),
    )
    .await
}

/// A variant as saved: name, dates and (start, end) minutes of each period in order.
pub struct NewVariant<'a> {
    pub name: &'a str,
    pub starts_on: time::Date,
    pub ends_on: time::Date,
    pub periods: &'a [(i64, i64)],
}

/// Creates or replaces a school's bell schedule for a term.
pub async fn save_schedule(
    tx: &mut Tx,
    school_id: i64,
    term_id: i64,
    days: i64,
    periods: i64,
    variants: &[NewVariant<'_>],
    by: i64,
) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO bell_schedules (school_id, term_id, days_per_week, periods_per_day, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (school_id, term_id) DO UPDATE SET \
                 days_per_week = $3, periods_per_day = $4, updated_at = $5, updated_by = $6 RETURNING id")
            .bind(school_id)
            .bind(term_id)
            .bind(days)
            .bind(periods)
            .bind(now)
            .bind(by),
        )
        .await?;
    tx.execute(
        sql("DELETE FROM bell_periods WHERE variant_id IN (SELECT id FROM bell_variants WHERE schedule_id = $1)").bind(id),
    )
    .await?;
    tx.execute(sql("DELETE FROM bell_variants WHERE schedule_id = $1").bind(id)).await?;
    for (position, v) in variants.iter().enumerate() {
        let (variant,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO bell_variants (schedule_id, position, name, starts_on, ends_on) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(id)
                    .bind(position as i64)
                    .bind(v.name)
                    .bind(v.starts_on)
                    .bind(v.ends_on),
            )
            .await?;
        for (i, (start, end)) in v.periods.iter().enumerate() {
            tx.execute(
                sql("INSERT INTO bell_periods (variant_id, period, starts_minute, ends_minute) VALUES ($1, $2, $3, $4)")
                    .bind(variant)
                    .bind(i as i64 + 1)
                    .bind(*start)
                    .bind(*end),
            )
            .await?;
        }
    }
    Ok(id)
}

/// The largest weekday and period any lesson of the school's timetables of a term uses.
pub async fn used_extent(tx: &mut Tx, school_id: i64, term_id: i64) -> Result<(i64, i64), DbError> {
    let row: (Option<i64>, Option<i64>) = tx
        .fetch_one(
            sql("SELECT MAX(l.weekday), MAX(l.period) FROM timetable_lessons l JOIN timetables t ON t.id = l.timetable_id \
                 WHERE t.school_id = $1 AND t.term_id = $2")
            .bind(school_id)
            .bind(term_id),
        )
        .await?;
    Ok((row.0.unwrap_or(0), row.1.unwrap_or(0)))
}

const TIMETABLE: &str = "SELECT id, class_id, term_id, school_id, published_version, published_at, updated_at FROM timetables";

pub async fn timetable(db: &Db, class_id: i64, term_id: i64) -> Result<Option<Timetable>, DbError> {
    db.fetch_optional(sql(format!("{TIMETABLE} WHERE class_id = $1 AND term_id = $2")).bind(class_id).bind(term_id)).await
}

pub async fn timetable_in(tx: &mut Tx, class_id: i64, term_id: i64) -> Result<Option<Timetable>, DbError> {
    tx.fetch_optional(sql(format!("{TIMETABLE} WHERE class_id = $1 AND term_id = $2")).bind(class_id).bind(term_id)).await
}

pub async fn of_school(db: &Db, school_id: i64, term_id: i64) -> Result<Vec<Timetable>, DbError> {
    db.fetch_all(
        sql(format!("{TIMETABLE} WHERE school_id = $1 AND term_id = $2 ORDER BY class_id")).bind(school_id).bind(term_id),
    )
    .await
}

/// The class's timetable of the term, created empty if it has none.
pub async fn ensure(tx: &mut Tx, class_id: i64, term_id: i64, school_id: i64, by: i64) -> Result<Timetable, DbError> {
    tx.execute(
        sql("INSERT INTO timetables (class_id, term_id, school_id, published_version, updated_at, updated_by) \
             VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (class_id, term_id) DO NOTHING")
        .bind(class_id)
        .bind(term_id)
        .bind(school_id)
        .bind(kernel::now())
        .bind(by),
    )
    .await?;
    timetable_in(tx, class_id, term_id).await?.ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
}

const LESSON: &str = "SELECT weekday, period, subject, teacher_id, room FROM timetable_lessons";

/// A timetable's lessons in one state ("draft" or "published"), by day and period.
pub async fn lessons(db: &Db, timetable_id: i64, state: &str) -> Result<Vec<Lesson>, DbError> {
    db.fetch_all(
        sql(format!("{LESSON} WHERE timetable_id = $1 AND state = $2 ORDER BY weekday, period")).bind(timetable_id).bind(state),
    )
    .await
}

pub async fn lessons_in(tx: &mut Tx, timetable_id: i64, state: &str) -> Result<Vec<Lesson>, DbError> {
    tx.fetch_all(
        sql(format!("{LESSON} WHERE timetable_id = $1 AND state = $2 ORDER BY weekday, period")).bind(timetable_id).bind(state),
    )
    .await
}

/// Replaces a timetable's draft.
pub async fn replace_draft(tx: &mut Tx, timetable_id: i64, lessons: &[Lesson], by: i64) -> Result<(), DbError> {
    tx.execute(sql("DELETE FROM timetable_lessons WHERE timetable_id = $1 AND state = 'draft'").bind(timetable_id)).await?;
    for chunk in lessons.chunks(100) {
        let mut q = sql(format!(
            "INSERT INTO timetable_lessons (timetable_id, state, weekday, period, subject, teacher_id, room) VALUES {}",
            kernel::db::values(chunk.len(), 7, 1)
        ));
        for l in chunk {
            q = q
                .bind(timetable_id)
                .bind("draft")
                .bind(l.weekday)
                .bind(l.period)
                .bind(l.subject.as_str())
                .bind(l.teacher_id)
                .bind(l.room.as_str());
        }
        tx.execute(q).await?;
    }
    tx.execute(
        sql("UPDATE timetables SET updated_at = $2, updated_by = $3 WHERE id = $1")
            .bind(timetable_id)
            .bind(kernel::now())
            .bind(by),
    )
    .await?;
    Ok(())
}

/// The lessons of the term's other timetables that could clash with `teachers` or with rooms of
/// `school_id`: both their drafts and their published weeks.
fn others_query(dialect: Dialect, term_id: i64, timetable_id: i64, school_id: i64, teachers: &[i64]) -> kernel::db::Query {
    let n = arg_count(dialect, teachers.len());
    sql_in(
        dialect,
        "SELECT t.class_id, t.school_id, l.state, l.weekday, l.period, l.teacher_id, l.room \
         FROM timetable_lessons l JOIN timetables t ON t.id = l.timetable_id WHERE (l.teacher_id",
        teachers.iter().copied(),
    )
    .append(&format!(" OR t.school_id = ${}) AND t.term_id = ${} AND t.id <> ${}", n + 1, n + 2, n + 3))
    .bind(school_id)
    .bind(term_id)
    .bind(timetable_id)
}

pub async fn others_in(
    tx: &mut Tx,
    term_id: i64,
    timetable_id: i64,
    school_id: i64,
    teachers: &[i64],
) -> Result<Vec<OtherLesson>, DbError> {
    let q = others_query(tx.dialect(), term_id, timetable_id, school_id, teachers);
    tx.fetch_all(q).await
}

pub async fn others(
    db: &Db,
    term_id: i64,
    timetable_id: i64,
    school_id: i64,
    teachers: &[i64],
) -> Result<Vec<OtherLesson>, DbError> {
    db.fetch_all(others_query(db.dialect(), term_id, timetable_id, school_id, teachers)).await
}

/// How many parameters [`sql_in`] binds for a list of `len` values.
fn arg_count(dialect: Dialect, len: usize) -> usize {
    match dialect {
        Dialect::Postgres if len > 0 => 1,
        _ => len,
    }
}

/// Serialises publications of one term on PostgreSQL, whose READ COMMITTED transactions would
/// otherwise let two classes publish clashing lessons at the same moment, each unaware of the
/// other. (SQLite's write transactions are serial already.)
pub async fn lock_term(tx: &mut Tx, term_id: i64) -> Result<(), DbError> {
    if tx.dialect() == Dialect::Postgres {
        // The key's high bits mark it as the timetables' so it meets no other advisory lock.
        let key = 0x5454_0000_0000_i64 | term_id;
        let _: Vec<(i32,)> = tx.fetch_all(sql("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked").bind(key)).await?;
    }
    Ok(())
}

/// Publishes the draft as the next version, with what changed; returns the version.
pub async fn publish(tx: &mut Tx, timetable_id: i64, by: i64, changes: &str) -> Result<i64, DbError> {
    let now = kernel::now();
    tx.execute(sql("DELETE FROM timetable_lessons WHERE timetable_id = $1 AND state = 'published'").bind(timetable_id)).await?;
    tx.execute(
        sql("INSERT INTO timetable_lessons (timetable_id, state, weekday, period, subject, teacher_id, room) \
             SELECT timetable_id, 'published', weekday, period, subject, teacher_id, room FROM timetable_lessons \
             WHERE timetable_id = $1 AND state = 'draft'")
        .bind(timetable_id),
    )
    .await?;
    let (version,): (i64,) = tx
        .fetch_one(
            sql("UPDATE timetables SET published_version = published_version + 1, published_at = $2 WHERE id = $1 \
                 RETURNING published_version")
            .bind(timetable_id)
            .bind(now),
        )
        .await?;
    tx.execute(
        sql("INSERT INTO timetable_publications (timetable_id, version, published_at, published_by, changes) VALUES ($1, $2, $3, $4, $5)")
            .bind(timetable_id)
            .bind(version)
            .bind(now)
            .bind(by)
            .bind(changes),
    )
    .await?;
    Ok(version)
}

pub async fn latest_publication(db: &Db, timetable_id: i64) -> Result<Option<Publication>, DbError> {
    db.fetch_optional(
        sql("SELECT id, timetable_id, version, published_at, published_by, changes FROM timetable_publications \
             WHERE timetable_id = $1 ORDER BY version DESC LIMIT 1")
        .bind(timetable_id),
    )
    .await
}

const PLACED: &str = "SELECT t.id AS timetable_id, t.class_id, t.school_id, t.term_id, t.published_version, t.published_at, \
     l.weekday, l.period, l.subject, l.teacher_id, l.room FROM timetable_lessons l JOIN timetables t ON t.id = l.timetable_id";

/// The published lessons a teacher gives in the given terms.
pub async fn taught_by(db: &Db, teacher_id: i64, term_ids: &[i64]) -> Result<Vec<PlacedLesson>, DbError> {
    let n = arg_count(db.dialect(), term_ids.len());
    let q = sql_in(db.dialect(), &format!("{PLACED} WHERE t.term_id"), term_ids.iter().copied())
        .append(&format!(" AND l.state = 'published' AND l.teacher_id = ${} ORDER BY t.term_id, l.weekday, l.period", n + 1))
        .bind(teacher_id);
    db.fetch_all(q).await
}

/// The published lessons of classes in the given terms.
pub async fn of_classes(db: &Db, class_ids: &[i64], term_ids: &[i64]) -> Result<Vec<PlacedLesson>, DbError> {
    let mut out = Vec::new();
    for class_id in class_ids {
        for term_id in term_ids {
            let rows: Vec<PlacedLesson> = db
                .fetch_all(
                    sql(format!(
                        "{PLACED} WHERE t.class_id = $1 AND t.term_id = $2 AND l.state = 'published' ORDER BY l.weekday, l.period"
                    ))
                    .bind(*class_id)
                    .bind(*term_id),
                )
                .await?;
            out.extend(rows);
        }
    }
    Ok(out)
}

/// Sets (or replaces) a person's feed token.
pub async fn set_feed(db: &Db, person_id: i64, token_hash: &str) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    tx.execute(sql("DELETE FROM calendar_feeds WHERE person_id = $1").bind(person_id)).await?;
    tx.execute(
        sql("INSERT INTO calendar_feeds (person_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(person_id)
            .bind(token_hash)
            .bind(kernel::now()),
    )
    .await?;
    tx.commit().await
}

pub async fn feed_owner(db: &Db, token_hash: &str) -> Result<Option<i64>, DbError> {
    let row: Option<(i64,)> =
        db.fetch_optional(sql("SELECT person_id FROM calendar_feeds WHERE token_hash = $1").bind(token_hash)).await?;
    Ok(row.map(|r| r.0))
}
