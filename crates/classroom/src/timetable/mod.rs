//! Timetables: bell schedules, each class's week, conflict checks, publishing, and calendar feeds.
//!
//! A school's bell schedule is kept per term: how many days and periods a week has, and one or
//! more variants (summer and winter times) each with a date range and the times of every period.
//! A class's week is edited as a draft (grid, API or an XLSX/CSV import) and published
//! (课表发布); students and parents only ever see the published week. Publishing is refused while
//! the draft clashes: a teacher or a room in two places at once, or a teacher over the weekly
//! lesson limit. A publication after an earlier one records which lessons changed, and the class
//! sees them as a "课表已更新" notice.

pub mod http;
pub mod ical;
pub mod import;
pub mod store;

use directory::classes::model::Class;
use directory::org::model::OrgUnit;
use directory::people::model::Person;
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::error::FieldError;
use kernel::i18n::Locale;
use kernel::web::RequestMeta;
use kernel::{App, AppError};
use library::vocab::{self, Term};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use store::{BellPeriod, Lesson, OtherLesson, Schedule, Timetable, Variant};

pub use directory::calendar::store::Term as SchoolTerm;

/// What a timetable cell may hold besides the curriculum's subjects.
pub const ACTIVITIES: &[Term] = &[
    Term { code: "class-meeting", zh: "班会", en: "Class meeting" },
    Term { code: "self-study", zh: "自习", en: "Self-study" },
    Term { code: "reading", zh: "阅读", en: "Reading" },
];

/// Names the input a lesson's problem belongs to: (index, lesson, column) → field.
pub type CellField = fn(usize, &Lesson, &str) -> String;

pub const MAX_ROOM_CHARS: usize = 30;
pub const MAX_VARIANTS: usize = 4;

/// A subject or activity code, if known.
pub fn subject(code: &str) -> Option<&'static Term> {
    vocab::find(vocab::SUBJECTS, code).or_else(|| ACTIVITIES.iter().find(|t| t.code == code))
}

pub fn subject_name(code: &str, locale: Locale) -> String {
    subject(code).map(|t| t.name(locale).to_string()).unwrap_or_else(|| code.to_string())
}

/// The subjects offered for a class of `stage`: its stage's subjects, then the activities.
pub fn subjects_for(stage: &str) -> Vec<&'static Term> {
    let mut out: Vec<&'static Term> =
        vocab::subjects_of_stage(stage).iter().filter_map(|c| vocab::find(vocab::SUBJECTS, c)).collect();
    if out.is_empty() {
        out = vocab::SUBJECTS.iter().collect();
    }
    out.extend(ACTIVITIES.iter());
    out
}

/// A subject given by its code or its Chinese or English name (imports, free text).
pub fn subject_code(value: &str) -> Option<&'static str> {
    let v = value.trim();
    vocab::SUBJECTS
        .iter()
        .chain(ACTIVITIES.iter())
        .find(|t| t.code == v || t.zh == v || t.en.eq_ignore_ascii_case(v))
        .or_else(|| if v == "生物" { vocab::find(vocab::SUBJECTS, "biology") } else { None })
        .map(|t| t.code)
}

/// Fluent key of a weekday's name (1 = Monday).
pub fn weekday_key(day: i64) -> &'static str {
    match day {
        1 => "timetable-day-1",
        2 => "timetable-day-2",
        3 => "timetable-day-3",
        4 => "timetable-day-4",
        5 => "timetable-day-5",
        6 => "timetable-day-6",
        _ => "timetable-day-7",
    }
}

/// "08:05" from minutes after midnight.
pub fn clock(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Minutes after midnight from "8:05" or "08:05".
pub fn parse_clock(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once([':', '：'])?;
    let (h, m): (i64, i64) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440).then_some(h * 60 + m)
}

// ---------------------------------------------------------------------------------------------
// Terms

/// The term asked for, else the one under way today, else the next, else the last.
pub async fn term(app: &App, wanted: Option<i64>) -> Result<Option<SchoolTerm>, AppError> {
    let terms = directory::calendar::store::terms(&app.db).await?;
    if let Some(id) = wanted {
        return terms.into_iter().find(|t| t.id == id).map(Some).ok_or(AppError::NotFound);
    }
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let current = terms.iter().find(|t| t.starts_on <= today && today <= t.ends_on);
    let next = terms.iter().find(|t| t.starts_on > today);
    Ok(current.or(next).or(terms.last()).cloned())
}

/// Terms not yet over: what calendar feeds carry.
pub async fn open_terms(app: &App) -> Result<Vec<SchoolTerm>, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    Ok(directory::calendar::store::terms(&app.db).await?.into_iter().filter(|t| t.ends_on >= today).collect())
}

async fn required_term(app: &App, wanted: Option<i64>) -> Result<SchoolTerm, AppError> {
    term(app, wanted).await?.ok_or_else(|| AppError::invalid("term", "timetable-error-no-term"))
}

