//! Moderation: muting, removing and reporting from a conversation's pages, the administrators'
//! report queue, and the JSON API.

use super::store::{self, Report};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::web::{ApiJson, Checks, CsrfForm, EmptyForm, PageContext, RequestMeta, SwitchForm, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/messages/{id}/mute", post(mute_group_submit))
        .route("/messages/{id}/members/{person}/mute", post(mute_member_submit))
        .route("/messages/{id}/remove/{message}", post(remove_submit))
        .route("/messages/{id}/report/{message}", post(report_submit))
        .route("/reports", get(reports_page))
        .route("/reports/{id}", post(handle_submit))
        .route("/api/v1/conversations/{id}/mute", post(api_mute_group))
        .route("/api/v1/conversations/{id}/members/{person}/mute", post(api_mute_member))
        .route("/api/v1/conversations/{id}/messages/{message}/remove", post(api_remove))
        .route("/api/v1/conversations/{id}/messages/{message}/report", post(api_report))
        .route("/api/v1/reports", get(api_reports))
        .route("/api/v1/reports/{id}", post(api_handle))
}

async fn mute_group_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> Result<Response, AppError> {
    super::mute_group(&app, &actor, &meta, id, form.on).await?;
    Ok(Redirect::to(&format!("/messages/{id}/members")).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MuteInput {
    /// Minutes to mute for; 0 lifts the mute.
    pub minutes: i64,
}

impl Validate for MuteInput {
    fn validate(&self, _: &mut Checks) {}
}

async fn mute_member_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path((id, person)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<MuteInput>,
) -> Result<Response, AppError> {
    super::mute_member(&app, &actor, &meta, id, person, form.minutes).await?;
    Ok(Redirect::to(&format!("/messages/{id}/members")).into_response())
}

async fn remove_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path((id, message)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    super::remove(&app, &actor, &meta, id, message).await?;
    Ok(Redirect::to(&format!("/messages/{id}#m{message}")).into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ReportInput {
    #[serde(default)]
    pub reason: String,
}

impl Validate for ReportInput {
    fn validate(&self, c: &mut Checks) {
        c.max_chars("reason", &self.reason, super::MAX_REASON_CHARS);
    }
}

async fn report_submit(
    State(app): State<App>,
    actor: Actor,
    Path((id, message)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<ReportInput>,
) -> Result<Response, AppError> {
    super::report(&app, &actor, id, message, &form.reason).await?;
    Ok(Redirect::to(&format!("/messages/{id}?reported={message}#m{message}")).into_response())
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage<'a> {
    ctx: &'a PageContext,
    reports: Vec<Report>,
}

async fn reports_of(app: &App, actor: &Actor) -> Result<Vec<Report>, AppError> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    Ok(store::under(&app.db, &actor.unit_path, 200).await?)
}

async fn reports_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    let reports = reports_of(&app, &actor).await?;
    Ok(ctx.render(&ctx.t("reports-title"), &ReportsPage { ctx: &ctx, reports })?.into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HandleInput {
    /// `remove` the message, or `dismiss` the report.
    pub action: String,
}

impl Validate for HandleInput {
    fn validate(&self, c: &mut Checks) {
        if !["remove", "dismiss"].contains(&self.action.as_str()) {
            c.add("action", "error-field-malformed");
        }
    }
}

async fn handle_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<HandleInput>,
) -> Result<Response, AppError> {
    kernel::web::check(&form)?;
    super::handle(&app, &actor, &meta, id, form.action == "remove").await?;
    Ok(Redirect::to("/reports").into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MuteGroupInput {
    /// true mutes the group, false lifts it.
    pub on: bool,
}

impl Validate for MuteGroupInput {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/mute", tag = "messaging", summary = "Mute or unmute a whole group (its owners and the school's administrators); only owners write while it is muted", request_body = MuteGroupInput, params(("id" = i64, Path, description = "conversation id")), responses((status = 200, description = "done"), (status = 403, description = "not an owner")))]
pub(crate) async fn api_mute_group(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<MuteGroupInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::mute_group(&app, &actor, &meta, id, form.on).await?;
    Ok(Json(json!({ "id": id, "muted": form.on })))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/members/{person}/mute", tag = "messaging", summary = "Mute a member for some minutes (0 lifts it)", request_body = MuteInput, params(("id" = i64, Path, description = "conversation id"), ("person" = i64, Path, description = "member")), responses((status = 200, description = "done"), (status = 403, description = "not an owner")))]
pub(crate) async fn api_mute_member(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path((id, person)): Path<(i64, i64)>,
    ApiJson(input): ApiJson<MuteInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::mute_member(&app, &actor, &meta, id, person, input.minutes).await?;
    Ok(Json(json!({ "id": id, "person_id": person, "minutes": input.minutes })))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message}/remove", tag = "messaging", summary = "Remove a message (owners and the school's administrators); audited", params(("id" = i64, Path, description = "conversation id"), ("message" = i64, Path, description = "message id")), responses((status = 200, description = "removed"), (status = 403, description = "not an owner")))]
pub(crate) async fn api_remove(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::remove(&app, &actor, &meta, id, message).await?;
    Ok(Json(json!({ "id": message, "state": "removed" })))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message}/report", tag = "messaging", summary = "Report a message to the school's administrators", request_body = ReportInput, params(("id" = i64, Path, description = "conversation id"), ("message" = i64, Path, description = "message id")), responses((status = 201, description = "reported"), (status = 404, description = "not a conversation of yours")))]
pub(crate) async fn api_report(
    State(app): State<App>,
    actor: Actor,
    Path((id, message)): Path<(i64, i64)>,
    ApiJson(input): ApiJson<ReportInput>,
) -> Result<Response, AppError> {
    let report = super::report(&app, &actor, id, message, &input.reason).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({ "id": report }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/reports", tag = "messaging", summary = "Reports of messages in your school or region, open ones first (administrators)", responses((status = 200, description = "reports"), (status = 403, description = "not an administrator")))]
pub(crate) async fn api_reports(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "reports": reports_of(&app, &actor).await? })))
}

#[utoipa::path(post, path = "/api/v1/reports/{id}", tag = "messaging", summary = "Close a report: remove the message, or dismiss the report; audited", request_body = HandleInput, params(("id" = i64, Path, description = "report id")), responses((status = 200, description = "closed"), (status = 404, description = "not a report of yours to handle")))]
pub(crate) async fn api_handle(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<HandleInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::handle(&app, &actor, &meta, id, input.action == "remove").await?;
    Ok(Json(json!({ "id": id, "action": input.action })))
}
