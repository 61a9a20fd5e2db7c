//! Resources: metadata, the review that publishes them at a level of the org tree, recommendation
//! up the levels (校→区→市→省), takedown, and who may see what.

pub mod http;
pub mod model;
pub mod store;

use crate::uploads;
use directory::org::store as org;
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Role};
use kernel::web::{RequestMeta, check};
use kernel::{App, AppError};
use model::ResourceInput;
use serde_json::json;
use store::{Publication, Resource};

/// The publication levels, lowest first, with the kind of org unit each is published at.
pub const LEVELS: [(&str, &str); 4] =
    [("school", "school"), ("district", "district"), ("city", "city"), ("province", "province")];

pub(crate) fn level_rank(level: &str) -> usize {
    LEVELS.iter().position(|l| l.0 == level).unwrap_or(0)
}

/// Reviewers and administrators moderate what comes from their part of the tree.
pub fn moderates(actor: &Actor, path: &str) -> bool {
    matches!(actor.role, Role::Reviewer | Role::SchoolAdmin | Role::RegionAdmin) && path.starts_with(&actor.unit_path)
}

/// Whether the actor moderates the resource: a reviewer of its school or of a scope it is
/// published at (they take it down, recommend it, hide comments on it).
pub fn moderates_resource(actor: &Actor, r: &Resource, pubs: &[Publication]) -> bool {
    moderates(actor, &r.unit_path) || pubs.iter().any(|p| p.status == "approved" && moderates(actor, &p.scope_path))
}

/// The one visibility rule: authors see their own; everyone under an approved publication's scope
/// sees an approved resource; moderators see what comes from their subtree or is published there.
pub fn may_view(actor: &Actor, r: &Resource, publications: &[Publication]) -> bool {
    if r.owner_id == actor.person_id || moderates(actor, &r.unit_path) {
        return true;
    }
    if r.status == "taken_down" {
        return false;
    }
    publications.iter().any(|p| match p.status.as_str() {
        "pending" => moderates(actor, &p.scope_path),
        "approved" => r.status == "approved" && (actor.unit_path.starts_with(&p.scope_path) || moderates(actor, &p.scope_path)),
        _ => false,
    })
}

/// A resource the actor may see, with its publications; others' are "not found".
pub async fn visible(app: &App, actor: &Actor, id: i64) -> Result<(Resource, Vec<Publication>), AppError> {
    let r = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let pubs = store::publications(&app.db, id).await?;
    if !may_view(actor, &r, &pubs) {
        return Err(AppError::NotFound);
    }
    Ok((r, pubs))
}

/// Checks what only the database can: the chapter belongs to a textbook of this stage and subject.
/// A chapter, if given, must be of a textbook of the same stage and subject.
pub(crate) async fn check_chapter(app: &App, chapter_id: Option<i64>, stage: &str, subject: &str) -> Result<(), AppError> {
    if let Some(chapter) = chapter_id {
        let node = crate::catalogue::store::node(&app.db, chapter).await?;
        if !node.is_some_and(|n| n.stage == stage && n.subject == subject) {
            return Err(AppError::invalid("chapter_id", "library-error-chapter"));
        }
    }
    Ok(())
}

