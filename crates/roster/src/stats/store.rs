//! The figures behind the statistics page, read from the per-school counts kept by the directory
//! (so a province of millions reads a few thousand rows) and the official headcounts.

use kernel::db::{Db, DbError, sql};

#[derive(Debug, Clone, Default, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnitFigures {
    pub unit_id: i64,
    pub name: String,
    pub kind: String,
    pub schools: i64,
    pub official_teachers: i64,
    pub official_students: i64,
    pub official_classes: i64,
    pub teachers: i64,
    pub students: i64,
    pub students_placed: i64,
    pub classes: i64,
    pub parents: i64,
    pub accounts: i64,
    pub activated: i64,
}

/// A share in percent with one decimal, or None when there is nothing to divide by.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

impl UnitFigures {
    pub fn placed_percent(&self) -> Option<f64> {
        percent(self.students_placed, self.students)
    }

    pub fn activation_percent(&self) -> Option<f64> {
        percent(self.activated, self.accounts)
    }

    /// Registered students against the official headcount.
    pub fn registered_percent(&self) -> Option<f64> {
        percent(self.students, self.official_students)
    }

    pub fn classes_percent(&self) -> Option<f64> {
        percent(self.classes, self.official_classes)
    }

    pub fn add(&mut self, o: &UnitFigures) {
        self.schools += o.schools;
        self.official_teachers += o.official_teachers;
        self.official_students += o.official_students;
        self.official_classes += o.official_classes;
        self.teachers += o.teachers;
        self.students += o.students;
        self.students_placed += o.students_placed;
        self.classes += o.classes;
        self.parents += o.parents;
        self.accounts += o.accounts;
        self.activated += o.activated;
    }
}

/// Figures of each child of `parent_id` (for a school's own row, the school itself).
/// `only_id` restricts to one unit: the school itself when a school is the scope.
pub async fn children(db: &Db, parent_id: i64, only_self: bool) -> Result<Vec<UnitFigures>, DbError> {
    let which = if only_self { "c.id = $1" } else { "c.parent_id = $1" };
    db.fetch_all(
        sql(format!(
            "SELECT c.id AS unit_id, c.name, c.kind, \
               COUNT(s.id) AS schools, \
               CAST(COALESCE(SUM(h.teachers), 0) AS BIGINT) AS official_teachers, \
               CAST(COALESCE(SUM(h.students), 0) AS BIGINT) AS official_students, \
               CAST(COALESCE(SUM(h.administrative_classes), 0) AS BIGINT) AS official_classes, \
               CAST(COALESCE(SUM(r.teachers), 0) AS BIGINT) AS teachers, \
               CAST(COALESCE(SUM(r.students), 0) AS BIGINT) AS students, \
               CAST(COALESCE(SUM(r.students_placed), 0) AS BIGINT) AS students_placed, \
               CAST(COALESCE(SUM(r.administrative_classes), 0) AS BIGINT) AS classes, \
               CAST(COALESCE(SUM(r.parents), 0) AS BIGINT) AS parents, \
               CAST(COALESCE(SUM(r.accounts), 0) AS BIGINT) AS accounts, \
               CAST(COALESCE(SUM(r.activated), 0) AS BIGINT) AS activated \
             FROM org_units c \
             LEFT JOIN org_units s ON s.kind IN ('school', 'teaching_point') AND s.path >= c.path \
               AND s.path < substr(c.path, 1, length(c.path) - 1) || '0' \
             LEFT JOIN school_roster_counts r ON r.school_id = s.id \
             LEFT JOIN headcounts h ON h.school_id = s.id \
               AND h.year = (SELECT MAX(x.year) FROM headcounts x WHERE x.school_id = s.id) \
             WHERE {which} AND c.kind <> 'office' \
             GROUP BY c.id, c.name, c.kind ORDER BY c.name"
        ))
        .bind(parent_id),
    )
    .await
}

/// One class of a school, for the drill-down below school level.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ClassFigures {
    pub class_id: i64,
    pub stage: String,
    pub entry_year: i64,
    pub number: i64,
    pub students: i64,
    pub activated_students: i64,
    pub parents: i64,
    pub activated_parents: i64,
    pub head_teacher: Option<String>,
}

impl ClassFigures {
    pub fn activation_percent(&self) -> Option<f64> {
        percent(self.activated_students + self.activated_parents, self.students + self.parents)
    }
}

pub async fn classes(db: &Db, school_id: i64, school_year: i64) -> Result<Vec<ClassFigures>, DbError> {
    db.fetch_all(
        sql("SELECT c.id AS class_id, c.stage, c.entry_year, c.number, \
               (SELECT COUNT(*) FROM role_assignments r WHERE r.class_id = c.id AND r.role = 'student' AND r.ends_on IS NULL) AS students, \
               (SELECT COUNT(*) FROM role_assignments r JOIN people p ON p.id = r.person_id WHERE r.class_id = c.id \
                  AND r.role = 'student' AND r.ends_on IS NULL AND p.activated_at IS NOT NULL) AS activated_students, \
               (SELECT COUNT(DISTINCT g.parent_id) FROM guardianships g JOIN role_assignments r ON r.person_id = g.student_id \
                  WHERE r.class_id = c.id AND r.role = 'student' AND r.ends_on IS NULL) AS parents, \
               (SELECT COUNT(DISTINCT g.parent_id) FROM guardianships g JOIN role_assignments r ON r.person_id = g.student_id \
                  JOIN people p ON p.id = g.parent_id WHERE r.class_id = c.id AND r.role = 'student' AND r.ends_on IS NULL \
                  AND p.activated_at IS NOT NULL) AS activated_parents, \
               (SELECT MIN(p.name) FROM role_assignments r JOIN people p ON p.id = r.person_id WHERE r.class_id = c.id \
                  AND r.role = 'head_teacher' AND r.ends_on IS NULL) AS head_teacher \
             FROM classes c WHERE c.school_id = $1 AND c.kind = 'administrative' AND c.entry_year <= $2 \
               AND c.entry_year + CASE c.stage WHEN 'primary' THEN 6 ELSE 3 END > $2 \
             ORDER BY c.stage, c.entry_year DESC, c.number")
        .bind(school_id)
        .bind(school_year),
    )
    .await
}