/// The term an API call names, or the one under way.
pub(crate) async fn term_id(app: &App, wanted: Option<i64>) -> Result<i64, AppError> {
    match wanted {
        Some(t) => Ok(t),
        None => Ok(required_term(app, None).await?.id),
    }
}

// ---------------------------------------------------------------------------------------------
// Who may do what

/// A school the actor may see (`View`) or manage (`Manage`).
pub async fn school(app: &App, actor: &Actor, school_id: i64, cap: Capability) -> Result<OrgUnit, AppError> {
    let unit = directory::org::store::get(&app.db, school_id).await?.ok_or(AppError::NotFound)?;
    if !unit.kind().is_school() {
        return Err(AppError::NotFound);
    }
    if !actor.may(cap, Target::Unit { path: &unit.path }) {
        return Err(AppError::Forbidden);
    }
    Ok(unit)
}

/// A class as the actor reaches it.
pub struct ClassAccess {
    pub class: Class,
    pub school: OrgUnit,
    /// May edit and publish: the school's (or a parent bureau's) administrators and the class's head teacher.
    pub manage: bool,
}

pub async fn class_access(app: &App, actor: &Actor, class_id: i64, cap: Capability) -> Result<ClassAccess, AppError> {
    let class = directory::classes::store::get(&app.db, class_id).await?.ok_or(AppError::NotFound)?;
    let school = directory::org::store::get(&app.db, class.school_id).await?.ok_or(AppError::NotFound)?;
    let target = Target::Class { school_path: &school.path, class_id };
    let manage = actor.may(Capability::Manage, target);
    if !(manage || (cap == Capability::View && actor.may(Capability::View, target))) {
        return Err(AppError::Forbidden);
    }
    Ok(ClassAccess { class, school, manage })
}

// ---------------------------------------------------------------------------------------------
// Bell schedules

/// A school's bell schedule for a term, its variants with their periods' times.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Bells {
    pub schedule: Schedule,
    pub variants: Vec<VariantTimes>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VariantTimes {
    pub variant: Variant,
    pub periods: Vec<BellPeriod>,
}

impl Bells {
    /// The variant in force on `day`, else the first.
    pub fn variant_on(&self, day: time::Date) -> Option<&VariantTimes> {
        self.variants.iter().find(|v| v.variant.starts_on <= day && day <= v.variant.ends_on).or(self.variants.first())
    }

    pub fn days(&self) -> Vec<i64> {
        (1..=self.schedule.days_per_week).collect()
    }

    pub fn periods(&self) -> Vec<i64> {
        (1..=self.schedule.periods_per_day).collect()
    }
}

pub async fn bells(app: &App, school_id: i64, term_id: i64) -> Result<Option<Bells>, AppError> {
    let Some(schedule) = store::schedule(&app.db, school_id, term_id).await? else { return Ok(None) };
    let periods = store::periods(&app.db, schedule.id).await?;
    let variants = store::variants(&app.db, schedule.id)
        .await?
        .into_iter()
        .map(|v| VariantTimes { periods: periods.iter().filter(|p| p.variant_id == v.id).copied().collect(), variant: v })
        .collect();
    Ok(Some(Bells { schedule, variants }))
}

/// A bell schedule as entered.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct BellsInput {
    /// Days with lessons, 5–7 (Monday first).
    pub days_per_week: i64,
    pub variants: Vec<VariantInput>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct VariantInput {
    /// e.g. 夏季作息 / 冬季作息
    pub name: String,
    /// YYYY-MM-DD, within the term
    pub starts_on: String,
    pub ends_on: String,
    /// Each period's times in order, "08:00-08:40".
    pub periods: Vec<String>,
}

fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s.trim(), &time::macros::format_description!("[year]-[month]-[day]")).ok()
}

struct CheckedVariant {
    name: String,
    starts_on: time::Date,
    ends_on: time::Date,
    periods: Vec<(i64, i64)>,
}

