//! Homework from assignment to marking: a teacher assigns to classes they teach (or some of their
//! students) with text, files and library resources; students hand in online (text, files, phone
//! photos) or on paper; the teacher marks, asks for resubmissions and reminds; students and their
//! parents see the marks once handed back. Recipients are fixed when homework is assigned, so a
//! student who changes class keeps their past homework and gets the new class's from then on.

pub mod http;
pub mod stats;
pub mod store;

use crate::load;
use directory::classes::model::Class;
use directory::classes::store as classes;
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::error::FieldError;
use kernel::web::{Checks, Validate, check};
use kernel::{App, AppError};
use library::attachments;
use store::{Homework, Work};

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BODY_CHARS: usize = 5000;
pub const MAX_FEEDBACK_CHARS: usize = 1000;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct HomeworkInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub class_ids: Vec<i64>,
    /// Only these students of the classes; empty: everybody in them.
    #[serde(default)]
    pub student_ids: Vec<i64>,
    /// Local time in the region, `2026-12-05T18:00`.
    #[serde(default)]
    pub due: String,
    #[serde(default)]
    pub estimated_minutes: i64,
    /// `online` or `paper`.
    #[serde(default)]
    pub hand_in: String,
    #[serde(default)]
    pub late_allowed: bool,
    #[serde(default)]
    pub resource_ids: Vec<i64>,
    /// Publish although a class goes over its daily homework limit.
    #[serde(default)]
    pub confirm_load: bool,
}

impl Validate for HomeworkInput {
    fn validate(&self, v: &mut Checks) {
        v.required("title", self.title.trim()).max_chars("title", self.title.trim(), MAX_TITLE_CHARS);
        v.max_chars("instructions", self.instructions.trim(), MAX_BODY_CHARS);
        if library::vocab::find(library::vocab::SUBJECTS, &self.subject).is_none() {
            v.add("subject", "error-field-required");
        }
        if self.class_ids.is_empty() {
            v.add("class_ids", "classroom-error-no-class");
        }
        if kernel::parse_local(&self.due, 0).is_none() {
            v.add("due", "error-field-malformed");
        }
        if !(0..=600).contains(&self.estimated_minutes) {
            v.add("estimated_minutes", "classroom-error-minutes");
        }
        if !["online", "paper"].contains(&self.hand_in.as_str()) {
            v.add("hand_in", "error-field-malformed");
        }
    }
}

/// A subject as the code lists name it: teachers' assignments may carry its Chinese name, or a
/// short form of it (生物 for 生物学).
pub fn subject_code(subject: &str) -> Option<&'static str> {
    let s = subject.trim();
    if s.is_empty() {
        return None;
    }
    library::vocab::SUBJECTS.iter().find(|t| t.code == s || t.zh == s || t.zh.starts_with(s)).map(|t| t.code)
}

fn is_teacher(actor: &Actor) -> bool {
    matches!(actor.role, Role::Teacher | Role::HeadTeacher)
}

/// The classes the teacher may assign to: those they teach now.
pub async fn teaching_classes(app: &App, actor: &Actor) -> Result<Vec<Class>, AppError> {
    if !is_teacher(actor) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for id in &actor.class_ids {
        if let Some(c) = classes::get(&app.db, *id).await? {
            out.push(c);
        }
    }
    Ok(out)
}

/// A class's current students (id, name).
pub async fn students_of(app: &App, class_id: i64) -> Result<Vec<(i64, String)>, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let members = directory::people::store::class_members(&app.db, class_id, today).await?;
    Ok(members.into_iter().filter(|(a, _)| a.role == "student").map(|(_, p)| (p.id, p.name)).collect())
}

/// What assigning produced: the homework, or the classes that would go over their daily limit
/// (nothing is written then, unless the teacher confirms).
pub enum Assigned {
    Created(i64),
    OverLimit(Vec<load::Overload>),
}

