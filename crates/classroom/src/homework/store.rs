//! Homework's tables: assignments, their classes, recipients, files and resources; hand-ins.

use kernel::db::{Db, DbError, Tx, sql, sql_in};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Homework {
    pub id: i64,
    pub school_id: i64,
    pub school_path: String,
    pub teacher_id: i64,
    pub teacher_name: String,
    pub subject: String,
    pub title: String,
    #[serde(rename = "instructions")]
    pub body: String,
    pub due_at: i64,
    pub due_on: time::Date,
    pub estimated_minutes: i64,
    pub hand_in: String,
    pub late_allowed: bool,
    pub status: String,
    pub created_at: i64,
}

impl Homework {
    pub fn online(&self) -> bool {
        self.hand_in == "online"
    }

    /// Hand-ins are still taken: before the due time, or later when the teacher allows it.
    pub fn open_at(&self, now: i64) -> bool {
        self.status == "published" && self.online() && (now <= self.due_at || self.late_allowed)
    }
}

const HOMEWORK: &str = "SELECT h.id, h.school_id, h.school_path, h.teacher_id, p.name AS teacher_name, h.subject, h.title, h.body, \
                        h.due_at, h.due_on, h.estimated_minutes, h.hand_in, h.late_allowed, h.status, h.created_at \
                        FROM homework h JOIN people p ON p.id = h.teacher_id";

pub async fn get(db: &Db, id: i64) -> Result<Option<Homework>, DbError> {
    db.fetch_optional(sql(format!("{HOMEWORK} WHERE h.id = $1")).bind(id)).await
}

pub struct NewHomework<'a> {
    pub school_id: i64,
    pub school_path: &'a str,
    pub teacher_id: i64,
    pub subject: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub due_at: i64,
    pub due_on: time::Date,
    pub estimated_minutes: i64,
    pub hand_in: &'a str,
    pub late_allowed: bool,
}

pub async fn create(tx: &mut Tx, h: &NewHomework<'_>) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO homework (school_id, school_path, teacher_id, subject, title, body, due_at, due_on, \
                 estimated_minutes, hand_in, late_allowed, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'published', $12, $12) RETURNING id")
            .bind(h.school_id)
            .bind(h.school_path)
            .bind(h.teacher_id)
            .bind(h.subject)
            .bind(h.title)
            .bind(h.body)
            .bind(h.due_at)
            .bind(h.due_on)
            .bind(h.estimated_minutes)
            .bind(h.hand_in)
            .bind(h.late_allowed)
            .bind(now),
        )
        .await?;
    Ok(id)
}

pub async fn add_class(tx: &mut Tx, homework_id: i64, class_id: i64) -> Result<(), DbError> {
    tx.execute(sql("INSERT INTO homework_classes (homework_id, class_id) VALUES ($1, $2)").bind(homework_id).bind(class_id))
        .await?;
    Ok(())
}

pub async fn add_recipient(tx: &mut Tx, homework_id: i64, student_id: i64, class_id: i64) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO homework_recipients (homework_id, student_id, class_id) VALUES ($1, $2, $3)")
            .bind(homework_id)
            .bind(student_id)
            .bind(class_id),
    )
    .await?;
    Ok(())
}

pub async fn add_attachment(tx: &mut Tx, homework_id: i64, attachment_id: i64, position: i64) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO homework_attachments (homework_id, attachment_id, position) VALUES ($1, $2, $3)")
            .bind(homework_id)
            .bind(attachment_id)
            .bind(position),
    )
    .await?;
    Ok(())
}

pub async fn add_resource(tx: &mut Tx, homework_id: i64, resource_id: i64, position: i64) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO homework_resources (homework_id, resource_id, position) VALUES ($1, $2, $3)")
            .bind(homework_id)
            .bind(resource_id)
            .bind(position),
    )
    .await?;
    Ok(())
}

