//! Questions, their messages (the question itself first, then answers and follow-ups) and files.

use kernel::db::{Db, DbError, Tx, sql, sql_in};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Question {
    pub id: i64,
    pub school_path: String,
    pub class_id: i64,
    pub subject: String,
    pub student_id: i64,
    pub student_name: String,
    pub teacher_id: i64,
    pub teacher_name: String,
    pub title: String,
    pub status: String,
    pub shared: bool,
    pub created_at: i64,
    pub answered_at: Option<i64>,
    pub solved_at: Option<i64>,
}

impl Question {
    /// Seconds the question has waited for its first answer (until now if it has none).
    pub fn waited(&self, now: i64) -> i64 {
        self.answered_at.unwrap_or(now) - self.created_at
    }
}

const QUESTION: &str = "SELECT q.id, q.school_path, q.class_id, q.subject, q.student_id, s.name AS student_name, q.teacher_id, \
                        t.name AS teacher_name, q.title, q.status, q.shared, q.created_at, q.answered_at, q.solved_at \
                        FROM questions q JOIN people s ON s.id = q.student_id JOIN people t ON t.id = q.teacher_id";

pub async fn get(db: &Db, id: i64) -> Result<Option<Question>, DbError> {
    db.fetch_optional(sql(format!("{QUESTION} WHERE q.id = $1")).bind(id)).await
}

/// A teacher's questions: open ones first, longest waiting first.
pub async fn of_teacher(db: &Db, teacher_id: i64) -> Result<Vec<Question>, DbError> {
    db.fetch_all(
        sql(format!(
            "{QUESTION} WHERE q.teacher_id = $1 ORDER BY CASE q.status WHEN 'open' THEN 0 WHEN 'answered' THEN 1 ELSE 2 END, \
             q.created_at LIMIT 300"
        ))
        .bind(teacher_id),
    )
    .await
}

/// Questions asked by these students, newest first.
pub async fn of_students(db: &Db, student_ids: &[i64]) -> Result<Vec<Question>, DbError> {
    let q = sql_in(db.dialect(), &format!("{QUESTION} WHERE q.student_id"), student_ids.iter().copied());
    db.fetch_all(q.append(" ORDER BY q.created_at DESC LIMIT 300")).await
}

/// Questions shared with these classes, newest first.
pub async fn shared_in(db: &Db, class_ids: &[i64]) -> Result<Vec<Question>, DbError> {
    let q = sql_in(db.dialect(), &format!("{QUESTION} WHERE q.shared AND q.class_id"), class_ids.iter().copied());
    db.fetch_all(q.append(" ORDER BY q.created_at DESC LIMIT 100")).await
}

pub struct NewQuestion<'a> {
    pub school_path: &'a str,
    pub class_id: i64,
    pub subject: &'a str,
    pub student_id: i64,
    pub teacher_id: i64,
    pub title: &'a str,
}

pub async fn create(tx: &mut Tx, q: &NewQuestion<'_>) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO questions (school_path, class_id, subject, student_id, teacher_id, title, status, shared, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8) RETURNING id")
            .bind(q.school_path)
            .bind(q.class_id)
            .bind(q.subject)
            .bind(q.student_id)
            .bind(q.teacher_id)
            .bind(q.title)
            .bind(false)
            .bind(now),
        )
        .await?;
    Ok(id)
}

pub async fn add_message(tx: &mut Tx, question_id: i64, person_id: i64, body: &str) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO question_messages (question_id, person_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(question_id)
                .bind(person_id)
                .bind(body)
                .bind(kernel::now()),
        )
        .await?;
    Ok(id)
}

pub async fn add_attachment(tx: &mut Tx, message_id: i64, attachment_id: i64, position: i64) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO question_message_attachments (message_id, attachment_id, position) VALUES ($1, $2, $3)")
            .bind(message_id)
            .bind(attachment_id)
            .bind(position),
    )
    .await?;
    Ok(())
}

/// Moves the question to `status`; the first answer also stamps `answered_at`.
pub async fn set_status(tx: &mut Tx, id: i64, status: &str) -> Result<(), DbError> {
    let now = kernel::now();
    tx.execute(
        sql("UPDATE questions SET status = $2, updated_at = $3, \
             answered_at = CASE WHEN $2 = 'answered' AND answered_at IS NULL THEN $3 ELSE answered_at END, \
             solved_at = CASE WHEN $2 = 'solved' THEN $3 ELSE NULL END WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(now),
    )
    .await?;
    Ok(())
}

pub async fn set_shared(db: &Db, id: i64, shared: bool) -> Result<(), DbError> {
    db.execute(sql("UPDATE questions SET shared = $2, updated_at = $3 WHERE id = $1").bind(id).bind(shared).bind(kernel::now()))
        .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn messages(db: &Db, question_id: i64) -> Result<Vec<Message>, DbError> {
    db.fetch_all(
        sql("SELECT m.id, m.person_id, p.name AS person_name, m.body, m.created_at FROM question_messages m \
             JOIN people p ON p.id = m.person_id WHERE m.question_id = $1 ORDER BY m.id")
        .bind(question_id),
    )
    .await
}

/// (message, attachment) pairs of a question, in order.
pub async fn attachment_links(db: &Db, question_id: i64) -> Result<Vec<(i64, i64)>, DbError> {
    db.fetch_all(
        sql("SELECT a.message_id, a.attachment_id FROM question_message_attachments a \
             JOIN question_messages m ON m.id = a.message_id WHERE m.question_id = $1 ORDER BY a.message_id, a.position")
        .bind(question_id),
    )
    .await
}
