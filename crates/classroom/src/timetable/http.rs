//! Timetable pages and JSON API: one's own week and calendar feed, a class's week with its grid
//! editor, clash list and publishing, a school's overview, bell schedule and import.

use super::store::{Lesson, Timetable};
use super::{Bells, Clash, ClassWeek, Names, SchoolTerm, Teacher, import};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::{Actor, Capability, Role};
use kernel::error::FieldError;
use kernel::i18n::Locale;
use kernel::upload::Upload;
use kernel::web::{ApiJson, Checks, CsrfForm, EmptyForm, PageContext, RequestMeta, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/timetable", get(home_page))
        .route("/timetable/feed", post(feed_reset_submit))
        .route("/timetable/feed/{file}", get(feed_get))
        .route("/timetable/classes/{id}", get(class_page).post(draft_submit))
        .route("/timetable/classes/{id}/publish", post(publish_submit))
        .route("/timetable/classes/{id}/import", post(class_import_submit))
        .route("/timetable/classes/{id}/timetable.xlsx", get(class_workbook))
        .route("/timetable/schools/{id}", get(school_page))
        .route("/timetable/schools/{id}/import", post(school_import_submit))
        .route("/timetable/schools/{id}/timetable.xlsx", get(school_workbook))
        .route("/timetable/schools/{id}/bells", get(bells_page).post(bells_submit))
        .route("/api/v1/timetable/me", get(api_me))
        .route("/api/v1/timetable/feed", post(api_feed_reset))
        .route("/api/v1/schools/{id}/bell-schedule", get(api_bells).put(api_save_bells))
        .route("/api/v1/schools/{id}/timetables", get(api_school))
        .route("/api/v1/schools/{id}/timetables/import", post(api_school_import))
        .route("/api/v1/classes/{id}/timetable", get(api_class).put(api_save_draft))
        .route("/api/v1/classes/{id}/timetable/publish", post(api_publish))
        .route("/api/v1/classes/{id}/timetable/import", post(api_class_import))
}

/// The timetable's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api_me,
    api_feed_reset,
    feed_get,
    api_bells,
    api_save_bells,
    api_school,
    api_school_import,
    api_class,
    api_save_draft,
    api_publish,
    api_class_import
))]
pub struct TimetableApi;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TermQuery {
    term: Option<i64>,
    saved: Option<i64>,
    published: Option<i64>,
}

/// A select of terms for the term switch.
struct TermChoice {
    id: i64,
    name: String,
    current: bool,
}