pub async fn class_ids(db: &Db, homework_id: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db
        .fetch_all(sql("SELECT class_id FROM homework_classes WHERE homework_id = $1 ORDER BY class_id").bind(homework_id))
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn attachment_ids(db: &Db, homework_id: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db
        .fetch_all(
            sql("SELECT attachment_id FROM homework_attachments WHERE homework_id = $1 ORDER BY position").bind(homework_id),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn resource_ids(db: &Db, homework_id: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db
        .fetch_all(sql("SELECT resource_id FROM homework_resources WHERE homework_id = $1 ORDER BY position").bind(homework_id))
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn set_late_allowed(db: &Db, id: i64, on: bool) -> Result<(), DbError> {
    db.execute(sql("UPDATE homework SET late_allowed = $2, updated_at = $3 WHERE id = $1").bind(id).bind(on).bind(kernel::now()))
        .await?;
    Ok(())
}

/// A recipient with their hand-in, as the teacher's list and the marking page show them.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Work {
    pub homework_id: i64,
    pub student_id: i64,
    pub student_name: String,
    pub class_id: i64,
    pub reminded_at: Option<i64>,
    pub submission_id: Option<i64>,
    pub status: Option<String>,
    pub body: Option<String>,
    pub late: Option<bool>,
    pub attempts: Option<i64>,
    pub handed_in_at: Option<i64>,
    pub score: Option<f64>,
    pub grade: Option<String>,
    pub feedback: Option<String>,
    pub marked_at: Option<i64>,
    pub returned_at: Option<i64>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl Work {
    /// Where the work stands: not_handed_in, handed_in, resubmit, marked or returned.
    pub fn state(&self) -> &'static str {
        match (self.status.as_deref(), self.returned_at) {
            (Some("marked"), Some(_)) => "returned",
            (Some("marked"), None) => "marked",
            (Some("resubmit"), _) => "resubmit",
            (Some(_), _) if self.handed_in_at.is_some() => "handed_in",
            _ => "not_handed_in",
        }
    }

    pub fn handed_in(&self) -> bool {
        self.handed_in_at.is_some()
    }

    pub fn is_late(&self) -> bool {
        self.late.unwrap_or(false)
    }
}

const WORK: &str = "SELECT r.homework_id, r.student_id, p.name AS student_name, r.class_id, r.reminded_at, s.id AS submission_id, \
                    s.status, s.body, s.late, s.attempts, s.handed_in_at, s.score, s.grade, s.feedback, s.marked_at, s.returned_at, \
                    s.idempotency_key \
                    FROM homework_recipients r JOIN people p ON p.id = r.student_id \
                    LEFT JOIN submissions s ON s.homework_id = r.homework_id AND s.student_id = r.student_id";

/// Every recipient of a homework with their hand-in, by class then name.
pub async fn works(db: &Db, homework_id: i64) -> Result<Vec<Work>, DbError> {
    db.fetch_all(sql(format!("{WORK} WHERE r.homework_id = $1 ORDER BY r.class_id, p.name, p.id")).bind(homework_id)).await
}

pub async fn work(db: &Db, homework_id: i64, student_id: i64) -> Result<Option<Work>, DbError> {
    db.fetch_optional(sql(format!("{WORK} WHERE r.homework_id = $1 AND r.student_id = $2")).bind(homework_id).bind(student_id))
        .await
}

/// One student's homework with their hand-in, newest due first, from `since` on.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Assigned {
    pub id: i64,
    pub title: String,
    pub subject: String,
    pub teacher_name: String,
    pub due_at: i64,
    pub estimated_minutes: i64,
    pub hand_in: String,
    pub late_allowed: bool,
    pub student_id: i64,
    pub reminded_at: Option<i64>,
    pub status: Option<String>,
    pub late: Option<bool>,
    pub handed_in_at: Option<i64>,
    pub score: Option<f64>,
    pub grade: Option<String>,
    pub feedback: Option<String>,
    pub returned_at: Option<i64>,
}

impl Assigned {
    /// Where the work stands for the student: todo, overdue, handed_in, resubmit, marked (handed
    /// back) or paper (nothing to hand in here).
    pub fn state(&self, now: i64) -> &'static str {
        match (self.status.as_deref(), self.returned_at) {
            (Some("marked"), Some(_)) => "returned",
            (Some("resubmit"), _) => "resubmit",
            (Some(_), _) if self.handed_in_at.is_some() => "handed_in",
            _ if self.hand_in == "paper" => "paper",
            _ if now > self.due_at => "overdue",
            _ => "todo",
        }
    }
}

pub async fn of_students(db: &Db, student_ids: &[i64], since: i64) -> Result<Vec<Assigned>, DbError> {
    let q = sql_in(
        db.dialect(),
        "SELECT h.id, h.title, h.subject, p.name AS teacher_name, h.due_at, h.estimated_minutes, h.hand_in, h.late_allowed, \
         r.student_id, r.reminded_at, s.status, s.late, s.handed_in_at, \
         CASE WHEN s.returned_at IS NULL THEN NULL ELSE s.score END AS score, \
         CASE WHEN s.returned_at IS NULL THEN NULL ELSE s.grade END AS grade, \
         CASE WHEN s.returned_at IS NULL THEN NULL ELSE s.feedback END AS feedback, s.returned_at \
         FROM homework_recipients r JOIN homework h ON h.id = r.homework_id JOIN people p ON p.id = h.teacher_id \
         LEFT JOIN submissions s ON s.homework_id = r.homework_id AND s.student_id = r.student_id \
         WHERE h.status = 'published' AND r.student_id",
        student_ids.iter().copied(),
    );
    let next = q.next_placeholder();
    db.fetch_all(q.append(&format!(" AND h.due_at >= {next} ORDER BY h.due_at DESC, h.id DESC")).bind(since)).await
}

/// A teacher's homework with hand-in counts, newest due first.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Summary {
    pub id: i64,
    pub title: String,
    pub subject: String,
    pub due_at: i64,
    pub hand_in: String,
    pub estimated_minutes: i64,
    pub recipients: i64,
    pub handed_in: i64,
    pub marked: i64,
}

