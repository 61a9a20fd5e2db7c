//! Who is in a part of the roster today: the teachers, students or parents of a class or of a part
//! of the org tree. Other areas (messaging's groups and notices) ask here rather than read the
//! roster's tables.

use kernel::db::{Db, DbError, path_range, sql, sql_in};

/// Which people of a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Members {
    /// Teachers and head teachers.
    Teachers,
    Students,
    /// Guardians of the students.
    Parents,
    /// Teachers, head teachers and school administrators.
    Staff,
}

impl Members {
    pub fn as_str(self) -> &'static str {
        match self {
            Members::Teachers => "teachers",
            Members::Students => "students",
            Members::Parents => "parents",
            Members::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Members> {
        [Members::Teachers, Members::Students, Members::Parents, Members::Staff].into_iter().find(|m| m.as_str() == s)
    }

    fn roles(self) -> &'static str {
        match self {
            Members::Teachers => "('teacher', 'head_teacher')",
            Members::Students | Members::Parents => "('student')",
            Members::Staff => "('teacher', 'head_teacher', 'school_admin')",
        }
    }
}

/// A place: one class, or everything under an org-tree path.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    Class(i64),
    Under(&'a str),
}

/// The ids of the people who are `members` of `place` today, ascending.
pub async fn of(db: &Db, place: Place<'_>, members: Members, today: time::Date) -> Result<Vec<i64>, DbError> {
    let current = "r.starts_on <= $1 AND (r.ends_on IS NULL OR r.ends_on > $1)";
    let (from, bind) = match place {
        Place::Class(id) => (format!("role_assignments r WHERE r.class_id = $2 AND {current}"), (Some(id), None)),
        Place::Under(path) => (
            format!("role_assignments r JOIN org_units u ON u.id = r.unit_id WHERE u.path >= $2 AND u.path < $3 AND {current}"),
            (None, Some(path_range(path))),
        ),
    };
    let roles = members.roles();
    let text = match members {
        Members::Parents => format!(
            "SELECT DISTINCT g.parent_id FROM guardianships g WHERE g.student_id IN \
             (SELECT r.person_id FROM {from} AND r.role IN {roles}) ORDER BY g.parent_id"
        ),
        _ => format!("SELECT DISTINCT r.person_id FROM {from} AND r.role IN {roles} ORDER BY r.person_id"),
    };
    let mut q = sql(text).bind(today);
    if let Some(id) = bind.0 {
        q = q.bind(id);
    }
    if let Some((lo, hi)) = bind.1 {
        q = q.bind(lo).bind(hi);
    }
    let rows: Vec<(i64,)> = db.fetch_all(q).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Display names of these people (id, name), for lists of members; phone numbers are never part of it.
pub async fn names(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    db.fetch_all(sql_in(db.dialect(), "SELECT id, name FROM people WHERE id", ids.iter().copied()).append(" ORDER BY id")).await
}
