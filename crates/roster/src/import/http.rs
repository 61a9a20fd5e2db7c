//! Import pages and API: upload a file, follow the job's progress, read its problems, download the
//! error report or a template, cancel or re-run.

use super::job::{self, JOB_KIND, Job, NewJob, StoredProblem};
use super::{Options, Who, report};
use crate::columns::Kind;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::{Actor, Capability, Role, Target, permits};
use kernel::upload::Upload;
use kernel::web::{CsrfForm, PageContext, RequestMeta};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/roster", get(hub_page))
        .route("/roster/templates/{kind}", get(template_download))
        .route("/roster/imports", post(upload_submit))
        .route("/roster/imports/{id}", get(job_page))
        .route("/roster/imports/{id}/report", get(report_download))
        .route("/roster/imports/{id}/cancel", post(cancel_submit))
        .route("/roster/imports/{id}/rerun", post(rerun_submit))
        .route("/api/v1/imports", post(api_upload))
        .route("/api/v1/imports/{id}", get(api_job))
        .route("/api/v1/imports/{id}/problems", get(api_problems))
        .route("/api/v1/imports/{id}/cancel", post(api_cancel))
        // Uploads stream to disk; the extractor enforces max_upload_mb itself.
        .layer(DefaultBodyLimit::disable())
}

/// Only administrators import, into the subtree they administer.
pub fn may_import(actor: &Actor) -> bool {
    matches!(actor.role, Role::RegionAdmin | Role::SchoolAdmin)
        && permits(actor, Capability::Manage, Target::Unit { path: &actor.unit_path })
}

async fn visible_job(app: &App, actor: &Actor, id: i64) -> Result<Job, AppError> {
    let job = job::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let unit = directory::org::store::get(&app.db, job.unit_id).await?.ok_or(AppError::NotFound)?;
    if !may_import(actor) || !permits(actor, Capability::Manage, Target::Unit { path: &unit.path }) {
        return Err(AppError::Forbidden);
    }
    Ok(job)
}

fn who(actor: &Actor, meta: &RequestMeta) -> Who {
    Who { actor_id: Some(actor.person_id), actor_name: actor.name.clone(), ip: meta.ip.clone() }
}

/// Stores the uploaded file with the job and starts it.
async fn start(app: &App, actor: &Actor, meta: &RequestMeta, upload: Upload) -> Result<i64, AppError> {
    if !may_import(actor) {
        return Err(AppError::Forbidden);
    }
    let kind = Kind::parse(upload.field("kind")).ok_or_else(|| AppError::invalid("kind", "roster-error-kind"))?;
    let sheet = Some(upload.field("sheet").trim().to_string()).filter(|s| !s.is_empty());
    let opts = Options {
        sheet,
        dry_run: upload.checked("dry_run"),
        valid_rows_only: upload.checked("valid_rows_only"),
        mark_missing_left: upload.checked("mark_missing_left"),
    };
    let name: String = upload.file_name.chars().filter(|c| !c.is_control()).take(120).collect();
    let stored = app.config.data_dir.join("imports").join(format!("{}-{}", kernel::now(), kernel::secret::random_token(9)));
    let stored_text = stored.to_string_lossy().to_string();
    upload.keep(&stored).await.map_err(AppError::internal)?;
    let id = job::create(
        &app.db,
        &NewJob {
            kind,
            unit_id: actor.unit_id,
            created_by: Some(actor.person_id),
            file_name: &name,
            file_path: &stored_text,
            opts: &opts,
        },
    )
    .await?;
    let job = job::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    job::spawn(app.clone(), job, actor.unit_path.clone(), who(actor, meta));
    Ok(id)
}

#[derive(Template)]
#[template(path = "roster.html")]
struct HubPage<'a> {
    ctx: &'a PageContext,
    kinds: Vec<(&'static str, String)>,
    jobs: Vec<Job>,
    may_import: bool,
}

async fn hub_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    let may = may_import(&actor);
    let visible = may || matches!(actor.role, Role::Researcher | Role::Reviewer | Role::Auditor);
    if !visible {
        return Err(AppError::Forbidden);
    }
    let jobs = if may { job::recent(&app.db, &actor.unit_path, 20).await? } else { vec![] };
    let kinds = Kind::ALL.iter().map(|k| (k.as_str(), ctx.t(k.label_key()))).collect();
    let page = HubPage { ctx: &ctx, kinds, jobs, may_import: may };
    Ok(ctx.render(&ctx.t("roster-title"), &page)?.into_response())
}

pub(crate) fn xlsx(file_name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}.xlsx\"; filename*=UTF-8''{}.xlsx",
        file_name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        kernel::web::urlencode(file_name)
    );
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

