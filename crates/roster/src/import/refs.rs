//! What an import refers to in the database: the scope's bureaus, schools and classes, loaded once
//! per job and kept current as the job creates schools and classes.

use super::rows::ClassRef;
use kernel::db::{Db, DbError, path_range, sql};
use std::collections::HashMap;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unit {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub code: Option<String>,
    pub path: String,
    pub stages: String,
    pub school_type: Option<String>,
    pub urban_rural: Option<String>,
    pub parent_id: Option<i64>,
}

/// A class's natural key within a school.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClassKey {
    pub kind: &'static str,
    pub stage: &'static str,
    pub entry_year: i64,
    pub number: i64,
}

pub struct Refs {
    pub scope_path: String,
    pub school_year: i64,
    /// Schools in scope by 学校标识码.
    pub schools: HashMap<String, Unit>,
    /// Bureaus (province, city, district) in scope by division code and by name.
    pub bureaus_by_code: HashMap<String, Unit>,
    pub bureaus_by_name: HashMap<String, Vec<Unit>>,
    /// Classes of the schools in scope: school id → key → class id.
    pub classes: HashMap<i64, HashMap<ClassKey, i64>>,
}

#[derive(sqlx::FromRow)]
struct ClassRow {
    id: i64,
    school_id: i64,
    kind: String,
    stage: String,
    entry_year: i64,
    number: i64,
}

fn intern(s: &str) -> &'static str {
    match s {
        "administrative" => "administrative",
        "teaching" => "teaching",
        "elective" => "elective",
        "preschool" => "preschool",
        "primary" => "primary",
        "junior" => "junior",
        "senior" => "senior",
        "vocational" => "vocational",
        _ => "",
    }
}

impl Refs {
    pub async fn load(db: &Db, scope_path: &str, school_year: i64) -> Result<Refs, DbError> {
        let (lo, hi) = path_range(scope_path);
        let units: Vec<Unit> = db
            .fetch_all(
                sql("SELECT id, kind, name, code, path, stages, school_type, urban_rural, parent_id FROM org_units \
                     WHERE path >= $1 AND path < $2 AND kind <> 'office'")
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?;
        let mut refs = Refs {
            scope_path: scope_path.to_string(),
            school_year,
            schools: HashMap::new(),
            bureaus_by_code: HashMap::new(),
            bureaus_by_name: HashMap::new(),
            classes: HashMap::new(),
        };
        for u in units {
            if matches!(u.kind.as_str(), "school" | "teaching_point") {
                if let Some(code) = u.code.clone() {
                    refs.schools.insert(code, u);
                }
            } else {
                refs.bureaus_by_name.entry(u.name.clone()).or_default().push(u.clone());
                if let Some(code) = u.code.clone() {
                    refs.bureaus_by_code.insert(code, u);
                }
            }
        }
        let classes: Vec<ClassRow> = db
            .fetch_all(
                sql("SELECT c.id, c.school_id, c.kind, c.stage, c.entry_year, c.number FROM classes c \
                     JOIN org_units u ON u.id = c.school_id WHERE u.path >= $1 AND u.path < $2")
                .bind(lo)
                .bind(hi),
            )
            .await?;
        for c in classes {
            let key = ClassKey { kind: intern(&c.kind), stage: intern(&c.stage), entry_year: c.entry_year, number: c.number };
            refs.classes.entry(c.school_id).or_default().insert(key, c.id);
        }
        Ok(refs)
    }

    pub fn in_scope(&self, path: &str) -> bool {
        path.starts_with(&self.scope_path)
    }

    /// The administrative class a grade and number name in the current school year.
    pub fn admin_key(&self, c: ClassRef) -> ClassKey {
        ClassKey { kind: "administrative", stage: c.stage, entry_year: self.school_year - c.grade + 1, number: c.number }
    }

    pub fn class_id(&self, school_id: i64, c: ClassRef) -> Option<i64> {
        self.classes.get(&school_id)?.get(&self.admin_key(c)).copied()
    }

    /// The bureau a school's 所属区县 names: a division code, or a unique name, in scope.
    pub fn bureau(&self, text: &str) -> Option<&Unit> {
        if let Some(u) = self.bureaus_by_code.get(text) {
            return Some(u);
        }
        match self.bureaus_by_name.get(text).map(Vec::as_slice) {
            Some([u]) => Some(u),
            _ => None,
        }
    }
}
