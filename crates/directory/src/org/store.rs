//! Storage of org units. Paths are materialised (`/1/5/23/`) so a subtree is one range scan.

use super::model::{OrgUnit, UnitInput, UnitKind};
use crate::codes;
use kernel::db::{Db, DbError, Tx, path_range, sql, sql_in};

const COLUMNS: &str = "id, parent_id, kind, name, code, school_type, urban_rural, stages, path, depth, created_at, updated_at";

pub async fn get(db: &Db, id: i64) -> Result<Option<OrgUnit>, DbError> {
    db.fetch_optional(sql(format!("SELECT {COLUMNS} FROM org_units WHERE id = $1")).bind(id)).await
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<OrgUnit>, DbError> {
    tx.fetch_optional(sql(format!("SELECT {COLUMNS} FROM org_units WHERE id = $1")).bind(id)).await
}

pub async fn by_code(db: &Db, code: &str) -> Result<Option<OrgUnit>, DbError> {
    db.fetch_optional(sql(format!("SELECT {COLUMNS} FROM org_units WHERE code = $1")).bind(code)).await
}

pub async fn children(db: &Db, parent_id: i64) -> Result<Vec<OrgUnit>, DbError> {
    db.fetch_all(sql(format!("SELECT {COLUMNS} FROM org_units WHERE parent_id = $1 ORDER BY kind, name")).bind(parent_id)).await
}

pub async fn roots(db: &Db) -> Result<Vec<OrgUnit>, DbError> {
    db.fetch_all(sql(format!("SELECT {COLUMNS} FROM org_units WHERE parent_id IS NULL ORDER BY name"))).await
}

/// The names of units by id (unknown ids are left out).
pub async fn names(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    db.fetch_all(sql_in(db.dialect(), "SELECT id, name FROM org_units WHERE id", ids.iter().copied())).await
}

/// Every unit under `path` (itself included), in tree order.
pub async fn subtree(db: &Db, path: &str) -> Result<Vec<OrgUnit>, DbError> {
    let (lo, hi) = path_range(path);
    db.fetch_all(sql(format!("SELECT {COLUMNS} FROM org_units WHERE path >= $1 AND path < $2 ORDER BY path")).bind(lo).bind(hi))
        .await
}

/// The units on the way from the root down to `unit` (itself excluded), for breadcrumbs.
pub async fn ancestors(db: &Db, unit: &OrgUnit) -> Result<Vec<OrgUnit>, DbError> {
    let ids: Vec<String> = unit.path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let mut out = Vec::new();
    for id in ids.iter().take(ids.len().saturating_sub(1)) {
        if let Some(u) = get(db, id.parse().unwrap_or(0)).await? {
            out.push(u);
        }
    }
    Ok(out)
}

/// Creates a unit under `parent` (None only for the root). The input must be validated.
pub async fn create(tx: &mut Tx, parent: Option<&OrgUnit>, input: &UnitInput) -> Result<i64, DbError> {
    let now = kernel::now();
    let kind = UnitKind::parse(&input.kind).unwrap_or(UnitKind::Office);
    let stages = if kind.is_school() { codes::stages_of_school_type(&input.school_type).join(",") } else { String::new() };
    let placeholder = format!("/new-{}/", kernel::secret::random_token(9));
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO org_units (parent_id, kind, name, code, school_type, urban_rural, stages, path, depth, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id")
            .bind(parent.map(|p| p.id))
            .bind(kind.as_str())
            .bind(input.name.as_str())
            .bind(UnitInput::opt(&input.code))
            .bind(if kind.is_school() { UnitInput::opt(&input.school_type) } else { None })
            .bind(if kind.is_school() { UnitInput::opt(&input.urban_rural) } else { None })
            .bind(stages)
            .bind(placeholder)
            .bind(parent.map(|p| p.depth + 1).unwrap_or(0))
            .bind(now),
        )
        .await?;
    let path = format!("{}{id}/", parent.map(|p| p.path.as_str()).unwrap_or("/"));
    tx.execute(sql("UPDATE org_units SET path = $1 WHERE id = $2").bind(path).bind(id)).await?;
    Ok(id)
}

/// Updates the editable fields; the kind never changes.
pub async fn update(tx: &mut Tx, unit: &OrgUnit, input: &UnitInput) -> Result<(), DbError> {
    let kind = unit.kind();
    let stages = if kind.is_school() { codes::stages_of_school_type(&input.school_type).join(",") } else { String::new() };
    tx.execute(
        sql("UPDATE org_units SET name = $1, code = $2, school_type = $3, urban_rural = $4, stages = $5, updated_at = $6 WHERE id = $7")
            .bind(input.name.as_str())
            .bind(UnitInput::opt(&input.code))
            .bind(if kind.is_school() { UnitInput::opt(&input.school_type) } else { None })
            .bind(if kind.is_school() { UnitInput::opt(&input.urban_rural) } else { None })
            .bind(stages)
            .bind(kernel::now())
            .bind(unit.id),
    )
    .await
    .map(|_| ())
}

/// Moves `unit` and everything under it below `new_parent`, rewriting the subtree's paths in one statement.
pub async fn move_under(tx: &mut Tx, unit: &OrgUnit, new_parent: &OrgUnit) -> Result<(), DbError> {
    let new_path = format!("{}{}/", new_parent.path, unit.id);
    let (lo, hi) = path_range(&unit.path);
    let depth_delta = new_parent.depth + 1 - unit.depth;
    let old_len = unit.path.len() as i64;
    tx.execute(
        sql("UPDATE org_units SET path = $1 || substr(path, CAST($2 AS INTEGER)), depth = depth + $3, updated_at = $4 \
             WHERE path >= $5 AND path < $6")
        .bind(new_path)
        .bind(old_len + 1)
        .bind(depth_delta)
        .bind(kernel::now())
        .bind(lo)
        .bind(hi),
    )
    .await?;
    tx.execute(sql("UPDATE org_units SET parent_id = $1 WHERE id = $2").bind(new_parent.id).bind(unit.id)).await?;
    Ok(())
}

/// Counts of what sits under a unit, for its page.
#[derive(Debug, Clone, Default, serde::Serialize, sqlx::FromRow)]
pub struct UnitCounts {
    pub schools: i64,
    pub classes: i64,
    pub teachers: i64,
    pub students: i64,
}

pub async fn counts(db: &Db, path: &str) -> Result<UnitCounts, DbError> {
    let (lo, hi) = path_range(path);
    db.fetch_one(
        sql("SELECT \
               (SELECT COUNT(*) FROM org_units u WHERE u.path >= $1 AND u.path < $2 AND u.kind IN ('school', 'teaching_point')) AS schools, \
               (SELECT COUNT(*) FROM classes c JOIN org_units u ON u.id = c.school_id WHERE u.path >= $1 AND u.path < $2) AS classes, \
               (SELECT COUNT(DISTINCT r.person_id) FROM role_assignments r JOIN org_units u ON u.id = r.unit_id \
                  WHERE u.path >= $1 AND u.path < $2 AND r.role = 'teacher' AND r.class_id IS NULL AND r.ends_on IS NULL) AS teachers, \
               (SELECT COUNT(DISTINCT r.person_id) FROM role_assignments r JOIN org_units u ON u.id = r.unit_id \
                  WHERE u.path >= $1 AND u.path < $2 AND r.role = 'student' AND r.ends_on IS NULL) AS students")
        .bind(lo)
        .bind(hi),
    )
    .await
}