pub async fn assign(
    app: &App,
    actor: &Actor,
    input: &HomeworkInput,
    files: Vec<attachments::File>,
) -> Result<Assigned, AppError> {
    if !is_teacher(actor) {
        return Err(AppError::Forbidden);
    }
    check(input)?;
    let offset = app.config.display_utc_offset_minutes;
    let (due_at, due_on) =
        kernel::parse_local(&input.due, offset).ok_or_else(|| AppError::invalid("due", "error-field-malformed"))?;
    if due_at <= kernel::now() {
        return Err(AppError::invalid("due", "classroom-error-due-past"));
    }
    let mut targets = Vec::new();
    for id in dedup(&input.class_ids) {
        // Only classes the teacher teaches: a class elsewhere is refused as if it did not exist.
        if !actor.class_ids.contains(&id) {
            return Err(AppError::Forbidden);
        }
        targets.push(classes::get(&app.db, id).await?.ok_or(AppError::NotFound)?);
    }
    let mut recipients = Vec::new();
    for class in &targets {
        for (student, _) in students_of(app, class.id).await? {
            if input.student_ids.is_empty() || input.student_ids.contains(&student) {
                recipients.push((student, class.id));
            }
        }
    }
    if let Some(stray) = input.student_ids.iter().find(|s| !recipients.iter().any(|(r, _)| r == *s)) {
        return Err(AppError::Invalid(vec![
            FieldError::new("student_ids", "classroom-error-student-not-in-class").arg("id", stray),
        ]));
    }
    if recipients.is_empty() {
        return Err(AppError::invalid("class_ids", "classroom-error-no-students"));
    }
    let mut resources = Vec::new();
    for id in dedup(&input.resource_ids) {
        let (r, _) = library::resources::visible(app, actor, id)
            .await
            .map_err(|_| AppError::Invalid(vec![FieldError::new("resource_ids", "classroom-error-resource").arg("id", id)]))?;
        if r.status != "approved" {
            return Err(AppError::Invalid(vec![FieldError::new("resource_ids", "classroom-error-resource").arg("id", id)]));
        }
        resources.push(id);
    }
    // The 双减 guard looks at the classes the homework is for, whole or in part.
    let over = load::check(app, &targets, due_on, input.estimated_minutes, actor.locale.unwrap_or_default()).await?;
    if !over.is_empty() && !input.confirm_load {
        return Ok(Assigned::OverLimit(over));
    }
    let stored = attachments::store_all(app, actor, "files", files).await?;
    let school = directory::org::store::get(&app.db, actor.unit_id).await?.ok_or(AppError::NotFound)?;
    let subject = subject_code(&input.subject).unwrap_or_default();
    let mut tx = app.db.begin().await?;
    let id = store::create(
        &mut tx,
        &store::NewHomework {
            school_id: school.id,
            school_path: &school.path,
            teacher_id: actor.person_id,
            subject,
            title: input.title.trim(),
            body: input.instructions.trim(),
            due_at,
            due_on,
            estimated_minutes: input.estimated_minutes,
            hand_in: &input.hand_in,
            late_allowed: input.late_allowed,
        },
    )
    .await?;
    for class in &targets {
        store::add_class(&mut tx, id, class.id).await?;
    }
    for (student, class) in &recipients {
        store::add_recipient(&mut tx, id, *student, *class).await?;
    }
    for (i, file) in stored.iter().enumerate() {
        let attachment = attachments::record(&mut tx, actor, file).await?;
        store::add_attachment(&mut tx, id, attachment, i as i64).await?;
    }
    for (i, resource) in resources.iter().enumerate() {
        store::add_resource(&mut tx, id, *resource, i as i64).await?;
    }
    kernel::activity::record(&mut tx, actor, "homework_assign", id).await?;
    tx.commit().await?;
    Ok(Assigned::Created(id))
}

fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

/// How the actor stands to a homework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The teacher who assigned it.
    Teacher,
    /// A student it is for.
    Student(i64),
    /// A parent of students it is for (the first of them).
    Parent(i64),
    /// Staff of the school or a bureau above it, reading.
    Staff,
}

/// The homework, if the actor may see it, and how they stand to it.
pub async fn visible(app: &App, actor: &Actor, id: i64) -> Result<(Homework, Standing), AppError> {
    let h = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if h.teacher_id == actor.person_id && is_teacher(actor) {
        return Ok((h, Standing::Teacher));
    }
    match actor.role {
        Role::Student if store::work(&app.db, id, actor.person_id).await?.is_some() => {
            return Ok((h, Standing::Student(actor.person_id)));
        }
        Role::Parent => {
            for child in &actor.child_ids {
                if store::work(&app.db, id, *child).await?.is_some() {
                    return Ok((h, Standing::Parent(*child)));
                }
            }
        }
        Role::RegionAdmin | Role::SchoolAdmin | Role::Researcher | Role::Auditor
            if actor.may(Capability::View, Target::Unit { path: &h.school_path }) =>
        {
            return Ok((h, Standing::Staff));
        }
        _ => {}
    }
    Err(AppError::NotFound)
}

