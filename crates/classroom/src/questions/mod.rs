//! Q&A tutoring (答疑辅导): a student asks one of their class's teachers a question, with text and
//! images; the teacher answers; the student follows up or marks it solved; the teacher may share a
//! good question and its answers with the whole class. Teachers see how long open questions wait.

pub mod http;
pub mod store;

use crate::homework::subject_code;
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::{App, AppError};
use library::attachments;
use library::attachments::File;
use store::Question;

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BODY_CHARS: usize = 3000;

/// A teacher of a class: (person, name, subject code).
pub async fn teachers_of(app: &App, class_id: i64) -> Result<Vec<(i64, String, String)>, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let members = directory::people::store::class_members(&app.db, class_id, today).await?;
    let mut out: Vec<(i64, String, String)> = Vec::new();
    for (a, p) in members.into_iter().filter(|(a, _)| a.role == "teacher" || a.role == "head_teacher") {
        let subject = a.subject.as_deref().and_then(subject_code).unwrap_or_default().to_string();
        match out.iter_mut().find(|t| t.0 == p.id) {
            Some(t) if t.2.is_empty() => t.2 = subject,
            Some(_) => {}
            None => out.push((p.id, p.name, subject)),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct QuestionInput {
    #[serde(default)]
    pub teacher_id: i64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub text: String,
}

fn check_body(body: &str, files: &[File]) -> Result<(), AppError> {
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(AppError::too_long("text", MAX_BODY_CHARS));
    }
    if body.is_empty() && files.is_empty() {
        return Err(AppError::invalid("text", "error-field-required"));
    }
    Ok(())
}

async fn record_files(
    actor: &Actor,
    tx: &mut kernel::db::Tx,
    message: i64,
    stored: &[attachments::Stored],
) -> Result<(), AppError> {
    for (i, s) in stored.iter().enumerate() {
        let a = attachments::record(tx, actor, s).await?;
        store::add_attachment(tx, message, a, i as i64).await?;
    }
    Ok(())
}

/// A student asks one of their class's teachers.
pub async fn ask(app: &App, actor: &Actor, input: &QuestionInput, files: Vec<File>) -> Result<i64, AppError> {
    if actor.role != Role::Student {
        return Err(AppError::Forbidden);
    }
    let title = input.title.trim();
    if title.is_empty() {
        return Err(AppError::invalid("title", "error-field-required"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(AppError::too_long("title", MAX_TITLE_CHARS));
    }
    let body = input.text.trim();
    check_body(body, &files)?;
    let mut found = None;
    for class in &actor.class_ids {
        if let Some(t) = teachers_of(app, *class).await?.into_iter().find(|t| t.0 == input.teacher_id) {
            found = Some((*class, t));
            break;
        }
    }
    let Some((class_id, (teacher_id, _, subject))) = found else {
        return Err(AppError::invalid("teacher_id", "questions-error-teacher"));
    };
    let stored = attachments::store_all(app, actor, "files", files).await?;
    let mut tx = app.db.begin().await?;
    let id = store::create(
        &mut tx,
        &store::NewQuestion {
            school_path: &actor.unit_path,
            class_id,
            subject: &subject,
            student_id: actor.person_id,
            teacher_id,
            title,
        },
    )
    .await?;
    let message = store::add_message(&mut tx, id, actor.person_id, body).await?;
    record_files(actor, &mut tx, message, &stored).await?;
    kernel::activity::record(&mut tx, actor, "question_ask", id).await?;
    tx.commit().await?;
    Ok(id)
}

/// How the actor stands to a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Asker,
    Teacher,
    /// The asker's parent, a classmate reading a shared question, or staff of the school.
    Reader,
}

pub async fn visible(app: &App, actor: &Actor, id: i64) -> Result<(Question, Standing), AppError> {
    let q = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let standing = match actor.role {
        Role::Student if q.student_id == actor.person_id => Some(Standing::Asker),
        Role::Teacher | Role::HeadTeacher if q.teacher_id == actor.person_id => Some(Standing::Teacher),
        Role::Parent if actor.child_ids.contains(&q.student_id) => Some(Standing::Reader),
        Role::Student | Role::Teacher | Role::HeadTeacher if q.shared && actor.class_ids.contains(&q.class_id) => {
            Some(Standing::Reader)
        }
        Role::RegionAdmin | Role::SchoolAdmin if actor.may(Capability::View, Target::Unit { path: &q.school_path }) => {
            Some(Standing::Reader)
        }
        _ => None,
    };
    standing.map(|s| (q, s)).ok_or(AppError::NotFound)
}

/// The teacher answers, or the asker follows up (which opens the question again).
pub async fn reply(app: &App, actor: &Actor, id: i64, body: &str, files: Vec<File>) -> Result<(), AppError> {
    let (q, standing) = visible(app, actor, id).await?;
    let status = match standing {
        Standing::Teacher => "answered",
        Standing::Asker => "open",
        Standing::Reader => return Err(AppError::Forbidden),
    };
    let body = body.trim();
    check_body(body, &files)?;
    let stored = attachments::store_all(app, actor, "files", files).await?;
    let mut tx = app.db.begin().await?;
    let message = store::add_message(&mut tx, q.id, actor.person_id, body).await?;
    record_files(actor, &mut tx, message, &stored).await?;
    store::set_status(&mut tx, q.id, status).await?;
    let kind = if standing == Standing::Teacher { "question_answer" } else { "question_follow_up" };
    kernel::activity::record(&mut tx, actor, kind, q.id).await?;
    tx.commit().await?;
    Ok(())
}

/// The asker marks the question solved.
pub async fn solve(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    let (q, standing) = visible(app, actor, id).await?;
    if standing != Standing::Asker {
        return Err(AppError::Forbidden);
    }
    if q.answered_at.is_none() {
        return Err(AppError::invalid("status", "questions-error-unanswered"));
    }
    let mut tx = app.db.begin().await?;
    store::set_status(&mut tx, q.id, "solved").await?;
    tx.commit().await?;
    Ok(())
}

/// The teacher shares an answered question with the class, or stops sharing it.
pub async fn share(app: &App, actor: &Actor, id: i64, on: bool) -> Result<(), AppError> {
    let (q, standing) = visible(app, actor, id).await?;
    if standing != Standing::Teacher {
        return Err(AppError::Forbidden);
    }
    if on && q.answered_at.is_none() {
        return Err(AppError::invalid("shared", "questions-error-unanswered"));
    }
    store::set_shared(&app.db, q.id, on).await?;
    Ok(())
}
