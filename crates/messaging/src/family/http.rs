//! The family-education schedule page for school and bureau administrators, and its JSON API.

use super::FamilyInput;
use super::store::{self, Delivery};
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
        .route("/family", get(page).post(schedule_submit))
        .route("/family/{id}/cancel", post(cancel_submit))
        .route("/api/v1/family", get(api_list).post(api_schedule))
}

async fn deliveries(app: &App, actor: &Actor) -> Result<Vec<Delivery>, AppError> {
    if !super::may_schedule(actor) {
        return Err(AppError::Forbidden);
    }
    Ok(store::under(&app.db, &actor.unit_path, 300).await?)
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage<'a> {
    ctx: &'a PageContext,
    deliveries: Vec<Delivery>,
    classes: Vec<(i64, String)>,
    input: FamilyInput,
    errors: Vec<FieldError>,
}

impl FamilyPage<'_> {
    fn percent(&self, d: &Delivery) -> i64 {
        (d.read * 100).checked_div(d.delivered).unwrap_or(0)
    }
}

async fn render(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    input: FamilyInput,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let list = deliveries(app, actor).await?;
    let year = directory::codes::school_year_of(kernel::today(app.config.display_utc_offset_minutes));
    let classes = if actor.role == kernel::auth::Role::SchoolAdmin {
        directory::classes::store::of_school(&app.db, actor.unit_id)
            .await?
            .into_iter()
            .map(|c| (c.id, c.display_name(year, ctx.locale)))
            .collect()
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = FamilyPage { ctx, deliveries: list, classes, input, errors };
    Ok((status, ctx.render(&ctx.t("family-title"), &page)?).into_response())
}

async fn page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    render(&app, &ctx, &actor, FamilyInput { scope: "unit".into(), ..Default::default() }, Vec::new()).await
}

async fn schedule_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    CsrfForm(input): CsrfForm<FamilyInput>,
) -> Result<Response, AppError> {
    match super::schedule(&app, &actor, &input).await {
        Ok(_) => Ok(Redirect::to("/family").into_response()),
        Err(AppError::Invalid(errors)) => render(&app, &ctx, &actor, input, errors).await,
        Err(e) => Err(e),
    }
}

async fn cancel_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    super::cancel(&app, &actor, id).await?;
    Ok(Redirect::to("/family").into_response())
}

#[utoipa::path(get, path = "/api/v1/family", tag = "messaging", summary = "Family-education deliveries issued in your school or region, coming ones first, with parents reached and reads", responses((status = 200, description = "deliveries"), (status = 403, description = "not an administrator")))]
pub(crate) async fn api_list(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "deliveries": deliveries(&app, &actor).await? })))
}

impl Validate for FamilyInput {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/family", tag = "messaging", summary = "Schedule library resources for parents, one a week from first_at", request_body = FamilyInput, responses((status = 201, description = "the deliveries' ids"), (status = 403, description = "not an administrator"), (status = 422, description = "a resource parents cannot open, a past time, or a bad scope")))]
pub(crate) async fn api_schedule(
    State(app): State<App>,
    actor: Actor,
    ApiJson(input): ApiJson<FamilyInput>,
) -> Result<Response, AppError> {
    let ids = super::schedule(&app, &actor, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "ids": ids }))).into_response())
}
