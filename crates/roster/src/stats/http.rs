//! The statistics page (table, bar chart, sorting, drill-down to school and class), its XLSX
//! export and its API.

use super::store::{self, ClassFigures, UnitFigures};
use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use directory::org::model::OrgUnit;
use kernel::auth::{Actor, Capability, Role, Target, permits};
use kernel::web::PageContext;
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/roster/stats", get(stats_page))
        .route("/roster/stats.xlsx", get(stats_xlsx))
        .route("/api/v1/roster/stats", get(api_stats))
}

#[derive(Deserialize, Default)]
pub(crate) struct StatsQuery {
    unit: Option<i64>,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
}

/// Bureau staff read the statistics of their subtree; others have no statistics.
fn may_view(actor: &Actor, unit: &OrgUnit) -> bool {
    matches!(actor.role, Role::RegionAdmin | Role::SchoolAdmin | Role::Auditor | Role::Researcher | Role::Reviewer)
        && permits(actor, Capability::View, Target::Unit { path: &unit.path })
}

struct Report {
    unit: OrgUnit,
    /// Units above, for the breadcrumb (within the viewer's scope).
    trail: Vec<OrgUnit>,
    rows: Vec<UnitFigures>,
    total: UnitFigures,
    /// A school's classes.
    classes: Vec<ClassFigures>,
}

async fn report(app: &App, actor: &Actor, q: &StatsQuery) -> Result<Report, AppError> {
    let unit = directory::org::store::get(&app.db, q.unit.unwrap_or(actor.unit_id)).await?.ok_or(AppError::NotFound)?;
    if !may_view(actor, &unit) {
        return Err(AppError::Forbidden);
    }
    let is_school = unit.kind().is_school();
    let mut rows = store::children(&app.db, unit.id, is_school).await?;
    sort(&mut rows, &q.sort, q.dir == "asc");
    let mut total = UnitFigures { unit_id: unit.id, name: unit.name.clone(), kind: unit.kind.clone(), ..Default::default() };
    for r in &rows {
        total.add(r);
    }
    let classes = if is_school {
        let today = kernel::today(app.config.display_utc_offset_minutes);
        let year = directory::calendar::store::school_year(&app.db, today).await?;
        store::classes(&app.db, unit.id, year).await?
    } else {
        vec![]
    };
    let trail = directory::org::store::ancestors(&app.db, &unit)
        .await?
        .into_iter()
        .filter(|u| permits(actor, Capability::View, Target::Unit { path: &u.path }))
        .collect();
    Ok(Report { unit, trail, rows, total, classes })
}

fn sort(rows: &mut [UnitFigures], key: &str, ascending: bool) {
    let value = |r: &UnitFigures| -> f64 {
        match key {
            "students" => r.students as f64,
            "registered" => r.registered_percent().unwrap_or(-1.0),
            "placed" => r.placed_percent().unwrap_or(-1.0),
            "classes" => r.classes_percent().unwrap_or(-1.0),
            "teachers" => r.teachers as f64,
            _ => r.activation_percent().unwrap_or(-1.0),
        }
    };
    if key == "name" {
        rows.sort_by(|a, b| a.name.cmp(&b.name));
    } else {
        rows.sort_by(|a, b| value(a).total_cmp(&value(b)));
    }
    if !ascending && key != "name" {
        rows.reverse();
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
}

/// One pair of bars of the chart: registered share and activation rate of a child unit.
struct Bar {
    label: String,
    href: String,
    y: usize,
    registered: f64,
    activated: f64,
    registered_text: String,
    activated_text: String,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage<'a> {
    ctx: &'a PageContext,
    unit: OrgUnit,
    trail: Vec<OrgUnit>,
    rows: Vec<UnitFigures>,
    total: UnitFigures,
    classes: Vec<ClassFigures>,
    bars: Vec<Bar>,
    chart_height: usize,
    sort: String,
    dir: String,
    school_year: i64,
}

impl StatsPage<'_> {
    fn pct(&self, v: Option<f64>) -> String {
        pct(v)
    }

    fn sort_href(&self, key: &str) -> String {
        let dir = if self.sort == key && self.dir != "asc" { "asc" } else { "desc" };
        format!("/roster/stats?unit={}&sort={key}&dir={dir}", self.unit.id)
    }

    fn class_name(&self, c: &ClassFigures) -> String {
        match directory::codes::grade_of(&c.stage, c.entry_year, self.school_year) {
            Some(g) => format!(
                "{}{}",
                directory::codes::grade_name(&c.stage, g, self.ctx.locale),
                self.ctx.t_args("stats-class-number", &[("n", c.number.to_string())])
            ),
            None => c.number.to_string(),
        }
    }
}

