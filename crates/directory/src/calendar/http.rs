//! The region's calendar: everyone signed in reads it; the administrators of the top unit keep it.

use super::store::{self, SchoolYear, Term};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Role};
use kernel::error::FieldError;
use kernel::web::{ApiJson, Checks, CsrfForm, PageContext, RequestMeta, Validate, check};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/calendar", get(calendar_page))
        .route("/calendar/years", post(create_year_submit))
        .route("/calendar/years/{id}/terms", post(create_term_submit))
        .route("/api/v1/school-years", get(api_list).post(api_create_year))
        .route("/api/v1/school-years/{id}/terms", post(api_create_term))
}

/// The calendar is region-wide, so only administrators of the top of the tree change it.
fn may_manage(actor: &Actor) -> bool {
    actor.role == Role::RegionAdmin && actor.unit_path.matches('/').count() == 2
}

fn parse_date(field: &str, value: &str, v: &mut Checks) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(value.trim(), &format) {
        Ok(d) => Some(d),
        Err(_) => {
            v.push(FieldError::new(field, "calendar-error-date"));
            None
        }
    }
}

#[derive(Deserialize)]
/// A named stretch of dates: a school year or a term.
pub(crate) struct Period {
    #[serde(default)]
    name: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

impl Validate for Period {
    fn validate(&self, v: &mut Checks) {
        v.required("name", &self.name).max_chars("name", &self.name, 40);
        let (s, e) = (parse_date("starts_on", &self.starts_on, v), parse_date("ends_on", &self.ends_on, v));
        if let (Some(s), Some(e)) = (s, e)
            && s >= e
        {
            v.add("ends_on", "calendar-error-order");
        }
    }
}

fn date(s: &str) -> time::Date {
    time::Date::parse(s.trim(), &time::macros::format_description!("[year]-[month]-[day]")).expect("validated date")
}

pub(crate) async fn create_year(app: &App, actor: &Actor, meta: &RequestMeta, input: &Period) -> Result<i64, AppError> {
    if !may_manage(actor) {
        return Err(AppError::Forbidden);
    }
    check(input)?;
    let (starts_on, ends_on) = (date(&input.starts_on), date(&input.ends_on));
    let overlapping = store::years(&app.db).await?.into_iter().any(|y| y.starts_on <= ends_on && starts_on <= y.ends_on);
    if overlapping {
        return Err(AppError::invalid("starts_on", "calendar-error-overlap"));
    }
    let start_year = i64::from(starts_on.year());
    let mut tx = app.db.begin().await?;
    let id = store::create_year(&mut tx, input.name.trim(), start_year, starts_on, ends_on).await.map_err(|e| {
        match e.constraint() {
            Some("school_years_start_year_key") => AppError::invalid("starts_on", "calendar-error-overlap"),
            _ => e.into(),
        }
    })?;
    let after = json!({ "name": input.name.trim(), "starts_on": input.starts_on, "ends_on": input.ends_on });
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "school_year_create", "calendar", id, input.name.trim(), actor.unit_path.clone()).after(after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn create_term(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    year_id: i64,
    input: &Period,
) -> Result<i64, AppError> {
    if !may_manage(actor) {
        return Err(AppError::Forbidden);
    }
    let year = store::year(&app.db, year_id).await?.ok_or(AppError::NotFound)?;
    check(input)?;
    let (starts_on, ends_on) = (date(&input.starts_on), date(&input.ends_on));
    if starts_on < year.starts_on || ends_on > year.ends_on {
        return Err(AppError::invalid("starts_on", "calendar-error-term-outside"));
    }
    let mut tx = app.db.begin().await?;
    let id =
        store::create_term(&mut tx, year.id, input.name.trim(), starts_on, ends_on).await.map_err(|e| match e.constraint() {
            Some("terms_school_year_name_key") => AppError::invalid("name", "calendar-error-term-taken"),
            _ => e.into(),
        })?;
    let after =
        json!({ "school_year": year.name, "name": input.name.trim(), "starts_on": input.starts_on, "ends_on": input.ends_on });
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "term_create", "calendar", id, input.name.trim(), actor.unit_path.clone()).after(after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage<'a> {
    ctx: &'a PageContext,
    years: Vec<(SchoolYear, Vec<Term>)>,
    manage: bool,
    errors: Vec<FieldError>,
}

async fn render(app: &App, ctx: &PageContext, actor: &Actor, errors: Vec<FieldError>) -> Result<Response, AppError> {
    let terms = store::terms(&app.db).await?;
    let years = store::years(&app.db)
        .await?
        .into_iter()
        .map(|y| {
            let t = terms.iter().filter(|t| t.school_year_id == y.id).cloned().collect();
            (y, t)
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = CalendarPage { ctx, years, manage: may_manage(actor), errors };
    Ok((status, ctx.render(&ctx.t("calendar-title"), &page)?).into_response())
}

async fn calendar_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    render(&app, &ctx, &actor, vec![]).await
}

async fn create_year_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    CsrfForm(input): CsrfForm<Period>,
) -> Result<Response, AppError> {
    match create_year(&app, &actor, &meta, &input).await {
        Ok(_) => Ok(Redirect::to("/calendar").into_response()),
        Err(AppError::Invalid(errors)) => render(&app, &ctx, &actor, errors).await,
        Err(e) => Err(e),
    }
}

async fn create_term_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<Period>,
) -> Result<Response, AppError> {
    match create_term(&app, &actor, &meta, id, &input).await {
        Ok(_) => Ok(Redirect::to("/calendar").into_response()),
        Err(AppError::Invalid(errors)) => render(&app, &ctx, &actor, errors).await,
        Err(e) => Err(e),
    }
}

#[utoipa::path(get, path = "/api/v1/school-years", tag = "calendar", summary = "The region's school years with their terms, newest first", responses((status = 200, description = "school years"), (status = 401, description = "not signed in")))]
pub(crate) async fn api_list(State(app): State<App>, _actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    let terms = store::terms(&app.db).await?;
    let years: Vec<_> = store::years(&app.db)
        .await?
        .into_iter()
        .map(|y| {
            let t: Vec<_> = terms.iter().filter(|t| t.school_year_id == y.id).collect();
            json!({ "id": y.id, "name": y.name, "start_year": y.start_year, "starts_on": y.starts_on, "ends_on": y.ends_on, "terms": t })
        })
        .collect();
    let today = kernel::today(app.config.display_utc_offset_minutes);
    Ok(Json(json!({ "school_years": years, "current_start_year": store::school_year(&app.db, today).await? })))
}

#[utoipa::path(post, path = "/api/v1/school-years", tag = "calendar", summary = "Add a school year (administrators of the top unit)", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "name, starts_on, ends_on (YYYY-MM-DD)"), responses((status = 201, description = "created"), (status = 401, description = "not signed in"), (status = 403, description = "not an administrator of the top unit"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_create_year(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(input): ApiJson<Period>,
) -> Result<Response, AppError> {
    let id = create_year(&app, &actor, &meta, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[utoipa::path(post, path = "/api/v1/school-years/{id}/terms", tag = "calendar", summary = "Add a term to a school year", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "name, starts_on, ends_on (YYYY-MM-DD)"), responses((status = 201, description = "created"), (status = 401, description = "not signed in"), (status = 403, description = "not an administrator of the top unit"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_create_term(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<Period>,
) -> Result<Response, AppError> {
    let term = create_term(&app, &actor, &meta, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": term }))).into_response())
}
