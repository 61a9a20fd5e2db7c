//! Homework pages (the teacher's list and assignment form, the student's to-do list and hand-in,
//! marking one student after another, a student's term) and the JSON API beside them.

use super::stats::{HomeworkStats, StudentTerm};
use super::store::{self, Assigned as AssignedRow, Homework, Summary, Work};
use super::{Assigned, HandInInput, HomeworkInput, MarkInput, Standing};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use directory::classes::model::Class;
use kernel::auth::{Actor, Role};
use kernel::error::FieldError;
use kernel::upload::FilesForm;
use kernel::web::{ApiJson, CsrfForm, EmptyForm, PageContext, SwitchForm};
use kernel::{App, AppError};
use library::attachments::{self, Attachment};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/homework", get(list_page))
        .route("/homework/new", get(new_page).post(new_submit).layer(DefaultBodyLimit::disable()))
        .route("/homework/{id}", get(homework_page))
        .route("/homework/{id}/hand-in", post(hand_in_submit).layer(DefaultBodyLimit::disable()))
        .route("/homework/{id}/mark/{student}", get(marking_page).post(mark_submit))
        .route("/homework/{id}/remind", post(remind_submit))
        .route("/homework/{id}/late", post(late_submit))
        .route("/homework/{id}/files/{attachment}", get(homework_file))
        .route("/homework/{id}/work/{student}/files/{attachment}", get(work_file))
        .route("/homework/students/{id}", get(student_page))
        .route("/api/v1/homework", get(api_list).post(api_assign))
        .route("/api/v1/homework/{id}", get(api_get))
        .route("/api/v1/homework/{id}/submissions", post(api_hand_in).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/homework/{id}/submissions/{student}/mark", put(api_mark))
        .route("/api/v1/homework/{id}/reminders", post(api_remind))
}

/// Homework of the last 120 days shows in lists and a student's term.
const LIST_DAYS: i64 = 120;

fn offset(app: &App) -> time::UtcOffset {
    time::UtcOffset::from_whole_seconds(app.config.display_utc_offset_minutes * 60).unwrap_or(time::UtcOffset::UTC)
}

fn since() -> i64 {
    kernel::now() - LIST_DAYS * 86_400
}

fn subject_name(ctx: &PageContext, code: &str) -> String {
    library::vocab::name(library::vocab::SUBJECTS, code, ctx.locale).to_string()
}

#[derive(Template)]
#[template(path = "homework_list.html")]
struct ListPage<'a> {
    ctx: &'a PageContext,
    teacher: bool,
    mine: Vec<Summary>,
    /// A student's or parent's: (child id, name, homework).
    followed: Vec<(i64, String, Vec<AssignedRow>)>,
    now: i64,
}

impl ListPage<'_> {
    fn subject(&self, code: &str) -> String {
        subject_name(self.ctx, code)
    }

    /// Whose list this is needs saying when a parent follows children.
    fn named(&self, student: &i64) -> bool {
        self.followed.len() > 1 || self.ctx.actor.as_ref().is_some_and(|a| a.person_id != *student)
    }

    fn state(&self, h: &AssignedRow) -> &'static str {
        h.state(self.now)
    }

    fn state_label(&self, h: &AssignedRow) -> String {
        assigned_label(self.ctx, h, self.now)
    }

    fn mark(&self, h: &AssignedRow) -> String {
        mark_text(h.score, h.grade.as_deref())
    }
}

async fn followed(app: &App, actor: &Actor) -> Result<Vec<(i64, String, Vec<AssignedRow>)>, AppError> {
    let mut out = Vec::new();
    for student in super::followed_students(actor) {
        let name = directory::people::store::get(&app.db, student).await?.map(|p| p.name).unwrap_or_default();
        out.push((student, name, store::of_students(&app.db, &[student], since()).await?));
    }
    Ok(out)
}

async fn list_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    let teacher = matches!(actor.role, Role::Teacher | Role::HeadTeacher);
    let mine = if teacher { store::of_teacher(&app.db, actor.person_id, 200).await? } else { Vec::new() };
    let page = ListPage { ctx: &ctx, teacher, mine, followed: followed(&app, &actor).await?, now: kernel::now() };
    Ok(ctx.render(&ctx.t("homework-title"), &page)?.into_response())
}

