//! Per-school roster figures (teachers, students, placement, parents, classes, activation).
//!
//! Region statistics over millions of people must answer in well under a second, so the figures
//! are kept per school in `school_roster_counts` and recomputed from the base tables, inside the
//! writing transaction, for every school whose roster a write touched.

use kernel::db::{DbError, Tx, sql};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct SchoolCounts {
    pub teachers: i64,
    pub students: i64,
    pub students_placed: i64,
    pub parents: i64,
    pub administrative_classes: i64,
    pub accounts: i64,
    pub activated: i64,
}

/// People of a school: its current teachers and students and those students' parents.
/// Joined to people (not `id IN (…)`): PostgreSQL's generic plan for the IN form scanned the
/// whole people table for every school.
const MEMBERS: &str = "SELECT person_id FROM role_assignments WHERE unit_id = $1 AND role IN ('teacher', 'head_teacher', 'student') \
       AND ends_on IS NULL \
     UNION SELECT g.parent_id AS person_id FROM guardianships g JOIN role_assignments r ON r.person_id = g.student_id \
       WHERE r.unit_id = $1 AND r.role = 'student' AND r.ends_on IS NULL";

/// Recomputes the figures of these schools. `school_year` is the start year of the current school
/// year: administrative classes count while their grade is within their stage.
pub async fn refresh(tx: &mut Tx, school_ids: &[i64], school_year: i64) -> Result<(), DbError> {
    if tx.dialect() == kernel::db::Dialect::Postgres && school_ids.len() > 1 {
        // A plan for the school at hand (2 ms) beats the generic plan PostgreSQL caches after a
        // few runs, which hashes the whole guardianships table (25 ms per school at 100,000).
        tx.execute(sql("SET LOCAL plan_cache_mode = force_custom_plan")).await?;
    }
    for &school_id in school_ids {
        let c: SchoolCounts = tx
            .fetch_one(
                sql(format!(
                    "SELECT \
                       (SELECT COUNT(DISTINCT person_id) FROM role_assignments \
                          WHERE unit_id = $1 AND role = 'teacher' AND ends_on IS NULL) AS teachers, \
                       (SELECT COUNT(DISTINCT person_id) FROM role_assignments \
                          WHERE unit_id = $1 AND role = 'student' AND ends_on IS NULL) AS students, \
                       (SELECT COUNT(DISTINCT r.person_id) FROM role_assignments r JOIN classes c ON c.id = r.class_id \
                          WHERE r.unit_id = $1 AND r.role = 'student' AND r.ends_on IS NULL AND c.kind = 'administrative') AS students_placed, \
                       (SELECT COUNT(DISTINCT g.parent_id) FROM guardianships g JOIN role_assignments r ON r.person_id = g.student_id \
                          WHERE r.unit_id = $1 AND r.role = 'student' AND r.ends_on IS NULL) AS parents, \
                       (SELECT COUNT(*) FROM classes WHERE school_id = $1 AND kind = 'administrative' AND entry_year <= $2 \
                          AND entry_year + CASE stage WHEN 'primary' THEN 6 ELSE 3 END > $2) AS administrative_classes, \
                       (SELECT COUNT(*) FROM ({MEMBERS}) m JOIN people p ON p.id = m.person_id WHERE p.status = 'active') AS accounts, \
                       (SELECT COUNT(*) FROM ({MEMBERS}) m JOIN people p ON p.id = m.person_id \
                          WHERE p.status = 'active' AND p.activated_at IS NOT NULL) AS activated"
                ))
                .bind(school_id)
                .bind(school_year),
            )
            .await?;
        tx.execute(
            sql("INSERT INTO school_roster_counts (school_id, teachers, students, students_placed, parents, administrative_classes, \
                   accounts, activated, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (school_id) DO UPDATE SET teachers = excluded.teachers, students = excluded.students, \
                   students_placed = excluded.students_placed, parents = excluded.parents, \
                   administrative_classes = excluded.administrative_classes, accounts = excluded.accounts, \
                   activated = excluded.activated, updated_at = excluded.updated_at")
            .bind(school_id)
            .bind(c.teachers)
            .bind(c.students)
            .bind(c.students_placed)
            .bind(c.parents)
            .bind(c.administrative_classes)
            .bind(c.accounts)
            .bind(c.activated)
            .bind(kernel::now()),
        )
        .await?;
    }
    Ok(())
}

/// The schools whose figures include this person: where they teach or study, and their children's schools.
pub async fn schools_of_person(tx: &mut Tx, person_id: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = tx
        .fetch_all(
            sql("SELECT DISTINCT r.unit_id FROM role_assignments r JOIN org_units u ON u.id = r.unit_id \
                 WHERE u.kind IN ('school', 'teaching_point') AND r.ends_on IS NULL AND (r.person_id = $1 \
                   OR r.person_id IN (SELECT student_id FROM guardianships WHERE parent_id = $1))")
            .bind(person_id),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
