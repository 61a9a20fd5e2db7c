//! Import of roster files: read and check every row (pass one, no writes), then, only if nothing
//! failed or the user chose to import the valid rows only, apply all rows in one transaction
//! (pass two). Cancelling or any failure rolls the whole import back.

pub mod apply;
pub mod check;
pub mod http;
pub mod job;
pub mod refs;
pub mod report;
pub mod rows;
pub mod source;

use crate::columns::Kind;
use apply::{Applier, Counts};
use check::Checker;
use kernel::db::{Db, DbError};
use rows::Problem;
use source::{Header, Item, SourceError};
use std::collections::HashSet;
use std::path::Path;

/// Problems kept per job (the count is always exact); enough to fix a file, small enough to store.
pub const MAX_PROBLEMS: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub sheet: Option<String>,
    pub dry_run: bool,
    pub valid_rows_only: bool,
    pub mark_missing_left: bool,
}

/// Who runs the import, for the audit log: a signed-in admin or the command line.
#[derive(Debug, Clone)]
pub struct Who {
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub ip: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Validating = 1,
    Applying = 2,
}

/// What the job reports as it goes; `cancelled` is asked between chunks.
pub trait Progress: Send + Sync {
    fn update(&self, phase: Phase, done: u64, total: u64);
    fn cancelled(&self) -> bool;
}

/// A notice that is not an error: what was detected or ignored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Notice {
    pub key: String,
    pub args: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub total_rows: u64,
    pub error_rows: u64,
    pub counts: Counts,
    /// Row problems, at most MAX_PROBLEMS, in file order.
    pub problems: Vec<Problem>,
    /// People missing from a full-school file, at most MAX_PROBLEMS.
    pub missing: Vec<Problem>,
    pub notices: Vec<Notice>,
    /// Whether the changes were committed (false for a dry run or a rejected file).
    pub applied: bool,
    /// Rows failed and the user did not choose to import the valid rows only: nothing was written.
    pub rejected: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cancelled")]
    Cancelled,
}

fn notices(header: &Header) -> Vec<Notice> {
    let mut out = vec![Notice { key: "roster-notice-encoding".into(), args: vec![("encoding".into(), header.encoding.into())] }];
    if !header.sheet.is_empty() {
        out.push(Notice { key: "roster-notice-sheet".into(), args: vec![("sheet".into(), header.sheet.clone())] });
    }
    out.push(Notice { key: "roster-notice-header-row".into(), args: vec![("row".into(), header.map.row.to_string())] });
    if !header.map.ignored.is_empty() {
        out.push(Notice { key: "roster-notice-ignored".into(), args: vec![("columns".into(), header.map.ignored.join("、"))] });
    }
    out
}

/// PostgreSQL plans by table statistics, which autovacuum cannot gather from rows a still-open
/// transaction inserted: a large import would run its lookups and the roster figures with plans
/// made for empty tables (seconds per school instead of milliseconds). ANALYZE inside the
/// transaction sees its own rows; it runs as the tables grow (after 1, 2, 4, 8 … chunks).
async fn refresh_statistics(tx: &mut kernel::db::Tx) -> Result<(), DbError> {
    if tx.dialect() == kernel::db::Dialect::Postgres {
        tx.execute(kernel::db::sql("ANALYZE people, role_assignments, guardianships, classes, org_units")).await?;
    }
    Ok(())
}

/// One import to run: what, from which file, into which subtree, by whom.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub kind: Kind,
    pub file: &'a Path,
    pub scope_path: &'a str,
    pub school_year: i64,
    pub today: time::Date,
    pub who: &'a Who,
    pub opts: &'a Options,
}

