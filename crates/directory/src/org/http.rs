//! Org-tree pages and API. Pages and API call the same service functions below.

use super::model::{OrgUnit, UnitInput, UnitKind};
use super::store;
use crate::classes::model::{Class, ClassInput};
use crate::classes::store as classes;
use crate::codes;
use crate::people::http::{NewPersonBody, create_person};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::db::DbError;
use kernel::error::FieldError;
use kernel::web::{ApiJson, Checks, CsrfForm, PageContext, RequestMeta, Validate, check};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/org", get(org_root))
        .route("/org/{id}", get(unit_page))
        .route("/org/{id}/edit", post(edit_submit))
        .route("/org/{id}/move", post(move_submit))
        .route("/org/{id}/children", post(create_child_submit))
        .route("/org/{id}/classes", post(create_class_submit))
        .route("/org/{id}/people", post(create_person_submit))
        .route("/api/v1/org-units", post(api_create))
        .route("/api/v1/org-units/{id}", get(api_get).patch(api_update))
        .route("/api/v1/org-units/{id}/children", get(api_children))
        .route("/api/v1/org-units/{id}/move", post(api_move))
        .route("/api/v1/org-units/{id}/classes", get(api_classes).post(api_create_class))
}

// ---- service ----

/// The unit, if the actor may see it: 404 if it does not exist, 403 if it is outside their scope.
pub async fn visible_unit(app: &App, actor: &Actor, id: i64, cap: Capability) -> Result<OrgUnit, AppError> {
    let unit = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if !actor.may(cap, Target::Unit { path: &unit.path }) {
        return Err(AppError::Forbidden);
    }
    Ok(unit)
}

fn unit_json(u: &OrgUnit) -> serde_json::Value {
    json!({
        "id": u.id, "parent_id": u.parent_id, "kind": u.kind, "name": u.name, "code": u.code,
        "school_type": u.school_type, "urban_rural": u.urban_rural, "stages": u.stage_list(),
        "path": u.path, "depth": u.depth, "updated_at": u.updated_at,
    })
}

/// Unique codes are the one constraint users can hit; it becomes a field error.
fn code_taken(e: DbError) -> AppError {
    match e.constraint() {
        Some("org_units_code_key") => AppError::Invalid(vec![FieldError::new("code", "org-error-code-taken")]),
        _ => e.into(),
    }
}

