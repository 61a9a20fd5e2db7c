//! The upload API the library's upload page (and any client) uses: open, send chunks, ask what
//! arrived, complete.

use super::{UploadState, complete, put_chunk, start, state};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use kernel::auth::Actor;
use kernel::web::{ApiJson, Checks, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/uploads", post(api_start))
        .route("/api/v1/uploads/{id}", get(api_state))
        .route("/api/v1/uploads/{id}/complete", post(api_complete))
        // A chunk is at most 64 MiB (library.chunk_mb), read whole so its hash is checked before it is kept.
        .route("/api/v1/uploads/{id}/chunks/{idx}", put(api_chunk).layer(DefaultBodyLimit::max(65 * 1024 * 1024)))
}

#[derive(Deserialize)]
pub(crate) struct StartBody {
    file_name: String,
    size: i64,
}

impl Validate for StartBody {
    fn validate(&self, v: &mut Checks) {
        v.required("file_name", &self.file_name).max_chars("file_name", &self.file_name, 200);
    }
}

/// An empty JSON object: requiring the JSON type keeps cross-site forms from completing uploads.
#[derive(Deserialize)]
pub(crate) struct Empty {}

impl Validate for Empty {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/uploads", tag = "library", summary = "Open a resumable upload (checks type, size limit and quotas first)", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "file_name, size (bytes)"), responses((status = 201, description = "the upload: id, chunk_size, chunks, received"), (status = 401, description = "not signed in"), (status = 403, description = "students and parents do not upload to the library"), (status = 422, description = "refused: details name the reason (type, empty, too large, quota)")))]
pub(crate) async fn api_start(
    State(app): State<App>,
    actor: Actor,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response, AppError> {
    let up = start(&app, &actor, &body.file_name, body.size).await?;
    Ok((StatusCode::CREATED, Json(up)).into_response())
}

#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "library", summary = "An upload's state: which chunks arrived, so a client can resume", params(("id" = i64, Path, description = "upload id")), responses((status = 200, description = "the upload"), (status = 404, description = "no such upload of yours")))]
pub(crate) async fn api_state(State(app): State<App>, actor: Actor, Path(id): Path<i64>) -> Result<Json<UploadState>, AppError> {
    Ok(Json(state(&app, &actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/uploads/{id}/chunks/{idx}", tag = "library", summary = "Send chunk idx (0-based) of an upload; X-Chunk-SHA256 (hex) is checked when sent", params(("id" = i64, Path, description = "upload id"), ("idx" = i64, Path, description = "chunk index")), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 200, description = "received: how many chunks have arrived"), (status = 404, description = "no such upload of yours"), (status = 422, description = "wrong size, wrong hash (send it again) or refused content")))]
pub(crate) async fn api_chunk(
    State(app): State<App>,
    actor: Actor,
    Path((id, idx)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AppError> {
    let sha = headers.get("x-chunk-sha256").and_then(|v| v.to_str().ok());
    let received = put_chunk(&app, &actor, id, idx, body, sha).await?;
    Ok(Json(json!({ "received": received })))
}

#[utoipa::path(post, path = "/api/v1/uploads/{id}/complete", tag = "library", summary = "Join the chunks into one stored file (once; repeating answers the same)", params(("id" = i64, Path, description = "upload id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "{}"), responses((status = 200, description = "the stored file: sha256, size, format, mime"), (status = 404, description = "no such upload of yours"), (status = 422, description = "chunks missing, or the content was refused")))]
pub(crate) async fn api_complete(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    ApiJson(_): ApiJson<Empty>,
) -> Result<Json<serde_json::Value>, AppError> {
    let blob = complete(&app, &actor, id).await?;
    Ok(Json(json!({ "upload": id, "sha256": blob.sha256, "size": blob.size, "format": blob.format, "mime": blob.mime })))
}
