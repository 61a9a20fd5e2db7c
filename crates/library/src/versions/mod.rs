//! New versions of published resources. The author proposes a new file with (possibly changed)
//! metadata; the published version stays visible while a reviewer of the highest level it is
//! published at reviews the proposal; on approval the resource takes the new file and metadata
//! and keeps its id, publications, favourites and ratings. What was replaced is kept with the
//! version for audit.

pub mod http;
pub mod store;

use crate::resources::model::ResourceInput;
use crate::resources::store::{Publication, Resource};
use crate::resources::{self, Decision, level_rank, moderates};
use kernel::audit::{self, Entry};
use kernel::auth::Actor;
use kernel::web::{RequestMeta, check};
use kernel::{App, AppError};
use serde_json::json;
use store::Version;

/// Who reviews a new version: the reviewers of the highest scope the resource is published at,
/// since that is everyone who will see it. Never its author.
pub fn reviews(actor: &Actor, r: &Resource, pubs: &[Publication]) -> bool {
    let highest = pubs.iter().filter(|p| p.status == "approved").max_by_key(|p| level_rank(&p.level));
    r.owner_id != actor.person_id && highest.is_some_and(|p| moderates(actor, &p.scope_path))
}

/// The author proposes a new version of a published resource from a completed upload; its
/// number.
pub async fn propose(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    id: i64,
    upload_id: i64,
    input: &ResourceInput,
) -> Result<i64, AppError> {
    let r = resources::store::get(&app.db, id).await?.filter(|r| r.owner_id == actor.person_id).ok_or(AppError::NotFound)?;
    if r.status != "approved" {
        return Err(AppError::invalid("status", "library-error-not-published"));
    }
    check(input)?;
    resources::check_chapter(app, input.chapter_id, &input.stage, &input.subject).await?;
    let mut tx = app.db.begin().await?;
    if store::has_pending(&mut tx, id).await? {
        return Err(AppError::invalid("version", "library-error-version-pending"));
    }
    let (sha, file_name) = resources::take_upload(&mut tx, actor, upload_id).await?;
    let new = store::NewVersion { resource_id: id, input, blob_sha256: &sha, file_name: &file_name, created_by: actor.person_id };
    let (version_id, number) = store::create(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "resource_version_propose", "resource", id, r.title.as_str(), r.unit_path.clone())
            .after(json!({ "version": number, "file": file_name, "sha256": sha, "version_id": version_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// Approves (applying it) or rejects (with a reason the author sees) a pending version.
pub async fn decide(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    version_id: i64,
    decision: Decision,
    reason: &str,
) -> Result<i64, AppError> {
    let v = store::get(&app.db, version_id).await?.ok_or(AppError::NotFound)?;
    let (r, pubs) = resources::visible(app, actor, v.resource_id).await?;
    if !reviews(actor, &r, &pubs) {
        return Err(AppError::Forbidden);
    }
    let reason = reason.trim();
    if decision == Decision::Reject && reason.is_empty() {
        return Err(AppError::invalid("reason", "library-error-reason-required"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::too_long("reason", 500));
    }
    let input = v.proposed().ok_or_else(|| AppError::internal("a stored version's metadata does not parse"))?;
    let mut tx = app.db.begin().await?;
    // Decided by someone else meanwhile: the row is read again inside the transaction.
    let v = store::get_in(&mut tx, version_id).await?.filter(|v| v.status == "pending");
    let Some(v) = v else {
        return Err(AppError::invalid("version", "library-error-not-pending"));
    };
    let reason = Some(reason).filter(|r| !r.is_empty());
    let action = match decision {
        Decision::Approve => {
            let previous = json!({
                "version": r.version, "input": resources::http::input_of(&r), "blob_sha256": r.blob_sha256, "file_name": r.file_name,
            });
            store::decide(&mut tx, version_id, "approved", actor.person_id, reason, Some(&previous.to_string())).await?;
            resources::store::apply_version(&mut tx, r.id, &input, &v.blob_sha256, &v.file_name, v.number).await?;
            "resource_version_approve"
        }
        Decision::Reject => {
            store::decide(&mut tx, version_id, "rejected", actor.person_id, reason, None).await?;
            "resource_version_reject"
        }
    };
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, action, "resource", r.id, r.title.as_str(), r.unit_path.clone())
            .after(json!({ "version": v.number, "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    crate::search::refresh(app, &[r.id]).await?;
    Ok(r.id)
}

/// The pending versions this person reviews, with their resources, oldest first.
pub async fn queue(app: &App, actor: &Actor) -> Result<Vec<(Version, Resource)>, AppError> {
    let mut out = Vec::new();
    for v in store::pending_under(&app.db, &actor.unit_path).await? {
        let Some(r) = resources::store::get(&app.db, v.resource_id).await? else { continue };
        let pubs = resources::store::publications(&app.db, r.id).await?;
        if reviews(actor, &r, &pubs) {
            out.push((v, r));
        }
    }
    Ok(out)
}

/// A version's file may be fetched by its author and its reviewers.
pub async fn file_of(app: &App, actor: &Actor, version_id: i64) -> Result<(Version, Resource), AppError> {
    let v = store::get(&app.db, version_id).await?.ok_or(AppError::NotFound)?;
    let (r, pubs) = resources::visible(app, actor, v.resource_id).await?;
    if r.owner_id != actor.person_id && !reviews(actor, &r, &pubs) {
        return Err(AppError::NotFound);
    }
    Ok((v, r))
}