pub async fn of_teacher(db: &Db, teacher_id: i64, limit: i64) -> Result<Vec<Summary>, DbError> {
    db.fetch_all(
        sql("SELECT h.id, h.title, h.subject, h.due_at, h.hand_in, h.estimated_minutes, \
             (SELECT COUNT(*) FROM homework_recipients r WHERE r.homework_id = h.id) AS recipients, \
             (SELECT COUNT(*) FROM submissions s WHERE s.homework_id = h.id AND s.handed_in_at IS NOT NULL) AS handed_in, \
             (SELECT COUNT(*) FROM submissions s WHERE s.homework_id = h.id AND s.status = 'marked') AS marked \
             FROM homework h WHERE h.teacher_id = $1 AND h.status = 'published' ORDER BY h.due_at DESC, h.id DESC LIMIT $2")
        .bind(teacher_id)
        .bind(limit),
    )
    .await
}

/// The current hand-in of a student, for the idempotency and state checks of a new one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Submission {
    pub id: i64,
    pub status: String,
    pub idempotency_key: Option<String>,
    pub handed_in_at: Option<i64>,
}

pub async fn submission_in(tx: &mut Tx, homework_id: i64, student_id: i64) -> Result<Option<Submission>, DbError> {
    tx.fetch_optional(
        sql("SELECT id, status, idempotency_key, handed_in_at FROM submissions WHERE homework_id = $1 AND student_id = $2")
            .bind(homework_id)
            .bind(student_id),
    )
    .await
}

pub struct HandIn<'a> {
    pub homework_id: i64,
    pub student_id: i64,
    pub body: &'a str,
    pub late: bool,
    pub idempotency_key: &'a str,
    pub at: i64,
}

/// Records a first hand-in; None when a concurrent request recorded one first.
pub async fn insert_hand_in(tx: &mut Tx, h: &HandIn<'_>) -> Result<Option<i64>, DbError> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            sql("INSERT INTO submissions (homework_id, student_id, body, status, late, attempts, idempotency_key, handed_in_at, updated_at) \
                 VALUES ($1, $2, $3, 'handed_in', $4, 1, $5, $6, $6) ON CONFLICT (homework_id, student_id) DO NOTHING RETURNING id")
            .bind(h.homework_id)
            .bind(h.student_id)
            .bind(h.body)
            .bind(h.late)
            .bind(h.idempotency_key)
            .bind(h.at),
        )
        .await?;
    Ok(row.map(|r| r.0))
}

/// Replaces an earlier hand-in (before marking, or after a resubmission request).
pub async fn replace_hand_in(tx: &mut Tx, submission_id: i64, h: &HandIn<'_>) -> Result<(), DbError> {
    tx.execute(
        sql("UPDATE submissions SET body = $2, status = 'handed_in', late = $3, attempts = attempts + 1, idempotency_key = $4, \
             handed_in_at = $5, updated_at = $5 WHERE id = $1")
        .bind(submission_id)
        .bind(h.body)
        .bind(h.late)
        .bind(h.idempotency_key)
        .bind(h.at),
    )
    .await?;
    tx.execute(sql("DELETE FROM submission_attachments WHERE submission_id = $1").bind(submission_id)).await?;
    Ok(())
}

