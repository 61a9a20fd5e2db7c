//! Notice pages (received and sent lists with a compose form; one notice, with its receipts for the
//! sender and the administrators over them) and the JSON API.

use super::store::{self, Notice, Receipt, Received, Sent, Summary};
use super::{NoticeInput, Scope, Standing};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::error::FieldError;
use kernel::web::{ApiJson, Checks, CsrfForm, EmptyForm, PageContext, Validate};
use kernel::{App, AppError};
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/notices", get(list_page).post(send_submit))
        .route("/notices/{id}", get(notice_page))
        .route("/notices/{id}/confirm", post(confirm_submit))
        .route("/notices/{id}/remind", post(remind_submit))
        .route("/api/v1/notices", get(api_list).post(api_send))
        .route("/api/v1/notices/scopes", get(api_scopes))
        .route("/api/v1/notices/{id}", get(api_get))
        .route("/api/v1/notices/{id}/confirm", post(api_confirm))
        .route("/api/v1/notices/{id}/summary", get(api_summary))
        .route("/api/v1/notices/{id}/remind", post(api_remind))
}

/// Names not yet done shown under a notice; the counts cover everyone.
const OUTSTANDING_SHOWN: i64 = 500;

struct Lists {
    received: Vec<Received>,
    sent: Vec<Sent>,
}

async fn lists(app: &App, actor: &Actor) -> Result<Lists, AppError> {
    super::catch_up(app, actor).await?;
    let received = store::received(&app.db, actor.person_id, 200).await?;
    let sent = if actor.role.is_admin() {
        store::issued_under(&app.db, &actor.unit_path, 200).await?
    } else {
        store::sent_by(&app.db, actor.person_id, 200).await?
    };
    Ok(Lists { received, sent })
}

#[derive(Template)]
#[template(path = "notices.html")]
struct ListPage<'a> {
    ctx: &'a PageContext,
    lists: Lists,
    scopes: Vec<(Scope, String)>,
    input: NoticeInput,
    errors: Vec<FieldError>,
}

impl ListPage<'_> {
    fn audience(&self, n: &Sent) -> String {
        self.ctx.t(&format!("notices-to-{}", n.audience))
    }
}

async fn render_list(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    input: NoticeInput,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let scopes = super::scopes(app, actor, ctx.locale).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ListPage { ctx, lists: lists(app, actor).await?, scopes, input, errors };
    Ok((status, ctx.render(&ctx.t("notices-title"), &page)?).into_response())
}

async fn list_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    render_list(&app, &ctx, &actor, NoticeInput::default(), Vec::new()).await
}

#[derive(Debug, Default, serde::Deserialize)]
struct NoticeForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    needs_confirm: Option<String>,
}

async fn send_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    CsrfForm(form): CsrfForm<NoticeForm>,
) -> Result<Response, AppError> {
    let input =
        NoticeInput { scope: form.scope, title: form.title, body: form.body, needs_confirm: form.needs_confirm.is_some() };
    match super::send(&app, &actor, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/notices/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => render_list(&app, &ctx, &actor, input, errors).await,
        Err(e) => Err(e),
    }
}

struct Detail {
    notice: Notice,
    standing: Standing,
    mine: Option<Receipt>,
    summary: Summary,
    outstanding: Vec<Receipt>,
}

async fn detail(app: &App, actor: &Actor, id: i64) -> Result<Detail, AppError> {
    let notice = super::acknowledge(app, actor, id, false).await?;
    let (_, standing) = super::visible(app, actor, id).await?;
    let mine = store::receipt(&app.db, id, actor.person_id).await?;
    let (summary, outstanding) = if standing.sees_receipts() {
        (store::summary(&app.db, id).await?, store::outstanding(&app.db, id, notice.needs_confirm, OUTSTANDING_SHOWN).await?)
    } else {
        (Summary::default(), Vec::new())
    };
    Ok(Detail { notice, standing, mine, summary, outstanding })
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage<'a> {
    ctx: &'a PageContext,
    d: Detail,
    reminded: Option<u64>,
}

impl NoticePage<'_> {
    fn sees_receipts(&self) -> bool {
        self.d.standing.sees_receipts()
    }

    fn done(&self) -> i64 {
        if self.d.notice.needs_confirm { self.d.summary.confirmed } else { self.d.summary.read }
    }

    /// The done share of the bar, in percent.
    fn percent(&self) -> i64 {
        (self.done() * 100).checked_div(self.d.summary.recipients).unwrap_or(0)
    }

    fn may_confirm(&self) -> bool {
        self.d.notice.needs_confirm && self.d.mine.as_ref().is_some_and(|r| r.confirmed_at.is_none())
    }
}