async fn template_download(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(kind): Path<String>,
) -> Result<Response, AppError> {
    if !may_import(&actor) {
        return Err(AppError::Forbidden);
    }
    let kind = Kind::parse(kind.trim_end_matches(".xlsx")).ok_or(AppError::NotFound)?;
    let bytes = report::template(kind, &app.i18n, ctx.locale).map_err(AppError::internal)?;
    let name = ctx.t_args("roster-template-file", &[("kind", ctx.t(kind.label_key()))]);
    Ok(xlsx(&name, bytes))
}

async fn upload_submit(State(app): State<App>, actor: Actor, meta: RequestMeta, upload: Upload) -> Result<Response, AppError> {
    let id = start(&app, &actor, &meta, upload).await?;
    Ok(Redirect::to(&format!("/roster/imports/{id}")).into_response())
}

/// A problem as shown: where, what, why (in the reader's language).
#[derive(serde::Serialize)]
pub struct ShownProblem {
    pub row: i64,
    pub column: String,
    pub value: String,
    pub message: String,
}

fn shown(ctx_i18n: &kernel::i18n::I18n, locale: kernel::i18n::Locale, list: Vec<StoredProblem>) -> Vec<ShownProblem> {
    list.into_iter()
        .map(|p| ShownProblem {
            row: p.row_number,
            column: p.column_name.clone(),
            value: p.value.clone(),
            message: report::message(ctx_i18n, locale, &p),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage<'a> {
    ctx: &'a PageContext,
    job: Job,
    kind_label: String,
    notices: Vec<String>,
    failure: Option<String>,
    problems: Vec<ShownProblem>,
    missing: Vec<ShownProblem>,
}

const SHOWN_PROBLEMS: i64 = 500;

fn notices(ctx: &PageContext, job: &Job) -> Vec<String> {
    job.notices()
        .iter()
        .filter(|n| n.key != "roster-failure-detail")
        .map(|n| {
            let args: Vec<(&str, String)> = n.args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            ctx.t_args(&n.key, &args)
        })
        .collect()
}

fn failure(ctx: &PageContext, job: &Job) -> Option<String> {
    let key = job.failure.as_deref()?;
    let detail =
        job.notices().into_iter().find(|n| n.key == "roster-failure-detail").and_then(|n| n.args.into_iter().next()).map(|a| a.1);
    Some(ctx.t_args(key, &[("detail", detail.unwrap_or_default()), ("rows", job.error_rows.to_string())]))
}

async fn job_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    let job = visible_job(&app, &actor, id).await?;
    let problems = shown(&app.i18n, ctx.locale, job::problems(&app.db, id, "error", SHOWN_PROBLEMS).await?);
    let missing = shown(&app.i18n, ctx.locale, job::problems(&app.db, id, "missing", SHOWN_PROBLEMS).await?);
    let page = JobPage {
        ctx: &ctx,
        kind_label: ctx.t(job.kind().label_key()),
        notices: notices(&ctx, &job),
        failure: failure(&ctx, &job),
        job,
        problems,
        missing,
    };
    Ok(ctx.render(&ctx.t("roster-job-title"), &page)?.into_response())
}

async fn report_download(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let job = visible_job(&app, &actor, id).await?;
    let problems = job::problems(&app.db, id, "error", super::MAX_PROBLEMS as i64).await?;
    let (file, kind, sheet) = (std::path::PathBuf::from(&job.file_path), job.kind(), job.sheet.clone());
    let (i18n, locale) = (app.i18n.clone(), ctx.locale);
    let bytes =
        tokio::task::spawn_blocking(move || report::error_report(&file, kind, sheet.as_deref(), &problems, &i18n, locale))
            .await
            .map_err(AppError::internal)?
            .map_err(|e| AppError::invalid("file", report::sheet_error_key(&e)))?;
    Ok(xlsx(&ctx.t_args("roster-report-file", &[("id", id.to_string())]), bytes))
}

#[derive(Deserialize)]
struct RerunInput {
    #[serde(default)]
    mode: String,
}

async fn cancel_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<RerunInput>,
) -> Result<Response, AppError> {
    visible_job(&app, &actor, id).await?;
    job::cancel(&app, id).await?;
    Ok(Redirect::to(&format!("/roster/imports/{id}")).into_response())
}