async fn term_choices(app: &App, term: &SchoolTerm) -> Result<Vec<TermChoice>, AppError> {
    Ok(directory::calendar::store::terms(&app.db)
        .await?
        .into_iter()
        .map(|t| TermChoice { current: t.id == term.id, name: t.name, id: t.id })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Drawing weeks

#[derive(Clone)]
struct WeekCell {
    subject: String,
    detail: String,
    room: String,
    changed: bool,
}

/// A personal week's cells: each lesson's subject and room, with `detail` (its class for a
/// teacher's week, its teacher for a class's).
fn week_cells<'a>(
    lessons: impl Iterator<Item = &'a super::WeekLesson>,
    detail: impl Fn(&super::WeekLesson) -> String,
) -> Vec<(i64, i64, WeekCell)> {
    lessons
        .map(|l| {
            let cell = WeekCell { subject: l.subject_name.clone(), detail: detail(l), room: l.room.clone(), changed: false };
            (l.weekday, l.period, cell)
        })
        .collect()
}

struct WeekRow {
    period: i64,
    time: String,
    cells: Vec<Option<WeekCell>>,
}

/// A week as a table: periods down, days across.
struct WeekGrid {
    title: String,
    testid: String,
    days: Vec<String>,
    rows: Vec<WeekRow>,
    variant: String,
    /// No lessons: a note is shown instead of an empty grid.
    empty: bool,
    /// The same week day by day, which phones show instead of the table.
    by_day: Vec<DayList>,
}

struct DayList {
    name: String,
    today: bool,
    lessons: Vec<(i64, String, WeekCell)>,
}

fn day_names(ctx: &PageContext, days: i64) -> Vec<String> {
    (1..=days).map(|d| ctx.t(super::weekday_key(d))).collect()
}

/// The times of each period on the bell schedule in force today.
fn period_times(bells: Option<&Bells>, today: time::Date) -> (HashMap<i64, String>, String) {
    let Some(v) = bells.and_then(|b| b.variant_on(today)) else { return (HashMap::new(), String::new()) };
    let times = v
        .periods
        .iter()
        .map(|p| (p.period, format!("{}–{}", super::clock(p.starts_minute), super::clock(p.ends_minute))))
        .collect();
    (times, if bells.is_some_and(|b| b.variants.len() > 1) { v.variant.name.clone() } else { String::new() })
}

/// A class's lessons as a grid; `detail` names what the second line shows.
#[allow(clippy::too_many_arguments)]
fn grid(
    ctx: &PageContext,
    title: String,
    testid: &str,
    bells: Option<&Bells>,
    lessons: &[(i64, i64, WeekCell)],
    today: time::Date,
) -> WeekGrid {
    let days = bells.map_or(5, |b| b.schedule.days_per_week).max(lessons.iter().map(|l| l.0).max().unwrap_or(0));
    let periods = bells.map_or(0, |b| b.schedule.periods_per_day).max(lessons.iter().map(|l| l.1).max().unwrap_or(0));
    let (times, variant) = period_times(bells, today);
    let rows = (1..=periods)
        .map(|p| WeekRow {
            period: p,
            time: times.get(&p).cloned().unwrap_or_default(),
            cells: (1..=days)
                .map(|d| {
                    lessons.iter().find(|l| l.0 == d && l.1 == p).map(|(_, _, c)| WeekCell {
                        subject: c.subject.clone(),
                        detail: c.detail.clone(),
                        room: c.room.clone(),
                        changed: c.changed,
                    })
                })
                .collect(),
        })
        .collect();
    let names = day_names(ctx, days);
    let weekday = i64::from(today.weekday().number_from_monday());
    let by_day = (1..=days)
        .map(|d| {
            let mut of_day: Vec<(i64, String, WeekCell)> = lessons
                .iter()
                .filter(|l| l.0 == d)
                .map(|(_, p, c)| (*p, times.get(p).cloned().unwrap_or_default(), c.clone()))
                .collect();
            of_day.sort_by_key(|l| l.0);
            DayList { name: names[(d - 1) as usize].clone(), today: d == weekday, lessons: of_day }
        })
        .collect();
    WeekGrid { title, testid: testid.into(), days: names, rows, variant, empty: lessons.is_empty(), by_day }
}

fn cells_of(lessons: &[Lesson], names: &Names, locale: Locale, changed: &[(i64, i64)]) -> Vec<(i64, i64, WeekCell)> {
    lessons
        .iter()
        .map(|l| {
            (
                l.weekday,
                l.period,
                WeekCell {
                    subject: super::subject_name(&l.subject, locale),
                    detail: names.get(l.teacher_id),
                    room: l.room.clone(),
                    changed: changed.contains(&(l.weekday, l.period)),
                },
            )
        })
        .collect()
}

/// A publication's changes as lines: "周二 第3节：数学 王老师 301 → 英语 李老师 302".
struct Notice {
    at: String,
    version: i64,
    lines: Vec<String>,
}

fn notice(ctx: &PageContext, p: &super::store::Publication) -> Option<Notice> {
    let changes = super::changes_of(p);
    if p.version < 2 || changes.is_empty() {
        return None;
    }
    let slot = |s: &Option<super::Slot>| match s {
        Some(s) => [super::subject_name(&s.subject, ctx.locale), s.teacher.clone(), s.room.clone()]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        None => ctx.t("timetable-free"),
    };
    let lines = changes
        .iter()
        .map(|c| {
            ctx.t_args(
                "timetable-change-line",
                &[
                    ("day", ctx.t(super::weekday_key(c.weekday))),
                    ("period", c.period.to_string()),
                    ("before", slot(&c.before)),
                    ("after", slot(&c.after)),
                ],
            )
        })
        .collect();
    Some(Notice { at: ctx.time(&p.published_at), version: p.version, lines })
}

fn clash_text(ctx: &PageContext, c: &Clash) -> String {
    let (key, args) = c.message(&ctx.t(super::weekday_key(c.weekday)));
    ctx.t_args(key, &args)
}

// ---------------------------------------------------------------------------------------------
// My timetable

#[derive(Template)]
#[template(path = "timetable_home.html")]
struct HomePage<'a> {
    ctx: &'a PageContext,
    term: Option<SchoolTerm>,
    terms: Vec<TermChoice>,
    weeks: Vec<WeekGrid>,
    notices: Vec<(String, Notice)>,
    personal: bool,
    schools: Vec<(i64, String)>,
    classes: Vec<(i64, String)>,
    feed_url: Option<String>,
    webcal_url: Option<String>,
}

fn personal_role(role: Role) -> bool {
    matches!(role, Role::Teacher | Role::HeadTeacher | Role::Student | Role::Parent)
}

/// The site's address for links read outside a page (the feed): `public_url`, else the request's Host.
fn site(app: &App, headers: &HeaderMap) -> String {
    match &app.config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("http://{}", headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost")),
    }
}

