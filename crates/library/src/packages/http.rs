//! Lesson package pages (mine and my school's shared ones, one package, adding from a resource's
//! page) and the same through the API.

use super::PackageInput;
use super::store::Package;
use crate::resources::store::Resource;
use crate::vocab;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::error::FieldError;
use kernel::web::{ApiJson, Checks, CsrfForm, PageContext, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/library/packages", get(list_page).post(create_submit))
        .route("/library/packages/{id}", get(package_page).post(update_submit))
        .route("/library/packages/{id}/delete", post(delete_submit))
        .route("/library/packages/{id}/items", post(add_submit))
        .route("/library/packages/{id}/items/{resource}/remove", post(remove_submit))
        .route("/library/resources/{id}/package", post(add_from_resource))
        .route("/api/v1/packages", get(api_list).post(api_create))
        .route("/api/v1/packages/{id}", get(api_get).put(api_update).delete(api_delete))
        .route("/api/v1/packages/{id}/items", post(api_add))
        .route("/api/v1/packages/{id}/items/{resource}", delete(api_remove))
}

/// Options of a select: code and name.
type Options = Vec<(&'static str, &'static str)>;

/// Stage and subject choices for the package form.
fn choices(locale: kernel::i18n::Locale) -> (Options, Options) {
    let stages = ["primary", "junior", "senior", "vocational", "preschool"]
        .into_iter()
        .map(|s| (s, directory::codes::stage_name(s, locale)))
        .collect();
    let subjects = vocab::SUBJECTS.iter().map(|t| (t.code, t.name(locale))).collect();
    (stages, subjects)
}

#[derive(Template)]
#[template(path = "packages.html")]
struct ListPage<'a> {
    ctx: &'a PageContext,
    actor: &'a Actor,
    packages: Vec<Package>,
    input: PackageInput,
    errors: Vec<FieldError>,
    may_create: bool,
    stages: Options,
    subjects: Options,
}

impl ListPage<'_> {
    fn subject(&self, p: &Package) -> &'static str {
        vocab::name(vocab::SUBJECTS, &p.subject, self.ctx.locale)
    }
    fn grade_value(&self) -> String {
        self.input.grade.map(|g| g.to_string()).unwrap_or_default()
    }
}

async fn render_list(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    input: PackageInput,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let (stages, subjects) = choices(ctx.locale);
    let page = ListPage {
        ctx,
        actor,
        packages: super::store::for_person(&app.db, actor.person_id, actor.unit_id).await?,
        input,
        may_create: crate::uploads::may_contribute(actor),
        stages,
        subjects,
        errors,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, ctx.render(&ctx.t("library-packages-title"), &page)?).into_response())
}

async fn list_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    render_list(&app, &ctx, &actor, PackageInput::default(), vec![]).await
}

async fn create_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    CsrfForm(input): CsrfForm<PackageInput>,
) -> Result<Response, AppError> {
    match super::create(&app, &actor, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/library/packages/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => render_list(&app, &ctx, &actor, input, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage<'a> {
    ctx: &'a PageContext,
    package: Package,
    chapter: Option<String>,
    items: Vec<(Resource, String)>,
    hidden: usize,
    mine: bool,
    input: PackageInput,
    errors: Vec<FieldError>,
    stages: Options,
    subjects: Options,
}

impl PackagePage<'_> {
    fn subject(&self) -> &'static str {
        vocab::name(vocab::SUBJECTS, &self.package.subject, self.ctx.locale)
    }
    fn kind(&self, r: &Resource) -> &'static str {
        vocab::name(vocab::RESOURCE_TYPES, &r.resource_type, self.ctx.locale)
    }
    fn grade_value(&self) -> String {
        self.input.grade.map(|g| g.to_string()).unwrap_or_default()
    }
}

fn input_of(p: &Package) -> PackageInput {
    PackageInput {
        title: p.title.clone(),
        description: p.description.clone(),
        stage: p.stage.clone(),
        grade: p.grade,
        subject: p.subject.clone(),
        chapter_id: p.chapter_id,
        shared: p.shared,
    }
}

async fn render_package(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    input: Option<PackageInput>,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let package = super::visible(app, actor, id).await?;
    let (items, hidden) = super::contents(app, actor, &package).await?;
    let chapter = match package.chapter_id {
        Some(c) => crate::catalogue::store::node(&app.db, c).await?.map(|n| n.title),
        None => None,
    };
    let (stages, subjects) = choices(ctx.locale);
    let page = PackagePage {
        ctx,
        mine: package.owner_id == actor.person_id,
        input: input.unwrap_or_else(|| input_of(&package)),
        package,
        chapter,
        items,
        hidden,
        errors,
        stages,
        subjects,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let title = page.package.title.clone();
    Ok((status, ctx.render(&title, &page)?).into_response())
}

async fn package_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    render_package(&app, &ctx, &actor, id, None, vec![]).await
}

async fn update_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<PackageInput>,
) -> Result<Response, AppError> {
    match super::update(&app, &actor, id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/library/packages/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => render_package(&app, &ctx, &actor, id, Some(input), errors).await,
        Err(e) => Err(e),
    }
}

