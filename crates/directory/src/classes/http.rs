//! Class pages and API: members (teachers, students), assigning teachers, moving students with history.

use super::model::Class;
use super::store;
use crate::codes;
use crate::org::store as org;
use crate::people::model::Assignment;
use crate::people::store as people;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::error::FieldError;
use kernel::web::{ApiJson, Checks, CsrfForm, PageContext, RequestMeta, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/classes/{id}", get(class_page))
        .route("/classes/{id}/teachers", post(assign_teacher_submit))
        .route("/api/v1/classes/{id}", get(api_get))
        .route("/api/v1/classes/{id}/teachers", post(api_assign_teacher))
        .route("/api/v1/people/{id}/class", post(api_move_student))
}

/// The class and its school's path, if the actor may `cap` it.
pub async fn visible_class(app: &App, actor: &Actor, id: i64, cap: Capability) -> Result<(Class, String), AppError> {
    let class = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let school = org::get(&app.db, class.school_id).await?.ok_or(AppError::NotFound)?;
    if !actor.may(cap, Target::Class { school_path: &school.path, class_id: class.id }) {
        return Err(AppError::Forbidden);
    }
    Ok((class, school.path))
}

pub struct Member {
    pub person_id: i64,
    pub name: String,
    pub role: Role,
    pub subject: Option<String>,
    pub number: Option<String>,
    pub gender: Option<String>,
}

async fn members(app: &App, class_id: i64) -> Result<Vec<Member>, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    Ok(people::class_members(&app.db, class_id, today)
        .await?
        .into_iter()
        .map(|(a, p): (Assignment, _)| Member {
            person_id: p.id,
            name: p.name.clone(),
            role: a.role(),
            subject: a.subject.clone(),
            number: p.student_number.clone().or(p.staff_number.clone()),
            gender: p.gender.clone(),
        })
        .collect())
}

#[derive(Deserialize)]
pub struct TeacherInput {
    pub person_id: i64,
    #[serde(default)]
    pub subject: String,
    /// Make this teacher the class's head teacher (ending the previous one's term).
    #[serde(default)]
    pub head: Option<String>,
}

impl Validate for TeacherInput {
    fn validate(&self, v: &mut Checks) {
        v.max_chars("subject", &self.subject, 30);
        if self.head.is_none() && self.subject.trim().is_empty() {
            v.add("subject", "error-field-required");
        }
    }
}

/// Assigns a teacher of the school to the class, for a subject or as head teacher.
pub async fn assign_teacher(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    class_id: i64,
    input: &TeacherInput,
) -> Result<(), AppError> {
    let class = store::get(&app.db, class_id).await?.ok_or(AppError::NotFound)?;
    let school = org::get(&app.db, class.school_id).await?.ok_or(AppError::NotFound)?;
    if !actor.may(Capability::Manage, Target::Unit { path: &school.path }) {
        return Err(AppError::Forbidden);
    }
    kernel::web::check(input)?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let teacher_here = people::assignments(&app.db, input.person_id)
        .await?
        .into_iter()
        .any(|a| a.is_current(today) && a.unit_id == school.id && a.role() == Role::Teacher && a.class_id.is_none());
    if !teacher_here {
        return Err(AppError::Invalid(vec![FieldError::new("person_id", "class-error-not-teacher")]));
    }
    let person = people::get(&app.db, input.person_id).await?.ok_or(AppError::NotFound)?;
    let mut tx = app.db.begin().await?;
    if input.head.is_some() {
        for (a, _) in people::class_members(&app.db, class_id, today).await? {
            if a.role() == Role::HeadTeacher {
                people::end_assignment(&mut tx, a.id, today).await?;
            }
        }
        people::assign(&mut tx, person.id, Role::HeadTeacher, school.id, Some(class_id), None, today).await?;
    } else {
        people::assign(&mut tx, person.id, Role::Teacher, school.id, Some(class_id), Some(input.subject.trim()), today).await?;
    }
    audit::record(
        &mut tx,
        &Entry::by(
            actor,
            meta,
            if input.head.is_some() { "class_head_teacher_assign" } else { "class_teacher_assign" },
            "class",
            class_id,
            person.name.clone(),
            school.path.clone(),
        )
        .after(json!({ "person_id": person.id, "subject": input.subject, "head": input.head.is_some() })),
    )
    .await?;
    tx.commit().await?;
    app.actors.forget_person(person.id);
    Ok(())
}

#[derive(Deserialize)]
pub struct MoveStudent {
    pub class_id: i64,
}

impl Validate for MoveStudent {
    fn validate(&self, _: &mut Checks) {}
}

/// Moves a student to another administrative class of their school: the old membership ends today
/// and stays as history, the new one starts today.
pub async fn move_student(app: &App, actor: &Actor, meta: &RequestMeta, person_id: i64, to_class: i64) -> Result<(), AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let current: Vec<Assignment> = people::assignments(&app.db, person_id)
        .await?
        .into_iter()
        .filter(|a| a.is_current(today) && a.role() == Role::Student)
        .collect();
    let Some(from) = current.iter().find(|a| a.class_id.is_some()) else {
        return Err(AppError::NotFound);
    };
    let target = store::get(&app.db, to_class).await?.ok_or(AppError::NotFound)?;
    let school = org::get(&app.db, target.school_id).await?.ok_or(AppError::NotFound)?;
    if !actor.may(Capability::Manage, Target::Unit { path: &from.unit_path })
        || !actor.may(Capability::Manage, Target::Unit { path: &school.path })
    {
        return Err(AppError::Forbidden);
    }
    if target.kind != "administrative" {
        return Err(AppError::invalid("class_id", "class-error-not-administrative"));
    }
    if from.class_id == Some(to_class) {
        return Ok(());
    }
    let mut tx = app.db.begin().await?;
    people::end_assignment(&mut tx, from.id, today).await?;
    people::assign(&mut tx, person_id, Role::Student, school.id, Some(to_class), None, today).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "student_move_class", "person", person_id, String::new(), school.path.clone())
            .before(json!({ "class_id": from.class_id, "school_id": from.unit_id }))
            .after(json!({ "class_id": to_class, "school_id": school.id })),
    )
    .await?;
    tx.commit().await?;
    app.actors.forget_person(person_id);
    Ok(())
}