async fn render_home(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    term_id: Option<i64>,
    feed_url: Option<String>,
) -> Result<Response, AppError> {
    let term = super::term(app, term_id).await?;
    let terms = match &term {
        Some(t) => term_choices(app, t).await?,
        None => Vec::new(),
    };
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let personal = personal_role(actor.role);
    let (mut weeks, mut notices, mut schools, mut classes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if let (Some(term), true) = (&term, personal) {
        let lessons = super::person_lessons(app, actor.person_id, &[term.id], ctx.locale).await?;
        let teaching = matches!(actor.role, Role::Teacher | Role::HeadTeacher);
        let bells = super::bells(app, actor.unit_id, term.id).await?;
        if teaching {
            let mine = lessons.iter().filter(|l| l.teacher_id == Some(actor.person_id));
            let cells = week_cells(mine, |l| l.class.clone());
            weeks.push(grid(ctx, ctx.t("timetable-my-week"), "my-week", bells.as_ref(), &cells, today));
            // The classes they teach or lead are told of their timetables' changes too.
            let mut class_ids: Vec<i64> = actor.class_ids.iter().chain(&actor.head_class_ids).copied().collect();
            class_ids.sort_unstable();
            class_ids.dedup();
            for class_id in class_ids {
                if let Some(t) = super::store::timetable(&app.db, class_id, term.id).await?
                    && let Some(p) = super::store::latest_publication(&app.db, t.id).await?
                    && let Some(n) = notice(ctx, &p)
                    && let Some(class) = directory::classes::store::get(&app.db, class_id).await?
                {
                    notices.push((super::class_name(app, &class, ctx.locale).await?, n));
                }
            }
        } else {
            let mut class_ids: Vec<i64> = actor.class_ids.clone();
            class_ids.sort_unstable();
            class_ids.dedup();
            // Parents: which of their children is in each class.
            let mut children: HashMap<i64, Vec<String>> = HashMap::new();
            if actor.role == Role::Parent {
                for child in directory::people::store::children_of(&app.db, actor.person_id).await? {
                    for a in directory::people::store::assignments(&app.db, child.person_id).await? {
                        if a.is_current(today)
                            && a.role() == Role::Student
                            && let Some(c) = a.class_id
                        {
                            children.entry(c).or_default().push(child.name.clone());
                        }
                    }
                }
            }
            for class_id in class_ids {
                let of_class: Vec<_> = lessons.iter().filter(|l| l.class_id == class_id).collect();
                let class = directory::classes::store::get(&app.db, class_id).await?.ok_or(AppError::NotFound)?;
                let mut name = super::class_name(app, &class, ctx.locale).await?;
                if let Some(names) = children.get(&class_id) {
                    name = format!("{} · {name}", names.join("、"));
                }
                let cls_bells = super::bells(app, class.school_id, term.id).await?;
                let cells = week_cells(of_class.iter().copied(), |l| l.teacher.clone());
                weeks.push(grid(ctx, name.clone(), &format!("class-week-{class_id}"), cls_bells.as_ref(), &cells, today));
                if let Some(t) = super::store::timetable(&app.db, class_id, term.id).await?
                    && let Some(p) = super::store::latest_publication(&app.db, t.id).await?
                    && let Some(n) = notice(ctx, &p)
                {
                    notices.push((name, n));
                }
            }
        }
        for class_id in &actor.head_class_ids {
            if let Some(c) = directory::classes::store::get(&app.db, *class_id).await? {
                classes.push((c.id, super::class_name(app, &c, ctx.locale).await?));
            }
        }
    }
    if matches!(actor.role, Role::SchoolAdmin | Role::RegionAdmin | Role::Researcher | Role::Reviewer | Role::Auditor) {
        for u in directory::org::store::subtree(&app.db, &actor.unit_path).await? {
            if u.kind().is_school() {
                schools.push((u.id, u.name));
            }
            if schools.len() >= 500 {
                break;
            }
        }
    }
    let webcal_url = feed_url.as_ref().map(|u| u.replacen("https://", "webcal://", 1).replacen("http://", "webcal://", 1));
    let page = HomePage { ctx, term, terms, weeks, notices, personal, schools, classes, feed_url, webcal_url };
    Ok(ctx.render(&ctx.t("timetable-title"), &page)?.into_response())
}

async fn home_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<TermQuery>,
) -> Result<Response, AppError> {
    render_home(&app, &ctx, &actor, q.term, None).await
}

/// Makes a new feed address (the old one stops working) and shows it once.
async fn feed_reset_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    if !personal_role(actor.role) {
        return Err(AppError::Forbidden);
    }
    let token = super::reset_feed(&app, &actor).await?;
    let url = format!("{}/timetable/feed/{token}.ics", site(&app, &headers));
    render_home(&app, &ctx, &actor, None, Some(url)).await
}

#[utoipa::path(get, path = "/timetable/feed/{token}", tag = "classroom", summary = "A person's timetable as an iCalendar feed (RFC 5545), at the private address shown once on their timetable page; the token may end in .ics", params(("token" = String, Path, description = "the feed's secret token")), responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 403, description = "no such feed (a wrong token, or one that was reset)")))]
pub(crate) async fn feed_get(State(app): State<App>, Path(file): Path<String>) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let body = super::feed(&app, token).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=900"),
            (header::CONTENT_DISPOSITION, "inline; filename=\"timetable.ics\""),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/timetable/feed", tag = "classroom", summary = "Make a new private calendar feed address for yourself (teachers, students, parents); the previous one stops working. The URL is shown only in this answer", responses((status = 200, description = "the feed's URL"), (status = 403, description = "your role has no timetable of its own")))]
pub(crate) async fn api_feed_reset(
    State(app): State<App>,
    actor: Actor,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AppError> {
    if !personal_role(actor.role) {
        return Err(AppError::Forbidden);
    }
    let token = super::reset_feed(&app, &actor).await?;
    Ok(Json(json!({ "url": format!("{}/timetable/feed/{token}.ics", site(&app, &headers)) })))
}

#[utoipa::path(get, path = "/api/v1/timetable/me", tag = "classroom", summary = "Your own published week of a term (default: the current one): the lessons you teach, or your class's, or your children's classes'", params(("term" = Option<i64>, Query, description = "term id")), responses((status = 200, description = "the term and its lessons"), (status = 401, description = "not signed in")))]
pub(crate) async fn api_me(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<TermQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let Some(term) = super::term(&app, q.term).await? else {
        return Ok(Json(json!({ "term": null, "lessons": [] })));
    };
    let lessons = if personal_role(actor.role) {
        let mut all = super::person_lessons(&app, actor.person_id, &[term.id], ctx.locale).await?;
        if matches!(actor.role, Role::Teacher | Role::HeadTeacher) {
            all.retain(|l| l.teacher_id == Some(actor.person_id));
        } else {
            all.retain(|l| actor.class_ids.contains(&l.class_id));
        }
        all
    } else {
        Vec::new()
    };
    Ok(Json(json!({ "term": term, "lessons": lessons })))
}

// ---------------------------------------------------------------------------------------------
// A class's week

struct EditCell {
    weekday: i64,
    period: i64,
    subject: String,
    teacher: i64,
    room: String,
    error: Option<String>,
    clash: bool,
}

struct EditRow {
    period: i64,
    time: String,
    cells: Vec<EditCell>,
}

struct Editor {
    days: Vec<String>,
    rows: Vec<EditRow>,
    subjects: Vec<(&'static str, &'static str)>,
    /// The school's teachers, each with the subject they teach this class (for the grid script).
    teachers: Vec<(Teacher, String)>,
}

#[derive(Template)]
#[template(path = "timetable_class.html")]
struct ClassPage<'a> {
    ctx: &'a PageContext,
    class_id: i64,
    class_name: String,
    school_id: i64,
    school_name: String,
    term: SchoolTerm,
    terms: Vec<TermChoice>,
    has_bells: bool,
    week: WeekGrid,
    version: i64,
    published_at: String,
    notice: Option<Notice>,
    manage: bool,
    /// Administrators reach the school's pages (overview, bell schedule); head teachers do not.
    admin: bool,
    editor: Option<Editor>,
    differs: bool,
    clashes: Vec<String>,
    errors: Vec<String>,
    saved: bool,
    published: Option<i64>,
    imported: Option<import::ImportSummary>,
}

