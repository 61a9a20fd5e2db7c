//! The records OAI-PMH shows: resources published region-wide (at the top of the org tree), and
//! those of them since taken down, which stay as deleted records.

use crate::resources::store::{RESOURCE, Resource};
use kernel::db::{Db, DbError, path_range, sql};

/// What a list request selects: a set, a datestamp window (milliseconds, both ends included), and
/// where the previous page stopped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub set: Option<Set>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub after_id: i64,
}

/// The two set hierarchies: org units (`unit:1:5:23`, a unit and everything under it) and
/// subjects (`subject:math`).
#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    Unit(Vec<i64>),
    Subject(String),
}

impl Set {
    pub fn parse(spec: &str) -> Option<Set> {
        if let Some(ids) = spec.strip_prefix("unit:") {
            let ids: Option<Vec<i64>> = ids.split(':').map(|p| p.parse().ok()).collect();
            return ids.filter(|v| !v.is_empty()).map(Set::Unit);
        }
        let code = spec.strip_prefix("subject:")?;
        crate::vocab::find(crate::vocab::SUBJECTS, code).map(|t| Set::Subject(t.code.to_string()))
    }

    pub fn spec(&self) -> String {
        match self {
            Set::Unit(ids) => format!("unit:{}", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(":")),
            Set::Subject(code) => format!("subject:{code}"),
        }
    }

    /// The set of a unit path such as `/1/5/23/`.
    pub fn of_path(path: &str) -> Set {
        Set::Unit(path.split('/').filter_map(|p| p.parse().ok()).collect())
    }
}

/// Resources with an approved publication at a top unit of the tree, made here: records harvested
/// from elsewhere are not passed on, or two platforms harvesting each other would copy each
/// other's copies back and forth.
const PUBLIC: &str = "r.source_identifier IS NULL AND EXISTS (SELECT 1 FROM publications pb JOIN org_units top ON top.id = pb.scope_id \
    WHERE pb.resource_id = r.id AND pb.status = 'approved' AND top.parent_id IS NULL)";

fn filtered(select: &str, s: &Selection) -> kernel::db::Query {
    let mut text = format!("{select} WHERE {PUBLIC} AND r.id > $1 AND r.changed_ms >= $2 AND r.changed_ms <= $3");
    let (set_path, subject) = match &s.set {
        Some(Set::Unit(ids)) => (Some(format!("/{}/", ids.iter().map(i64::to_string).collect::<Vec<_>>().join("/"))), None),
        Some(Set::Subject(code)) => (None, Some(code.clone())),
        None => (None, None),
    };
    if set_path.is_some() {
        text.push_str(" AND r.unit_path >= $4 AND r.unit_path < $5");
    }
    if subject.is_some() {
        text.push_str(" AND r.subject = $4");
    }
    let mut q = sql(text).bind(s.after_id).bind(s.from_ms.unwrap_or(i64::MIN)).bind(s.until_ms.unwrap_or(i64::MAX));
    if let Some(path) = set_path {
        let (lo, hi) = path_range(&path);
        q = q.bind(lo).bind(hi);
    }
    if let Some(code) = subject {
        q = q.bind(code);
    }
    q
}

/// One page of records in id order, and whether more follow.
pub async fn page(db: &Db, s: &Selection, limit: u32) -> Result<(Vec<Resource>, bool), DbError> {
    let q = filtered(RESOURCE, s).append(&format!(" ORDER BY r.id LIMIT {}", limit + 1));
    let mut rows: Vec<Resource> = db.fetch_all(q).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// How many records the whole selection (ignoring `after_id`) holds, and how many come before
/// `after_id`: the completeListSize and cursor of a resumption token.
pub async fn counts(db: &Db, s: &Selection) -> Result<(i64, i64), DbError> {
    let whole = Selection { after_id: 0, ..s.clone() };
    let (total,): (i64,) = db.fetch_one(filtered("SELECT COUNT(*) FROM resources r", &whole)).await?;
    let (after,): (i64,) = db.fetch_one(filtered("SELECT COUNT(*) FROM resources r", s)).await?;
    Ok((total, total - after))
}

/// A public (or once public) resource by id.
pub async fn record(db: &Db, id: i64) -> Result<Option<Resource>, DbError> {
    db.fetch_optional(sql(format!("{RESOURCE} WHERE {PUBLIC} AND r.id = $1")).bind(id)).await
}

/// The oldest datestamp of any record, in milliseconds.
pub async fn earliest(db: &Db) -> Result<Option<i64>, DbError> {
    let (ms,): (Option<i64>,) = db.fetch_one(sql(format!("SELECT MIN(r.changed_ms) FROM resources r WHERE {PUBLIC}"))).await?;
    Ok(ms)
}

/// The units that own records (with the units above them) and the subjects records are in.
pub async fn sets(db: &Db) -> Result<(Vec<String>, Vec<String>), DbError> {
    let paths: Vec<(String,)> =
        db.fetch_all(sql(format!("SELECT DISTINCT r.unit_path FROM resources r WHERE {PUBLIC} ORDER BY r.unit_path"))).await?;
    let subjects: Vec<(String,)> =
        db.fetch_all(sql(format!("SELECT DISTINCT r.subject FROM resources r WHERE {PUBLIC} ORDER BY r.subject"))).await?;
    Ok((paths.into_iter().map(|p| p.0).collect(), subjects.into_iter().map(|s| s.0).collect()))
}