/// A class on the assignment form, with its students for assigning to some of them.
struct ClassChoice {
    class: Class,
    name: String,
    students: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "homework_form.html")]
struct FormPage<'a> {
    ctx: &'a PageContext,
    classes: Vec<ClassChoice>,
    input: HomeworkInput,
    errors: Vec<FieldError>,
    over: Vec<crate::load::Overload>,
    max_files: usize,
    max_mb: u64,
}

impl FormPage<'_> {
    fn subjects(&self) -> Vec<(&'static str, &'static str)> {
        library::vocab::SUBJECTS.iter().map(|t| (t.code, t.name(self.ctx.locale))).collect()
    }

    fn class_chosen(&self, id: &i64) -> bool {
        self.input.class_ids.contains(id)
    }

    fn student_chosen(&self, id: &i64) -> bool {
        self.input.student_ids.contains(id)
    }

    fn resources_text(&self) -> String {
        self.input.resource_ids.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(" ")
    }
}

async fn form_page(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    input: HomeworkInput,
    errors: Vec<FieldError>,
    over: Vec<crate::load::Overload>,
) -> Result<Response, AppError> {
    let year = directory::calendar::store::school_year(&app.db, kernel::today(app.config.display_utc_offset_minutes)).await?;
    let mut classes = Vec::new();
    for c in super::teaching_classes(app, actor).await? {
        let students = super::students_of(app, c.id).await?;
        let name = c.display_name(year, ctx.locale);
        classes.push(ClassChoice { class: c, name, students });
    }
    let status = if errors.is_empty() && over.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = FormPage {
        ctx,
        classes,
        input,
        errors,
        over,
        max_files: app.config.classroom.max_attachments,
        max_mb: app.config.classroom.max_attachment_mb,
    };
    Ok((status, ctx.render(&ctx.t("homework-new-title"), &page)?).into_response())
}

/// The teacher's own subject in a class, from their teaching assignment, as the form's default.
async fn default_subject(app: &App, actor: &Actor) -> Result<String, AppError> {
    let assignments = directory::people::store::assignments(&app.db, actor.person_id).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    Ok(assignments
        .iter()
        .filter(|a| a.is_current(today))
        .find_map(|a| a.subject.as_deref().and_then(super::subject_code))
        .unwrap_or_default()
        .to_string())
}

#[derive(Deserialize)]
struct NewQuery {
    #[serde(default)]
    resource: Option<i64>,
}

async fn new_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    axum::extract::Query(q): axum::extract::Query<NewQuery>,
) -> Result<Response, AppError> {
    if !matches!(actor.role, Role::Teacher | Role::HeadTeacher) {
        return Err(AppError::Forbidden);
    }
    let tomorrow = kernel::today(app.config.display_utc_offset_minutes) + time::Duration::days(1);
    let input = HomeworkInput {
        subject: default_subject(&app, &actor).await?,
        due: format!("{tomorrow}T08:00"),
        estimated_minutes: 20,
        hand_in: "online".into(),
        class_ids: if actor.class_ids.len() == 1 { actor.class_ids.clone() } else { Vec::new() },
        resource_ids: q.resource.into_iter().collect(),
        ..Default::default()
    };
    form_page(&app, &ctx, &actor, input, Vec::new(), Vec::new()).await
}

/// The assignment form's fields as an input.
fn input_of(form: &FilesForm) -> Result<HomeworkInput, AppError> {
    let resource_ids = form
        .get("resource_ids")
        .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_start_matches('#').parse::<i64>().map_err(|_| AppError::invalid("resource_ids", "error-field-malformed")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HomeworkInput {
        title: form.get("title").to_string(),
        instructions: form.get("instructions").to_string(),
        subject: form.get("subject").to_string(),
        class_ids: form.ids("class_ids")?,
        student_ids: form.ids("student_ids")?,
        due: form.get("due").to_string(),
        estimated_minutes: form
            .get("estimated_minutes")
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("estimated_minutes", "classroom-error-minutes"))?,
        hand_in: form.get("hand_in").to_string(),
        late_allowed: form.checked("late_allowed"),
        resource_ids,
        confirm_load: form.checked("confirm_load"),
    })
}