/// Makes a draft resource of a completed upload of the actor's.
pub async fn create(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    upload_id: i64,
    input: &ResourceInput,
) -> Result<i64, AppError> {
    if !uploads::may_contribute(actor) {
        return Err(AppError::Forbidden);
    }
    check(input)?;
    check_chapter(app, input.chapter_id, &input.stage, &input.subject).await?;
    let mut tx = app.db.begin().await?;
    let (sha, file_name) = take_upload(&mut tx, actor, upload_id).await?;
    let new = store::NewResource {
        input,
        blob_sha256: &sha,
        file_name: &file_name,
        owner_id: actor.person_id,
        unit_id: actor.unit_id,
        unit_path: &actor.unit_path,
    };
    let id = store::create(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "resource_create", "resource", id, input.title.trim(), actor.unit_path.clone())
            .after(json!({ "file": file_name, "sha256": sha })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Takes the actor's completed upload for a resource (or a version of one): its content hash and
/// file name. The upload row goes, so its bytes count once, as the resource's.
pub(crate) async fn take_upload(tx: &mut kernel::db::Tx, actor: &Actor, upload_id: i64) -> Result<(String, String), AppError> {
    let upload = match uploads::store::upload_in(tx, upload_id).await? {
        Some(u) if u.owner_id == actor.person_id => u,
        _ => return Err(AppError::invalid("upload", "library-error-upload-missing")),
    };
    let Some(sha) = upload.blob_sha256.clone().filter(|_| upload.status == "complete") else {
        return Err(AppError::invalid("upload", "library-error-upload-incomplete"));
    };
    tx.execute(kernel::db::sql("DELETE FROM uploads WHERE id = $1").bind(upload_id)).await?;
    Ok((sha, upload.file_name))
}

/// The author edits a draft or a rejected resource; it becomes a draft again.
pub async fn update(app: &App, actor: &Actor, meta: &RequestMeta, id: i64, input: &ResourceInput) -> Result<(), AppError> {
    check(input)?;
    check_chapter(app, input.chapter_id, &input.stage, &input.subject).await?;
    let mut tx = app.db.begin().await?;
    let r = store::get_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if r.owner_id != actor.person_id {
        return Err(AppError::NotFound);
    }
    if !matches!(r.status.as_str(), "draft" | "rejected") {
        return Err(AppError::invalid("status", "library-error-not-editable"));
    }
    store::update(&mut tx, id, input).await?;
    audit::record(&mut tx, &Entry::by(actor, meta, "resource_update", "resource", id, input.title.trim(), r.unit_path)).await?;
    tx.commit().await?;
    Ok(())
}

/// The unit at which a resource from `unit_path` is published at `level`: its school, district …
async fn scope_at(app: &App, unit_id: i64, level: &str) -> Result<Option<directory::org::model::OrgUnit>, AppError> {
    let Some(unit) = org::get(&app.db, unit_id).await? else { return Ok(None) };
    let kind = LEVELS.iter().find(|l| l.0 == level).map(|l| l.1).unwrap_or("");
    if unit.kind == kind {
        return Ok(Some(unit));
    }
    Ok(org::ancestors(&app.db, &unit).await?.into_iter().rev().find(|u| u.kind == kind))
}

/// The author submits a draft for review at `level` (their school's by default).
pub async fn submit(app: &App, actor: &Actor, meta: &RequestMeta, id: i64, level: &str) -> Result<(), AppError> {
    let r = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if r.owner_id != actor.person_id {
        return Err(AppError::NotFound);
    }
    if !matches!(r.status.as_str(), "draft" | "rejected") {
        return Err(AppError::invalid("status", "library-error-not-submittable"));
    }
    let scope = scope_at(app, r.unit_id, level).await?.ok_or_else(|| AppError::invalid("level", "library-error-level"))?;
    let mut tx = app.db.begin().await?;
    store::request_publication(&mut tx, id, level, scope.id, &scope.path, actor.person_id).await?;
    store::set_status(&mut tx, id, "submitted", None).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "resource_submit", "resource", id, r.title.as_str(), r.unit_path.clone())
            .after(json!({ "level": level, "scope": scope.name })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A reviewer's decision on publications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// Decides on several pending publications at once: all are decided, or (one not the actor's to
/// decide, a rejection without a reason) none is. Returns the resources whose visibility changed.
pub async fn decide(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    publication_ids: &[i64],
    decision: Decision,
    reason: &str,
) -> Result<Vec<i64>, AppError> {
    let reason = reason.trim();
    if decision == Decision::Reject && reason.is_empty() {
        return Err(AppError::invalid("reason", "library-error-reason-required"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::too_long("reason", 500));
    }
    if publication_ids.is_empty() {
        return Err(AppError::invalid("publications", "library-error-nothing-selected"));
    }
    let mut tx = app.db.begin().await?;
    let mut changed = Vec::new();
    for &pid in publication_ids {
        let p = store::publication_in(&mut tx, pid).await?.ok_or(AppError::NotFound)?;
        let r = store::get_in(&mut tx, p.resource_id).await?.ok_or(AppError::NotFound)?;
        if !moderates(actor, &p.scope_path) {
            return Err(AppError::Forbidden);
        }
        // Nobody reviews their own work.
        if r.owner_id == actor.person_id || p.requested_by == actor.person_id {
            return Err(AppError::invalid("publications", "library-error-own-review"));
        }
        if p.status != "pending" || r.status == "taken_down" {
            return Err(AppError::invalid("publications", "library-error-not-pending"));
        }
        let approve = decision == Decision::Approve;
        store::decide(
            &mut tx,
            pid,
            if approve { "approved" } else { "rejected" },
            actor.person_id,
            Some(reason).filter(|r| !r.is_empty()),
        )
        .await?;
        let others = store::publications_in(&mut tx, r.id).await?;
        let still_published = others.iter().any(|o| o.status == "approved");
        if approve {
            store::set_status(&mut tx, r.id, "approved", None).await?;
        } else if !still_published {
            store::set_status(&mut tx, r.id, "rejected", Some(reason)).await?;
        } else {
            // A refused recommendation leaves the lower publication as it was.
            store::set_status(&mut tx, r.id, "approved", None).await?;
        }
        let action = if approve { "resource_approve" } else { "resource_reject" };
        audit::record(
            &mut tx,
            &Entry::by(actor, meta, action, "resource", r.id, r.title.as_str(), p.scope_path.clone())
                .after(json!({ "level": p.level, "scope": p.scope_name, "reason": reason })),
        )
        .await?;
        changed.push(r.id);
    }
    tx.commit().await?;
    Ok(changed)
}

/// A moderator of the level where a resource is published asks the next level up to publish it too.
pub async fn recommend(app: &App, actor: &Actor, meta: &RequestMeta, id: i64) -> Result<String, AppError> {
    let r = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let pubs = store::publications(&app.db, id).await?;
    let highest = pubs.iter().filter(|p| p.status == "approved").max_by_key(|p| level_rank(&p.level));
    let Some(highest) = highest.filter(|_| r.status == "approved") else {
        return Err(AppError::invalid("level", "library-error-not-published"));
    };
    if !moderates(actor, &highest.scope_path) {
        return Err(AppError::Forbidden);
    }
    let mut next = None;
    for (level, _) in LEVELS.iter().skip(level_rank(&highest.level) + 1) {
        if let Some(unit) = scope_at(app, r.unit_id, level).await? {
            next = Some((*level, unit));
            break;
        }
    }
    let Some((level, scope)) = next else {
        return Err(AppError::invalid("level", "library-error-top-level"));
    };
    if pubs.iter().any(|p| p.scope_id == scope.id && matches!(p.status.as_str(), "pending" | "approved")) {
        return Err(AppError::invalid("level", "library-error-already-recommended"));
    }
    let mut tx = app.db.begin().await?;
    store::request_publication(&mut tx, id, level, scope.id, &scope.path, actor.person_id).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "resource_recommend", "resource", id, r.title.as_str(), scope.path.clone())
            .after(json!({ "level": level, "scope": scope.name })),
    )
    .await?;
    tx.commit().await?;
    Ok(level.to_string())
}

/// Hides a resource everywhere (a copyright complaint, say), keeping it for audit; the author
/// sees the reason on their uploads.
pub async fn take_down(app: &App, actor: &Actor, meta: &RequestMeta, id: i64, reason: &str) -> Result<(), AppError> {
    let reason = reason.trim();
    let (r, pubs) = visible(app, actor, id).await?;
    if !moderates_resource(actor, &r, &pubs) {
        return Err(AppError::Forbidden);
    }
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "library-error-reason-required"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::too_long("reason", 500));
    }
    if r.status == "taken_down" {
        return Err(AppError::invalid("status", "library-error-taken-down"));
    }
    let mut tx = app.db.begin().await?;
    store::set_status(&mut tx, id, "taken_down", Some(reason)).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "resource_take_down", "resource", id, r.title.as_str(), r.unit_path.clone())
            .before(json!({ "status": r.status }))
            .after(json!({ "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Counts a view or a download, with its activity event.
pub async fn count_use(app: &App, actor: &Actor, id: i64, download: bool) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    store::count_use(&mut tx, id, download).await?;
    kernel::activity::record(&mut tx, actor, if download { "resource_download" } else { "resource_view" }, id).await?;
    tx.commit().await?;
    Ok(())
}
