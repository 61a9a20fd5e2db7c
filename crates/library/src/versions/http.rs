//! Proposing a new version (the resource form, with the chunked upload or a plain post), its
//! file for the reviewers, and their decision; the same through the API.

use crate::resources::http::{CreateBody, DecideBody, FileQuery, FormMode, form_page, input_of, send_file};
use crate::uploads;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::upload::Upload;
use kernel::web::{ApiJson, CsrfForm, PageContext, RequestMeta};
use kernel::{App, AppError};
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/library/resources/{id}/versions/new", get(new_page))
        .route("/library/resources/{id}/versions", post(new_submit))
        .route(
            "/library/resources/{id}/versions/upload",
            post(new_plain_submit).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/library/versions/{id}/file", get(file))
        .route("/library/versions/{id}/decision", post(decision_submit))
        .route("/api/v1/resources/{id}/versions", get(api_list).post(api_propose))
        .route("/api/v1/versions", get(api_queue))
        .route("/api/v1/versions/{id}/decision", post(api_decide))
}

fn mode(id: i64) -> FormMode {
    FormMode::Version { complete_action: format!("/library/resources/{id}/versions") }
}

fn plain_action(id: i64) -> String {
    format!("/library/resources/{id}/versions/upload")
}

async fn new_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    let r =
        crate::resources::store::get(&app.db, id).await?.filter(|r| r.owner_id == actor.person_id).ok_or(AppError::NotFound)?;
    if r.status != "approved" {
        return Err(AppError::invalid("status", "library-error-not-published"));
    }
    form_page(&app, &ctx, plain_action(id), input_of(&r), vec![], mode(id)).await
}

async fn new_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CreateBody>,
) -> Result<Response, AppError> {
    match super::propose(&app, &actor, &meta, id, form.upload_id, &form.input).await {
        Ok(_) => Ok(Redirect::to(&format!("/library/resources/{id}#versions")).into_response()),
        Err(AppError::Invalid(errors)) => form_page(&app, &ctx, plain_action(id), form.input, errors, mode(id)).await,
        Err(e) => Err(e),
    }
}

/// Without JavaScript the file comes with the form.
async fn new_plain_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    upload: Upload,
) -> Result<Response, AppError> {
    let input = crate::resources::http::input_from_fields(&upload)?;
    let outcome = async {
        kernel::web::check(&input)?;
        let (upload_id, _) = uploads::store_file(&app, &actor, &upload.file_name, upload.path()).await?;
        super::propose(&app, &actor, &meta, id, upload_id, &input).await
    }
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/library/resources/{id}#versions")).into_response()),
        Err(AppError::Invalid(errors)) => form_page(&app, &ctx, plain_action(id), input, errors, mode(id)).await,
        Err(e) => Err(e),
    }
}

async fn file(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (v, _) = super::file_of(&app, &actor, id).await?;
    send_file(&app, &v.blob_sha256, &v.file_name, &headers, q.download).await
}

async fn decision_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecideBody>,
) -> Result<Response, AppError> {
    let resource = super::decide(&app, &actor, &meta, id, form.decision(), form.reason()).await?;
    Ok(Redirect::to(&format!("/library/resources/{resource}#versions")).into_response())
}

#[utoipa::path(get, path = "/api/v1/resources/{id}/versions", tag = "library", summary = "A resource's proposed versions, newest first (its author and reviewers)", params(("id" = i64, Path, description = "resource id")), responses((status = 200, description = "versions"), (status = 404, description = "no such resource for you")))]
pub(crate) async fn api_list(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (r, pubs) = crate::resources::visible(&app, &actor, id).await?;
    if r.owner_id != actor.person_id && !super::reviews(&actor, &r, &pubs) {
        return Err(AppError::NotFound);
    }
    Ok(Json(json!({ "version": r.version, "versions": super::store::of_resource(&app.db, id).await? })))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/versions", tag = "library", summary = "Propose a new version of your published resource: a completed upload and the metadata; the published version stays until a reviewer approves", params(("id" = i64, Path, description = "resource id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "upload_id and the metadata, as for a new resource"), responses((status = 201, description = "proposed: its number"), (status = 404, description = "not your resource"), (status = 422, description = "not published, a proposal already waiting, or a bad value")))]
pub(crate) async fn api_propose(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, AppError> {
    let number = super::propose(&app, &actor, &meta, id, body.upload_id, &body.input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "resource_id": id, "number": number }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/versions", tag = "library", summary = "New versions waiting for your review", responses((status = 200, description = "items: version and resource")))]
pub(crate) async fn api_queue(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    let items: Vec<_> = super::queue(&app, &actor)
        .await?
        .into_iter()
        .map(|(v, r)| json!({ "version_id": v.id, "number": v.number, "resource_id": r.id, "title": r.title, "proposed_title": v.proposed().map(|i| i.title), "file_name": v.file_name }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/versions/{id}/decision", tag = "library", summary = "Approve (apply) or reject a new version", params(("id" = i64, Path, description = "version id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "decision (approve | reject), reason (required to reject)"), responses((status = 200, description = "decided"), (status = 403, description = "not its reviewer"), (status = 422, description = "not pending, or no reason")))]
pub(crate) async fn api_decide(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let resource = super::decide(&app, &actor, &meta, id, body.decision(), body.reason()).await?;
    Ok(Json(json!({ "resource_id": resource, "version_id": id })))
}