/// Runs an import of `file` into the subtree at `scope_path`.
pub async fn run(db: &Db, req: &Request<'_>, progress: &dyn Progress) -> Result<Outcome, ImportError> {
    let Request { kind, file, scope_path, school_year, today, who, opts } = *req;
    let started = std::time::Instant::now();
    let mut out = Outcome::default();
    let refs = refs::Refs::load(db, scope_path, school_year).await?;
    let mut checker = Checker::new(refs);
    let mut error_rows: HashSet<u32> = HashSet::new();
    let mut rx = source::stream(file.to_path_buf(), kind, opts.sheet.clone());
    let mut header = None;
    while let Some(item) = rx.recv().await {
        match item? {
            Item::Header(h) => {
                out.notices = notices(&h);
                header = Some(h);
            }
            Item::Chunk(chunk) => {
                let Some(h) = &header else { continue };
                let mut problems = chunk.problems;
                problems.extend(checker.check(db, &h.map, &chunk.rows).await?);
                out.total_rows += chunk.rows.len() as u64;
                for p in problems {
                    if error_rows.insert(p.row) && !chunk.rows.iter().any(|(n, _)| *n == p.row) {
                        out.total_rows += 1; // a row that failed to parse
                    }
                    if out.problems.len() < MAX_PROBLEMS {
                        out.problems.push(p);
                    }
                }
                progress.update(Phase::Validating, chunk.read.0, chunk.read.1);
                if progress.cancelled() {
                    return Err(ImportError::Cancelled);
                }
            }
        }
    }
    out.problems.sort_by_key(|p| p.row);
    out.error_rows = error_rows.len() as u64;
    tracing::info!(
        kind = kind.as_str(),
        rows = out.total_rows,
        errors = out.error_rows,
        seconds = started.elapsed().as_secs_f64(),
        "import checked"
    );
    if out.error_rows > 0 && !opts.valid_rows_only {
        out.rejected = true;
        return Ok(out);
    }

    let valid = out.total_rows - out.error_rows;
    let mut applier = Applier::new(checker.into_refs(), today);
    let mut tx = db.begin().await?;
    let (mut done, mut chunks) = (0u64, 0u64);
    let mut rx = source::stream(file.to_path_buf(), kind, opts.sheet.clone());
    while let Some(item) = rx.recv().await {
        if let Item::Chunk(chunk) = item? {
            let rows: Vec<_> = chunk.rows.into_iter().filter(|(n, _)| !error_rows.contains(n)).collect();
            applier.apply(&mut tx, &rows).await?;
            done += rows.len() as u64;
            chunks += 1;
            if chunks.is_power_of_two() {
                refresh_statistics(&mut tx).await?;
            }
            progress.update(Phase::Applying, done, valid);
            if progress.cancelled() {
                return Err(ImportError::Cancelled); // dropping the transaction rolls it back
            }
        }
    }
    let missing_role = match kind {
        Kind::Teachers => Some(("teacher", "staff_number")),
        Kind::Students => Some(("student", "student_number")),
        _ => None,
    };
    if let Some((role, key)) = missing_role {
        let mut missing = applier.missing(&mut tx, role, key, opts.mark_missing_left).await?;
        missing.truncate(MAX_PROBLEMS);
        out.missing = missing;
    }
    tracing::info!(kind = kind.as_str(), rows = done, seconds = started.elapsed().as_secs_f64(), "import written");
    refresh_statistics(&mut tx).await?;
    let schools: Vec<i64> = applier.schools_changed.iter().copied().collect();
    directory::org::counts::refresh(&mut tx, &schools, school_year).await?;
    out.counts = applier.counts;
    let entry = kernel::audit::Entry {
        actor_id: who.actor_id,
        actor_name: who.actor_name.clone(),
        ip: who.ip.clone(),
        action: "roster_import",
        outcome: kernel::audit::Outcome::Success,
        target_type: "import",
        target_id: None,
        target_name: format!(
            "{} {}",
            kind.as_str(),
            file.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default()
        ),
        scope_path: scope_path.to_string(),
        before: None,
        after: Some(serde_json::json!({ "counts": out.counts, "rows": out.total_rows, "error_rows": out.error_rows })),
    };
    if opts.dry_run {
        drop(tx); // a dry run shows exactly what would change, then rolls back
    } else {
        kernel::audit::record(&mut tx, &entry).await?;
        tx.commit().await?;
        out.applied = true;
    }
    Ok(out)
}