pub async fn create_unit(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    parent_id: i64,
    input: UnitInput,
) -> Result<i64, AppError> {
    let parent = visible_unit(app, actor, parent_id, Capability::Manage).await?;
    let input = input.normalised();
    check(&input)?;
    let kind = UnitKind::parse(&input.kind).ok_or_else(|| AppError::invalid("kind", "error-field-malformed"))?;
    if !kind.fits_under(parent.kind()) {
        return Err(AppError::invalid("kind", "org-error-kind-placement"));
    }
    let mut tx = app.db.begin().await?;
    let id = store::create(&mut tx, Some(&parent), &input).await.map_err(code_taken)?;
    let unit = store::get_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let mut entry = Entry::by(actor, meta, "org_unit_create", "org_unit", id, &unit.name, &unit.path);
    entry.after = Some(unit_json(&unit));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_unit(app: &App, actor: &Actor, meta: &RequestMeta, id: i64, input: UnitInput) -> Result<(), AppError> {
    let unit = visible_unit(app, actor, id, Capability::Manage).await?;
    let mut input = input.normalised();
    input.kind = unit.kind.clone();
    check(&input)?;
    let mut tx = app.db.begin().await?;
    store::update(&mut tx, &unit, &input).await.map_err(code_taken)?;
    let after = store::get_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let mut entry = Entry::by(actor, meta, "org_unit_update", "org_unit", id, &after.name, &after.path);
    entry.before = Some(unit_json(&unit));
    entry.after = Some(unit_json(&after));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn move_unit(app: &App, actor: &Actor, meta: &RequestMeta, id: i64, new_parent_id: i64) -> Result<(), AppError> {
    let unit = visible_unit(app, actor, id, Capability::Manage).await?;
    let parent = visible_unit(app, actor, new_parent_id, Capability::Manage).await?;
    if unit.id == actor.unit_id || parent.path.starts_with(&unit.path) {
        return Err(AppError::invalid("parent_id", "org-error-move-into-self"));
    }
    if !unit.kind().fits_under(parent.kind()) {
        return Err(AppError::invalid("parent_id", "org-error-kind-placement"));
    }
    let mut tx = app.db.begin().await?;
    store::move_under(&mut tx, &unit, &parent).await?;
    let after = store::get_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    // Recorded under both the old and the new place, so auditors of either side see the move.
    for scope in [&unit.path, &after.path] {
        let mut entry = Entry::by(actor, meta, "org_unit_move", "org_unit", id, &unit.name, scope);
        entry.before = Some(unit_json(&unit));
        entry.after = Some(unit_json(&after));
        audit::record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn create_class(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    school_id: i64,
    input: ClassInput,
) -> Result<i64, AppError> {
    let school = visible_unit(app, actor, school_id, Capability::Manage).await?;
    if !school.kind().is_school() {
        return Err(AppError::invalid("school_id", "class-error-not-school"));
    }
    check(&input)?;
    if !school.stage_list().contains(&input.stage.as_str()) {
        return Err(AppError::invalid("stage", "class-error-stage"));
    }
    let mut tx = app.db.begin().await?;
    let id = classes::create(&mut tx, school.id, &input).await.map_err(|e| match e.constraint() {
        Some("classes_school_kind_stage_entry_number_key") => AppError::invalid("number", "class-error-taken"),
        _ => e.into(),
    })?;
    let mut entry = Entry::by(actor, meta, "class_create", "class", id, &school.name, &school.path);
    entry.after = Some(
        json!({ "kind": input.kind, "stage": input.stage, "entry_year": input.entry_year, "number": input.number, "name": input.name }),
    );
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

// ---- pages ----

#[derive(Template)]
#[template(path = "unit.html")]
pub(crate) struct UnitPage<'a> {
    ctx: &'a PageContext,
    unit: &'a OrgUnit,
    trail: Vec<OrgUnit>,
    children: Vec<OrgUnit>,
    counts: store::UnitCounts,
    classes: Vec<(Class, String, i64)>,
    may_manage: bool,
    child_kinds: Vec<UnitKind>,
    move_targets: Vec<OrgUnit>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    school_year: i64,
}

impl UnitPage<'_> {
    fn kind_label(&self, kind: &str) -> String {
        self.ctx.t(UnitKind::parse(kind).map(|k| k.label_key()).unwrap_or("unit-kind-office"))
    }

    fn school_type_name(&self, code: &str) -> String {
        codes::find(codes::SCHOOL_TYPES, code).map(|c| c.name(self.ctx.locale).to_string()).unwrap_or_default()
    }

    fn urban_rural_name(&self, code: &str) -> String {
        codes::find(codes::URBAN_RURAL, code).map(|c| c.name(self.ctx.locale).to_string()).unwrap_or_default()
    }

    fn stage_names(&self) -> String {
        self.unit.stage_list().iter().map(|s| codes::stage_name(s, self.ctx.locale)).collect::<Vec<_>>().join("、")
    }

    fn school_types(&self) -> Vec<(&'static str, &'static str)> {
        codes::SCHOOL_TYPES.iter().map(|c| (c.code, c.name(self.ctx.locale))).collect()
    }

    fn urban_rural_types(&self) -> Vec<(&'static str, &'static str)> {
        codes::URBAN_RURAL.iter().map(|c| (c.code, c.name(self.ctx.locale))).collect()
    }

    fn unit_stages(&self) -> Vec<(&str, &'static str)> {
        self.unit.stage_list().into_iter().map(|s| (s, codes::stage_name(s, self.ctx.locale))).collect()
    }

    fn class_kind(&self, kind: &str) -> String {
        self.ctx.t(&format!("class-kind-{kind}"))
    }

    fn is_school(&self) -> bool {
        self.unit.kind().is_school()
    }

    fn err(&self, field: &str) -> Option<String> {
        self.ctx.field_error(&self.errors, field)
    }
}

async fn org_root(actor: Actor) -> Redirect {
    Redirect::to(&format!("/org/{}", actor.unit_id))
}

async fn render_unit(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let unit = visible_unit(app, actor, id, Capability::View).await?;
    let trail = store::ancestors(&app.db, &unit)
        .await?
        .into_iter()
        .filter(|u| actor.may(Capability::View, Target::Unit { path: &u.path }))
        .collect();
    let may_manage = actor.may(Capability::Manage, Target::Unit { path: &unit.path });
    let children = store::children(&app.db, unit.id).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = crate::calendar::store::school_year(&app.db, today).await?;
    let class_rows = if unit.kind().is_school() {
        let counts = classes::student_counts(&app.db, unit.id, today).await?;
        classes::of_school(&app.db, unit.id)
            .await?
            .into_iter()
            .filter(|c| actor.may(Capability::View, Target::Class { school_path: &unit.path, class_id: c.id }))
            .map(|c| {
                let n = counts.iter().find(|(id, _)| *id == c.id).map(|(_, n)| *n).unwrap_or(0);
                let name = c.display_name(school_year, ctx.locale);
                (c, name, n)
            })
            .collect()
    } else {
        vec![]
    };
    let child_kinds = UnitKind::ALL.into_iter().filter(|k| k.fits_under(unit.kind())).collect();
    let move_targets = if may_manage && unit.id != actor.unit_id {
        store::subtree(&app.db, &actor.unit_path)
            .await?
            .into_iter()
            .filter(|p| !p.path.starts_with(&unit.path) && Some(p.id) != unit.parent_id && unit.kind().fits_under(p.kind()))
            .take(500)
            .collect()
    } else {
        vec![]
    };
    let counts = store::counts(&app.db, &unit.path).await?;
    let page = UnitPage {
        ctx,
        unit: &unit,
        trail,
        children,
        counts,
        classes: class_rows,
        may_manage,
        child_kinds,
        move_targets,
        errors,
        notice,
        school_year,
    };
    Ok(ctx.render(&unit.name, &page)?.into_response())
}

async fn unit_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    render_unit(&app, &ctx, &actor, id, vec![], None).await
}

/// After a page form: back to the unit page on success, or the page again with the errors.
async fn after_submit(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    result: Result<String, AppError>,
) -> Result<Response, AppError> {
    match result {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(AppError::Invalid(errors)) => {
            let mut r = render_unit(app, ctx, actor, id, errors, None).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn edit_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<UnitInput>,
) -> Result<Response, AppError> {
    let r = update_unit(&app, &actor, &meta, id, input).await.map(|_| format!("/org/{id}"));
    after_submit(&app, &ctx, &actor, id, r).await
}

#[derive(Deserialize)]
pub(crate) struct MoveForm {
    parent_id: i64,
}

impl Validate for MoveForm {
    fn validate(&self, _: &mut Checks) {}
}

async fn move_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Result<Response, AppError> {
    let r = move_unit(&app, &actor, &meta, id, form.parent_id).await.map(|_| format!("/org/{id}"));
    after_submit(&app, &ctx, &actor, id, r).await
}

async fn create_child_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<UnitInput>,
) -> Result<Response, AppError> {
    let r = create_unit(&app, &actor, &meta, id, input).await.map(|child| format!("/org/{child}"));
    after_submit(&app, &ctx, &actor, id, r).await
}

async fn create_class_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<ClassInput>,
) -> Result<Response, AppError> {
    let r = create_class(&app, &actor, &meta, id, input).await.map(|class| format!("/classes/{class}"));
    after_submit(&app, &ctx, &actor, id, r).await
}

/// The "add a person" form of a school page: every field arrives as text.
#[derive(Deserialize)]
pub(crate) struct PersonForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    class_id: String,
    #[serde(default)]
    student_number: String,
    #[serde(default)]
    staff_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    login: String,
}

impl PersonForm {
    fn into_body(self, unit_id: i64) -> Result<NewPersonBody, AppError> {
        let role = match self.role.as_str() {
            "teacher" => Role::Teacher,
            "student" => Role::Student,
            "school_admin" => Role::SchoolAdmin,
            _ => return Err(AppError::invalid("role", "error-field-malformed")),
        };
        let class_id = match self.class_id.trim() {
            "" => None,
            id => Some(id.parse().map_err(|_| AppError::invalid("class_id", "error-field-malformed"))?),
        };
        let text = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Ok(NewPersonBody {
            name: self.name,
            gender: text(self.gender),
            login: text(self.login),
            phone: text(self.phone),
            student_number: text(self.student_number),
            staff_number: text(self.staff_number),
            role,
            unit_id,
            class_id,
            subject: None,
        })
    }
}

async fn create_person_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> Result<Response, AppError> {
    let r = async {
        let body = form.into_body(id)?;
        check(&body)?;
        create_person(&app, &actor, &meta, &body).await.map(|person| format!("/people/{person}"))
    }
    .await;
    after_submit(&app, &ctx, &actor, id, r).await
}

// ---- API ----

#[utoipa::path(get, path = "/api/v1/org-units/{id}", tag = "org", summary = "An org unit with counts of what lies under it", params(("id" = i64, Path, description = "record id")), responses((status = 200, description = "the unit"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let unit = visible_unit(&app, &actor, id, Capability::View).await?;
    let mut body = unit_json(&unit);
    body["counts"] = serde_json::to_value(store::counts(&app.db, &unit.path).await?).map_err(AppError::internal)?;
    Ok(Json(body))
}