/// What a re-shown grid holds: the submitted cells and their problems.
#[derive(Default)]
struct Submitted {
    form: HashMap<String, String>,
    errors: Vec<FieldError>,
}

struct ClassRender {
    submitted: Option<Submitted>,
    errors: Vec<FieldError>,
    saved: bool,
    published: Option<i64>,
    imported: Option<import::ImportSummary>,
}

impl ClassRender {
    fn plain() -> ClassRender {
        ClassRender { submitted: None, errors: Vec::new(), saved: false, published: None, imported: None }
    }
}

async fn render_class(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    class_id: i64,
    term_id: Option<i64>,
    r: ClassRender,
) -> Result<Response, AppError> {
    let w: ClassWeek = super::class_week(app, actor, class_id, term_id, ctx.locale).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let class_name = super::class_name(app, &w.access.class, ctx.locale).await?;
    let changed: Vec<(i64, i64)> =
        w.latest.as_ref().map(super::changes_of).unwrap_or_default().iter().map(|c| (c.weekday, c.period)).collect();
    let week = grid(
        ctx,
        ctx.t("timetable-published-week"),
        "published-week",
        w.bells.as_ref(),
        &cells_of(&w.published, &w.names, ctx.locale, &changed),
        today,
    );
    let clash_cells: Vec<(i64, i64)> = w.clashes.iter().map(|c| (c.weekday, c.period)).collect();
    let editor = match (&w.draft, &w.bells) {
        (Some(draft), Some(bells)) => {
            let members = directory::people::store::class_members(&app.db, class_id, today).await?;
            let teachers = super::teachers(app, &w.access.school)
                .await?
                .into_iter()
                .map(|t| {
                    let subject = members
                        .iter()
                        .find(|(a, _)| a.person_id == t.id && a.role() == Role::Teacher)
                        .and_then(|(a, _)| a.subject.as_deref().and_then(super::subject_code))
                        .unwrap_or_default()
                        .to_string();
                    (t, subject)
                })
                .collect();
            let (times, _) = period_times(Some(bells), today);
            let sub = r.submitted.as_ref();
            let rows = bells
                .periods()
                .into_iter()
                .map(|p| EditRow {
                    period: p,
                    time: times.get(&p).cloned().unwrap_or_default(),
                    cells: bells
                        .days()
                        .into_iter()
                        .map(|d| {
                            let (subject, teacher, room) = match sub {
                                Some(s) => {
                                    let v = |c: &str| s.form.get(&super::cell_field(d, p, c)).cloned().unwrap_or_default();
                                    (v("subject"), v("teacher").parse().unwrap_or(0), v("room"))
                                }
                                None => match draft.iter().find(|l| l.weekday == d && l.period == p) {
                                    Some(l) => (l.subject.clone(), l.teacher_id.unwrap_or(0), l.room.clone()),
                                    None => (String::new(), 0, String::new()),
                                },
                            };
                            let error = sub.and_then(|s| {
                                let mine: Vec<String> = s
                                    .errors
                                    .iter()
                                    .filter(|e| {
                                        ["subject", "teacher", "room"].iter().any(|c| e.field == super::cell_field(d, p, c))
                                    })
                                    .map(|e| ctx.t_args(e.key, &e.args.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()))
                                    .collect();
                                (!mine.is_empty()).then(|| mine.join(" "))
                            });
                            EditCell {
                                weekday: d,
                                period: p,
                                subject,
                                teacher,
                                room,
                                error,
                                clash: clash_cells.contains(&(d, p)),
                            }
                        })
                        .collect(),
                })
                .collect();
            let subjects = super::subjects_for(&w.access.class.stage).into_iter().map(|t| (t.code, t.name(ctx.locale))).collect();
            Some(Editor { days: day_names(ctx, bells.schedule.days_per_week), rows, subjects, teachers })
        }
        _ => None,
    };
    let mut errors: Vec<String> = r.errors.iter().map(|e| ctx.error_text(e)).collect();
    if let Some(s) = &r.submitted
        && !s.errors.is_empty()
    {
        errors.insert(0, ctx.t("timetable-grid-has-errors"));
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ClassPage {
        ctx,
        class_id,
        class_name: class_name.clone(),
        school_id: w.access.school.id,
        school_name: w.access.school.name.clone(),
        terms: term_choices(app, &w.term).await?,
        has_bells: w.bells.is_some(),
        week,
        version: w.timetable.as_ref().map_or(0, |t| t.published_version),
        published_at: w.timetable.as_ref().and_then(|t| t.published_at).map(|at| ctx.time(&at)).unwrap_or_default(),
        notice: w.latest.as_ref().and_then(|p| notice(ctx, p)),
        manage: w.access.manage,
        admin: actor.role.is_admin() && w.access.manage,
        differs: w.draft_differs(),
        clashes: w.clashes.iter().map(|c| clash_text(ctx, c)).collect(),
        editor,
        errors,
        saved: r.saved,
        published: r.published,
        imported: r.imported,
        term: w.term,
    };
    Ok((status, ctx.render(&format!("{} · {}", class_name, ctx.t("timetable-title")), &page)?).into_response())
}

async fn class_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Response, AppError> {
    let r = ClassRender { saved: q.saved.is_some(), published: q.published, ..ClassRender::plain() };
    render_class(&app, &ctx, &actor, id, q.term, r).await
}

/// The grid form's cells as lessons: a cell with a subject is a lesson.
fn lessons_from_form(form: &HashMap<String, String>) -> Result<Vec<Lesson>, AppError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (key, value) in form {
        let Some(rest) = key.strip_prefix("s-") else { continue };
        let Some((d, p)) = rest.split_once('-') else { continue };
        let (Ok(weekday), Ok(period)) = (d.parse::<i64>(), p.parse::<i64>()) else { continue };
        let get = |c: &str| form.get(&super::cell_field(weekday, period, c)).map(|v| v.trim().to_string()).unwrap_or_default();
        let teacher = get("teacher");
        let teacher_id = match teacher.as_str() {
            "" | "0" => None,
            t => match t.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new(super::cell_field(weekday, period, "teacher"), "timetable-error-teacher"));
                    None
                }
            },
        };
        if value.trim().is_empty() {
            if teacher_id.is_some() || !get("room").is_empty() {
                errors.push(FieldError::new(super::cell_field(weekday, period, "subject"), "timetable-error-subject-missing"));
            }
            continue;
        }
        out.push(Lesson { weekday, period, subject: value.trim().to_string(), teacher_id, room: get("room") });
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(out)
}

