//! Per-school roster figures (teachers, students, placement, parents, classes, activation).
//!
//! Region statistics over millions of people must answer in well under a second, so the figures
//! are kept per school in `school_roster_counts` and recomputed from the base tables, inside the
//! writing transaction, for every school whose roster a write touched.

use kernel::db::{DbError, Tx, sql};

/// Schools refreshed per statement (their ids are written into the SQL as literals: they are ours).
/// PostgreSQL hashes the whole people table once per statement past a few hundred schools, so a
/// province-wide import is best served by few large statements (500 per statement took 13 s for
/// 2,273 schools with 2,000,000 people). SQLite looks each school up by index but builds the
/// UNION of members as an in-memory temporary B-tree: small statements keep that small.
fn schools_per_statement(dialect: kernel::db::Dialect) -> usize {
    match dialect {
        kernel::db::Dialect::Postgres => 5_000,
        kernel::db::Dialect::Sqlite => 50,
    }
}

/// Recomputes the figures of these schools, set-based: one statement for thousands of schools (a
/// province-wide import touches thousands; one query per school took 20 ms each on PostgreSQL).
/// `school_year` is the start year of the current school year: administrative classes count while
/// their grade is within their stage.
pub async fn refresh(tx: &mut Tx, school_ids: &[i64], school_year: i64) -> Result<(), DbError> {
    for batch in school_ids.chunks(schools_per_statement(tx.dialect())) {
        let ids = batch.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        // Members of a school: its current teachers and students, and those students' parents.
        let members = format!(
            "SELECT unit_id, person_id FROM role_assignments WHERE unit_id IN ({ids}) \
               AND role IN ('teacher', 'head_teacher', 'student') AND ends_on IS NULL \
             UNION SELECT r.unit_id, g.parent_id FROM guardianships g JOIN role_assignments r ON r.person_id = g.student_id \
               WHERE r.unit_id IN ({ids}) AND r.role = 'student' AND r.ends_on IS NULL"
        );
        let figures = format!(
            "SELECT u.id AS school_id, COALESCE(t.n, 0) AS teachers, COALESCE(s.n, 0) AS students, \
               COALESCE(sp.n, 0) AS students_placed, COALESCE(pa.n, 0) AS parents, COALESCE(ac.n, 0) AS administrative_classes, \
               COALESCE(m.accounts, 0) AS accounts, COALESCE(m.activated, 0) AS activated, $2 AS updated_at \
             FROM org_units u \
             LEFT JOIN (SELECT unit_id, COUNT(DISTINCT person_id) AS n FROM role_assignments \
                 WHERE unit_id IN ({ids}) AND role = 'teacher' AND ends_on IS NULL GROUP BY unit_id) t ON t.unit_id = u.id \
             LEFT JOIN (SELECT unit_id, COUNT(DISTINCT person_id) AS n FROM role_assignments \
                 WHERE unit_id IN ({ids}) AND role = 'student' AND ends_on IS NULL GROUP BY unit_id) s ON s.unit_id = u.id \
             LEFT JOIN (SELECT r.unit_id, COUNT(DISTINCT r.person_id) AS n FROM role_assignments r JOIN classes c ON c.id = r.class_id \
                 WHERE r.unit_id IN ({ids}) AND r.role = 'student' AND r.ends_on IS NULL AND c.kind = 'administrative' \
                 GROUP BY r.unit_id) sp ON sp.unit_id = u.id \
             LEFT JOIN (SELECT r.unit_id, COUNT(DISTINCT g.parent_id) AS n FROM guardianships g \
                 JOIN role_assignments r ON r.person_id = g.student_id \
                 WHERE r.unit_id IN ({ids}) AND r.role = 'student' AND r.ends_on IS NULL GROUP BY r.unit_id) pa ON pa.unit_id = u.id \
             LEFT JOIN (SELECT school_id, COUNT(*) AS n FROM classes WHERE school_id IN ({ids}) AND kind = 'administrative' \
                 AND entry_year <= $1 AND entry_year + CASE stage WHEN 'primary' THEN 6 ELSE 3 END > $1 \
                 GROUP BY school_id) ac ON ac.school_id = u.id \
             LEFT JOIN (SELECT m.unit_id, COUNT(*) AS accounts, \
                   SUM(CASE WHEN p.activated_at IS NOT NULL THEN 1 ELSE 0 END) AS activated \
                 FROM ({members}) m JOIN people p ON p.id = m.person_id WHERE p.status = 'active' \
                 GROUP BY m.unit_id) m ON m.unit_id = u.id \
             WHERE u.id IN ({ids})"
        );
        tx.execute(sql(format!("DELETE FROM school_roster_counts WHERE school_id IN ({ids})"))).await?;
        tx.execute(
            sql(format!(
                "INSERT INTO school_roster_counts (school_id, teachers, students, students_placed, parents, \
                   administrative_classes, accounts, activated, updated_at) {figures}"
            ))
            .bind(school_year)
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
