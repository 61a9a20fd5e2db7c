//! Import jobs: the durable record of each import (options, progress, outcome, problems), the
//! background runner, cancellation, and recovery of jobs a crash interrupted.

use super::{ImportError, Notice, Options, Outcome, Phase, Progress, Request, Who};
use crate::columns::Kind;
use kernel::App;
use kernel::db::{Db, DbError, Dialect, sql};
use kernel::jobs::Live;
use std::path::PathBuf;
use std::sync::Arc;

pub const JOB_KIND: &str = "import";

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub unit_id: i64,
    pub created_by: Option<i64>,
    pub file_name: String,
    #[serde(skip)]
    pub file_path: String,
    pub sheet: Option<String>,
    pub dry_run: bool,
    pub valid_rows_only: bool,
    pub mark_missing_left: bool,
    pub status: String,
    pub phase: String,
    pub total_rows: i64,
    pub error_rows: i64,
    pub progress_done: i64,
    pub progress_total: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub moved: i64,
    pub missing: i64,
    pub marked_left: i64,
    pub notices: String,
    pub failure: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, unit_id, created_by, file_name, file_path, sheet, dry_run, valid_rows_only, mark_missing_left, \
    status, phase, total_rows, error_rows, progress_done, progress_total, created, updated, unchanged, moved, missing, marked_left, \
    notices, failure, created_at, started_at, finished_at";

impl Job {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Students)
    }

    pub fn options(&self) -> Options {
        Options {
            sheet: self.sheet.clone(),
            dry_run: self.dry_run,
            valid_rows_only: self.valid_rows_only,
            mark_missing_left: self.mark_missing_left,
        }
    }

    pub fn notices(&self) -> Vec<Notice> {
        serde_json::from_str(&self.notices).unwrap_or_default()
    }

    pub fn status_key(&self) -> &'static str {
        match self.status.as_str() {
            "queued" => "roster-status-queued",
            "running" => "roster-status-running",
            "done" => "roster-status-done",
            "cancelled" => "roster-status-cancelled",
            _ => "roster-status-failed",
        }
    }

    pub fn phase_key(&self) -> &'static str {
        if self.phase == "applying" { "roster-phase-applying" } else { "roster-phase-validating" }
    }

    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed" | "cancelled")
    }
}

pub struct NewJob<'a> {
    pub kind: Kind,
    pub unit_id: i64,
    pub created_by: Option<i64>,
    pub file_name: &'a str,
    pub file_path: &'a str,
    pub opts: &'a Options,
}