fn api_field(i: usize, _: &Lesson, column: &str) -> String {
    format!("lessons[{i}].{column}")
}

fn cell_of(_: usize, l: &Lesson, column: &str) -> String {
    super::cell_field(l.weekday, l.period, column)
}

async fn draft_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let term = match form.get("term").and_then(|t| t.parse().ok()).or(q.term) {
        Some(t) => t,
        None => super::required_term(&app, None).await?.id,
    };
    let result = match lessons_from_form(&form) {
        Ok(lessons) => super::save_draft(&app, &actor, &meta, id, term, &lessons, cell_of).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/timetable/classes/{id}?term={term}&saved=1#editor")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let (cells, other): (Vec<FieldError>, Vec<FieldError>) = errors
                .into_iter()
                .partition(|e| e.field.starts_with("s-") || e.field.starts_with("t-") || e.field.starts_with("r-"));
            let r = ClassRender { submitted: Some(Submitted { form, errors: cells }), errors: other, ..ClassRender::plain() };
            render_class(&app, &ctx, &actor, id, Some(term), r).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct TermForm {
    term: i64,
}

async fn publish_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TermForm>,
) -> Result<Response, AppError> {
    match super::publish(&app, &actor, &meta, id, form.term, ctx.locale).await {
        Ok(p) => Ok(Redirect::to(&format!("/timetable/classes/{id}?term={}&published={}", form.term, p.version)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let r = ClassRender { errors, ..ClassRender::plain() };
            render_class(&app, &ctx, &actor, id, Some(form.term), r).await
        }
        Err(e) => Err(e),
    }
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn xlsx_response(bytes: Vec<u8>, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"timetable.xlsx\"; filename*=UTF-8''{}", kernel::web::urlencode(name));
    ([(header::CONTENT_TYPE, XLSX.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// A class's draft as a spreadsheet in the import's columns (its managers).
async fn class_workbook(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Response, AppError> {
    let access = super::class_access(&app, &actor, id, Capability::Manage).await?;
    if !access.manage {
        return Err(AppError::Forbidden);
    }
    let term = super::required_term(&app, q.term).await?;
    let bytes = import::workbook(&app, &access.school, &[id], term.id).await?;
    let name = super::class_name(&app, &access.class, ctx.locale).await?;
    Ok(xlsx_response(bytes, &format!("{}-{name}-{}.xlsx", access.school.name, term.name)))
}

/// All the school's drafts as one spreadsheet in the import's columns (its administrators).
async fn school_workbook(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Response, AppError> {
    let unit = super::school(&app, &actor, id, Capability::Manage).await?;
    let term = super::required_term(&app, q.term).await?;
    let classes: Vec<i64> = directory::classes::store::of_school(&app.db, id).await?.into_iter().map(|c| c.id).collect();
    let bytes = import::workbook(&app, &unit, &classes, term.id).await?;
    Ok(xlsx_response(bytes, &format!("{}-{}.xlsx", unit.name, term.name)))
}

fn upload_term(upload: &Upload) -> Result<i64, AppError> {
    upload.field("term").parse().map_err(|_| AppError::invalid("term", "timetable-error-no-term"))
}

async fn class_import_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    upload: Upload,
) -> Result<Response, AppError> {
    let term = upload_term(&upload)?;
    match import::import(&app, &actor, &meta, 0, Some(id), term, upload.path(), ctx.locale).await {
        Ok(s) => {
            render_class(&app, &ctx, &actor, id, Some(term), ClassRender { imported: Some(s), ..ClassRender::plain() }).await
        }
        Err(AppError::Invalid(errors)) => {
            render_class(&app, &ctx, &actor, id, Some(term), ClassRender { errors, ..ClassRender::plain() }).await
        }
        Err(e) => Err(e),
    }
}

fn lesson_json(l: &Lesson, names: &Names, locale: Locale) -> serde_json::Value {
    json!({ "weekday": l.weekday, "period": l.period, "subject": l.subject, "subject_name": super::subject_name(&l.subject, locale),
            "teacher_id": l.teacher_id, "teacher": names.get(l.teacher_id), "room": l.room })
}

fn clash_json(ctx: &PageContext, c: &Clash) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["message"] = json!(clash_text(ctx, c));
    v
}

async fn class_json(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    term: Option<i64>,
) -> Result<serde_json::Value, AppError> {
    let w = super::class_week(app, actor, id, term, ctx.locale).await?;
    let published: Vec<_> = w.published.iter().map(|l| lesson_json(l, &w.names, ctx.locale)).collect();
    let mut out = json!({
        "class_id": id,
        "term": w.term,
        "version": w.timetable.as_ref().map_or(0, |t: &Timetable| t.published_version),
        "published_at": w.timetable.as_ref().and_then(|t| t.published_at),
        "bell_schedule": w.bells,
        "published": published,
        "latest_changes": w.latest.as_ref().map(super::changes_of).unwrap_or_default(),
    });
    if let Some(d) = &w.draft {
        out["draft"] = json!(d.iter().map(|l| lesson_json(l, &w.names, ctx.locale)).collect::<Vec<_>>());
        out["clashes"] = json!(w.clashes.iter().map(|c| clash_json(ctx, c)).collect::<Vec<_>>());
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/classes/{id}/timetable", tag = "classroom", summary = "A class's timetable of a term: the published week (and, for its managers, the draft with its clashes) and the last publication's changes", params(("id" = i64, Path, description = "class id"), ("term" = Option<i64>, Query, description = "term id (default: the current term)")), responses((status = 200, description = "the week"), (status = 403, description = "not your class or school")))]
pub(crate) async fn api_class(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(class_json(&app, &ctx, &actor, id, q.term).await?))
}

#[derive(Deserialize)]
pub(crate) struct DraftBody {
    /// The term (default: the current one).
    #[serde(default)]
    term: Option<i64>,
    lessons: Vec<Lesson>,
}

impl Validate for DraftBody {
    fn validate(&self, v: &mut Checks) {
        if self.lessons.len() > 7 * 16 {
            v.add("lessons", "timetable-error-duplicate");
        }
    }
}

#[utoipa::path(put, path = "/api/v1/classes/{id}/timetable", tag = "classroom", summary = "Replace a class's draft week (the school's administrators, the class's head teacher); answers the week with the draft's clashes", params(("id" = i64, Path, description = "class id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "{term, lessons: [{weekday 1-7, period, subject code, teacher_id, room}]}"), responses((status = 200, description = "the week with the new draft and its clashes"), (status = 403, description = "may not edit this class"), (status = 422, description = "problems, each naming its lesson and field")))]
pub(crate) async fn api_save_draft(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DraftBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let term = super::term_id(&app, body.term).await?;
    super::save_draft(&app, &actor, &meta, id, term, &body.lessons, api_field).await?;
    Ok(Json(class_json(&app, &ctx, &actor, id, Some(term)).await?))
}

#[derive(Deserialize)]
pub(crate) struct PublishBody {
    #[serde(default)]
    term: Option<i64>,
}

impl Validate for PublishBody {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/classes/{id}/timetable/publish", tag = "classroom", summary = "Publish a class's draft (课表发布); refused while it clashes, each clash a problem; a later publication records the changed lessons, shown to the class", params(("id" = i64, Path, description = "class id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "{term}"), responses((status = 200, description = "the version and its changes"), (status = 403, description = "may not publish this class's timetable"), (status = 422, description = "empty, unchanged or clashing")))]
pub(crate) async fn api_publish(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PublishBody>,
) -> Result<Json<super::Published>, AppError> {
    let term = super::term_id(&app, body.term).await?;
    Ok(Json(super::publish(&app, &actor, &meta, id, term, ctx.locale).await?))
}

#[utoipa::path(post, path = "/api/v1/classes/{id}/timetable/import", tag = "classroom", summary = "Import a class's draft week from a CSV or XLSX sheet (星期, 节次, 学科, 教师, 教室); nothing is written unless every row is good", params(("id" = i64, Path, description = "class id")), request_body(content_type = "multipart/form-data", description = "term, file"), responses((status = 200, description = "classes and lessons imported"), (status = 403, description = "may not edit this class"), (status = 422, description = "problems, each naming its row and column")))]
pub(crate) async fn api_class_import(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    upload: Upload,
) -> Result<Json<import::ImportSummary>, AppError> {
    let term = upload_term(&upload)?;
    Ok(Json(import::import(&app, &actor, &meta, 0, Some(id), term, upload.path(), ctx.locale).await?))
}

// ---------------------------------------------------------------------------------------------
// A school: overview, bell schedule, import

struct ClassRow {
    id: i64,
    name: String,
    version: i64,
    lessons: usize,
    pending: bool,
}

#[derive(Template)]
#[template(path = "timetable_school.html")]
struct SchoolPage<'a> {
    ctx: &'a PageContext,
    school_id: i64,
    school_name: String,
    term: SchoolTerm,
    terms: Vec<TermChoice>,
    variants: Vec<String>,
    /// Names of the bell schedule's variants, and each period's times in each of them.
    variant_names: Vec<String>,
    period_rows: Vec<(i64, Vec<String>)>,
    classes: Vec<ClassRow>,
    manage: bool,
    errors: Vec<String>,
    imported: Option<import::ImportSummary>,
}

async fn school_rows(app: &App, school_id: i64, term_id: i64, locale: Locale) -> Result<Vec<ClassRow>, AppError> {
    let timetables = super::store::of_school(&app.db, school_id, term_id).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let year = directory::calendar::store::school_year(&app.db, today).await?;
    let mut rows = Vec::new();
    for c in directory::classes::store::of_school(&app.db, school_id).await? {
        let t = timetables.iter().find(|t| t.class_id == c.id);
        let (lessons, pending) = match t {
            Some(t) => {
                let d = super::store::lessons(&app.db, t.id, "draft").await?;
                let p = super::store::lessons(&app.db, t.id, "published").await?;
                (d.len(), d != p)
            }
            None => (0, false),
        };
        rows.push(ClassRow {
            id: c.id,
            name: c.display_name(year, locale),
            version: t.map_or(0, |t| t.published_version),
            lessons,
            pending,
        });
    }
    Ok(rows)
}

async fn render_school(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    term_id: Option<i64>,
    errors: Vec<FieldError>,
    imported: Option<import::ImportSummary>,
) -> Result<Response, AppError> {
    let unit = super::school(app, actor, id, Capability::View).await?;
    if !matches!(actor.role, Role::SchoolAdmin | Role::RegionAdmin | Role::Researcher | Role::Reviewer | Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    let term = super::required_term(app, term_id).await?;
    let bells = super::bells(app, id, term.id).await?;
    let variants = bells
        .iter()
        .flat_map(|b| &b.variants)
        .map(|v| format!("{} {} – {}", v.variant.name, v.variant.starts_on, v.variant.ends_on))
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SchoolPage {
        ctx,
        school_id: id,
        school_name: unit.name.clone(),
        terms: term_choices(app, &term).await?,
        variant_names: bells.iter().flat_map(|b| &b.variants).map(|v| v.variant.name.clone()).collect(),
        period_rows: bells
            .as_ref()
            .map(|b| {
                b.periods()
                    .into_iter()
                    .map(|p| {
                        let times = b
                            .variants
                            .iter()
                            .map(|v| {
                                v.periods
                                    .iter()
                                    .find(|x| x.period == p)
                                    .map(|x| format!("{}–{}", super::clock(x.starts_minute), super::clock(x.ends_minute)))
                                    .unwrap_or_default()
                            })
                            .collect();
                        (p, times)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        variants,
        classes: school_rows(app, id, term.id, ctx.locale).await?,
        manage: actor.may(Capability::Manage, kernel::auth::Target::Unit { path: &unit.path }),
        errors: errors.iter().map(|e| ctx.error_text(e)).collect(),
        imported,
        term,
    };
    Ok((status, ctx.render(&format!("{} · {}", unit.name, ctx.t("timetable-title")), &page)?).into_response())
}

async fn school_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Response, AppError> {
    render_school(&app, &ctx, &actor, id, q.term, Vec::new(), None).await
}

async fn school_import_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    upload: Upload,
) -> Result<Response, AppError> {
    let term = upload_term(&upload)?;
    match import::import(&app, &actor, &meta, id, None, term, upload.path(), ctx.locale).await {
        Ok(s) => render_school(&app, &ctx, &actor, id, Some(term), Vec::new(), Some(s)).await,
        Err(AppError::Invalid(errors)) => render_school(&app, &ctx, &actor, id, Some(term), errors, None).await,
        Err(e) => Err(e),
    }
}

#[utoipa::path(get, path = "/api/v1/schools/{id}/timetables", tag = "classroom", summary = "A school's classes with their timetables' state for a term (published version, lessons in the draft, unpublished changes)", params(("id" = i64, Path, description = "school id"), ("term" = Option<i64>, Query, description = "term id")), responses((status = 200, description = "classes"), (status = 403, description = "not your school or district")))]
pub(crate) async fn api_school(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::school(&app, &actor, id, Capability::View).await?;
    if !matches!(actor.role, Role::SchoolAdmin | Role::RegionAdmin | Role::Researcher | Role::Reviewer | Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    let term = super::required_term(&app, q.term).await?;
    let rows = school_rows(&app, id, term.id, ctx.locale).await?;
    let classes: Vec<_> = rows
        .iter()
        .map(|r| json!({ "class_id": r.id, "name": r.name, "version": r.version, "draft_lessons": r.lessons, "unpublished_changes": r.pending }))
        .collect();
    Ok(Json(json!({ "school_id": id, "term": term, "classes": classes })))
}

#[utoipa::path(post, path = "/api/v1/schools/{id}/timetables/import", tag = "classroom", summary = "Import the drafts of a school's classes from a CSV or XLSX sheet (班级, 星期, 节次, 学科, 教师, 教室); each class named gets the file's lessons; nothing is written unless every row is good", params(("id" = i64, Path, description = "school id")), request_body(content_type = "multipart/form-data", description = "term, file"), responses((status = 200, description = "classes and lessons imported"), (status = 403, description = "not an administrator of this school"), (status = 422, description = "problems, each naming its row and column")))]
pub(crate) async fn api_school_import(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    upload: Upload,
) -> Result<Json<import::ImportSummary>, AppError> {
    let term = upload_term(&upload)?;
    Ok(Json(import::import(&app, &actor, &meta, id, None, term, upload.path(), ctx.locale).await?))
}

struct VariantForm {
    n: usize,
    name: String,
    starts_on: String,
    ends_on: String,
    periods: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "timetable_bells.html")]
struct BellsPage<'a> {
    ctx: &'a PageContext,
    school_id: i64,
    school_name: String,
    term: SchoolTerm,
    terms: Vec<TermChoice>,
    days: i64,
    variants: Vec<VariantForm>,
    errors: Vec<String>,
    saved: bool,
}

fn bells_form(input: &super::BellsInput) -> HashMap<String, String> {
    let mut f = HashMap::new();
    f.insert("days_per_week".to_string(), input.days_per_week.to_string());
    for (i, v) in input.variants.iter().enumerate() {
        let n = i + 1;
        f.insert(format!("v{n}_name"), v.name.clone());
        f.insert(format!("v{n}_starts_on"), v.starts_on.clone());
        f.insert(format!("v{n}_ends_on"), v.ends_on.clone());
        f.insert(format!("v{n}_periods"), v.periods.join("\n"));
    }
    f
}

fn bells_input(form: &HashMap<String, String>) -> super::BellsInput {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    super::BellsInput {
        days_per_week: get("days_per_week").trim().parse().unwrap_or(0),
        variants: (1..=super::MAX_VARIANTS)
            .map(|n| super::VariantInput {
                name: get(&format!("v{n}_name")),
                starts_on: get(&format!("v{n}_starts_on")),
                ends_on: get(&format!("v{n}_ends_on")),
                periods: get(&format!("v{n}_periods")).lines().map(str::to_string).collect(),
            })
            .collect(),
    }
}

async fn render_bells(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    term_id: Option<i64>,
    submitted: Option<(HashMap<String, String>, Vec<FieldError>)>,
    saved: bool,
) -> Result<Response, AppError> {
    let unit = super::school(app, actor, id, Capability::Manage).await?;
    let term = super::required_term(app, term_id).await?;
    let (form, errors) = match submitted {
        Some(s) => s,
        None => {
            let input = match super::bells(app, id, term.id).await? {
                Some(b) => super::BellsInput {
                    days_per_week: b.schedule.days_per_week,
                    variants: b
                        .variants
                        .iter()
                        .map(|v| super::VariantInput {
                            name: v.variant.name.clone(),
                            starts_on: v.variant.starts_on.to_string(),
                            ends_on: v.variant.ends_on.to_string(),
                            periods: v
                                .periods
                                .iter()
                                .map(|p| format!("{}-{}", super::clock(p.starts_minute), super::clock(p.ends_minute)))
                                .collect(),
                        })
                        .collect(),
                },
                None => super::BellsInput {
                    days_per_week: 5,
                    variants: vec![super::VariantInput {
                        name: ctx.t("timetable-variant-default"),
                        starts_on: term.starts_on.to_string(),
                        ends_on: term.ends_on.to_string(),
                        periods: Vec::new(),
                    }],
                },
            };
            (bells_form(&input), Vec::new())
        }
    };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let variants = (1..=super::MAX_VARIANTS)
        .map(|n| VariantForm {
            n,
            name: get(&format!("v{n}_name")),
            starts_on: get(&format!("v{n}_starts_on")),
            ends_on: get(&format!("v{n}_ends_on")),
            periods: get(&format!("v{n}_periods")),
            errors: errors.iter().filter(|e| e.field.starts_with(&format!("v{n}_"))).map(|e| ctx.error_text(e)).collect(),
        })
        .collect();
    let general: Vec<String> =
        errors.iter().filter(|e| !e.field.starts_with('v') || e.field == "variants").map(|e| ctx.error_text(e)).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = BellsPage {
        ctx,
        school_id: id,
        school_name: unit.name.clone(),
        terms: term_choices(app, &term).await?,
        days: get("days_per_week").parse().unwrap_or(5),
        variants,
        errors: general,
        saved,
        term,
    };
    Ok((status, ctx.render(&format!("{} · {}", ctx.t("timetable-bells"), unit.name), &page)?).into_response())
}

async fn bells_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Response, AppError> {
    render_bells(&app, &ctx, &actor, id, q.term, None, q.saved.is_some()).await
}

async fn bells_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let term =
        form.get("term").and_then(|t| t.parse().ok()).ok_or_else(|| AppError::invalid("term", "timetable-error-no-term"))?;
    match super::save_bells(&app, &actor, &meta, id, term, &bells_input(&form)).await {
        Ok(_) => Ok(Redirect::to(&format!("/timetable/schools/{id}/bells?term={term}&saved=1")).into_response()),
        Err(AppError::Invalid(errors)) => render_bells(&app, &ctx, &actor, id, Some(term), Some((form, errors)), false).await,
        Err(e) => Err(e),
    }
}

#[utoipa::path(get, path = "/api/v1/schools/{id}/bell-schedule", tag = "classroom", summary = "A school's bell schedule for a term: days a week, and each variant (summer, winter times) with its dates and periods' times", params(("id" = i64, Path, description = "school id"), ("term" = Option<i64>, Query, description = "term id")), responses((status = 200, description = "the schedule, or null"), (status = 403, description = "not your school or district")))]
pub(crate) async fn api_bells(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<TermQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::school(&app, &actor, id, Capability::View).await?;
    let term = super::required_term(&app, q.term).await?;
    Ok(Json(json!({ "term": term, "bell_schedule": super::bells(&app, id, term.id).await? })))
}

#[derive(Deserialize)]
pub(crate) struct BellsBody {
    #[serde(default)]
    term: Option<i64>,
    #[serde(flatten)]
    schedule: super::BellsInput,
}

impl Validate for BellsBody {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(put, path = "/api/v1/schools/{id}/bell-schedule", tag = "classroom", summary = "Set a school's bell schedule for a term (its administrators): {term, days_per_week, variants: [{name, starts_on, ends_on, periods: [\"08:00-08:40\", …]}]}", params(("id" = i64, Path, description = "school id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "the schedule"), responses((status = 200, description = "the schedule saved"), (status = 403, description = "not an administrator of this school"), (status = 422, description = "problems, each naming its field")))]
pub(crate) async fn api_save_bells(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<BellsBody>,
) -> Result<Json<Bells>, AppError> {
    let term = super::term_id(&app, body.term).await?;
    Ok(Json(super::save_bells(&app, &actor, &meta, id, term, &body.schedule).await?))
}