async fn new_submit(State(app): State<App>, ctx: PageContext, actor: Actor, form: FilesForm) -> Result<Response, AppError> {
    let input = match input_of(&form) {
        Ok(i) => i,
        Err(AppError::Invalid(errors)) => {
            let partial = HomeworkInput {
                title: form.get("title").into(),
                instructions: form.get("instructions").into(),
                ..Default::default()
            };
            return form_page(&app, &ctx, &actor, partial, errors, Vec::new()).await;
        }
        Err(e) => return Err(e),
    };
    let files = attachments::files_of(form, "files");
    match super::assign(&app, &actor, &input, files).await {
        Ok(Assigned::Created(id)) => Ok(Redirect::to(&format!("/homework/{id}")).into_response()),
        Ok(Assigned::OverLimit(over)) => form_page(&app, &ctx, &actor, input, Vec::new(), over).await,
        Err(AppError::Invalid(errors)) => form_page(&app, &ctx, &actor, input, errors, Vec::new()).await,
        Err(e) => Err(e),
    }
}

/// A homework with everything its page shows.
struct Detail {
    homework: Homework,
    standing: Standing,
    class_names: Vec<String>,
    files: Vec<Attachment>,
    resources: Vec<(i64, String)>,
    works: Vec<Work>,
    stats: Option<HomeworkStats>,
    /// Files of each hand-in: (student, files).
    work_files: Vec<(i64, Vec<Attachment>)>,
}

async fn detail(app: &App, actor: &Actor, id: i64, locale: kernel::i18n::Locale) -> Result<Detail, AppError> {
    let (homework, standing) = super::visible(app, actor, id).await?;
    let year = directory::calendar::store::school_year(&app.db, homework.due_on).await?;
    let mut class_names = Vec::new();
    for c in store::class_ids(&app.db, id).await? {
        if let Some(class) = directory::classes::store::get(&app.db, c).await? {
            class_names.push(class.display_name(year, locale));
        }
    }
    let files = attachments::many(&app.db, &store::attachment_ids(&app.db, id).await?).await?;
    let mut resources = Vec::new();
    for r in store::resource_ids(&app.db, id).await? {
        // A resource since taken down, or one this reader may not see, is left out.
        if let Ok((res, _)) = library::resources::visible(app, actor, r).await
            && res.status == "approved"
        {
            resources.push((res.id, res.title));
        }
    }
    let works = match standing {
        Standing::Teacher | Standing::Staff => store::works(&app.db, id).await?,
        Standing::Student(s) | Standing::Parent(s) => store::work(&app.db, id, s).await?.into_iter().collect(),
    };
    let stats = matches!(standing, Standing::Teacher | Standing::Staff).then(|| HomeworkStats::of(&works));
    let submission_ids: Vec<i64> = works.iter().filter_map(|w| w.submission_id).collect();
    let links = store::submission_attachment_ids(&app.db, &submission_ids).await?;
    let all = attachments::many(&app.db, &links.iter().map(|l| l.1).collect::<Vec<_>>()).await?;
    let work_files = works
        .iter()
        .filter_map(|w| {
            let sid = w.submission_id?;
            let mine: Vec<Attachment> =
                links.iter().filter(|l| l.0 == sid).filter_map(|l| all.iter().find(|a| a.id == l.1).cloned()).collect();
            Some((w.student_id, mine))
        })
        .collect();
    Ok(Detail { homework, standing, class_names, files, resources, works, stats, work_files })
}

#[derive(Template)]
#[template(path = "homework.html")]
struct HomeworkPage<'a> {
    ctx: &'a PageContext,
    d: Detail,
    now: i64,
    idempotency_key: String,
    errors: Vec<FieldError>,
    max_files: usize,
    max_mb: u64,
}