fn check_bells(input: &BellsInput, term: &SchoolTerm) -> Result<(i64, Vec<CheckedVariant>), AppError> {
    let mut errors = Vec::new();
    if !(5..=7).contains(&input.days_per_week) {
        errors.push(FieldError::new("days_per_week", "timetable-error-days"));
    }
    let used: Vec<&VariantInput> = input
        .variants
        .iter()
        .filter(|v| !(v.name.trim().is_empty() && v.starts_on.trim().is_empty() && v.periods.iter().all(|p| p.trim().is_empty())))
        .collect();
    if used.is_empty() {
        errors.push(FieldError::new("variants", "timetable-error-no-variant"));
    }
    if used.len() > MAX_VARIANTS {
        errors.push(FieldError::new("variants", "timetable-error-too-many-variants").arg("max", MAX_VARIANTS));
    }
    let mut out: Vec<CheckedVariant> = Vec::new();
    for (i, v) in used.iter().enumerate() {
        let n = i + 1;
        let field = |name: &str| format!("v{n}_{name}");
        let name = v.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new(field("name"), "timetable-error-variant-name").arg("n", n));
        } else if name.chars().count() > 30 {
            errors.push(FieldError::new(field("name"), "error-field-too-long").arg("max", 30));
        }
        let starts_on = parse_date(&v.starts_on);
        let ends_on = parse_date(&v.ends_on);
        if starts_on.is_none() {
            errors.push(FieldError::new(field("starts_on"), "timetable-error-variant-date").arg("n", n));
        }
        if ends_on.is_none() {
            errors.push(FieldError::new(field("ends_on"), "timetable-error-variant-date").arg("n", n));
        }
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            if s > e || s < term.starts_on || e > term.ends_on {
                errors.push(
                    FieldError::new(field("ends_on"), "timetable-error-variant-range")
                        .arg("n", n)
                        .arg("from", term.starts_on)
                        .arg("to", term.ends_on),
                );
            }
            if let Some(o) = out.iter().find(|o| o.starts_on <= e && s <= o.ends_on) {
                errors.push(
                    FieldError::new(field("starts_on"), "timetable-error-variant-overlap").arg("n", n).arg("other", &o.name),
                );
            }
        }
        let lines: Vec<&str> = v.periods.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
        let mut periods = Vec::new();
        if lines.is_empty() || lines.len() > 16 {
            errors.push(FieldError::new(field("periods"), "timetable-error-period-count").arg("n", n));
        }
        let mut last_end = -1;
        for (p, line) in lines.iter().enumerate() {
            let times = line.split_once(['-', '–', '~', '—']).and_then(|(a, b)| Some((parse_clock(a)?, parse_clock(b)?)));
            match times {
                Some((a, b)) if a < b && a >= last_end => {
                    last_end = b;
                    periods.push((a, b));
                }
                _ => errors.push(
                    FieldError::new(field("periods"), "timetable-error-period-time")
                        .arg("n", n)
                        .arg("period", p + 1)
                        .arg("value", *line),
                ),
            }
        }
        if let (Some(starts_on), Some(ends_on)) = (starts_on, ends_on) {
            out.push(CheckedVariant { name: name.to_string(), starts_on, ends_on, periods });
        }
    }
    if let Some(first) = out.first() {
        for (i, v) in out.iter().enumerate().skip(1) {
            if v.periods.len() != first.periods.len() {
                errors.push(
                    FieldError::new(format!("v{}_periods", i + 1), "timetable-error-period-mismatch")
                        .arg("n", i + 1)
                        .arg("count", first.periods.len()),
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let periods = out.first().map_or(0, |v| v.periods.len() as i64);
    Ok((periods, out))
}

/// Saves a school's bell schedule for a term (administrators of the school or above).
pub async fn save_bells(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    school_id: i64,
    term_id: i64,
    input: &BellsInput,
) -> Result<Bells, AppError> {
    let unit = school(app, actor, school_id, Capability::Manage).await?;
    let term = required_term(app, Some(term_id)).await?;
    let (periods, variants) = check_bells(input, &term)?;
    let mut tx = app.db.begin().await?;
    let (max_day, max_period) = store::used_extent(&mut tx, school_id, term.id).await?;
    if max_day > input.days_per_week || max_period > periods {
        return Err(AppError::Invalid(vec![
            FieldError::new("variants", "timetable-error-shrink").arg("days", max_day).arg("periods", max_period),
        ]));
    }
    let rows: Vec<store::NewVariant> = variants
        .iter()
        .map(|v| store::NewVariant { name: &v.name, starts_on: v.starts_on, ends_on: v.ends_on, periods: &v.periods })
        .collect();
    let id = store::save_schedule(&mut tx, school_id, term.id, input.days_per_week, periods, &rows, actor.person_id).await?;
    audit::record(
        &mut tx,
        &Entry::by(
            actor,
            meta,
            "bell_schedule_save",
            "bell_schedule",
            id,
            format!("{} {}", unit.name, term.name),
            unit.path.clone(),
        )
        .after(json!({ "term_id": term.id, "days_per_week": input.days_per_week, "periods_per_day": periods,
                           "variants": variants.iter().map(|v| json!({ "name": v.name, "starts_on": v.starts_on.to_string(),
                               "ends_on": v.ends_on.to_string(), "periods": v.periods })).collect::<Vec<_>>() })),
    )
    .await?;
    tx.commit().await?;
    bells(app, school_id, term.id).await?.ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// People: the school's teachers, and names

/// A teacher a lesson may be given to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Teacher {
    pub id: i64,
    pub name: String,
    pub staff_number: Option<String>,
}

/// The school's current teachers, by name.
pub async fn teachers(app: &App, school: &OrgUnit) -> Result<Vec<Teacher>, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let people: Vec<Person> =
        directory::people::store::in_scope(&app.db, &school.path, Some(Role::Teacher), None, today, 5000, 0).await?;
    Ok(people.into_iter().map(|p| Teacher { id: p.id, name: p.name, staff_number: p.staff_number }).collect())
}

/// Names of people by id, looked up once each.
#[derive(Default)]
pub struct Names(HashMap<i64, String>);

impl Names {
    pub fn from_teachers(list: &[Teacher]) -> Names {
        Names(list.iter().map(|t| (t.id, t.name.clone())).collect())
    }

    pub async fn fill(&mut self, app: &App, ids: Vec<i64>) -> Result<(), AppError> {
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(e) = self.0.entry(id) {
                e.insert(directory::people::store::get(&app.db, id).await?.map(|p| p.name).unwrap_or_default());
            }
        }
        Ok(())
    }

    pub fn get(&self, id: Option<i64>) -> String {
        id.and_then(|i| self.0.get(&i).cloned()).unwrap_or_default()
    }
}

/// Class display names, looked up once each.
pub async fn class_names(app: &App, ids: Vec<i64>, locale: Locale) -> Result<HashMap<i64, String>, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let year = directory::calendar::store::school_year(&app.db, today).await?;
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(id)
            && let Some(c) = directory::classes::store::get(&app.db, id).await?
        {
            e.insert(c.display_name(year, locale));
        }
    }
    Ok(out)
}