/// Runs a finished job's file again: as it was, with the valid rows only, or for real after a dry run.
async fn rerun_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<RerunInput>,
) -> Result<Response, AppError> {
    let old = visible_job(&app, &actor, id).await?;
    if !old.finished() {
        return Err(AppError::invalid("job", "roster-error-job-running"));
    }
    let mut opts = old.options();
    match input.mode.as_str() {
        "valid_rows_only" => opts.valid_rows_only = true,
        "apply" => opts.dry_run = false,
        _ => {}
    }
    let new_id = job::create(
        &app.db,
        &NewJob {
            kind: old.kind(),
            unit_id: old.unit_id,
            created_by: Some(actor.person_id),
            file_name: &old.file_name,
            file_path: &old.file_path,
            opts: &opts,
        },
    )
    .await?;
    let unit = directory::org::store::get(&app.db, old.unit_id).await?.ok_or(AppError::NotFound)?;
    let job = job::get(&app.db, new_id).await?.ok_or(AppError::NotFound)?;
    job::spawn(app.clone(), job, unit.path, who(&actor, &meta));
    Ok(Redirect::to(&format!("/roster/imports/{new_id}")).into_response())
}

fn job_json(app: &App, locale: kernel::i18n::Locale, job: &Job) -> serde_json::Value {
    let live = app.jobs.get(JOB_KIND, job.id).map(|l| l.snapshot());
    let (done, total, rate, eta) = match live {
        Some(s) => (s.done as i64, s.total as i64, s.rate, s.eta_seconds),
        None => (job.progress_done, job.progress_total, 0.0, None),
    };
    let phase = match live.map(|s| s.phase) {
        Some(2) => "applying",
        Some(1) => "validating",
        _ => job.phase.as_str(),
    };
    let failure = job
        .failure
        .as_deref()
        .map(|k| app.i18n.t_args(locale, k, &[("detail", String::new()), ("rows", job.error_rows.to_string())]));
    json!({
        "id": job.id, "kind": job.kind, "file_name": job.file_name, "status": job.status, "phase": phase,
        "dry_run": job.dry_run, "valid_rows_only": job.valid_rows_only, "mark_missing_left": job.mark_missing_left,
        "progress": { "done": done, "total": total, "rows_per_second": rate, "eta_seconds": eta },
        "total_rows": job.total_rows, "error_rows": job.error_rows,
        "counts": { "created": job.created, "updated": job.updated, "unchanged": job.unchanged, "moved": job.moved,
                    "missing": job.missing, "marked_left": job.marked_left },
        "failure": failure, "created_at": job.created_at, "finished_at": job.finished_at,
    })
}

#[utoipa::path(post, path = "/api/v1/imports", tag = "roster", summary = "Upload a roster file and start its import",
    request_body(content = inline(serde_json::Value), content_type = "multipart/form-data", description = "fields: kind (schools, classes, teachers, students, parents, headcounts), file, optional sheet, dry_run, valid_rows_only, mark_missing_left (true/false); _csrf for session users"),
    responses((status = 202, description = "job started: {id}"), (status = 401, description = "not signed in"), (status = 403, description = "not an administrator"), (status = 413, description = "file too large"), (status = 422, description = "invalid input")))]
pub(crate) async fn api_upload(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    upload: Upload,
) -> Result<Response, AppError> {
    let id = start(&app, &actor, &meta, upload).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "roster", summary = "An import job: status, live progress and counts",
    params(("id" = i64, Path, description = "record id")),
    responses((status = 200, description = "the job"), (status = 401, description = "not signed in"), (status = 403, description = "outside your scope"), (status = 404, description = "no such record")))]
pub(crate) async fn api_job(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let job = visible_job(&app, &actor, id).await?;
    Ok(Json(job_json(&app, ctx.locale, &job)))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/problems", tag = "roster", summary = "The rows an import rejected (sheet row, column, value, reason) and the people missing from the file",
    params(("id" = i64, Path, description = "record id")),
    responses((status = 200, description = "errors and missing"), (status = 401, description = "not signed in"), (status = 403, description = "outside your scope"), (status = 404, description = "no such record")))]
pub(crate) async fn api_problems(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    visible_job(&app, &actor, id).await?;
    let errors = shown(&app.i18n, ctx.locale, job::problems(&app.db, id, "error", super::MAX_PROBLEMS as i64).await?);
    let missing = shown(&app.i18n, ctx.locale, job::problems(&app.db, id, "missing", super::MAX_PROBLEMS as i64).await?);
    Ok(Json(json!({ "errors": errors, "missing": missing })))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/cancel", tag = "roster", summary = "Cancel a running import; nothing of it is kept",
    params(("id" = i64, Path, description = "record id")),
    responses((status = 202, description = "cancellation requested"), (status = 401, description = "not signed in"), (status = 403, description = "outside your scope"), (status = 404, description = "no such record")))]
pub(crate) async fn api_cancel(State(app): State<App>, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    visible_job(&app, &actor, id).await?;
    if actor.credential == (kernel::auth::Credential::Token { write: false }) {
        return Err(AppError::Forbidden);
    }
    job::cancel(&app, id).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