impl HomeworkPage<'_> {
    fn subject(&self) -> String {
        subject_name(self.ctx, &self.d.homework.subject)
    }

    fn is_teacher(&self) -> bool {
        self.d.standing == Standing::Teacher
    }

    fn is_student(&self) -> bool {
        matches!(self.d.standing, Standing::Student(_))
    }

    fn is_parent(&self) -> bool {
        matches!(self.d.standing, Standing::Parent(_))
    }

    fn own(&self) -> Option<&Work> {
        self.d.works.first().filter(|_| matches!(self.d.standing, Standing::Student(_) | Standing::Parent(_)))
    }

    fn files_of(&self, student: &i64) -> Vec<Attachment> {
        self.d.work_files.iter().find(|(s, _)| s == student).map(|(_, f)| f.clone()).unwrap_or_default()
    }

    fn may_hand_in(&self) -> bool {
        self.is_student() && self.open() && self.own().map(|w| w.status.as_deref() != Some("marked")).unwrap_or(true)
    }

    fn score_text(&self, w: &Work) -> String {
        mark_text(w.score, w.grade.as_deref())
    }

    fn open(&self) -> bool {
        self.d.homework.open_at(self.now)
    }

    fn overdue(&self) -> bool {
        self.now > self.d.homework.due_at
    }

    fn state_label(&self, w: &Work) -> String {
        // Paper homework is never handed in here: it waits for a mark.
        if !self.d.homework.online() && w.status.is_none() {
            return self.ctx.t("homework-state-unmarked");
        }
        self.ctx.t(&format!("homework-state-{}", w.state()))
    }

    fn average_text(&self) -> String {
        self.d.stats.as_ref().and_then(|s| s.average).map(format_score).unwrap_or_else(|| "—".into())
    }

    fn first_to_mark(&self) -> Option<i64> {
        let online = self.d.homework.online();
        self.d
            .works
            .iter()
            .find(|w| if online { w.state() == "handed_in" } else { w.status.is_none() })
            .or_else(|| self.d.works.first())
            .map(|w| w.student_id)
    }
}

/// A student's mark as shown: score and evaluation, once handed back.
fn mark_text(score: Option<f64>, grade: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(s) = score {
        parts.push(format_score(s));
    }
    if let Some(g) = grade {
        parts.push(g.to_string());
    }
    parts.join(" · ")
}

fn assigned_label(ctx: &PageContext, h: &AssignedRow, now: i64) -> String {
    ctx.t(&format!("homework-state-{}", h.state(now)))
}

pub(crate) fn format_score(s: f64) -> String {
    if s.fract() == 0.0 { format!("{s:.0}") } else { format!("{s:.1}") }
}

async fn render_homework(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let d = detail(app, actor, id, ctx.locale).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let title = d.homework.title.clone();
    let page = HomeworkPage {
        ctx,
        d,
        now: kernel::now(),
        idempotency_key: kernel::secret::random_token(16),
        errors,
        max_files: app.config.classroom.max_attachments,
        max_mb: app.config.classroom.max_attachment_mb,
    };
    Ok((status, ctx.render(&title, &page)?).into_response())
}

async fn homework_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render_homework(&app, &ctx, &actor, id, Vec::new()).await
}

fn hand_in_input(form: &FilesForm, headers: &HeaderMap) -> HandInInput {
    let header_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("");
    let key = if form.get("idempotency_key").is_empty() { header_key } else { form.get("idempotency_key") };
    HandInInput { answer: form.get("answer").to_string(), idempotency_key: key.to_string() }
}

async fn hand_in_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: FilesForm,
) -> Result<Response, AppError> {
    let input = hand_in_input(&form, &headers);
    match super::hand_in(&app, &actor, id, &input, attachments::files_of(form, "files")).await {
        Ok(_) => Ok(Redirect::to(&format!("/homework/{id}#my-work")).into_response()),
        Err(AppError::Invalid(errors)) => render_homework(&app, &ctx, &actor, id, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "marking.html")]
struct MarkingPage<'a> {
    ctx: &'a PageContext,
    homework: Homework,
    work: Work,
    files: Vec<Attachment>,
    position: usize,
    total: usize,
    previous: Option<i64>,
    next: Option<i64>,
    errors: Vec<FieldError>,
}