#[derive(Template)]
#[template(path = "class.html")]
pub(crate) struct ClassPage<'a> {
    ctx: &'a PageContext,
    class: &'a Class,
    name: String,
    school_id: i64,
    school_name: String,
    grade: Option<String>,
    members: Vec<Member>,
    may_manage: bool,
    /// The class's head teacher and the admins over its school print activation slips.
    may_issue_codes: bool,
    teachers_of_school: Vec<(i64, String)>,
    /// Members whose page the viewer may open; only theirs are links, and only their student
    /// numbers are shown (a student sees classmates' names, not their numbers).
    openable: Vec<i64>,
    errors: Vec<FieldError>,
}

impl ClassPage<'_> {
    fn opens(&self, person: &i64) -> bool {
        self.openable.contains(person)
    }

    fn students(&self) -> Vec<&Member> {
        self.members.iter().filter(|m| m.role == Role::Student).collect()
    }

    fn teachers(&self) -> Vec<&Member> {
        self.members.iter().filter(|m| m.role != Role::Student).collect()
    }

    fn gender(&self, g: &Option<String>) -> String {
        match g.as_deref() {
            Some("male") => self.ctx.t("gender-male"),
            Some("female") => self.ctx.t("gender-female"),
            _ => String::new(),
        }
    }
}

async fn render_class(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let (class, school_path) = visible_class(app, actor, id, Capability::View).await?;
    let school = org::get(&app.db, class.school_id).await?.ok_or(AppError::NotFound)?;
    let school_year = crate::calendar::store::school_year(&app.db, kernel::today(app.config.display_utc_offset_minutes)).await?;
    let may_manage = actor.may(Capability::Manage, Target::Unit { path: &school_path });
    let may_issue_codes = actor.may(Capability::Manage, Target::Class { school_path: &school_path, class_id: class.id });
    let teachers_of_school = if may_manage {
        let today = kernel::today(app.config.display_utc_offset_minutes);
        people::in_scope(&app.db, &school_path, Some(Role::Teacher), None, today, 500, 0)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect()
    } else {
        vec![]
    };
    let members = members(app, id).await?;
    let openable = members
        .iter()
        .map(|m| m.person_id)
        .filter(|&person_id| {
            actor.may(
                Capability::View,
                Target::Person { person_id, paths: std::slice::from_ref(&school_path), class_ids: &[class.id] },
            )
        })
        .collect();
    let page = ClassPage {
        ctx,
        name: class.display_name(school_year, ctx.locale),
        grade: class.grade(school_year).map(|g| codes::grade_name(&class.stage, g, ctx.locale)),
        class: &class,
        school_id: school.id,
        school_name: school.name.clone(),
        members,
        openable,
        may_manage,
        may_issue_codes,
        teachers_of_school,
        errors,
    };
    Ok(ctx.render(&page.name.clone(), &page)?.into_response())
}

async fn class_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    render_class(&app, &ctx, &actor, id, vec![]).await
}

async fn assign_teacher_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<TeacherInput>,
) -> Result<Response, AppError> {
    match assign_teacher(&app, &actor, &meta, id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/classes/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => render_class(&app, &ctx, &actor, id, errors).await,
        Err(e) => Err(e),
    }
}

#[utoipa::path(get, path = "/api/v1/classes/{id}", tag = "classes", summary = "A class with its current teachers and students", params(("id" = i64, Path, description = "record id")), responses((status = 200, description = "the class"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (class, _) = visible_class(&app, &actor, id, Capability::View).await?;
    let school_year = crate::calendar::store::school_year(&app.db, kernel::today(app.config.display_utc_offset_minutes)).await?;
    let members: Vec<_> = members(&app, id)
        .await?
        .into_iter()
        .map(|m| json!({ "person_id": m.person_id, "name": m.name, "role": m.role, "subject": m.subject }))
        .collect();
    Ok(Json(json!({
        "id": class.id, "school_id": class.school_id, "kind": class.kind, "stage": class.stage,
        "entry_year": class.entry_year, "number": class.number, "grade": class.grade(school_year),
        "name": class.display_name(school_year, actor.locale.unwrap_or_default()), "members": members,
    })))
}

#[utoipa::path(post, path = "/api/v1/classes/{id}/teachers", tag = "classes", summary = "Assign a teacher of the school to the class, for a subject or as head teacher", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "TeacherInput"), responses((status = 200, description = "assigned"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_assign_teacher(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<TeacherInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    assign_teacher(&app, &actor, &meta, id, &input).await?;
    Ok(Json(json!({ "ok": true })))
}

#[utoipa::path(post, path = "/api/v1/people/{id}/class", tag = "classes", summary = "Move a student to another administrative class (the old membership stays as history)", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "MoveStudent"), responses((status = 200, description = "moved"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_move_student(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<MoveStudent>,
) -> Result<Json<serde_json::Value>, AppError> {
    move_student(&app, &actor, &meta, id, input.class_id).await?;
    Ok(Json(json!({ "ok": true })))
}