async fn delete_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<kernel::web::EmptyForm>,
) -> Result<Response, AppError> {
    super::delete(&app, &actor, id).await?;
    Ok(Redirect::to("/library/packages").into_response())
}

#[derive(Deserialize)]
pub(crate) struct ItemForm {
    resource_id: i64,
    #[serde(default)]
    note: String,
}

impl Validate for ItemForm {
    fn validate(&self, v: &mut Checks) {
        v.max_chars("note", self.note.trim(), super::MAX_NOTE_CHARS);
    }
}

async fn add_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ItemForm>,
) -> Result<Response, AppError> {
    super::add(&app, &actor, id, form.resource_id, &form.note).await?;
    Ok(Redirect::to(&format!("/library/packages/{id}")).into_response())
}

#[derive(Deserialize)]
struct FromResourceForm {
    package_id: i64,
    #[serde(default)]
    note: String,
}

/// "Add to a lesson package" on a resource's page, the package chosen in the form.
async fn add_from_resource(
    State(app): State<App>,
    actor: Actor,
    Path(resource): Path<i64>,
    CsrfForm(form): CsrfForm<FromResourceForm>,
) -> Result<Response, AppError> {
    super::add(&app, &actor, form.package_id, resource, &form.note).await?;
    Ok(Redirect::to(&format!("/library/packages/{}", form.package_id)).into_response())
}

async fn remove_submit(
    State(app): State<App>,
    actor: Actor,
    Path((id, resource)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<kernel::web::EmptyForm>,
) -> Result<Response, AppError> {
    super::remove(&app, &actor, id, resource).await?;
    Ok(Redirect::to(&format!("/library/packages/{id}")).into_response())
}

#[utoipa::path(get, path = "/api/v1/packages", tag = "library", summary = "Your lesson packages and those your school's colleagues share", responses((status = 200, description = "packages")))]
pub(crate) async fn api_list(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "packages": super::store::for_person(&app.db, actor.person_id, actor.unit_id).await? })))
}

#[utoipa::path(post, path = "/api/v1/packages", tag = "library", summary = "Start a lesson package for a chapter", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "title, description, stage, grade, subject, chapter_id, shared"), responses((status = 201, description = "created: id"), (status = 403, description = "students and parents do not make packages"), (status = 422, description = "a bad value: details name it")))]
pub(crate) async fn api_create(
    State(app): State<App>,
    actor: Actor,
    ApiJson(input): ApiJson<PackageInput>,
) -> Result<Response, AppError> {
    let id = super::create(&app, &actor, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/packages/{id}", tag = "library", summary = "A lesson package with the items you may see", params(("id" = i64, Path, description = "package id")), responses((status = 200, description = "the package and its items"), (status = 404, description = "not yours, nor shared with your school")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let package = super::visible(&app, &actor, id).await?;
    let (items, hidden) = super::contents(&app, &actor, &package).await?;
    let items: Vec<_> = items.iter().map(|(r, note)| json!({ "resource_id": r.id, "title": r.title, "note": note })).collect();
    Ok(Json(json!({ "package": package, "items": items, "hidden": hidden })))
}

#[utoipa::path(put, path = "/api/v1/packages/{id}", tag = "library", summary = "Change your lesson package (sharing included)", params(("id" = i64, Path, description = "package id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "as for a new package"), responses((status = 200, description = "changed"), (status = 403, description = "a colleague's package"), (status = 404, description = "no such package for you")))]
pub(crate) async fn api_update(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PackageInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::update(&app, &actor, id, &input).await?;
    Ok(Json(json!({ "id": id })))
}

#[utoipa::path(delete, path = "/api/v1/packages/{id}", tag = "library", summary = "Delete your lesson package (the resources stay)", params(("id" = i64, Path, description = "package id")), responses((status = 200, description = "deleted"), (status = 403, description = "a colleague's package"), (status = 404, description = "no such package for you")))]
pub(crate) async fn api_delete(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::delete(&app, &actor, id).await?;
    Ok(Json(json!({ "id": id, "deleted": true })))
}

#[utoipa::path(post, path = "/api/v1/packages/{id}/items", tag = "library", summary = "Put a resource you may see into your package, with a note", params(("id" = i64, Path, description = "package id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "resource_id, note"), responses((status = 200, description = "added"), (status = 403, description = "a colleague's package"), (status = 422, description = "a resource you may not see, or the package is full")))]
pub(crate) async fn api_add(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ItemForm>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::add(&app, &actor, id, body.resource_id, &body.note).await?;
    Ok(Json(json!({ "id": id, "resource_id": body.resource_id })))
}

#[utoipa::path(delete, path = "/api/v1/packages/{id}/items/{resource}", tag = "library", summary = "Take a resource out of your package", params(("id" = i64, Path, description = "package id"), ("resource" = i64, Path, description = "resource id")), responses((status = 200, description = "removed"), (status = 403, description = "a colleague's package")))]
pub(crate) async fn api_remove(
    State(app): State<App>,
    actor: Actor,
    Path((id, resource)): Path<(i64, i64)>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::remove(&app, &actor, id, resource).await?;
    Ok(Json(json!({ "id": id, "resource_id": resource, "removed": true })))
}
