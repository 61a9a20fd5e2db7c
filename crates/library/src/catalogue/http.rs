//! Textbook catalogue pages and API: browse a textbook's chapters, import a sheet, rename or
//! remove a node, and suggest a chapter for a title.

use super::store::{self, Node};
use super::{import, may_edit, suggest};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::audit::{self, Entry};
use kernel::auth::Actor;
use kernel::error::FieldError;
use kernel::upload::Upload;
use kernel::web::{CsrfForm, PageContext, RequestMeta};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/library/catalogue", get(catalogue_page).post(import_submit))
        .route("/library/catalogue/nodes/{id}/rename", post(rename_submit))
        .route("/library/catalogue/nodes/{id}/delete", post(delete_submit))
        .route("/api/v1/catalogue/textbooks", get(api_textbooks))
        .route("/api/v1/catalogue/textbooks/{id}", get(api_tree))
        .route("/api/v1/catalogue/suggest", get(api_suggest))
        .route("/api/v1/catalogue/chapters", get(api_chapters))
        .route("/api/v1/catalogue/import", post(api_import))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    textbook: Option<i64>,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage<'a> {
    ctx: &'a PageContext,
    textbooks: Vec<Node>,
    current: Option<i64>,
    tree: Vec<Node>,
    editor: bool,
    errors: Vec<FieldError>,
    imported: Option<super::ImportSummary>,
}

impl CataloguePage<'_> {
    fn is_current(&self, n: &Node) -> bool {
        self.current == Some(n.id)
    }
    fn indent(&self, n: &Node) -> usize {
        n.depth().saturating_sub(1)
    }
}

async fn render(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    textbook: Option<i64>,
    errors: Vec<FieldError>,
    imported: Option<super::ImportSummary>,
) -> Result<Response, AppError> {
    let textbooks = store::textbooks(&app.db).await?;
    let current = textbook.or(textbooks.first().map(|t| t.id));
    let tree = match current.and_then(|id| textbooks.iter().find(|t| t.id == id)) {
        Some(t) => store::tree(&app.db, t).await?,
        None => vec![],
    };
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    let page = CataloguePage { ctx, textbooks, current, tree, editor: may_edit(actor), errors, imported };
    Ok((status, ctx.render(&ctx.t("catalogue-title"), &page)?).into_response())
}

async fn catalogue_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    render(&app, &ctx, &actor, q.textbook, vec![], None).await
}

async fn import_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    upload: Upload,
) -> Result<Response, AppError> {
    match import(&app, &actor, &meta, upload.path()).await {
        Ok(summary) => render(&app, &ctx, &actor, None, vec![], Some(summary)).await,
        Err(AppError::Invalid(errors)) => render(&app, &ctx, &actor, None, errors, None).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct RenameForm {
    title: String,
}

async fn rename_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> Result<Response, AppError> {
    if !may_edit(&actor) {
        return Err(AppError::Forbidden);
    }
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(AppError::invalid("title", "library-catalogue-bad-title"));
    }
    let node = store::node(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = app.db.begin().await?;
    store::rename(&mut tx, id, title).await.map_err(|e| match e.constraint() {
        Some("catalogue_nodes_parent_title_key") => AppError::invalid("title", "library-catalogue-title-taken"),
        _ => e.into(),
    })?;
    audit::record(
        &mut tx,
        &Entry::by(&actor, &meta, "catalogue_rename", "catalogue", id, title, actor.unit_path.clone())
            .before(json!({ "title": node.title })),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/library/catalogue?textbook={}", node.path_ids()[0])).into_response())
}

async fn delete_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<kernel::web::EmptyForm>,
) -> Result<Response, AppError> {
    if !may_edit(&actor) {
        return Err(AppError::Forbidden);
    }
    let node = store::node(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = app.db.begin().await?;
    if !store::delete_leaf(&mut tx, id).await? {
        return Err(AppError::invalid("node", "library-catalogue-in-use"));
    }
    audit::record(
        &mut tx,
        &Entry::by(&actor, &meta, "catalogue_delete", "catalogue", id, node.title.as_str(), actor.unit_path.clone()),
    )
    .await?;
    tx.commit().await?;
    let back = if node.parent_id.is_some() { format!("?textbook={}", node.path_ids()[0]) } else { String::new() };
    Ok(Redirect::to(&format!("/library/catalogue{back}")).into_response())
}

#[utoipa::path(get, path = "/api/v1/catalogue/textbooks", tag = "library", summary = "The region's textbooks (catalogue roots)", responses((status = 200, description = "textbooks"), (status = 401, description = "not signed in")))]
pub(crate) async fn api_textbooks(State(app): State<App>, _actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "textbooks": store::textbooks(&app.db).await? })))
}

