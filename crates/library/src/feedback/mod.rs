//! What people make of a published resource: favourites ("my favourites"), 1–5 ratings that
//! feed the "best rated" order, and comments. Comments show at once; the reviewers who moderate
//! the resource hide abusive ones with a reason (kept, and audited).

pub mod http;
pub mod store;

use crate::resources::store::{Publication, Resource};
use crate::resources::{self, moderates_resource};
use kernel::audit::{self, Entry};
use kernel::auth::Actor;
use kernel::web::RequestMeta;
use kernel::{App, AppError};

pub const MAX_COMMENT_CHARS: usize = 1000;

/// The resource, if the actor may see it and it is published: only published resources are
/// favoured, rated and discussed.
async fn published(app: &App, actor: &Actor, id: i64) -> Result<(Resource, Vec<Publication>), AppError> {
    let (r, pubs) = resources::visible(app, actor, id).await?;
    if r.status != "approved" {
        return Err(AppError::invalid("resource", "library-error-not-published"));
    }
    Ok((r, pubs))
}

pub async fn set_favourite(app: &App, actor: &Actor, id: i64, on: bool) -> Result<(), AppError> {
    if on {
        published(app, actor, id).await?;
    }
    store::set_favourite(&app.db, actor.person_id, id, on).await?;
    Ok(())
}

pub async fn rate(app: &App, actor: &Actor, id: i64, stars: i64) -> Result<(), AppError> {
    let (r, _) = published(app, actor, id).await?;
    if !(1..=5).contains(&stars) {
        return Err(AppError::invalid("stars", "library-error-stars"));
    }
    if r.owner_id == actor.person_id {
        return Err(AppError::invalid("stars", "library-error-own-rating"));
    }
    let mut tx = app.db.begin().await?;
    store::rate(&mut tx, actor.person_id, id, stars, resources::store::now_ms()).await?;
    kernel::activity::record(&mut tx, actor, "resource_rating", id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn comment(app: &App, actor: &Actor, id: i64, text: &str) -> Result<i64, AppError> {
    published(app, actor, id).await?;
    let body = text.trim();
    if body.is_empty() {
        return Err(AppError::invalid("comment", "error-field-required"));
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::too_long("comment", MAX_COMMENT_CHARS));
    }
    let mut tx = app.db.begin().await?;
    let comment_id = store::add_comment(&mut tx, id, actor.person_id, body).await?;
    kernel::activity::record(&mut tx, actor, "resource_comment", id).await?;
    tx.commit().await?;
    Ok(comment_id)
}

/// Hides a comment, with the reason; returns the resource it was on.
pub async fn hide_comment(app: &App, actor: &Actor, meta: &RequestMeta, comment_id: i64, reason: &str) -> Result<i64, AppError> {
    let c = store::comment(&app.db, comment_id).await?.ok_or(AppError::NotFound)?;
    let (r, pubs) = resources::visible(app, actor, c.resource_id).await?;
    if !moderates_resource(actor, &r, &pubs) {
        return Err(AppError::Forbidden);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "library-error-reason-required"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::too_long("reason", 500));
    }
    let mut tx = app.db.begin().await?;
    store::hide_comment(&mut tx, comment_id, actor.person_id, reason).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "comment_hide", "comment", comment_id, r.title.as_str(), r.unit_path.clone())
            .before(serde_json::json!({ "body": c.body, "by": c.person_name }))
            .after(serde_json::json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(r.id)
}