impl MarkingPage<'_> {
    fn score_value(&self) -> String {
        self.work.score.map(format_score).unwrap_or_default()
    }

    fn state_label(&self) -> String {
        self.ctx.t(&format!("homework-state-{}", self.work.state()))
    }
}

async fn render_marking(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    student: i64,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let homework = super::owned(app, actor, id).await?;
    let works = store::works(&app.db, id).await?;
    let position = works.iter().position(|w| w.student_id == student).ok_or(AppError::NotFound)?;
    let work = works[position].clone();
    let ids: Vec<i64> = work.submission_id.into_iter().collect();
    let links = store::submission_attachment_ids(&app.db, &ids).await?;
    let files = attachments::many(&app.db, &links.iter().map(|l| l.1).collect::<Vec<_>>()).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let title = format!("{} · {}", work.student_name, homework.title);
    let page = MarkingPage {
        ctx,
        homework,
        files,
        position: position + 1,
        total: works.len(),
        previous: position.checked_sub(1).map(|p| works[p].student_id),
        next: works.get(position + 1).map(|w| w.student_id),
        work,
        errors,
    };
    Ok((status, ctx.render(&title, &page)?).into_response())
}

async fn marking_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path((id, student)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    render_marking(&app, &ctx, &actor, id, student, Vec::new()).await
}

#[derive(Deserialize)]
struct MarkForm {
    #[serde(flatten)]
    mark: MarkInput,
    /// Where to go after saving: the next student to mark, or back to the homework.
    #[serde(default)]
    then: String,
}

async fn mark_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path((id, student)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<MarkForm>,
) -> Result<Response, AppError> {
    match super::mark(&app, &actor, id, student, &form.mark).await {
        Ok(_) => {
            // "Save and next" goes to the next student still waiting for a mark, after this one.
            let works = store::works(&app.db, id).await?;
            let here = works.iter().position(|w| w.student_id == student).unwrap_or(0);
            let waiting = |w: &&Work| matches!(w.state(), "handed_in" | "not_handed_in") && w.student_id != student;
            let next = works.iter().skip(here + 1).find(waiting).or_else(|| works.iter().take(here).find(waiting));
            let online = super::store::get(&app.db, id).await?.map(|h| h.online()).unwrap_or(true);
            match next {
                Some(w) if form.then == "next" && (!online || w.handed_in()) => {
                    Ok(Redirect::to(&format!("/homework/{id}/mark/{}", w.student_id)).into_response())
                }
                _ => Ok(Redirect::to(&format!("/homework/{id}#works")).into_response()),
            }
        }
        Err(AppError::Invalid(errors)) => render_marking(&app, &ctx, &actor, id, student, errors).await,
        Err(e) => Err(e),
    }
}

async fn remind_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    super::remind(&app, &actor, id).await?;
    Ok(Redirect::to(&format!("/homework/{id}?reminded=1#works")).into_response())
}

async fn late_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> Result<Response, AppError> {
    super::set_late_allowed(&app, &actor, id, form.on).await?;
    Ok(Redirect::to(&format!("/homework/{id}")).into_response())
}

#[derive(Deserialize, Default)]
struct FileQuery {
    #[serde(default)]
    download: bool,
}

async fn homework_file(
    State(app): State<App>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, attachment)): Path<(i64, i64)>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
) -> Result<Response, AppError> {
    super::visible(&app, &actor, id).await?;
    if !store::attachment_ids(&app.db, id).await?.contains(&attachment) {
        return Err(AppError::NotFound);
    }
    let a = attachments::many(&app.db, &[attachment]).await?.pop().ok_or(AppError::NotFound)?;
    attachments::send(&app, &a, &headers, q.download).await
}

/// A hand-in's file: for the teacher, the student, and the student's parents.
async fn work_file(
    State(app): State<App>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, student, attachment)): Path<(i64, i64, i64)>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
) -> Result<Response, AppError> {
    match super::visible(&app, &actor, id).await?.1 {
        Standing::Teacher | Standing::Staff => {}
        Standing::Student(s) if s == student => {}
        Standing::Parent(_) if actor.child_ids.contains(&student) => {}
        _ => return Err(AppError::NotFound),
    }
    let work = store::work(&app.db, id, student).await?.ok_or(AppError::NotFound)?;
    let ids: Vec<i64> = work.submission_id.into_iter().collect();
    if !store::submission_attachment_ids(&app.db, &ids).await?.iter().any(|l| l.1 == attachment) {
        return Err(AppError::NotFound);
    }
    let a = attachments::many(&app.db, &[attachment]).await?.pop().ok_or(AppError::NotFound)?;
    attachments::send(&app, &a, &headers, q.download).await
}

