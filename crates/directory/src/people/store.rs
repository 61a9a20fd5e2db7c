use super::model::{Assignment, NewPerson, Person, Relation};
use kernel::auth::Role;
use kernel::db::{Db, DbError, Tx, path_range, sql};

const COLUMNS: &str = "id, name, gender, login, phone, student_number, staff_number, locale, status, created_at";

pub async fn get(db: &Db, id: i64) -> Result<Option<Person>, DbError> {
    db.fetch_optional(sql(format!("SELECT {COLUMNS} FROM people WHERE id = $1")).bind(id)).await
}

pub async fn create(tx: &mut Tx, p: &NewPerson) -> Result<i64, DbError> {
    let now = kernel::now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO people (name, gender, login, phone, student_number, staff_number, password_hash, password_changed_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id")
            .bind(p.name.as_str())
            .bind(p.gender.clone())
            .bind(p.login.clone())
            .bind(p.phone.clone())
            .bind(p.student_number.clone())
            .bind(p.staff_number.clone())
            .bind(p.password_hash.clone())
            .bind(p.password_hash.as_ref().map(|_| now))
            .bind(now),
        )
        .await?;
    Ok(id)
}

/// Gives `person` a role at `unit` (and a class, for class roles) from `starts_on`.
pub async fn assign(
    tx: &mut Tx,
    person_id: i64,
    role: Role,
    unit_id: i64,
    class_id: Option<i64>,
    subject: Option<&str>,
    starts_on: time::Date,
) -> Result<i64, DbError> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO role_assignments (person_id, role, unit_id, class_id, subject, starts_on, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(person_id)
            .bind(role.as_str())
            .bind(unit_id)
            .bind(class_id)
            .bind(subject)
            .bind(starts_on)
            .bind(kernel::now()),
        )
        .await?;
    Ok(id)
}

/// Ends an assignment on `ends_on`; the row stays as history.
pub async fn end_assignment(tx: &mut Tx, assignment_id: i64, ends_on: time::Date) -> Result<(), DbError> {
    tx.execute(
        sql("UPDATE role_assignments SET ends_on = $1 WHERE id = $2 AND ends_on IS NULL").bind(ends_on).bind(assignment_id),
    )
    .await
    .map(|_| ())
}

pub async fn link_guardian(tx: &mut Tx, parent_id: i64, student_id: i64, relation: Relation) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO guardianships (parent_id, student_id, relation, created_at) VALUES ($1, $2, $3, $4)")
            .bind(parent_id)
            .bind(student_id)
            .bind(relation.as_str())
            .bind(kernel::now()),
    )
    .await
    .map(|_| ())
}

const ASSIGNMENT_SELECT: &str = "SELECT r.id, r.person_id, r.role, r.unit_id, u.name AS unit_name, u.path AS unit_path, \
     r.class_id, c.stage AS class_stage, c.entry_year AS class_entry_year, c.number AS class_number, c.name AS class_name, \
     r.subject, r.starts_on, r.ends_on \
     FROM role_assignments r JOIN org_units u ON u.id = r.unit_id LEFT JOIN classes c ON c.id = r.class_id";

/// Every assignment of a person, current and past, newest first.
pub async fn assignments(db: &Db, person_id: i64) -> Result<Vec<Assignment>, DbError> {
    db.fetch_all(sql(format!("{ASSIGNMENT_SELECT} WHERE r.person_id = $1 ORDER BY r.starts_on DESC, r.id DESC")).bind(person_id))
        .await
}

/// Current assignments of the people in a class (students and teachers), for the class page.
pub async fn class_members(db: &Db, class_id: i64, today: time::Date) -> Result<Vec<(Assignment, Person)>, DbError> {
    let rows: Vec<Assignment> = db
        .fetch_all(
            sql(format!(
                "{ASSIGNMENT_SELECT} WHERE r.class_id = $1 AND r.starts_on <= $2 AND (r.ends_on IS NULL OR r.ends_on > $2) ORDER BY r.role, r.person_id"
            ))
            .bind(class_id)
            .bind(today),
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    let people: Vec<Person> = db
        .fetch_all(
            sql(format!(
                "SELECT {COLUMNS} FROM people WHERE id IN (SELECT person_id FROM role_assignments WHERE class_id = $1 \
                 AND starts_on <= $2 AND (ends_on IS NULL OR ends_on > $2))"
            ))
            .bind(class_id)
            .bind(today),
        )
        .await?;
    for a in rows {
        if let Some(p) = people.iter().find(|p| p.id == a.person_id) {
            out.push((a, p.clone()));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Guardian {
    pub person_id: i64,
    pub name: String,
    pub relation: String,
}

pub async fn guardians_of(db: &Db, student_id: i64) -> Result<Vec<Guardian>, DbError> {
    db.fetch_all(
        sql("SELECT p.id AS person_id, p.name, g.relation FROM guardianships g JOIN people p ON p.id = g.parent_id \
             WHERE g.student_id = $1 ORDER BY g.id")
        .bind(student_id),
    )
    .await
}

pub async fn children_of(db: &Db, parent_id: i64) -> Result<Vec<Guardian>, DbError> {
    db.fetch_all(
        sql("SELECT p.id AS person_id, p.name, g.relation FROM guardianships g JOIN people p ON p.id = g.student_id \
             WHERE g.parent_id = $1 ORDER BY g.id")
        .bind(parent_id),
    )
    .await
}

/// People with a current role under a path, for admins' lists, optionally filtered by role and name.
pub async fn in_scope(
    db: &Db,
    path: &str,
    role: Option<Role>,
    name_like: Option<&str>,
    today: time::Date,
    limit: i64,
    offset: i64,
) -> Result<Vec<Person>, DbError> {
    let (lo, hi) = path_range(path);
    db.fetch_all(
        sql(format!(
            "SELECT {COLUMNS} FROM people WHERE id IN (SELECT r.person_id FROM role_assignments r JOIN org_units u ON u.id = r.unit_id \
             WHERE u.path >= $1 AND u.path < $2 AND ($3 IS NULL OR r.role = $3) AND (r.ends_on IS NULL OR r.ends_on > $4)) \
             AND ($5 IS NULL OR name LIKE $5) ORDER BY name, id LIMIT $6 OFFSET $7"
        ))
        .bind(lo)
        .bind(hi)
        .bind(role.map(|r| r.as_str()))
        .bind(today)
        .bind(name_like.map(|n| format!("%{n}%")))
        .bind(limit)
        .bind(offset),
    )
    .await
}
