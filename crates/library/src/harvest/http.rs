//! The harvest page (sources, their last run, add one, run one now) and the same through the API.

use super::SourceInput;
use super::store::Source;
use crate::vocab;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::error::FieldError;
use kernel::web::{ApiJson, CsrfForm, EmptyForm, PageContext, RequestMeta};
use kernel::{App, AppError};
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/library/harvest", get(page).post(add_submit))
        .route("/library/harvest/{id}/run", post(run_submit))
        .route("/library/harvest/{id}/delete", post(delete_submit))
        .route("/api/v1/harvest/sources", get(api_list).post(api_add))
        .route("/api/v1/harvest/sources/{id}/run", post(api_run))
}

type Options = Vec<(&'static str, &'static str)>;

#[derive(Template)]
#[template(path = "harvest.html")]
struct HarvestPage<'a> {
    ctx: &'a PageContext,
    sources: Vec<Source>,
    input: SourceInput,
    errors: Vec<FieldError>,
    ran: Option<super::Summary>,
    stages: Options,
    subjects: Options,
    types: Options,
    licences: Options,
}

impl HarvestPage<'_> {
    fn interval_value(&self) -> String {
        self.input.interval_hours.map(|h| h.to_string()).unwrap_or_default()
    }
}

async fn render(
    app: &App,
    ctx: &PageContext,
    input: SourceInput,
    errors: Vec<FieldError>,
    ran: Option<super::Summary>,
) -> Result<Response, AppError> {
    let pairs = |list: &'static [vocab::Term]| list.iter().map(|t| (t.code, t.name(ctx.locale))).collect();
    let page = HarvestPage {
        ctx,
        sources: super::store::all(&app.db).await?,
        input,
        ran,
        stages: ["primary", "junior", "senior", "vocational", "preschool"]
            .into_iter()
            .map(|s| (s, directory::codes::stage_name(s, ctx.locale)))
            .collect(),
        subjects: pairs(vocab::SUBJECTS),
        types: pairs(vocab::RESOURCE_TYPES),
        licences: pairs(vocab::LICENCES),
        errors,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, ctx.render(&ctx.t("library-harvest-title"), &page)?).into_response())
}

fn defaults() -> SourceInput {
    SourceInput { resource_type: "other".into(), licence: "platform".into(), interval_hours: Some(24), ..Default::default() }
}

async fn page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    if !super::may_manage(&actor) {
        return Err(AppError::Forbidden);
    }
    render(&app, &ctx, defaults(), vec![], None).await
}

async fn add_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    CsrfForm(input): CsrfForm<SourceInput>,
) -> Result<Response, AppError> {
    match super::add(&app, &actor, &meta, &input).await {
        Ok(_) => Ok(Redirect::to("/library/harvest").into_response()),
        Err(AppError::Invalid(errors)) => render(&app, &ctx, input, errors, None).await,
        Err(e) => Err(e),
    }
}

async fn run_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    if !super::may_manage(&actor) {
        return Err(AppError::Forbidden);
    }
    match super::run(&app, id, 0).await {
        Ok(summary) => render(&app, &ctx, defaults(), vec![], summary).await,
        Err(AppError::Invalid(errors)) => render(&app, &ctx, defaults(), errors, None).await,
        Err(e) => Err(e),
    }
}

async fn delete_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    if !super::may_manage(&actor) {
        return Err(AppError::Forbidden);
    }
    super::store::delete(&app.db, id).await?;
    Ok(Redirect::to("/library/harvest").into_response())
}

#[utoipa::path(get, path = "/api/v1/harvest/sources", tag = "library", summary = "The OAI-PMH sources this region harvests, with their last run (administrators of the top unit)", responses((status = 200, description = "sources"), (status = 403, description = "not an administrator of the top unit")))]
pub(crate) async fn api_list(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    if !super::may_manage(&actor) {
        return Err(AppError::Forbidden);
    }
    Ok(Json(json!({ "sources": super::store::all(&app.db).await? })))
}

#[utoipa::path(post, path = "/api/v1/harvest/sources", tag = "library", summary = "Harvest another platform's OAI-PMH repository on a schedule", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "name, base_url, set_spec, and the stage, subject, resource_type and licence used when a record does not say; interval_hours"), responses((status = 201, description = "added: id"), (status = 403, description = "not an administrator of the top unit"), (status = 422, description = "a bad value: details name it")))]
pub(crate) async fn api_add(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(input): ApiJson<SourceInput>,
) -> Result<Response, AppError> {
    let id = super::add(&app, &actor, &meta, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[utoipa::path(post, path = "/api/v1/harvest/sources/{id}/run", tag = "library", summary = "Harvest a source now: new records go to the review queue, deleted ones are taken down", params(("id" = i64, Path, description = "source id")), responses((status = 200, description = "what the run did"), (status = 403, description = "not an administrator of the top unit"), (status = 409, description = "another run of it is under way"), (status = 422, description = "the source failed: the reason")))]
pub(crate) async fn api_run(State(app): State<App>, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !super::may_manage(&actor) {
        return Err(AppError::Forbidden);
    }
    match super::run(&app, id, 0).await? {
        Some(summary) => Ok(Json(json!(summary)).into_response()),
        None => Ok((StatusCode::CONFLICT, Json(json!({ "message": "a run of this source is under way" }))).into_response()),
    }
}