#[utoipa::path(get, path = "/api/v1/catalogue/textbooks/{id}", tag = "library", summary = "A textbook's chapters and sections in tree order", params(("id" = i64, Path, description = "textbook id")), responses((status = 200, description = "nodes"), (status = 404, description = "no such textbook")))]
pub(crate) async fn api_tree(
    State(app): State<App>,
    _actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let book = store::node(&app.db, id).await?.filter(|n| n.parent_id.is_none()).ok_or(AppError::NotFound)?;
    Ok(Json(json!({ "textbook": book, "nodes": store::tree(&app.db, &book).await? })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SuggestQuery {
    title: String,
    stage: String,
    subject: String,
    grade: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/catalogue/suggest", tag = "library", summary = "Chapters that match a resource title, best first", params(("title" = String, Query, description = "the resource title"), ("stage" = String, Query, description = "stage code"), ("subject" = String, Query, description = "subject code"), ("grade" = Option<i64>, Query, description = "grade within the stage")), responses((status = 200, description = "suggestions: id, title, textbook, score")))]
pub(crate) async fn api_suggest(
    State(app): State<App>,
    _actor: Actor,
    Query(q): Query<SuggestQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let found = suggest(&app, &q.title, &q.stage, &q.subject, q.grade).await?;
    let out: Vec<_> =
        found.iter().map(|(n, score)| json!({ "id": n.id, "title": n.title, "grade": n.grade, "score": score })).collect();
    Ok(Json(json!({ "suggestions": out })))
}

#[utoipa::path(get, path = "/api/v1/catalogue/chapters", tag = "library", summary = "Chapters and sections of the textbooks for a stage and subject (and grade)", params(("stage" = String, Query, description = "stage code"), ("subject" = String, Query, description = "subject code"), ("grade" = Option<i64>, Query, description = "grade within the stage")), responses((status = 200, description = "chapters: id, title, depth (2 = chapter, 3 = section)")))]
pub(crate) async fn api_chapters(
    State(app): State<App>,
    _actor: Actor,
    Query(q): Query<SuggestQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let nodes = store::chapters_for(&app.db, &q.stage, &q.subject, q.grade).await?;
    let out: Vec<_> = nodes.iter().map(|n| json!({ "id": n.id, "title": n.title, "depth": n.depth() })).collect();
    Ok(Json(json!({ "chapters": out })))
}

#[utoipa::path(post, path = "/api/v1/catalogue/import", tag = "library", summary = "Import textbook catalogues from a CSV or XLSX sheet (stage, grade, subject, edition, volume, chapter, section); nothing is written unless every row is good", request_body(content_type = "multipart/form-data", description = "file"), responses((status = 200, description = "rows read and nodes created"), (status = 403, description = "only administrators of the top unit"), (status = 422, description = "problems, each naming its row and column")))]
pub(crate) async fn api_import(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    upload: Upload,
) -> Result<Json<super::ImportSummary>, AppError> {
    Ok(Json(import(&app, &actor, &meta, upload.path()).await?))
}