#[derive(Template)]
#[template(path = "student_term.html")]
struct StudentPage<'a> {
    ctx: &'a PageContext,
    name: String,
    term_name: String,
    items: Vec<AssignedRow>,
    term: StudentTerm,
    now: i64,
}

impl StudentPage<'_> {
    fn subject(&self, code: &str) -> String {
        subject_name(self.ctx, code)
    }

    fn state_label(&self, h: &AssignedRow) -> String {
        assigned_label(self.ctx, h, self.now)
    }

    fn mark(&self, h: &AssignedRow) -> String {
        mark_text(h.score, h.grade.as_deref())
    }

    fn average(&self) -> String {
        self.term.average.map(format_score).unwrap_or_else(|| "—".into())
    }
}

async fn student_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !super::may_follow(&app, &actor, id).await? {
        return Err(AppError::NotFound);
    }
    let person = directory::people::store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    // The term under way (from the region's calendar), else the last 120 days.
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let term = directory::calendar::store::terms(&app.db).await?.into_iter().find(|t| t.starts_on <= today && today <= t.ends_on);
    let from = match &term {
        Some(t) => t.starts_on.midnight().assume_offset(offset(&app)).unix_timestamp(),
        None => since(),
    };
    let mut items = store::of_students(&app.db, &[id], from).await?;
    // A teacher sees the homework they set; the student, parents and admins see all of it.
    if matches!(actor.role, Role::Teacher | Role::HeadTeacher) {
        let mine: Vec<i64> = store::of_teacher(&app.db, actor.person_id, 10_000).await?.into_iter().map(|s| s.id).collect();
        items.retain(|i| mine.contains(&i.id));
    }
    let now = kernel::now();
    let page = StudentPage {
        ctx: &ctx,
        name: person.name.clone(),
        term_name: term.map(|t| t.name).unwrap_or_default(),
        term: StudentTerm::of(&items, now),
        items,
        now,
    };
    Ok(ctx.render(&ctx.t_args("homework-student-title", &[("name", person.name)]), &page)?.into_response())
}

#[utoipa::path(get, path = "/api/v1/homework", tag = "classroom", summary = "Your homework: a teacher's assignments with hand-in counts; a student's or parent's homework of the last 120 days", responses((status = 200, description = "homework")))]
pub(crate) async fn api_list(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    let assigned = if matches!(actor.role, Role::Teacher | Role::HeadTeacher) {
        store::of_teacher(&app.db, actor.person_id, 200).await?
    } else {
        Vec::new()
    };
    let now = kernel::now();
    let followed: Vec<serde_json::Value> = followed(&app, &actor)
        .await?
        .into_iter()
        .map(|(id, name, items)| {
            let items: Vec<serde_json::Value> = items.iter().map(|i| json!({ "homework": i, "state": i.state(now) })).collect();
            json!({ "student_id": id, "name": name, "homework": items })
        })
        .collect();
    Ok(Json(json!({ "assigned": assigned, "students": followed })))
}