/// The homework, when the actor is the teacher who assigned it.
pub async fn owned(app: &App, actor: &Actor, id: i64) -> Result<Homework, AppError> {
    match visible(app, actor, id).await? {
        (h, Standing::Teacher) => Ok(h),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct HandInInput {
    #[serde(default)]
    pub answer: String,
    /// Sent with the form as it was drawn: the same hand-in sent twice is recorded once.
    #[serde(default)]
    pub idempotency_key: String,
}

/// What a hand-in did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandedIn {
    Recorded,
    Replaced,
    /// The same request again: nothing changed.
    Repeated,
}

pub async fn hand_in(
    app: &App,
    actor: &Actor,
    id: i64,
    input: &HandInInput,
    files: Vec<attachments::File>,
) -> Result<(i64, HandedIn), AppError> {
    // The hot path of a deadline rush: the homework and the student's place in it, two reads.
    let h = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if actor.role != Role::Student {
        return Err(if visible(app, actor, id).await.is_ok() { AppError::Forbidden } else { AppError::NotFound });
    }
    let existing = store::work(&app.db, id, actor.person_id).await?.ok_or(AppError::NotFound)?;
    let key = input.idempotency_key.trim();
    if key.is_empty() || key.len() > 64 {
        return Err(AppError::invalid("idempotency_key", "error-field-malformed"));
    }
    let body = input.answer.trim();
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(AppError::too_long("answer", MAX_BODY_CHARS));
    }
    if body.is_empty() && files.is_empty() {
        return Err(AppError::invalid("answer", "classroom-error-empty-hand-in"));
    }
    let now = kernel::now();
    // The same request again (a double tap at the deadline) answers as the first did, even
    // after the close.
    if let Some(sid) = existing.submission_id
        && existing.idempotency_key.as_deref() == Some(key)
    {
        return Ok((sid, HandedIn::Repeated));
    }
    if !h.online() {
        return Err(AppError::invalid("hand_in", "classroom-error-paper"));
    }
    if !h.open_at(now) {
        return Err(AppError::Invalid(vec![
            FieldError::new("due", "classroom-error-closed").arg("due", local_time(app, h.due_at)),
        ]));
    }
    if existing.status.as_deref() == Some("marked") {
        return Err(AppError::invalid("status", "classroom-error-already-marked"));
    }
    let stored = attachments::store_all(app, actor, "files", files).await?;
    let record =
        store::HandIn { homework_id: id, student_id: actor.person_id, body, late: now > h.due_at, idempotency_key: key, at: now };
    let mut tx = app.db.begin().await?;
    let mut current = store::submission_in(&mut tx, id, actor.person_id).await?;
    if current.is_none() {
        if let Some(new) = store::insert_hand_in(&mut tx, &record).await? {
            return finish_hand_in(tx, actor, id, new, HandedIn::Recorded, &stored).await;
        }
        // A concurrent hand-in committed first; in PostgreSQL's read-committed mode this
        // statement sees it.
        current = store::submission_in(&mut tx, id, actor.person_id).await?;
    }
    let s = current.ok_or_else(|| AppError::internal("hand-in vanished"))?;
    if s.idempotency_key.as_deref() == Some(key) {
        return Ok((s.id, HandedIn::Repeated));
    }
    if s.status == "marked" {
        return Err(AppError::invalid("status", "classroom-error-already-marked"));
    }
    store::replace_hand_in(&mut tx, s.id, &record).await?;
    finish_hand_in(tx, actor, id, s.id, HandedIn::Replaced, &stored).await
}

async fn finish_hand_in(
    mut tx: kernel::db::Tx,
    actor: &Actor,
    id: i64,
    submission: i64,
    outcome: HandedIn,
    stored: &[attachments::Stored],
) -> Result<(i64, HandedIn), AppError> {
    for (i, file) in stored.iter().enumerate() {
        let attachment = attachments::record(&mut tx, actor, file).await?;
        store::add_submission_attachment(&mut tx, submission, attachment, i as i64).await?;
    }
    kernel::activity::record(&mut tx, actor, "homework_hand_in", id).await?;
    tx.commit().await?;
    Ok((submission, outcome))
}