pub async fn create(db: &Db, j: &NewJob<'_>) -> Result<i64, DbError> {
    let mut tx = db.begin().await?;
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO import_jobs (kind, unit_id, created_by, file_name, file_path, sheet, dry_run, valid_rows_only, \
                 mark_missing_left, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10) RETURNING id")
            .bind(j.kind.as_str())
            .bind(j.unit_id)
            .bind(j.created_by)
            .bind(j.file_name)
            .bind(j.file_path)
            .bind(j.opts.sheet.clone())
            .bind(j.opts.dry_run)
            .bind(j.opts.valid_rows_only)
            .bind(j.opts.mark_missing_left)
            .bind(kernel::now()),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Job>, DbError> {
    db.fetch_optional(sql(format!("SELECT {COLUMNS} FROM import_jobs WHERE id = $1")).bind(id)).await
}

/// Recent jobs of units under `path`, newest first.
pub async fn recent(db: &Db, path: &str, limit: i64) -> Result<Vec<Job>, DbError> {
    let (lo, hi) = kernel::db::path_range(path);
    db.fetch_all(
        sql(format!(
            "SELECT {COLUMNS} FROM import_jobs WHERE unit_id IN (SELECT id FROM org_units WHERE path >= $1 AND path < $2) \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(lo)
        .bind(hi)
        .bind(limit),
    )
    .await
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct StoredProblem {
    pub kind: String,
    pub sheet: String,
    pub row_number: i64,
    pub column_name: String,
    pub value: String,
    pub message_key: String,
    pub args: String,
}

impl From<&super::rows::Problem> for StoredProblem {
    fn from(p: &super::rows::Problem) -> StoredProblem {
        let args: serde_json::Map<String, serde_json::Value> =
            p.args.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone()))).collect();
        StoredProblem {
            kind: "error".into(),
            sheet: String::new(),
            row_number: i64::from(p.row),
            column_name: p.column.clone(),
            value: p.value.clone(),
            message_key: p.key.to_string(),
            args: serde_json::Value::Object(args).to_string(),
        }
    }
}

pub async fn problems(db: &Db, job_id: i64, kind: &str, limit: i64) -> Result<Vec<StoredProblem>, DbError> {
    db.fetch_all(
        sql("SELECT kind, sheet, row_number, column_name, value, message_key, args FROM import_problems \
             WHERE job_id = $1 AND kind = $2 ORDER BY id LIMIT $3")
        .bind(job_id)
        .bind(kind)
        .bind(limit),
    )
    .await
}

/// Asks a job to stop; the runner rolls back at its next chunk.
pub async fn cancel(app: &App, id: i64) -> Result<(), DbError> {
    if let Some(live) = app.jobs.get(JOB_KIND, id) {
        live.cancel();
    }
    app.db
        .execute(
            sql("UPDATE import_jobs SET cancel_requested = $1 WHERE id = $2 AND status IN ('queued', 'running')")
                .bind(true)
                .bind(id),
        )
        .await
        .map(|_| ())
}

/// Marks jobs that no process is running any more as failed, so they can be re-run. On SQLite only
/// this process runs jobs, so at start every unfinished job is dead; on PostgreSQL other nodes may
/// be running theirs, so only jobs whose heartbeat stopped count.
pub async fn recover(db: &Db, at_start: bool) -> Result<u64, DbError> {
    let stale_before = if at_start && db.dialect() == Dialect::Sqlite { i64::MAX } else { kernel::now() - 120 };
    db.execute(
        sql(
            "UPDATE import_jobs SET status = 'failed', phase = 'finished', failure = 'roster-job-interrupted', finished_at = $1 \
             WHERE status IN ('queued', 'running') AND COALESCE(heartbeat_at, created_at) < $2",
        )
        .bind(kernel::now())
        .bind(stale_before),
    )
    .await
}

struct JobProgress {
    live: Arc<Live>,
}

impl Progress for JobProgress {
    fn update(&self, phase: Phase, done: u64, total: u64) {
        self.live.set(phase as u8, done, total);
    }

    fn cancelled(&self) -> bool {
        self.live.cancelled()
    }
}

/// Starts the job in the background. Its file must already be stored at `file_path`.
pub fn spawn(app: App, job: Job, scope_path: String, who: Who) {
    let live = app.jobs.start(JOB_KIND, job.id);
    tokio::spawn(async move {
        let heartbeat = tokio::spawn(heartbeat(app.clone(), job.id, live.clone()));
        let result = run_job(&app, &job, &scope_path, &who, live.clone()).await;
        heartbeat.abort();
        if let Err(e) = finish(&app.db, job.id, result).await {
            tracing::error!(job = job.id, error = %e, "could not record the end of an import job");
        }
        app.jobs.finish(JOB_KIND, job.id);
    });
}

async fn run_job(app: &App, job: &Job, scope_path: &str, who: &Who, live: Arc<Live>) -> Result<Outcome, ImportError> {
    let _slot = app.import_slot.acquire().await.map_err(|_| ImportError::Cancelled)?;
    if live.cancelled() {
        return Err(ImportError::Cancelled);
    }
    app.db
        .execute(
            sql("UPDATE import_jobs SET status = 'running', started_at = $1, heartbeat_at = $1 WHERE id = $2")
                .bind(kernel::now())
                .bind(job.id),
        )
        .await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = directory::calendar::store::school_year(&app.db, today).await?;
    let opts = job.options();
    let file = PathBuf::from(&job.file_path);
    let req = Request { kind: job.kind(), file: &file, scope_path, school_year, today, who, opts: &opts };
    super::run(&app.db, &req, &JobProgress { live }).await
}

/// Every second: progress to the database (for other nodes and reloads) and cancellation from it.
/// While SQLite's write lock is the job's own, the write waits for the next tick instead.
async fn heartbeat(app: App, id: i64, live: Arc<Live>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        let s = live.snapshot();
        let applying_on_sqlite = s.phase == Phase::Applying as u8 && app.db.dialect() == Dialect::Sqlite;
        if !applying_on_sqlite {
            let phase = if s.phase == Phase::Applying as u8 { "applying" } else { "validating" };
            let _ = app
                .db
                .execute(
                    sql("UPDATE import_jobs SET phase = $1, progress_done = $2, progress_total = $3, heartbeat_at = $4 \
                         WHERE id = $5 AND status = 'running'")
                    .bind(phase)
                    .bind(s.done as i64)
                    .bind(s.total as i64)
                    .bind(kernel::now())
                    .bind(id),
                )
                .await;
        }
        if let Ok(Some((true,))) =
            app.db.fetch_optional::<(bool,)>(sql("SELECT cancel_requested FROM import_jobs WHERE id = $1").bind(id)).await
        {
            live.cancel();
        }
    }
}

