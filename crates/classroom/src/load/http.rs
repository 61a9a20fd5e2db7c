//! The bureau's view of homework load: for a school, the minutes due per class and day over two
//! weeks, with a chart of each day's heaviest class against its limit; for a district or city,
//! its schools with the class-days over the limit.

use crate::homework::store;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use directory::classes::model::Class;
use directory::org::model::OrgUnit;
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::web::PageContext;
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new().route("/homework/load", get(load_page)).route("/api/v1/homework/load", get(api_load))
}

const DAYS: i64 = 14;

#[derive(Deserialize, Default)]
pub(crate) struct LoadQuery {
    #[serde(default)]
    unit: Option<i64>,
    /// First day shown, `2026-12-01`; a week before today by default.
    #[serde(default)]
    from: Option<String>,
}

/// One class's minutes on each day, with its limit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClassLoad {
    pub class_id: i64,
    pub name: String,
    pub limit: Option<i64>,
    pub minutes: Vec<i64>,
}

impl ClassLoad {
    pub fn over(&self, i: &usize) -> bool {
        self.limit.is_some_and(|l| self.minutes[*i] > l)
    }
}

/// A day's column of the chart: the heaviest class's minutes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DayBar {
    pub day: time::Date,
    pub label: String,
    pub max: i64,
    pub over: usize,
    pub x: f64,
    pub height: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SchoolLoad {
    pub days: Vec<time::Date>,
    pub classes: Vec<ClassLoad>,
    pub bars: Vec<DayBar>,
    pub over: usize,
}

fn may_see(actor: &Actor, unit: &OrgUnit) -> bool {
    matches!(actor.role, Role::RegionAdmin | Role::SchoolAdmin | Role::Researcher | Role::Auditor)
        && actor.may(Capability::View, Target::Unit { path: &unit.path })
}

async fn school_load(
    app: &App,
    school: &OrgUnit,
    from: time::Date,
    locale: kernel::i18n::Locale,
) -> Result<SchoolLoad, AppError> {
    let to = from + time::Duration::days(DAYS - 1);
    let rows = store::load_by_day(&app.db, &school.path, from, to).await?;
    let days: Vec<time::Date> = (0..DAYS).map(|i| from + time::Duration::days(i)).collect();
    let year = directory::calendar::store::school_year(&app.db, from).await?;
    let all: Vec<Class> = directory::classes::store::of_school(&app.db, school.id).await?;
    let mut classes = Vec::new();
    for c in all.iter().filter(|c| c.grade(year).is_some()) {
        let minutes: Vec<i64> =
            days.iter().map(|d| rows.iter().find(|r| r.0 == c.id && r.1 == *d).map(|r| r.2).unwrap_or(0)).collect();
        let limit = crate::load::limit_of(app, c, from).await?;
        classes.push(ClassLoad { class_id: c.id, name: c.display_name(year, locale), limit, minutes });
    }
    // Classes without any homework in the fortnight only lengthen the table.
    classes.retain(|c| c.minutes.iter().any(|m| *m > 0));
    let tallest = classes.iter().flat_map(|c| c.minutes.iter().copied()).max().unwrap_or(0).max(60) as f64;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let max = classes.iter().map(|c| c.minutes[i]).max().unwrap_or(0);
            DayBar {
                day: *d,
                label: format!("{}/{}", d.month() as u8, d.day()),
                max,
                over: classes.iter().filter(|c| c.over(&i)).count(),
                x: 30.0 + i as f64 * 40.0,
                height: max as f64 / tallest * 120.0,
            }
        })
        .collect::<Vec<_>>();
    let over = bars.iter().map(|b| b.over).sum();
    Ok(SchoolLoad { days, classes, bars, over })
}

#[derive(Template)]
#[template(path = "load.html")]
struct LoadPage<'a> {
    ctx: &'a PageContext,
    unit: OrgUnit,
    from: time::Date,
    school: Option<SchoolLoad>,
    /// Below a bureau: (school, class-days over the limit).
    schools: Vec<(OrgUnit, usize)>,
}

impl LoadPage<'_> {
    fn previous(&self) -> time::Date {
        self.from - time::Duration::days(DAYS)
    }

    fn next(&self) -> time::Date {
        self.from + time::Duration::days(DAYS)
    }

    /// The last day shown.
    fn to(&self) -> time::Date {
        self.from + time::Duration::days(DAYS - 1)
    }
}

async fn resolve(app: &App, actor: &Actor, q: &LoadQuery) -> Result<(OrgUnit, time::Date), AppError> {
    let unit = directory::org::store::get(&app.db, q.unit.unwrap_or(actor.unit_id)).await?.ok_or(AppError::NotFound)?;
    if !may_see(actor, &unit) {
        return Err(AppError::NotFound);
    }
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let from = match q.from.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => time::Date::parse(f, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| AppError::invalid("from", "error-field-malformed"))?,
        None => today - time::Duration::days(7),
    };
    Ok((unit, from))
}

fn is_school(unit: &OrgUnit) -> bool {
    matches!(unit.kind.as_str(), "school" | "teaching_point")
}

async fn load_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<LoadQuery>,
) -> Result<Response, AppError> {
    let (unit, from) = resolve(&app, &actor, &q).await?;
    let (school, schools) = if is_school(&unit) {
        (Some(school_load(&app, &unit, from, ctx.locale).await?), Vec::new())
    } else {
        let mut out = Vec::new();
        for s in directory::org::store::subtree(&app.db, &unit.path).await?.into_iter().filter(is_school) {
            let load = school_load(&app, &s, from, ctx.locale).await?;
            out.push((s, load.over));
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name.cmp(&b.0.name)));
        (None, out)
    };
    let page = LoadPage { ctx: &ctx, unit, from, school, schools };
    Ok(ctx.render(&ctx.t("load-title"), &page)?.into_response())
}

#[utoipa::path(get, path = "/api/v1/homework/load", tag = "classroom", summary = "Minutes of homework due per class and day at a school over 14 days, against each class's 双减 limit", params(("unit" = Option<i64>, Query, description = "a school in your scope (yours by default)"), ("from" = Option<String>, Query, description = "first day, 2026-12-01; a week ago by default")), responses((status = 200, description = "the school's load"), (status = 404, description = "no such school for you"), (status = 422, description = "not a school")))]
pub(crate) async fn api_load(
    State(app): State<App>,
    actor: Actor,
    Query(q): Query<LoadQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (unit, from) = resolve(&app, &actor, &q).await?;
    if !is_school(&unit) {
        return Err(AppError::invalid("unit", "load-error-not-school"));
    }
    let load = school_load(&app, &unit, from, actor.locale.unwrap_or_default()).await?;
    Ok(Json(json!({ "school": { "id": unit.id, "name": unit.name }, "load": load })))
}