pub async fn add_submission_attachment(
    tx: &mut Tx,
    submission_id: i64,
    attachment_id: i64,
    position: i64,
) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO submission_attachments (submission_id, attachment_id, position) VALUES ($1, $2, $3)")
            .bind(submission_id)
            .bind(attachment_id)
            .bind(position),
    )
    .await?;
    Ok(())
}

pub async fn submission_attachment_ids(db: &Db, submission_ids: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
    if submission_ids.is_empty() {
        return Ok(Vec::new());
    }
    let q = sql_in(
        db.dialect(),
        "SELECT submission_id, attachment_id FROM submission_attachments WHERE submission_id",
        submission_ids.iter().copied(),
    );
    db.fetch_all(q.append(" ORDER BY submission_id, position")).await
}

pub struct Mark<'a> {
    pub score: Option<f64>,
    pub grade: Option<&'a str>,
    pub feedback: &'a str,
    /// Ask for the work again instead of marking it.
    pub resubmit: bool,
}

/// Marks a student's work (creating the row for paper homework) and hands it back at once.
pub async fn mark(tx: &mut Tx, homework_id: i64, student_id: i64, teacher_id: i64, m: &Mark<'_>) -> Result<(), DbError> {
    let now = kernel::now();
    let status = if m.resubmit { "resubmit" } else { "marked" };
    let returned = (!m.resubmit).then_some(now);
    tx.execute(
        sql("INSERT INTO submissions (homework_id, student_id, body, status, score, grade, feedback, marked_by, marked_at, \
             returned_at, updated_at) VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $9, $8) \
             ON CONFLICT (homework_id, student_id) DO UPDATE SET status = excluded.status, score = excluded.score, \
             grade = excluded.grade, feedback = excluded.feedback, marked_by = excluded.marked_by, \
             marked_at = excluded.marked_at, returned_at = excluded.returned_at, updated_at = excluded.updated_at")
        .bind(homework_id)
        .bind(student_id)
        .bind(status)
        .bind(m.score)
        .bind(m.grade)
        .bind(m.feedback)
        .bind(teacher_id)
        .bind(now)
        .bind(returned),
    )
    .await?;
    Ok(())
}

/// Notes a reminder for every recipient who has not handed in; returns how many were reminded.
pub async fn remind(db: &Db, homework_id: i64) -> Result<u64, DbError> {
    db.execute(
        sql("UPDATE homework_recipients SET reminded_at = $2 WHERE homework_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM submissions s WHERE s.homework_id = homework_recipients.homework_id \
              AND s.student_id = homework_recipients.student_id AND s.handed_in_at IS NOT NULL)")
        .bind(homework_id)
        .bind(kernel::now()),
    )
    .await
}

/// Minutes of published homework due on `day` for each of `class_ids`.
pub async fn minutes_due(db: &Db, class_ids: &[i64], day: time::Date) -> Result<Vec<(i64, i64)>, DbError> {
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    let q = sql_in(
        db.dialect(),
        "SELECT c.class_id, CAST(SUM(h.estimated_minutes) AS BIGINT) FROM homework_classes c JOIN homework h ON h.id = c.homework_id \
         WHERE h.status = 'published' AND c.class_id",
        class_ids.iter().copied(),
    );
    let next = q.next_placeholder();
    db.fetch_all(q.append(&format!(" AND h.due_on = {next} GROUP BY c.class_id")).bind(day)).await
}

/// Minutes due per class and day under a school path, from `from` to `to` inclusive.
pub async fn load_by_day(
    db: &Db,
    school_path: &str,
    from: time::Date,
    to: time::Date,
) -> Result<Vec<(i64, time::Date, i64)>, DbError> {
    db.fetch_all(
        sql("SELECT c.class_id, h.due_on, CAST(SUM(h.estimated_minutes) AS BIGINT) FROM homework h \
             JOIN homework_classes c ON c.homework_id = h.id \
             WHERE h.school_path = $1 AND h.status = 'published' AND h.due_on >= $2 AND h.due_on <= $3 \
             GROUP BY c.class_id, h.due_on ORDER BY h.due_on, c.class_id")
        .bind(school_path)
        .bind(from)
        .bind(to),
    )
    .await
}