async fn notice_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    let d = detail(&app, &actor, id).await?;
    let title = d.notice.title.clone();
    Ok(ctx.render(&title, &NoticePage { ctx: &ctx, d, reminded: None })?.into_response())
}

async fn confirm_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    super::acknowledge(&app, &actor, id, true).await?;
    Ok(Redirect::to(&format!("/notices/{id}")).into_response())
}

async fn remind_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    let n = super::remind(&app, &actor, id).await?;
    let d = detail(&app, &actor, id).await?;
    let title = d.notice.title.clone();
    Ok(ctx.render(&title, &NoticePage { ctx: &ctx, d, reminded: Some(n) })?.into_response())
}

#[utoipa::path(get, path = "/api/v1/notices", tag = "messaging", summary = "Notices you received (with your read and confirm times) and those you sent or oversee (with counts)", responses((status = 200, description = "notices")))]
pub(crate) async fn api_list(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    let l = lists(&app, &actor).await?;
    Ok(Json(json!({ "received": l.received, "sent": l.sent })))
}

impl Validate for NoticeInput {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/notices", tag = "messaging", summary = "Send a notice to one of your scopes (GET /api/v1/notices/scopes lists them): class:<id>:parents|students for teachers, unit:parents|students|teachers for administrators", request_body = NoticeInput, responses((status = 201, description = "the notice's id and recipients"), (status = 422, description = "not your scope, empty audience, or bad text")))]
pub(crate) async fn api_send(
    State(app): State<App>,
    actor: Actor,
    ApiJson(input): ApiJson<NoticeInput>,
) -> Result<Response, AppError> {
    let id = super::send(&app, &actor, &input).await?;
    let summary = store::summary(&app.db, id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "recipients": summary.recipients }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "messaging", summary = "A notice; for a recipient, reading it here counts as reading it", params(("id" = i64, Path, description = "notice id")), responses((status = 200, description = "the notice"), (status = 404, description = "not a notice of yours")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let d = detail(&app, &actor, id).await?;
    Ok(Json(json!({ "notice": d.notice, "receipt": d.mine })))
}

#[utoipa::path(post, path = "/api/v1/notices/{id}/confirm", tag = "messaging", summary = "Confirm a notice that asks for it (回执)", params(("id" = i64, Path, description = "notice id")), responses((status = 200, description = "confirmed"), (status = 422, description = "it asks for no confirmation")))]
pub(crate) async fn api_confirm(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::acknowledge(&app, &actor, id, true).await?;
    Ok(Json(json!({ "id": id, "confirmed": true })))
}

#[utoipa::path(get, path = "/api/v1/notices/{id}/summary", tag = "messaging", summary = "Read-receipt summary for the sender and the administrators over them: counts, and who has not read (or confirmed) yet", params(("id" = i64, Path, description = "notice id")), responses((status = 200, description = "summary", body = Summary), (status = 403, description = "a recipient"), (status = 404, description = "not a notice of yours")))]
pub(crate) async fn api_summary(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (n, standing) = super::visible(&app, &actor, id).await?;
    if !standing.sees_receipts() {
        return Err(AppError::Forbidden);
    }
    let summary = store::summary(&app.db, id).await?;
    let outstanding: Vec<_> = store::outstanding(&app.db, id, n.needs_confirm, OUTSTANDING_SHOWN)
        .await?
        .into_iter()
        .map(|r| json!({ "person_id": r.person_id, "name": r.name, "read_at": r.read_at, "reminded_at": r.reminded_at }))
        .collect();
    Ok(Json(json!({ "summary": summary, "needs_confirm": n.needs_confirm, "outstanding": outstanding })))
}

#[utoipa::path(post, path = "/api/v1/notices/{id}/remind", tag = "messaging", summary = "Remind everyone who has not read (or confirmed) it", params(("id" = i64, Path, description = "notice id")), responses((status = 200, description = "how many were reminded"), (status = 403, description = "a recipient")))]
pub(crate) async fn api_remind(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "reminded": super::remind(&app, &actor, id).await? })))
}

#[utoipa::path(get, path = "/api/v1/notices/scopes", tag = "messaging", summary = "The scopes you may send notices to, with their labels", responses((status = 200, description = "scopes")))]
pub(crate) async fn api_scopes(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
) -> Result<Json<serde_json::Value>, AppError> {
    let scopes: Vec<_> = super::scopes(&app, &actor, ctx.locale)
        .await?
        .into_iter()
        .map(|(s, label)| json!({ "scope": s.value(), "label": label }))
        .collect();
    Ok(Json(json!({ "scopes": scopes })))
}
