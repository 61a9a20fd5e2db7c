//! Q&A pages: the list (a teacher's queue with waiting times; a student's questions and those
//! shared with their class; a parent's children's), asking, the thread with its answers, and the
//! JSON API.

use super::store::{self, Message, Question};
use super::{QuestionInput, Standing};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::{Actor, Role};
use kernel::error::FieldError;
use kernel::upload::FilesForm;
use kernel::web::{CsrfForm, EmptyForm, PageContext, SwitchForm};
use kernel::{App, AppError};
use library::attachments::{self, Attachment};
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/questions", get(list_page).post(ask_submit).layer(DefaultBodyLimit::disable()))
        .route("/questions/{id}", get(question_page))
        .route("/questions/{id}/reply", post(reply_submit).layer(DefaultBodyLimit::disable()))
        .route("/questions/{id}/solved", post(solve_submit))
        .route("/questions/{id}/share", post(share_submit))
        .route("/questions/{id}/files/{attachment}", get(question_file))
        .route("/api/v1/questions", get(api_list).post(api_ask).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/questions/{id}", get(api_get))
        .route("/api/v1/questions/{id}/replies", post(api_reply).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/questions/{id}/solved", post(api_solve))
}

/// A waiting time as people say it: 5 分钟, 3 小时, 2 天.
fn waited_text(ctx: &PageContext, seconds: i64) -> String {
    let (key, n) = match seconds.max(0) {
        s if s < 3600 => ("questions-waited-minutes", (s / 60).max(1)),
        s if s < 86_400 => ("questions-waited-hours", s / 3600),
        s => ("questions-waited-days", s / 86_400),
    };
    ctx.t_args(key, &[("n", n.to_string())])
}

struct Lists {
    mine: Vec<Question>,
    shared: Vec<Question>,
}

async fn lists(app: &App, actor: &Actor) -> Result<Lists, AppError> {
    Ok(match actor.role {
        Role::Teacher | Role::HeadTeacher => {
            Lists { mine: store::of_teacher(&app.db, actor.person_id).await?, shared: Vec::new() }
        }
        Role::Student => Lists {
            mine: store::of_students(&app.db, &[actor.person_id]).await?,
            shared: store::shared_in(&app.db, &actor.class_ids)
                .await?
                .into_iter()
                .filter(|q| q.student_id != actor.person_id)
                .collect(),
        },
        Role::Parent => Lists { mine: store::of_students(&app.db, &actor.child_ids).await?, shared: Vec::new() },
        _ => Lists { mine: Vec::new(), shared: Vec::new() },
    })
}

#[derive(Template)]
#[template(path = "questions.html")]
struct ListPage<'a> {
    ctx: &'a PageContext,
    lists: Lists,
    teachers: Vec<(i64, String, String)>,
    input: QuestionInput,
    errors: Vec<FieldError>,
    now: i64,
    teacher: bool,
}

impl ListPage<'_> {
    fn waited(&self, q: &Question) -> String {
        waited_text(self.ctx, q.waited(self.now))
    }

    fn subject(&self, code: &str) -> String {
        library::vocab::name(library::vocab::SUBJECTS, code, self.ctx.locale).to_string()
    }

    fn status(&self, q: &Question) -> String {
        self.ctx.t(&format!("questions-status-{}", q.status))
    }
}