#[utoipa::path(get, path = "/api/v1/org-units/{id}/children", tag = "org", summary = "The units directly under a unit", params(("id" = i64, Path, description = "record id")), responses((status = 200, description = "children"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record")))]
pub(crate) async fn api_children(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let unit = visible_unit(&app, &actor, id, Capability::View).await?;
    let children: Vec<_> = store::children(&app.db, unit.id)
        .await?
        .iter()
        .filter(|c| actor.may(Capability::View, Target::Unit { path: &c.path }))
        .map(unit_json)
        .collect();
    Ok(Json(json!({ "children": children })))
}

#[derive(Deserialize)]
pub(crate) struct NewUnitBody {
    parent_id: i64,
    #[serde(flatten)]
    unit: UnitInput,
}

impl Validate for NewUnitBody {
    fn validate(&self, _: &mut Checks) {}
}

impl Validate for UnitInputBody {
    fn validate(&self, _: &mut Checks) {}
}

#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct UnitInputBody(UnitInput);

#[utoipa::path(post, path = "/api/v1/org-units", tag = "org", summary = "Create an org unit under a parent the caller manages", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "NewUnitBody"), responses((status = 201, description = "created unit"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_create(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<NewUnitBody>,
) -> Result<Response, AppError> {
    let id = create_unit(&app, &actor, &meta, body.parent_id, body.unit).await?;
    let unit = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(unit_json(&unit))).into_response())
}

