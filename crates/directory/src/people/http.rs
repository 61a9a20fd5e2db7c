//! People pages and API: a person's record, roles (current and past) and family links, lists for
//! admins, and creating a person with a first role.

use super::model::{Assignment, NewPerson, Person, Relation};
use super::store;
use crate::classes::store as classes;
use crate::org::http::visible_unit;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::error::FieldError;
use kernel::web::{ApiJson, Checks, PageContext, RequestMeta, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/people", get(list_page))
        .route("/people/{id}", get(person_page))
        .route("/api/v1/people", get(api_list).post(api_create))
        .route("/api/v1/people/{id}", get(api_get))
        .route("/api/v1/people/{id}/guardians", post(api_link_guardian))
}

/// Where a person stands, for the permission check: their current places and classes (a parent's
/// include their children's classes, so the children's teachers can reach them).
pub async fn person_target(app: &App, person_id: i64) -> Result<(Vec<String>, Vec<i64>, Vec<Assignment>), AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let all = store::assignments(&app.db, person_id).await?;
    let current: Vec<&Assignment> = all.iter().filter(|a| a.is_current(today)).collect();
    let paths = current.iter().map(|a| a.unit_path.clone()).collect();
    let mut class_ids: Vec<i64> = current.iter().filter_map(|a| a.class_id).collect();
    for child in store::children_of(&app.db, person_id).await? {
        for a in store::assignments(&app.db, child.person_id).await? {
            if let Some(c) = a.class_id.filter(|_| a.is_current(today)) {
                class_ids.push(c);
            }
        }
    }
    Ok((paths, class_ids, all))
}

pub async fn visible_person(app: &App, actor: &Actor, id: i64, cap: Capability) -> Result<(Person, Vec<Assignment>), AppError> {
    let person = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    let (paths, class_ids, all) = person_target(app, id).await?;
    if !actor.may(cap, Target::Person { person_id: id, paths: &paths, class_ids: &class_ids }) {
        return Err(AppError::Forbidden);
    }
    Ok((person, all))
}

#[derive(Template)]
#[template(path = "person.html")]
pub(crate) struct PersonPage<'a> {
    ctx: &'a PageContext,
    person: &'a Person,
    phone: Option<String>,
    assignments: Vec<(Assignment, String, bool)>,
    guardians: Vec<store::Guardian>,
    children: Vec<store::Guardian>,
    /// An admin over the person may issue them an activation code until they have activated.
    may_issue_code: bool,
}

impl PersonPage<'_> {
    fn role_name(&self, a: &Assignment) -> String {
        self.ctx.role_label(&a.role())
    }

    fn relation(&self, r: &str) -> String {
        self.ctx.t(&format!("relation-{r}"))
    }
}

async fn person_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (person, all) = visible_person(&app, &actor, id, Capability::View).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = crate::calendar::store::school_year(&app.db, today).await?;
    let paths: Vec<String> = all.iter().filter(|a| a.is_current(today)).map(|a| a.unit_path.clone()).collect();
    let may_issue_code = person.status == "active"
        && actor.may(Capability::Manage, Target::Person { person_id: id, paths: &paths, class_ids: &[] })
        && app
            .db
            .fetch_one::<(Option<i64>,)>(kernel::db::sql("SELECT activated_at FROM people WHERE id = $1").bind(id))
            .await?
            .0
            .is_none();
    let mut assignments = Vec::new();
    for a in all {
        let class_name = match a.class_id {
            Some(c) => classes::get(&app.db, c).await?.map(|c| c.display_name(school_year, ctx.locale)).unwrap_or_default(),
            None => String::new(),
        };
        let current = a.is_current(today);
        assignments.push((a, class_name, current));
    }
    // Only admins of the person's places and the person themself see the phone number, masked.
    let phone = if actor.role.is_admin() || actor.person_id == person.id { person.masked_phone() } else { None };
    let page = PersonPage {
        ctx: &ctx,
        person: &person,
        phone,
        assignments,
        guardians: store::guardians_of(&app.db, id).await?,
        children: store::children_of(&app.db, id).await?,
        may_issue_code,
    };
    Ok(ctx.render(&person.name, &page)?.into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    role: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: i64,
}

const PAGE_SIZE: i64 = 50;