async fn render_list(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    input: QuestionInput,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let mut teachers = Vec::new();
    if actor.role == Role::Student {
        for c in &actor.class_ids {
            for t in super::teachers_of(app, *c).await? {
                if !teachers.iter().any(|x: &(i64, String, String)| x.0 == t.0) {
                    teachers.push(t);
                }
            }
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ListPage {
        ctx,
        lists: lists(app, actor).await?,
        teachers,
        input,
        errors,
        now: kernel::now(),
        teacher: matches!(actor.role, Role::Teacher | Role::HeadTeacher),
    };
    Ok((status, ctx.render(&ctx.t("questions-title"), &page)?).into_response())
}

async fn list_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    render_list(&app, &ctx, &actor, QuestionInput::default(), Vec::new()).await
}

fn input_of(form: &FilesForm) -> QuestionInput {
    QuestionInput {
        teacher_id: form.get("teacher_id").trim().parse().unwrap_or(0),
        title: form.get("title").to_string(),
        text: form.get("text").to_string(),
    }
}

async fn ask_submit(State(app): State<App>, ctx: PageContext, actor: Actor, form: FilesForm) -> Result<Response, AppError> {
    let input = input_of(&form);
    match super::ask(&app, &actor, &input, attachments::files_of(form, "files")).await {
        Ok(id) => Ok(Redirect::to(&format!("/questions/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => render_list(&app, &ctx, &actor, input, errors).await,
        Err(e) => Err(e),
    }
}

struct Thread {
    question: Question,
    standing: Standing,
    messages: Vec<(Message, Vec<Attachment>)>,
}

async fn thread(app: &App, actor: &Actor, id: i64) -> Result<Thread, AppError> {
    let (question, standing) = super::visible(app, actor, id).await?;
    let links = store::attachment_links(&app.db, id).await?;
    let files = attachments::many(&app.db, &links.iter().map(|l| l.1).collect::<Vec<_>>()).await?;
    let messages = store::messages(&app.db, id)
        .await?
        .into_iter()
        .map(|m| {
            let mine = links.iter().filter(|l| l.0 == m.id).filter_map(|l| files.iter().find(|f| f.id == l.1).cloned()).collect();
            (m, mine)
        })
        .collect();
    Ok(Thread { question, standing, messages })
}

#[derive(Template)]
#[template(path = "question.html")]
struct QuestionPage<'a> {
    ctx: &'a PageContext,
    t: Thread,
    errors: Vec<FieldError>,
    now: i64,
}

impl QuestionPage<'_> {
    fn may_reply(&self) -> bool {
        matches!(self.t.standing, Standing::Asker | Standing::Teacher) && self.t.question.status != "solved"
    }

    fn waited(&self) -> String {
        waited_text(self.ctx, self.t.question.waited(self.now))
    }

    fn status(&self) -> String {
        self.ctx.t(&format!("questions-status-{}", self.t.question.status))
    }
}

async fn render_question(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let t = thread(app, actor, id).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let title = t.question.title.clone();
    Ok((status, ctx.render(&title, &QuestionPage { ctx, t, errors, now: kernel::now() })?).into_response())
}

async fn question_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render_question(&app, &ctx, &actor, id, Vec::new()).await
}

async fn reply_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    form: FilesForm,
) -> Result<Response, AppError> {
    let text = form.get("text").to_string();
    match super::reply(&app, &actor, id, &text, attachments::files_of(form, "files")).await {
        Ok(()) => Ok(Redirect::to(&format!("/questions/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => render_question(&app, &ctx, &actor, id, errors).await,
        Err(e) => Err(e),
    }
}

async fn solve_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    super::solve(&app, &actor, id).await?;
    Ok(Redirect::to(&format!("/questions/{id}")).into_response())
}

async fn share_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> Result<Response, AppError> {
    super::share(&app, &actor, id, form.on).await?;
    Ok(Redirect::to(&format!("/questions/{id}")).into_response())
}

async fn question_file(
    State(app): State<App>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    super::visible(&app, &actor, id).await?;
    if !store::attachment_links(&app.db, id).await?.iter().any(|l| l.1 == attachment) {
        return Err(AppError::NotFound);
    }
    let a = attachments::many(&app.db, &[attachment]).await?.pop().ok_or(AppError::NotFound)?;
    attachments::send(&app, &a, &headers, false).await
}

#[utoipa::path(get, path = "/api/v1/questions", tag = "classroom", summary = "Your questions: a teacher's queue (open first, longest waiting first); a student's own and those shared with their class; a parent's children's", responses((status = 200, description = "questions")))]
pub(crate) async fn api_list(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    let l = lists(&app, &actor).await?;
    let now = kernel::now();
    let with_wait = |qs: Vec<Question>| -> Vec<serde_json::Value> {
        qs.into_iter().map(|q| json!({ "waited_seconds": q.waited(now), "question": q })).collect()
    };
    Ok(Json(json!({ "questions": with_wait(l.mine), "shared": with_wait(l.shared) })))
}

#[utoipa::path(post, path = "/api/v1/questions", tag = "classroom", summary = "Ask one of your class's teachers (multipart: teacher_id, title, text, files)", responses((status = 201, description = "the question's id"), (status = 403, description = "not a student"), (status = 422, description = "not your class's teacher, empty, or a refused file")))]
pub(crate) async fn api_ask(State(app): State<App>, actor: Actor, form: FilesForm) -> Result<Response, AppError> {
    let input = input_of(&form);
    let id = super::ask(&app, &actor, &input, attachments::files_of(form, "files")).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/questions/{id}", tag = "classroom", summary = "A question with its answers", params(("id" = i64, Path, description = "question id")), responses((status = 200, description = "the thread"), (status = 404, description = "no such question for you")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let t = thread(&app, &actor, id).await?;
    let messages: Vec<serde_json::Value> = t.messages.iter().map(|(m, f)| json!({ "message": m, "files": f })).collect();
    Ok(Json(json!({ "question": t.question, "messages": messages })))
}

#[utoipa::path(post, path = "/api/v1/questions/{id}/replies", tag = "classroom", summary = "Answer (the teacher) or follow up (the asker); multipart: text, files", params(("id" = i64, Path, description = "question id")), responses((status = 201, description = "added"), (status = 403, description = "neither the asker nor the teacher"), (status = 404, description = "no such question for you")))]
pub(crate) async fn api_reply(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    form: FilesForm,
) -> Result<Response, AppError> {
    let text = form.get("text").to_string();
    super::reply(&app, &actor, id, &text, attachments::files_of(form, "files")).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[utoipa::path(post, path = "/api/v1/questions/{id}/solved", tag = "classroom", summary = "Mark your answered question solved", params(("id" = i64, Path, description = "question id")), responses((status = 200, description = "solved"), (status = 403, description = "not your question")))]
pub(crate) async fn api_solve(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::solve(&app, &actor, id).await?;
    Ok(Json(json!({ "id": id, "status": "solved" })))
}