/// Records how the job ended, with its problems, in one transaction.
async fn finish(db: &Db, id: i64, result: Result<Outcome, ImportError>) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    let now = kernel::now();
    match result {
        Ok(out) => {
            let status = if out.rejected { "failed" } else { "done" };
            tx.execute(
                sql("UPDATE import_jobs SET status = $1, phase = 'finished', total_rows = $2, error_rows = $3, created = $4, \
                     updated = $5, unchanged = $6, moved = $7, missing = $8, marked_left = $9, notices = $10, \
                     failure = $11, finished_at = $12, progress_done = progress_total WHERE id = $13")
                .bind(status)
                .bind(out.total_rows as i64)
                .bind(out.error_rows as i64)
                .bind(out.counts.created)
                .bind(out.counts.updated)
                .bind(out.counts.unchanged)
                .bind(out.counts.moved)
                .bind(out.counts.missing)
                .bind(out.counts.marked_left)
                .bind(serde_json::to_string(&out.notices).unwrap_or_else(|_| "[]".into()))
                .bind(out.rejected.then_some("roster-job-rejected"))
                .bind(now)
                .bind(id),
            )
            .await?;
            for (kind, list) in [("error", &out.problems), ("missing", &out.missing)] {
                for batch in list.chunks(500) {
                    let q = sql(format!(
                        "INSERT INTO import_problems (job_id, kind, sheet, row_number, column_name, value, message_key, args) VALUES {}",
                        kernel::db::values(batch.len(), 8, 1)
                    ));
                    let q = batch.iter().map(StoredProblem::from).fold(q, |q, p| {
                        q.bind(id)
                            .bind(kind)
                            .bind(p.sheet)
                            .bind(p.row_number)
                            .bind(p.column_name)
                            .bind(p.value)
                            .bind(p.message_key)
                            .bind(p.args)
                    });
                    tx.execute(q).await?;
                }
            }
        }
        Err(e) => {
            let (status, failure) = match &e {
                ImportError::Cancelled => ("cancelled", "roster-job-cancelled".to_string()),
                ImportError::Source(super::source::SourceError::NoHeader { .. }) => ("failed", "roster-job-no-header".into()),
                ImportError::Source(super::source::SourceError::Sheet(s)) => ("failed", super::report::sheet_error_key(s).into()),
                ImportError::Db(d) => {
                    tracing::error!(job = id, error = %d, "import failed on the database");
                    ("failed", "roster-job-database".into())
                }
            };
            let detail = match &e {
                ImportError::Source(super::source::SourceError::NoHeader { found }) => found.join("、"),
                ImportError::Source(super::source::SourceError::Sheet(sheet::SheetError::SheetNotFound {
                    available, ..
                })) => available.join("、"),
                _ => String::new(),
            };
            tx.execute(
                sql("UPDATE import_jobs SET status = $1, phase = 'finished', failure = $2, notices = $3, finished_at = $4 WHERE id = $5")
                    .bind(status)
                    .bind(failure)
                    .bind(serde_json::to_string(&[Notice { key: "roster-failure-detail".into(), args: vec![("detail".into(), detail)] }]).unwrap_or_default())
                    .bind(now)
                    .bind(id),
            )
            .await?;
        }
    }
    tx.commit().await
}
