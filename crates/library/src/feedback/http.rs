//! Favourite, rate and comment from a resource's page (forms that come back to it) or the API;
//! "my favourites".

use crate::resources::store::Resource;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::web::{ApiJson, Checks, CsrfForm, PageContext, RequestMeta, SwitchForm, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/library/favourites", get(favourites_page))
        .route("/library/resources/{id}/favourite", post(favourite_submit))
        .route("/library/resources/{id}/rating", post(rating_submit))
        .route("/library/resources/{id}/comments", post(comment_submit))
        .route("/library/comments/{id}/hide", post(hide_submit))
        .route("/api/v1/favourites", get(api_favourites))
        .route("/api/v1/resources/{id}/favourite", put(api_favourite).delete(api_unfavourite))
        .route("/api/v1/resources/{id}/rating", put(api_rate))
        .route("/api/v1/resources/{id}/comments", get(api_comments).post(api_comment))
        .route("/api/v1/comments/{id}/hide", post(api_hide))
}

fn back(id: i64, anchor: &str) -> Response {
    Redirect::to(&format!("/library/resources/{id}#{anchor}")).into_response()
}

#[derive(Template)]
#[template(path = "favourites.html")]
struct FavouritesPage<'a> {
    ctx: &'a PageContext,
    resources: Vec<Resource>,
}

/// Favourites the person may still see (one taken down or unpublished meanwhile drops out).
async fn visible_favourites(app: &App, actor: &Actor) -> Result<Vec<Resource>, AppError> {
    let mut out = Vec::new();
    for r in super::store::favourites(&app.db, actor.person_id).await? {
        if r.status == "approved" && crate::resources::visible(app, actor, r.id).await.is_ok() {
            out.push(r);
        }
    }
    Ok(out)
}

async fn favourites_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    let page = FavouritesPage { ctx: &ctx, resources: visible_favourites(&app, &actor).await? };
    Ok(ctx.render(&ctx.t("library-favourites-title"), &page)?.into_response())
}

async fn favourite_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> Result<Response, AppError> {
    super::set_favourite(&app, &actor, id, form.on).await?;
    Ok(back(id, "feedback"))
}

#[derive(Deserialize)]
pub(crate) struct RatingForm {
    stars: i64,
}

impl Validate for RatingForm {
    fn validate(&self, v: &mut Checks) {
        if !(1..=5).contains(&self.stars) {
            v.add("stars", "library-error-stars");
        }
    }
}

async fn rating_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RatingForm>,
) -> Result<Response, AppError> {
    super::rate(&app, &actor, id, form.stars).await?;
    crate::search::refresh(&app, &[id]).await?;
    Ok(back(id, "feedback"))
}

#[derive(Deserialize)]
pub(crate) struct CommentForm {
    #[serde(default)]
    comment: String,
}

impl Validate for CommentForm {
    fn validate(&self, v: &mut Checks) {
        v.required("comment", self.comment.trim()).max_chars("comment", self.comment.trim(), super::MAX_COMMENT_CHARS);
    }
}

async fn comment_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> Result<Response, AppError> {
    super::comment(&app, &actor, id, &form.comment).await?;
    Ok(back(id, "comments"))
}

async fn hide_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<crate::resources::http::ReasonForm>,
) -> Result<Response, AppError> {
    let resource = super::hide_comment(&app, &actor, &meta, id, form.reason()).await?;
    Ok(back(resource, "comments"))
}

#[utoipa::path(get, path = "/api/v1/favourites", tag = "library", summary = "Your favourite resources that you may still see, newest first", responses((status = 200, description = "resources"), (status = 401, description = "not signed in")))]
pub(crate) async fn api_favourites(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "resources": visible_favourites(&app, &actor).await? })))
}

#[utoipa::path(put, path = "/api/v1/resources/{id}/favourite", tag = "library", summary = "Add a published resource to your favourites", params(("id" = i64, Path, description = "resource id")), responses((status = 200, description = "a favourite"), (status = 404, description = "no such resource for you")))]
pub(crate) async fn api_favourite(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::set_favourite(&app, &actor, id, true).await?;
    Ok(Json(json!({ "id": id, "favourite": true })))
}

#[utoipa::path(delete, path = "/api/v1/resources/{id}/favourite", tag = "library", summary = "Remove a resource from your favourites", params(("id" = i64, Path, description = "resource id")), responses((status = 200, description = "no longer a favourite")))]
pub(crate) async fn api_unfavourite(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::set_favourite(&app, &actor, id, false).await?;
    Ok(Json(json!({ "id": id, "favourite": false })))
}

#[utoipa::path(put, path = "/api/v1/resources/{id}/rating", tag = "library", summary = "Rate a published resource 1-5 stars (again to change it); not your own", params(("id" = i64, Path, description = "resource id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "stars"), responses((status = 200, description = "the resource's rating now"), (status = 404, description = "no such resource for you"), (status = 422, description = "stars outside 1-5, or your own resource")))]
pub(crate) async fn api_rate(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RatingForm>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::rate(&app, &actor, id, body.stars).await?;
    crate::search::refresh(&app, &[id]).await?;
    let r = crate::resources::store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(json!({ "id": id, "stars": body.stars, "rating": r.rating(), "ratings": r.rating_count })))
}

#[utoipa::path(get, path = "/api/v1/resources/{id}/comments", tag = "library", summary = "A resource's comments, oldest first (hidden ones too, for its moderators)", params(("id" = i64, Path, description = "resource id")), responses((status = 200, description = "comments"), (status = 404, description = "no such resource for you")))]
pub(crate) async fn api_comments(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (r, pubs) = crate::resources::visible(&app, &actor, id).await?;
    let moderator = crate::resources::moderates_resource(&actor, &r, &pubs);
    Ok(Json(json!({ "comments": super::store::comments(&app.db, id, moderator).await? })))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/comments", tag = "library", summary = "Comment on a published resource", params(("id" = i64, Path, description = "resource id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "comment"), responses((status = 201, description = "the comment's id"), (status = 404, description = "no such resource for you"), (status = 422, description = "empty or too long")))]
pub(crate) async fn api_comment(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CommentForm>,
) -> Result<Response, AppError> {
    let comment = super::comment(&app, &actor, id, &body.comment).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({ "id": comment }))).into_response())
}

#[utoipa::path(post, path = "/api/v1/comments/{id}/hide", tag = "library", summary = "Hide a comment, with a reason (reviewers of the resource)", params(("id" = i64, Path, description = "comment id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "reason"), responses((status = 200, description = "hidden"), (status = 403, description = "not a reviewer of the resource"), (status = 404, description = "no such comment for you")))]
pub(crate) async fn api_hide(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<crate::resources::http::ReasonForm>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::hide_comment(&app, &actor, &meta, id, body.reason()).await?;
    Ok(Json(json!({ "id": id, "status": "hidden" })))
}