#[utoipa::path(patch, path = "/api/v1/org-units/{id}", tag = "org", summary = "Edit an org unit's name, code and categories", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "UnitInputBody"), responses((status = 200, description = "the updated unit"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_update(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<UnitInputBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    update_unit(&app, &actor, &meta, id, body.0).await?;
    let unit = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(unit_json(&unit)))
}

#[utoipa::path(post, path = "/api/v1/org-units/{id}/move", tag = "org", summary = "Move a unit, and everything under it, below another parent", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "MoveForm"), responses((status = 200, description = "the moved unit"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_move(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<MoveForm>,
) -> Result<Json<serde_json::Value>, AppError> {
    move_unit(&app, &actor, &meta, id, body.parent_id).await?;
    let unit = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(unit_json(&unit)))
}

#[utoipa::path(get, path = "/api/v1/org-units/{id}/classes", tag = "org", summary = "The classes of a school that the caller may see", params(("id" = i64, Path, description = "record id")), responses((status = 200, description = "classes"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record")))]
pub(crate) async fn api_classes(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let unit = visible_unit(&app, &actor, id, Capability::View).await?;
    let school_year = crate::calendar::store::school_year(&app.db, kernel::today(app.config.display_utc_offset_minutes)).await?;
    let locale = actor.locale.unwrap_or_default();
    let list: Vec<_> = classes::of_school(&app.db, unit.id)
        .await?
        .into_iter()
        .filter(|c| actor.may(Capability::View, Target::Class { school_path: &unit.path, class_id: c.id }))
        .map(|c| {
            json!({ "id": c.id, "kind": c.kind, "stage": c.stage, "entry_year": c.entry_year, "number": c.number,
                    "grade": c.grade(school_year), "name": c.display_name(school_year, locale), "subject": c.subject })
        })
        .collect();
    Ok(Json(json!({ "classes": list })))
}

impl Validate for ClassBody {
    fn validate(&self, _: &mut Checks) {}
}

#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct ClassBody(ClassInput);

#[utoipa::path(post, path = "/api/v1/org-units/{id}/classes", tag = "org", summary = "Create a class at a school", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "ClassBody"), responses((status = 201, description = "created"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_create_class(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ClassBody>,
) -> Result<Response, AppError> {
    let class_id = create_class(&app, &actor, &meta, id, body.0).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": class_id }))).into_response())
}