#[utoipa::path(post, path = "/api/v1/homework", tag = "classroom", summary = "Assign homework to classes you teach (or some of their students); 422 names a class whose daily homework would go over its limit unless confirm_load is true", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "title, instructions, subject, class_ids, student_ids, due (local 2026-12-05T18:00), estimated_minutes, hand_in (online|paper), late_allowed, resource_ids, confirm_load"), responses((status = 201, description = "the homework's id"), (status = 403, description = "a class you do not teach"), (status = 422, description = "bad input, or over the daily limit")))]
pub(crate) async fn api_assign(
    State(app): State<App>,
    actor: Actor,
    ApiJson(input): ApiJson<HomeworkInput>,
) -> Result<Response, AppError> {
    match super::assign(&app, &actor, &input, Vec::new()).await? {
        Assigned::Created(id) => Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response()),
        Assigned::OverLimit(over) => Err(AppError::Invalid(
            over.iter()
                .map(|o| {
                    FieldError::new("confirm_load", "classroom-warning-over-limit")
                        .arg("class", &o.class_name)
                        .arg("day", o.day)
                        .arg("minutes", o.minutes)
                        .arg("limit", o.limit)
                })
                .collect(),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/homework/{id}", tag = "classroom", summary = "A homework: for its teacher with every recipient's work and the figures; for a student or parent their own work", params(("id" = i64, Path, description = "homework id")), responses((status = 200, description = "the homework"), (status = 404, description = "no such homework for you")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let d = detail(&app, &actor, id, actor.locale.unwrap_or_default()).await?;
    let works: Vec<serde_json::Value> = d
        .works
        .iter()
        .map(|w| {
            // Students and parents see a mark only once it is handed back.
            let hide = matches!(d.standing, Standing::Student(_) | Standing::Parent(_)) && w.returned_at.is_none();
            json!({
                "student_id": w.student_id, "name": w.student_name, "state": w.state(), "late": w.is_late(),
                "handed_in_at": w.handed_in_at, "answer": w.body, "attempts": w.attempts,
                "score": if hide { None } else { w.score }, "grade": if hide { None } else { w.grade.clone() },
                "feedback": if hide { None } else { w.feedback.clone() },
                "files": d.work_files.iter().find(|(s, _)| *s == w.student_id).map(|(_, f)| f.clone()).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(json!({
        "homework": d.homework, "classes": d.class_names, "files": d.files,
        "resources": d.resources.iter().map(|(id, title)| json!({ "id": id, "title": title })).collect::<Vec<_>>(),
        "works": works, "stats": d.stats,
    })))
}

#[utoipa::path(post, path = "/api/v1/homework/{id}/submissions", tag = "classroom", summary = "Hand in (multipart: answer, files, idempotency_key or an Idempotency-Key header); the same key again changes nothing", params(("id" = i64, Path, description = "homework id")), responses((status = 201, description = "recorded"), (status = 200, description = "replaced an earlier hand-in, or the same request again"), (status = 422, description = "closed, empty, a refused file, or already marked"), (status = 404, description = "no such homework for you")))]
pub(crate) async fn api_hand_in(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: FilesForm,
) -> Result<Response, AppError> {
    let input = hand_in_input(&form, &headers);
    let (submission, outcome) = super::hand_in(&app, &actor, id, &input, attachments::files_of(form, "files")).await?;
    let status = if outcome == super::HandedIn::Recorded { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "id": submission, "outcome": outcome }))).into_response())
}

#[utoipa::path(put, path = "/api/v1/homework/{id}/submissions/{student}/mark", tag = "classroom", summary = "Mark a student's work (score, evaluation, feedback) and hand it back, or ask for it again (resubmit)", params(("id" = i64, Path, description = "homework id"), ("student" = i64, Path, description = "student's person id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "score, evaluation, feedback, resubmit"), responses((status = 200, description = "the work as marked"), (status = 403, description = "not your homework"), (status = 422, description = "bad mark, or nothing handed in")))]
pub(crate) async fn api_mark(
    State(app): State<App>,
    actor: Actor,
    Path((id, student)): Path<(i64, i64)>,
    ApiJson(input): ApiJson<MarkInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    let work = super::mark(&app, &actor, id, student, &input).await?;
    Ok(Json(
        json!({ "student_id": student, "state": work.state(), "score": work.score, "grade": work.grade, "feedback": work.feedback }),
    ))
}

#[utoipa::path(post, path = "/api/v1/homework/{id}/reminders", tag = "classroom", summary = "Remind everybody who has not handed in", params(("id" = i64, Path, description = "homework id")), responses((status = 200, description = "how many were reminded"), (status = 403, description = "not your homework")))]
pub(crate) async fn api_remind(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let reminded = super::remind(&app, &actor, id).await?;
    Ok(Json(json!({ "reminded": reminded })))
}