const BAR_ROW: usize = 34;

async fn stats_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let r = report(&app, &actor, &q).await?;
    let bars: Vec<Bar> = r
        .rows
        .iter()
        .enumerate()
        .map(|(i, u)| Bar {
            label: u.name.chars().take(12).collect(),
            href: format!("/roster/stats?unit={}", u.unit_id),
            y: i * BAR_ROW,
            registered: u.registered_percent().unwrap_or(0.0).min(100.0),
            activated: u.activation_percent().unwrap_or(0.0),
            registered_text: pct(u.registered_percent()),
            activated_text: pct(u.activation_percent()),
        })
        .collect();
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = directory::calendar::store::school_year(&app.db, today).await?;
    let page = StatsPage {
        ctx: &ctx,
        chart_height: bars.len() * BAR_ROW + 4,
        bars,
        unit: r.unit,
        trail: r.trail,
        rows: r.rows,
        total: r.total,
        classes: r.classes,
        sort: if q.sort.is_empty() { "activation".into() } else { q.sort.clone() },
        dir: q.dir.clone(),
        school_year,
    };
    Ok(ctx.render(&ctx.t("stats-title"), &page)?.into_response())
}

async fn stats_xlsx(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let r = report(&app, &actor, &q).await?;
    let headers: Vec<String> = [
        "stats-unit",
        "stats-schools",
        "stats-official-teachers",
        "stats-teachers",
        "stats-official-students",
        "stats-students",
        "stats-registered",
        "stats-placed",
        "stats-official-classes",
        "stats-classes",
        "stats-parents",
        "stats-accounts",
        "stats-activated",
        "stats-activation",
    ]
    .iter()
    .map(|k| ctx.t(k))
    .collect();
    let specs: Vec<sheet::ColumnSpec> =
        headers.iter().map(|h| sheet::ColumnSpec { header: h, note: None, width: 14.0 }).collect();
    let mut wb = sheet::Workbook::new();
    let s = wb.sheet(&r.unit.name, &specs).map_err(AppError::internal)?;
    for u in r.rows.iter().chain(std::iter::once(&r.total)) {
        let cells = [
            u.name.clone(),
            u.schools.to_string(),
            u.official_teachers.to_string(),
            u.teachers.to_string(),
            u.official_students.to_string(),
            u.students.to_string(),
            pct(u.registered_percent()),
            pct(u.placed_percent()),
            u.official_classes.to_string(),
            u.classes.to_string(),
            u.parents.to_string(),
            u.accounts.to_string(),
            u.activated.to_string(),
            pct(u.activation_percent()),
        ];
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        wb.row(s, &cells, &[]).map_err(AppError::internal)?;
    }
    let bytes = wb.to_bytes().map_err(AppError::internal)?;
    Ok(crate::import::http::xlsx(&ctx.t_args("stats-file", &[("unit", r.unit.name.clone())]), bytes))
}

#[utoipa::path(get, path = "/api/v1/roster/stats", tag = "roster", summary = "Rostering statistics of each child unit of a scope (official headcount beside registered, placement, activation)",
    params(("unit" = Option<i64>, Query, description = "the unit (default: your own)"), ("sort" = Option<String>, Query, description = "name, students, registered, placed, classes, teachers or activation"), ("dir" = Option<String>, Query, description = "asc or desc")),
    responses((status = 200, description = "rows and total"), (status = 401, description = "not signed in"), (status = 403, description = "outside your scope"), (status = 404, description = "no such record")))]
pub(crate) async fn api_stats(
    State(app): State<App>,
    actor: Actor,
    Query(q): Query<StatsQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let r = report(&app, &actor, &q).await?;
    let row = |u: &UnitFigures| {
        json!({ "figures": u, "registered_percent": u.registered_percent(), "placed_percent": u.placed_percent(),
                "classes_percent": u.classes_percent(), "activation_percent": u.activation_percent() })
    };
    Ok(Json(json!({
        "unit": { "id": r.unit.id, "name": r.unit.name, "kind": r.unit.kind },
        "rows": r.rows.iter().map(row).collect::<Vec<_>>(),
        "total": row(&r.total),
        "classes": r.classes.iter().map(|c| json!({ "class": c, "activation_percent": c.activation_percent() })).collect::<Vec<_>>(),
    })))
}
