//! Building the acting person from their current role assignments.
//!
//! Assignments are grouped into the roles a person can switch between: one per role and place. A
//! teacher's subject assignments fold into their teacher role at that school, and leading a class
//! there makes it a head-teacher role.

use crate::classes::model::Class;
use crate::people::model::Assignment;
use crate::people::store as people;
use kernel::auth::{Actor, Credential, Role, RoleChoice};
use kernel::db::{Db, DbError, sql};
use kernel::i18n::Locale;

/// One switchable role with everything it reaches.
#[derive(Debug, Clone)]
pub struct RoleGroup {
    pub role: Role,
    pub role_id: i64,
    pub assignment_ids: Vec<i64>,
    pub unit_id: i64,
    pub unit_path: String,
    pub unit_name: String,
    pub class_ids: Vec<i64>,
    pub head_class_ids: Vec<i64>,
    pub class_name: Option<String>,
}

fn rank(role: Role) -> usize {
    [
        Role::RegionAdmin,
        Role::SchoolAdmin,
        Role::Auditor,
        Role::Researcher,
        Role::Reviewer,
        Role::HeadTeacher,
        Role::Teacher,
        Role::Parent,
        Role::Student,
    ]
    .iter()
    .position(|r| *r == role)
    .unwrap_or(99)
}

/// Groups current assignments into switchable roles, most senior first.
pub fn group(assignments: &[Assignment], today: time::Date, school_year: i64, locale: Locale) -> Vec<RoleGroup> {
    let mut groups: Vec<RoleGroup> = Vec::new();
    for a in assignments.iter().filter(|a| a.is_current(today)) {
        let role = a.role();
        let teaching = matches!(role, Role::Teacher | Role::HeadTeacher);
        let existing = groups.iter_mut().find(|g| {
            g.unit_id == a.unit_id && (g.role == role || (teaching && matches!(g.role, Role::Teacher | Role::HeadTeacher)))
        });
        let g = match existing {
            Some(g) => g,
            None => {
                groups.push(RoleGroup {
                    role,
                    role_id: a.id,
                    assignment_ids: Vec::new(),
                    unit_id: a.unit_id,
                    unit_path: a.unit_path.clone(),
                    unit_name: a.unit_name.clone(),
                    class_ids: Vec::new(),
                    head_class_ids: Vec::new(),
                    class_name: None,
                });
                groups.last_mut().expect("just pushed")
            }
        };
        g.assignment_ids.push(a.id);
        if role == Role::HeadTeacher {
            g.role = Role::HeadTeacher;
        }
        if let Some(c) = a.class_id {
            if !g.class_ids.contains(&c) {
                g.class_ids.push(c);
            }
            if role == Role::HeadTeacher {
                g.head_class_ids.push(c);
            }
            if role == Role::Student && g.class_name.is_none() {
                let class = Class {
                    id: c,
                    school_id: a.unit_id,
                    kind: "administrative".into(),
                    stage: a.class_stage.clone().unwrap_or_default(),
                    entry_year: a.class_entry_year.unwrap_or(0),
                    number: a.class_number.unwrap_or(0),
                    name: a.class_name.clone().unwrap_or_default(),
                    subject: None,
                };
                g.class_name = Some(class.display_name(school_year, locale));
            }
        }
        // The place-level assignment (no class) names the group when there is one.
        if a.class_id.is_none() && !matches!(role, Role::Student) {
            g.role_id = g.role_id.min(a.id);
        }
    }
    groups.sort_by_key(|g| (rank(g.role), g.unit_id));
    groups
}

#[derive(sqlx::FromRow)]
struct PersonHead {
    name: String,
    locale: Option<String>,
    status: String,
}

/// The actor for `person_id` acting in the role named by `role_id` (or their most senior role).
/// None when the person has left or holds no current role.
pub async fn load(
    db: &Db,
    person_id: i64,
    role_id: Option<i64>,
    credential: Credential,
    today: time::Date,
) -> Result<Option<Actor>, DbError> {
    let Some(head): Option<PersonHead> =
        db.fetch_optional(sql("SELECT name, locale, status FROM people WHERE id = $1").bind(person_id)).await?
    else {
        return Ok(None);
    };
    if head.status != "active" {
        return Ok(None);
    }
    let locale = head.locale.as_deref().and_then(Locale::parse);
    let assignments = people::assignments(db, person_id).await?;
    let school_year = crate::calendar::store::school_year(db, today).await?;
    let groups = group(&assignments, today, school_year, locale.unwrap_or_default());
    let Some(active) = role_id
        .and_then(|id| groups.iter().find(|g| g.role_id == id || g.assignment_ids.contains(&id)))
        .or_else(|| groups.first())
        .cloned()
    else {
        return Ok(None);
    };
    let (mut class_ids, mut child_ids) = (active.class_ids.clone(), Vec::new());
    if active.role == Role::Parent {
        let rows: Vec<(i64, Option<i64>)> = db
            .fetch_all(
                sql("SELECT g.student_id, r.class_id FROM guardianships g \
                     LEFT JOIN role_assignments r ON r.person_id = g.student_id AND r.role = 'student' \
                       AND r.starts_on <= $2 AND (r.ends_on IS NULL OR r.ends_on > $2) \
                     WHERE g.parent_id = $1")
                .bind(person_id)
                .bind(today),
            )
            .await?;
        for (child, class) in rows {
            if !child_ids.contains(&child) {
                child_ids.push(child);
            }
            if let Some(c) = class.filter(|c| !class_ids.contains(c)) {
                class_ids.push(c);
            }
        }
    }
    Ok(Some(Actor {
        person_id,
        name: head.name,
        role_id: active.role_id,
        role: active.role,
        unit_id: active.unit_id,
        unit_path: active.unit_path.clone(),
        unit_name: active.unit_name.clone(),
        class_ids,
        head_class_ids: active.head_class_ids.clone(),
        child_ids,
        roles: groups
            .iter()
            .map(|g| RoleChoice {
                role_id: g.role_id,
                role: g.role,
                unit_name: g.unit_name.clone(),
                class_name: g.class_name.clone(),
            })
            .collect(),
        credential,
        locale,
        csrf: String::new(),
        session_id: None,
    }))
}