async fn list_in_scope(app: &App, actor: &Actor, q: &ListQuery) -> Result<Vec<Person>, AppError> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let role = if q.role.is_empty() {
        None
    } else {
        Some(Role::parse(&q.role).ok_or_else(|| AppError::invalid("role", "error-field-malformed"))?)
    };
    let name = q.q.trim();
    if name.chars().count() > 50 {
        return Err(AppError::Invalid(vec![FieldError::new("q", "error-field-too-long").arg("max", 50)]));
    }
    let today = kernel::today(app.config.display_utc_offset_minutes);
    Ok(store::in_scope(
        &app.db,
        &actor.unit_path,
        role,
        (!name.is_empty()).then_some(name),
        today,
        PAGE_SIZE,
        q.page.max(0) * PAGE_SIZE,
    )
    .await?)
}

#[derive(Template)]
#[template(path = "people.html")]
pub(crate) struct PeoplePage<'a> {
    ctx: &'a PageContext,
    people: Vec<Person>,
    role: String,
    q: String,
    page: i64,
    roles: Vec<Role>,
}

async fn list_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let people = list_in_scope(&app, &actor, &q).await?;
    let page = PeoplePage {
        ctx: &ctx,
        people,
        role: q.role.clone(),
        q: q.q.clone(),
        page: q.page.max(0),
        roles: vec![Role::SchoolAdmin, Role::Teacher, Role::Student, Role::Parent],
    };
    Ok(ctx.render(&ctx.t("people-title"), &page)?.into_response())
}

#[utoipa::path(get, path = "/api/v1/people", tag = "people", summary = "People with a current role in the admin's scope (query: role, q, page)", responses((status = 200, description = "a page of people"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_list(
    State(app): State<App>,
    actor: Actor,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let people = list_in_scope(&app, &actor, &q).await?;
    Ok(Json(json!({ "people": people, "page": q.page.max(0), "page_size": PAGE_SIZE })))
}

#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", summary = "A person with their roles (current and past) and family links", params(("id" = i64, Path, description = "record id")), responses((status = 200, description = "the person"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (person, all) = visible_person(&app, &actor, id, Capability::View).await?;
    Ok(Json(json!({
        "person": person,
        "assignments": all,
        "guardians": store::guardians_of(&app.db, id).await?,
        "children": store::children_of(&app.db, id).await?,
    })))
}