pub async fn class_name(app: &App, class: &Class, locale: Locale) -> Result<String, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let year = directory::calendar::store::school_year(&app.db, today).await?;
    Ok(class.display_name(year, locale))
}

// ---------------------------------------------------------------------------------------------
// Drafts and their checks

/// Checks a week against the bell schedule, the subject list and the school's teachers: every
/// problem names its cell (`field_of(weekday, period, column)`).
pub fn check_lessons(
    lessons: &[Lesson],
    bells: &Bells,
    teachers: &[Teacher],
    field_of: CellField,
) -> Result<Vec<Lesson>, AppError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(lessons.len());
    for (i, l) in lessons.iter().enumerate() {
        let before = errors.len();
        if !(1..=bells.schedule.days_per_week).contains(&l.weekday) {
            errors.push(
                FieldError::new(field_of(i, l, "weekday"), "timetable-error-weekday").arg("max", bells.schedule.days_per_week),
            );
        }
        if !(1..=bells.schedule.periods_per_day).contains(&l.period) {
            errors.push(
                FieldError::new(field_of(i, l, "period"), "timetable-error-period").arg("max", bells.schedule.periods_per_day),
            );
        }
        if subject(l.subject.trim()).is_none() {
            errors.push(FieldError::new(field_of(i, l, "subject"), "timetable-error-subject").arg("value", &l.subject));
        }
        if let Some(t) = l.teacher_id
            && !teachers.iter().any(|x| x.id == t)
        {
            errors.push(FieldError::new(field_of(i, l, "teacher"), "timetable-error-teacher"));
        }
        if l.room.trim().chars().count() > MAX_ROOM_CHARS {
            errors.push(FieldError::new(field_of(i, l, "room"), "error-field-too-long").arg("max", MAX_ROOM_CHARS));
        }
        if !seen.insert((l.weekday, l.period)) {
            errors.push(FieldError::new(field_of(i, l, "period"), "timetable-error-duplicate"));
        }
        if errors.len() == before {
            out.push(Lesson {
                weekday: l.weekday,
                period: l.period,
                subject: l.subject.trim().to_string(),
                teacher_id: l.teacher_id,
                room: l.room.trim().to_string(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    out.sort_by_key(|l| (l.weekday, l.period));
    Ok(out)
}

/// Field name of a grid cell's input: `s-2-3` is Tuesday's third period's subject.
pub fn cell_field(weekday: i64, period: i64, column: &str) -> String {
    let c = match column {
        "subject" | "weekday" | "period" => "s",
        "teacher" => "t",
        _ => "r",
    };
    format!("{c}-{weekday}-{period}")
}

/// The bell schedule a class's week is drawn on; editing needs one.
pub async fn required_bells(app: &App, school_id: i64, term_id: i64) -> Result<Bells, AppError> {
    bells(app, school_id, term_id).await?.ok_or_else(|| AppError::invalid("term", "timetable-error-no-bells"))
}

/// Saves a class's draft week (replacing the previous draft).
pub async fn save_draft(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    class_id: i64,
    term_id: i64,
    lessons: &[Lesson],
    field_of: CellField,
) -> Result<(), AppError> {
    let access = class_access(app, actor, class_id, Capability::Manage).await?;
    if !access.manage {
        return Err(AppError::Forbidden);
    }
    let term = required_term(app, Some(term_id)).await?;
    let bells = required_bells(app, access.school.id, term.id).await?;
    let teachers = teachers(app, &access.school).await?;
    let lessons = check_lessons(lessons, &bells, &teachers, field_of)?;
    let mut tx = app.db.begin().await?;
    let t = store::ensure(&mut tx, class_id, term.id, access.school.id, actor.person_id).await?;
    store::replace_draft(&mut tx, t.id, &lessons, actor.person_id).await?;
    let name = class_name(app, &access.class, Locale::ZhCn).await?;
    audit::record(
        &mut tx,
        &Entry::by(
            actor,
            meta,
            "timetable_draft_save",
            "class",
            class_id,
            format!("{} {name} {}", access.school.name, term.name),
            access.school.path.clone(),
        )
        .after(json!({ "term_id": term.id, "lessons": lessons.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One clash of a draft.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Clash {
    /// "teacher" (in two classes at once), "room" (two classes in one room) or "load" (over the weekly limit).
    pub kind: &'static str,
    pub weekday: i64,
    pub period: i64,
    pub teacher_id: Option<i64>,
    pub teacher: String,
    pub room: String,
    /// The other class (teacher and room clashes).
    pub class_id: Option<i64>,
    pub class: String,
    /// The teacher's lessons a week (load clashes).
    pub lessons: i64,
    pub max: i64,
}

impl Clash {
    /// The Fluent key and arguments of the clash's description.
    pub fn message(&self, locale_day: &str) -> (&'static str, Vec<(&'static str, String)>) {
        let args = vec![
            ("day", locale_day.to_string()),
            ("period", self.period.to_string()),
            ("teacher", self.teacher.clone()),
            ("room", self.room.clone()),
            ("class", self.class.clone()),
            ("lessons", self.lessons.to_string()),
            ("max", self.max.to_string()),
        ];
        let key = match self.kind {
            "teacher" => "timetable-clash-teacher",
            "room" => "timetable-clash-room",
            _ => "timetable-clash-load",
        };
        (key, args)
    }
}

/// The clashes of a class's lessons with the other timetables of the term (without names).
pub fn find_clashes(own: &[Lesson], own_school: i64, others: &[OtherLesson], max_weekly: i64) -> Vec<Clash> {
    let blank = |kind, weekday, period| Clash {
        kind,
        weekday,
        period,
        teacher_id: None,
        teacher: String::new(),
        room: String::new(),
        class_id: None,
        class: String::new(),
        lessons: 0,
        max: max_weekly,
    };
    let mut out: Vec<Clash> = Vec::new();
    let mut push = |c: Clash| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    for l in own {
        for o in others.iter().filter(|o| o.weekday == l.weekday && o.period == l.period) {
            if l.teacher_id.is_some() && o.teacher_id == l.teacher_id {
                push(Clash { teacher_id: l.teacher_id, class_id: Some(o.class_id), ..blank("teacher", l.weekday, l.period) });
            }
            let room = l.room.trim();
            if !room.is_empty() && o.school_id == own_school && o.room.trim() == room {
                push(Clash { room: room.to_string(), class_id: Some(o.class_id), ..blank("room", l.weekday, l.period) });
            }
        }
    }
    let mut load: BTreeMap<i64, i64> = BTreeMap::new();
    for t in own.iter().filter_map(|l| l.teacher_id) {
        *load.entry(t).or_default() += 1;
    }
    for (t, n) in load.iter_mut() {
        *n += others.iter().filter(|o| o.state == "draft" && o.teacher_id == Some(*t)).count() as i64;
    }
    for (t, n) in load {
        if n > max_weekly {
            push(Clash { teacher_id: Some(t), lessons: n, ..blank("load", 0, 0) });
        }
    }
    out
}

fn teachers_of(own: &[Lesson]) -> Vec<i64> {
    let mut teachers: Vec<i64> = own.iter().filter_map(|l| l.teacher_id).collect();
    teachers.sort_unstable();
    teachers.dedup();
    teachers
}

async fn clashes_in(app: &App, tx: &mut kernel::db::Tx, t: &Timetable, own: &[Lesson]) -> Result<Vec<Clash>, AppError> {
    let others = store::others_in(tx, t.term_id, t.id, t.school_id, &teachers_of(own)).await?;
    Ok(find_clashes(own, t.school_id, &others, app.config.classroom.max_weekly_lessons))
}

async fn clashes_of(app: &App, t: &Timetable, own: &[Lesson]) -> Result<Vec<Clash>, AppError> {
    let others = store::others(&app.db, t.term_id, t.id, t.school_id, &teachers_of(own)).await?;
    Ok(find_clashes(own, t.school_id, &others, app.config.classroom.max_weekly_lessons))
}

/// Fills in the names of the people and classes a list of clashes mentions.
pub async fn name_clashes(app: &App, clashes: &mut [Clash], names: &mut Names, locale: Locale) -> Result<(), AppError> {
    names.fill(app, clashes.iter().filter_map(|c| c.teacher_id).collect()).await?;
    let classes = class_names(app, clashes.iter().filter_map(|c| c.class_id).collect(), locale).await?;
    for c in clashes.iter_mut() {
        c.teacher = names.get(c.teacher_id);
        c.class = c.class_id.and_then(|id| classes.get(&id).cloned()).unwrap_or_default();
    }
    Ok(())
}

/// A class's timetable of a term as its viewer may see it.
pub struct ClassWeek {
    pub access: ClassAccess,
    pub term: SchoolTerm,
    pub bells: Option<Bells>,
    pub timetable: Option<Timetable>,
    pub published: Vec<Lesson>,
    /// Managers only.
    pub draft: Option<Vec<Lesson>>,
    /// Managers only: the draft's clashes, named.
    pub clashes: Vec<Clash>,
    pub latest: Option<store::Publication>,
    pub names: Names,
}

impl ClassWeek {
    pub fn draft_differs(&self) -> bool {
        self.draft.as_ref().is_some_and(|d| *d != self.published)
    }
}

pub async fn class_week(
    app: &App,
    actor: &Actor,
    class_id: i64,
    term_id: Option<i64>,
    locale: Locale,
) -> Result<ClassWeek, AppError> {
    let access = class_access(app, actor, class_id, Capability::View).await?;
    let term = required_term(app, term_id).await?;
    let bells = bells(app, access.school.id, term.id).await?;
    let timetable = store::timetable(&app.db, class_id, term.id).await?;
    let teachers = teachers(app, &access.school).await?;
    let mut names = Names::from_teachers(&teachers);
    let (mut published, mut draft, mut clashes, mut latest) = (Vec::new(), None, Vec::new(), None);
    if let Some(t) = &timetable {
        published = store::lessons(&app.db, t.id, "published").await?;
        latest = store::latest_publication(&app.db, t.id).await?;
        if access.manage {
            let d = store::lessons(&app.db, t.id, "draft").await?;
            clashes = clashes_of(app, t, &d).await?;
            draft = Some(d);
        }
    } else if access.manage {
        draft = Some(Vec::new());
    }
    let ids: Vec<i64> = published.iter().chain(draft.iter().flatten()).filter_map(|l| l.teacher_id).collect();
    names.fill(app, ids).await?;
    name_clashes(app, &mut clashes, &mut names, locale).await?;
    Ok(ClassWeek { access, term, bells, timetable, published, draft, clashes, latest, names })
}

/// One changed cell of a publication.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub weekday: i64,
    pub period: i64,
    pub before: Option<Slot>,
    pub after: Option<Slot>,
}

/// A lesson as a publication recorded it (the teacher's name as it was).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slot {
    pub subject: String,
    pub teacher: String,
    pub room: String,
}

/// The cells that differ between two weeks.
pub fn diff(before: &[Lesson], after: &[Lesson], names: &Names) -> Vec<Change> {
    let slot = |l: &Lesson| Slot { subject: l.subject.clone(), teacher: names.get(l.teacher_id), room: l.room.clone() };
    let mut keys: Vec<(i64, i64)> = before.iter().chain(after).map(|l| (l.weekday, l.period)).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter_map(|(w, p)| {
            let b = before.iter().find(|l| l.weekday == w && l.period == p);
            let a = after.iter().find(|l| l.weekday == w && l.period == p);
            (b != a).then(|| Change { weekday: w, period: p, before: b.map(slot), after: a.map(slot) })
        })
        .collect()
}

/// What a publication did.
#[derive(Debug, serde::Serialize)]
pub struct Published {
    pub version: i64,
    pub changes: Vec<Change>,
}

/// Publishes a class's draft (课表发布): refused while it clashes; records what changed.
pub async fn publish(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    class_id: i64,
    term_id: i64,
    locale: Locale,
) -> Result<Published, AppError> {
    let access = class_access(app, actor, class_id, Capability::Manage).await?;
    if !access.manage {
        return Err(AppError::Forbidden);
    }
    let term = required_term(app, Some(term_id)).await?;
    required_bells(app, access.school.id, term.id).await?;
    let teachers = teachers(app, &access.school).await?;
    let mut names = Names::from_teachers(&teachers);
    let mut tx = app.db.begin().await?;
    store::lock_term(&mut tx, term.id).await?;
    let t = store::timetable_in(&mut tx, class_id, term.id)
        .await?
        .ok_or_else(|| AppError::invalid("timetable", "timetable-error-empty"))?;
    let draft = store::lessons_in(&mut tx, t.id, "draft").await?;
    if draft.is_empty() {
        return Err(AppError::invalid("timetable", "timetable-error-empty"));
    }
    let mut clashes = clashes_in(app, &mut tx, &t, &draft).await?;
    if !clashes.is_empty() {
        drop(tx);
        name_clashes(app, &mut clashes, &mut names, locale).await?;
        let errors = clashes
            .iter()
            .map(|c| {
                let day = app.i18n.t(locale, weekday_key(c.weekday));
                let (key, args) = c.message(&day);
                let mut e = FieldError::new("clash", key);
                for (k, v) in args {
                    e = e.arg(k, v);
                }
                e
            })
            .collect();
        return Err(AppError::Invalid(errors));
    }
    let before = store::lessons_in(&mut tx, t.id, "published").await?;
    if t.published_version > 0 && before == draft {
        return Err(AppError::invalid("timetable", "timetable-error-unchanged"));
    }
    let ids: Vec<i64> = before.iter().chain(&draft).filter_map(|l| l.teacher_id).collect();
    names.fill(app, ids).await?;
    let changes = if t.published_version > 0 { diff(&before, &draft, &names) } else { Vec::new() };
    let version =
        store::publish(&mut tx, t.id, actor.person_id, &serde_json::to_string(&changes).map_err(AppError::internal)?).await?;
    kernel::activity::record(&mut tx, actor, "timetable_publish", class_id).await?;
    let name = class_name(app, &access.class, Locale::ZhCn).await?;
    audit::record(
        &mut tx,
        &Entry::by(
            actor,
            meta,
            "timetable_publish",
            "class",
            class_id,
            format!("{} {name} {}", access.school.name, term.name),
            access.school.path.clone(),
        )
        .after(json!({ "term_id": term.id, "version": version, "lessons": draft.len(), "changes": changes.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(Published { version, changes })
}

/// The changes a publication recorded.
pub fn changes_of(p: &store::Publication) -> Vec<Change> {
    serde_json::from_str(&p.changes).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A person's own week, and the calendar feed

/// A lesson in someone's week, with its class and teacher named.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WeekLesson {
    pub timetable_id: i64,
    pub class_id: i64,
    pub class: String,
    pub school_id: i64,
    pub term_id: i64,
    pub version: i64,
    pub published_at: Option<i64>,
    pub weekday: i64,
    pub period: i64,
    pub subject: String,
    pub subject_name: String,
    pub teacher_id: Option<i64>,
    pub teacher: String,
    pub room: String,
}

/// Everything that makes up one person's week: the lessons they teach and those of the classes
/// they attend, or their children attend. By the person's current roles, whichever is active.
pub async fn person_lessons(app: &App, person_id: i64, term_ids: &[i64], locale: Locale) -> Result<Vec<WeekLesson>, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let assignments = directory::people::store::assignments(&app.db, person_id).await?;
    let current: Vec<_> = assignments.iter().filter(|a| a.is_current(today)).collect();
    let mut placed = Vec::new();
    if current.iter().any(|a| matches!(a.role(), Role::Teacher | Role::HeadTeacher)) {
        placed.extend(store::taught_by(&app.db, person_id, term_ids).await?);
    }
    let mut classes: Vec<i64> = current.iter().filter(|a| a.role() == Role::Student).filter_map(|a| a.class_id).collect();
    if current.iter().any(|a| a.role() == Role::Parent) {
        for child in directory::people::store::children_of(&app.db, person_id).await? {
            for a in directory::people::store::assignments(&app.db, child.person_id).await? {
                if a.is_current(today)
                    && a.role() == Role::Student
                    && let Some(c) = a.class_id
                {
                    classes.push(c);
                }
            }
        }
    }
    classes.sort_unstable();
    classes.dedup();
    placed.extend(store::of_classes(&app.db, &classes, term_ids).await?);
    let mut seen = HashSet::new();
    placed.retain(|l| seen.insert((l.timetable_id, l.weekday, l.period)));
    let mut names = Names::default();
    let teacher_ids: Vec<i64> = placed.iter().filter_map(|l| l.teacher_id).collect();
    names.fill(app, teacher_ids).await?;
    let class_ids: Vec<i64> = placed.iter().map(|l| l.class_id).collect();
    let class_names = class_names(app, class_ids, locale).await?;
    Ok(placed
        .into_iter()
        .map(|l| WeekLesson {
            timetable_id: l.timetable_id,
            class_id: l.class_id,
            class: class_names.get(&l.class_id).cloned().unwrap_or_default(),
            school_id: l.school_id,
            term_id: l.term_id,
            version: l.published_version,
            published_at: l.published_at,
            weekday: l.weekday,
            period: l.period,
            subject_name: subject_name(&l.subject, locale),
            subject: l.subject,
            teacher: names.get(l.teacher_id),
            teacher_id: l.teacher_id,
            room: l.room,
        })
        .collect())
}

/// Creates (or replaces) the actor's private feed token; the token is shown once in its URL.
pub async fn reset_feed(app: &App, actor: &Actor) -> Result<String, AppError> {
    if actor.credential == (kernel::auth::Credential::Token { write: false }) {
        return Err(AppError::Forbidden);
    }
    let token = kernel::secret::random_token(32);
    store::set_feed(&app.db, actor.person_id, &kernel::secret::token_hash(&token)).await?;
    Ok(token)
}

/// The iCalendar text of the person whose feed token this is.
pub async fn feed(app: &App, token: &str) -> Result<String, AppError> {
    // An unknown, reset or malformed token is refused like any missing credential.
    if token.len() != 43 {
        return Err(AppError::Forbidden);
    }
    let person_id = store::feed_owner(&app.db, &kernel::secret::token_hash(token)).await?.ok_or(AppError::Forbidden)?;
    let person = directory::people::store::get(&app.db, person_id).await?.ok_or(AppError::Forbidden)?;
    if person.status != "active" {
        return Err(AppError::Forbidden);
    }
    let locale = person
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or_else(|| Locale::parse(&app.config.default_locale).unwrap_or_default());
    let terms = open_terms(app).await?;
    let term_ids: Vec<i64> = terms.iter().map(|t| t.id).collect();
    let lessons = person_lessons(app, person_id, &term_ids, locale).await?;
    let mut schedules: HashMap<(i64, i64), Option<Bells>> = HashMap::new();
    let mut events = Vec::new();
    for l in &lessons {
        let key = (l.school_id, l.term_id);
        if let std::collections::hash_map::Entry::Vacant(e) = schedules.entry(key) {
            e.insert(bells(app, l.school_id, l.term_id).await?);
        }
        let (Some(Some(b)), Some(term)) = (schedules.get(&key), terms.iter().find(|t| t.id == l.term_id)) else { continue };
        for v in &b.variants {
            let Some(p) = v.periods.iter().find(|p| p.period == l.period) else { continue };
            let from = v.variant.starts_on.max(term.starts_on);
            let to = v.variant.ends_on.min(term.ends_on);
            let Some(series) =
                ical::Series::weekly(from, to, l.weekday, p.starts_minute, p.ends_minute, app.config.display_utc_offset_minutes)
            else {
                continue;
            };
            let day = app.i18n.t(locale, weekday_key(l.weekday));
            let description = app.i18n.t_args(
                locale,
                "timetable-feed-description",
                &[("class", l.class.clone()), ("teacher", l.teacher.clone()), ("day", day), ("period", l.period.to_string())],
            );
            events.push(ical::Event {
                uid: format!("timetable-{}-{}-{}-{}@hanlin", l.timetable_id, l.weekday, l.period, v.variant.id),
                stamp: l.published_at.unwrap_or_else(kernel::now),
                sequence: l.version,
                series,
                summary: l.subject_name.clone(),
                location: l.room.clone(),
                description,
            });
        }
    }
    let name = app.i18n.t_args(locale, "timetable-feed-name", &[("name", person.name.clone())]);
    Ok(ical::calendar(&name, &events))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(weekday: i64, period: i64, teacher: Option<i64>, room: &str) -> Lesson {
        Lesson { weekday, period, subject: "math".into(), teacher_id: teacher, room: room.into() }
    }

    fn other(
        class_id: i64,
        school_id: i64,
        state: &str,
        weekday: i64,
        period: i64,
        teacher: Option<i64>,
        room: &str,
    ) -> OtherLesson {
        OtherLesson { class_id, school_id, state: state.into(), weekday, period, teacher_id: teacher, room: room.into() }
    }

    #[test]
    fn teachers_clash_anywhere_rooms_only_in_the_same_school() {
        let own = [lesson(1, 1, Some(7), "301"), lesson(1, 2, Some(8), "302")];
        let others = [
            // Another school: same teacher is a clash, the same room name is not.
            other(20, 2, "published", 1, 1, Some(7), "301"),
            // The same school: room 302 at the same time, by another teacher.
            other(21, 1, "draft", 1, 2, Some(9), "302"),
            // Same class draft and published: reported once.
            other(22, 1, "draft", 1, 1, Some(7), ""),
            other(22, 1, "published", 1, 1, Some(7), ""),
            // Another period: no clash.
            other(23, 1, "draft", 2, 1, Some(7), "301"),
        ];
        let clashes = find_clashes(&own, 1, &others, 20);
        let found: Vec<(&str, Option<i64>)> = clashes.iter().map(|c| (c.kind, c.class_id)).collect();
        assert_eq!(found, [("teacher", Some(20)), ("teacher", Some(22)), ("room", Some(21))]);
    }

    #[test]
    fn the_weekly_limit_counts_the_drafts_of_every_class() {
        let own = [lesson(1, 1, Some(7), ""), lesson(1, 2, Some(7), "")];
        let others = [
            other(20, 1, "draft", 2, 1, Some(7), ""),
            other(20, 1, "published", 2, 1, Some(7), ""),
            other(21, 2, "draft", 3, 1, Some(7), ""),
        ];
        assert!(find_clashes(&own, 1, &others, 4).is_empty(), "2 + 2 drafts elsewhere = 4, at the limit");
        let over = find_clashes(&own, 1, &others, 3);
        assert_eq!((over[0].kind, over[0].lessons, over[0].teacher_id), ("load", 4, Some(7)));
    }

    #[test]
    fn a_diff_names_each_changed_cell() {
        let names = Names([(7, "王老师".to_string()), (8, "李老师".to_string())].into_iter().collect());
        let before = [lesson(1, 1, Some(7), "301"), lesson(1, 2, Some(7), "301")];
        let after = [lesson(1, 1, Some(7), "301"), lesson(1, 2, Some(8), "301"), lesson(2, 1, None, "")];
        let changes = diff(&before, &after, &names);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].before.as_ref().unwrap().teacher, "王老师");
        assert_eq!(changes[0].after.as_ref().unwrap().teacher, "李老师");
        assert_eq!((changes[1].weekday, changes[1].before.is_none()), (2, true));
    }

    #[test]
    fn clock_times_read_and_print() {
        assert_eq!(parse_clock("8:05"), Some(485));
        assert_eq!(parse_clock("08：05"), Some(485));
        assert_eq!(parse_clock("24:00"), Some(1440));
        assert_eq!(parse_clock("24:01"), None);
        assert_eq!(parse_clock("7:60"), None);
        assert_eq!(clock(485), "08:05");
    }
}