/// An instant as the region reads it.
pub fn local_time(app: &App, unix: i64) -> String {
    let offset = time::UtcOffset::from_whole_seconds(app.config.display_utc_offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            let t = t.to_offset(offset);
            format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month() as u8, t.day(), t.hour(), t.minute())
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MarkInput {
    /// A number from 0 to 1000, or empty.
    #[serde(default)]
    pub score: String,
    /// An evaluation (等级) such as 优, 良, A or B+, or empty.
    #[serde(default)]
    pub evaluation: String,
    #[serde(default)]
    pub feedback: String,
    /// Ask the student to hand in again rather than mark.
    #[serde(default)]
    pub resubmit: bool,
}

impl MarkInput {
    fn score(&self) -> Result<Option<f64>, AppError> {
        let s = self.score.trim();
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<f64>() {
            Ok(v) if (0.0..=1000.0).contains(&v) => Ok(Some((v * 10.0).round() / 10.0)),
            _ => Err(AppError::invalid("score", "classroom-error-score")),
        }
    }
}

impl Validate for MarkInput {
    fn validate(&self, v: &mut Checks) {
        v.max_chars("evaluation", self.evaluation.trim(), 10).max_chars("feedback", self.feedback.trim(), MAX_FEEDBACK_CHARS);
        if self.score().is_err() {
            v.add("score", "classroom-error-score");
        }
        if !self.resubmit && self.score.trim().is_empty() && self.evaluation.trim().is_empty() && self.feedback.trim().is_empty()
        {
            v.add("score", "classroom-error-mark-empty");
        }
    }
}

/// Marks a student's work (or asks for it again) and hands it back.
pub async fn mark(app: &App, actor: &Actor, id: i64, student_id: i64, input: &MarkInput) -> Result<Work, AppError> {
    let h = owned(app, actor, id).await?;
    check(input)?;
    let work = store::work(&app.db, id, student_id).await?.ok_or(AppError::NotFound)?;
    if h.online() && !work.handed_in() {
        return Err(AppError::invalid("score", "classroom-error-not-handed-in"));
    }
    if !h.online() && input.resubmit {
        return Err(AppError::invalid("resubmit", "classroom-error-paper"));
    }
    let grade = Some(input.evaluation.trim()).filter(|g| !g.is_empty());
    let mark = store::Mark { score: input.score()?, grade, feedback: input.feedback.trim(), resubmit: input.resubmit };
    let mut tx = app.db.begin().await?;
    store::mark(&mut tx, id, student_id, actor.person_id, &mark).await?;
    kernel::activity::record(&mut tx, actor, "homework_mark", id).await?;
    tx.commit().await?;
    store::work(&app.db, id, student_id).await?.ok_or(AppError::NotFound)
}

pub async fn set_late_allowed(app: &App, actor: &Actor, id: i64, on: bool) -> Result<(), AppError> {
    owned(app, actor, id).await?;
    store::set_late_allowed(&app.db, id, on).await?;
    Ok(())
}

/// Reminds everybody who has not handed in; returns how many.
pub async fn remind(app: &App, actor: &Actor, id: i64) -> Result<u64, AppError> {
    let h = owned(app, actor, id).await?;
    if !h.online() {
        return Err(AppError::invalid("hand_in", "classroom-error-paper"));
    }
    Ok(store::remind(&app.db, id).await?)
}

/// The students whose homework the actor follows: themselves, or a parent's children.
pub fn followed_students(actor: &Actor) -> Vec<i64> {
    match actor.role {
        Role::Student => vec![actor.person_id],
        Role::Parent => actor.child_ids.clone(),
        _ => Vec::new(),
    }
}

/// Whether the actor may see this student's homework record.
pub async fn may_follow(app: &App, actor: &Actor, student_id: i64) -> Result<bool, AppError> {
    if followed_students(actor).contains(&student_id) {
        return Ok(true);
    }
    if !is_teacher(actor) && !actor.role.is_admin() {
        return Ok(false);
    }
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let assignments = directory::people::store::assignments(&app.db, student_id).await?;
    let current: Vec<_> = assignments.iter().filter(|a| a.is_current(today) && a.role == "student").collect();
    let class_ids: Vec<i64> = current.iter().filter_map(|a| a.class_id).collect();
    let unit_paths: Vec<String> = current.iter().map(|a| a.unit_path.clone()).collect();
    Ok(actor.may(Capability::View, Target::Person { person_id: student_id, paths: &unit_paths, class_ids: &class_ids }))
}