/// A new person with their first role, from an admin.
#[derive(Deserialize)]
pub struct NewPersonBody {
    pub name: String,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub student_number: Option<String>,
    #[serde(default)]
    pub staff_number: Option<String>,
    pub role: Role,
    pub unit_id: i64,
    #[serde(default)]
    pub class_id: Option<i64>,
    #[serde(default)]
    pub subject: Option<String>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl Validate for NewPersonBody {
    fn validate(&self, v: &mut Checks) {
        v.required("name", &self.name).max_chars("name", &self.name, 50);
        if let Some(g) = blank(&self.gender)
            && g != "male"
            && g != "female"
        {
            v.add("gender", "error-field-malformed");
        }
        if let Some(l) = blank(&self.login) {
            let ok = l.len() >= 3
                && l.len() <= 40
                && l.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                && !l.chars().all(|c| c.is_ascii_digit());
            if !ok {
                v.add("login", "people-error-login");
            }
        }
        if let Some(p) = blank(&self.phone)
            && !(p.len() == 11 && p.starts_with('1') && p.chars().all(|c| c.is_ascii_digit()))
        {
            v.add("phone", "people-error-phone");
        }
        for (field, value) in [("student_number", &self.student_number), ("staff_number", &self.staff_number)] {
            if let Some(n) = blank(value) {
                v.max_chars(field, &n, 30);
            }
        }
        if matches!(self.role, Role::Student) && self.class_id.is_none() {
            v.add("class_id", "error-field-required");
        }
    }
}

fn taken(e: kernel::db::DbError) -> AppError {
    let field = match e.constraint() {
        Some("people_login_key") => "login",
        Some("people_phone_key") => "phone",
        Some("people_student_number_key") => "student_number",
        Some("people_staff_number_key") => "staff_number",
        _ => return e.into(),
    };
    AppError::Invalid(vec![FieldError::new(field, "people-error-taken")])
}

pub async fn create_person(app: &App, actor: &Actor, meta: &RequestMeta, body: &NewPersonBody) -> Result<i64, AppError> {
    let unit = visible_unit(app, actor, body.unit_id, Capability::Manage).await?;
    let fits = match body.role {
        Role::RegionAdmin | Role::Researcher => unit.kind().is_bureau(),
        Role::Auditor | Role::Reviewer => true,
        Role::SchoolAdmin | Role::Teacher | Role::Student => unit.kind().is_school(),
        // Head teachers are assigned on the class page; parents by linking them to a student.
        Role::HeadTeacher | Role::Parent => false,
    };
    if !fits {
        return Err(AppError::invalid("role", "people-error-role-place"));
    }
    if let Some(class_id) = body.class_id {
        let class = classes::get(&app.db, class_id).await?.ok_or(AppError::NotFound)?;
        if class.school_id != unit.id {
            return Err(AppError::invalid("class_id", "people-error-class-school"));
        }
    }
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let new = NewPerson {
        name: body.name.trim().to_string(),
        gender: blank(&body.gender),
        login: blank(&body.login).map(|l| l.to_lowercase()),
        phone: blank(&body.phone),
        student_number: blank(&body.student_number).map(|s| s.to_uppercase()),
        staff_number: blank(&body.staff_number),
        password_hash: None,
    };
    let mut tx = app.db.begin().await?;
    let id = store::create(&mut tx, &new).await.map_err(taken)?;
    store::assign(&mut tx, id, body.role, unit.id, body.class_id, blank(&body.subject).as_deref(), today).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "person_create", "person", id, new.name.clone(), unit.path.clone())
            .after(json!({ "name": new.name, "role": body.role, "unit_id": unit.id, "class_id": body.class_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[utoipa::path(post, path = "/api/v1/people", tag = "people", summary = "Create a person with a first role", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "NewPersonBody"), responses((status = 201, description = "created"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_create(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<NewPersonBody>,
) -> Result<Response, AppError> {
    let id = create_person(&app, &actor, &meta, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[derive(Deserialize)]
pub(crate) struct GuardianBody {
    parent_id: i64,
    relation: Relation,
}

impl Validate for GuardianBody {
    fn validate(&self, _: &mut Checks) {}
}

/// Links a parent to a student; the admin must manage both.
#[utoipa::path(post, path = "/api/v1/people/{id}/guardians", tag = "people", summary = "Link a parent to a student", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "GuardianBody"), responses((status = 201, description = "linked"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_link_guardian(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(student_id): Path<i64>,
    ApiJson(body): ApiJson<GuardianBody>,
) -> Result<Response, AppError> {
    let (student, student_roles) = visible_person(&app, &actor, student_id, Capability::Manage).await?;
    let (parent, _) = visible_person(&app, &actor, body.parent_id, Capability::Manage).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let Some(school) = student_roles.iter().find(|a| a.is_current(today) && a.role() == Role::Student) else {
        return Err(AppError::invalid("student", "people-error-not-student"));
    };
    let mut tx = app.db.begin().await?;
    store::link_guardian(&mut tx, parent.id, student.id, body.relation).await.map_err(|e| match e.constraint() {
        Some("guardianships_parent_student_key") => AppError::invalid("parent_id", "people-error-taken"),
        _ => e.into(),
    })?;
    let has_parent_role: Option<(i64,)> = tx
        .fetch_optional(
            kernel::db::sql(
                "SELECT id FROM role_assignments WHERE person_id = $1 AND role = 'parent' AND unit_id = $2 AND ends_on IS NULL",
            )
            .bind(parent.id)
            .bind(school.unit_id),
        )
        .await?;
    if has_parent_role.is_none() {
        store::assign(&mut tx, parent.id, Role::Parent, school.unit_id, None, None, today).await?;
    }
    audit::record(
        &mut tx,
        &Entry::by(&actor, &meta, "guardian_link", "person", student.id, student.name.clone(), school.unit_path.clone())
            .after(json!({ "parent_id": parent.id, "relation": body.relation })),
    )
    .await?;
    tx.commit().await?;
    app.actors.forget_person(parent.id);
    Ok((StatusCode::CREATED, Json(json!({ "ok": true }))).into_response())
}
