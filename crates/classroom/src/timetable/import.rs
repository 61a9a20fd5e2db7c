//! Importing a class's or a whole school's timetable from a CSV or XLSX sheet, one lesson a row
//! (班级, 星期, 节次, 学科, 教师 by name or staff number, 教室; Chinese or English headers). All or
//! nothing: every problem is reported with its row and column, and nothing is written unless the
//! whole file is good. Each class the file names gets the file's lessons as its new draft.

use super::store::{self, Lesson};
use super::{ClassAccess, Teacher};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Capability};
use kernel::error::FieldError;
use kernel::i18n::Locale;
use kernel::web::RequestMeta;
use kernel::{App, AppError};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// The columns, by the names a header may give them (compared without case, spaces or a
/// parenthesised note such as "教师(姓名或工号)").
const COLUMNS: [(&str, &[&str]); 6] = [
    ("class", &["班级", "班", "class"]),
    ("weekday", &["星期", "周", "weekday", "day"]),
    ("period", &["节次", "节", "period"]),
    ("subject", &["学科", "科目", "课程", "subject"]),
    ("teacher", &["教师", "老师", "任课教师", "teacher"]),
    ("room", &["教室", "地点", "room"]),
];
const CLASS: usize = 0;
const WEEKDAY: usize = 1;
const PERIOD: usize = 2;
const SUBJECT: usize = 3;
const TEACHER: usize = 4;
const ROOM: usize = 5;
const MAX_ERRORS: usize = 200;

fn header_name(cell: &str) -> String {
    let cut = cell.find(['(', '（']).map_or(cell, |i| &cell[..i]);
    cut.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()
}

/// A spreadsheet column's letters: 0 → A, 26 → AA.
fn letters(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push((b'A' + (i % 26) as u8) as char);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.iter().rev().collect()
}

/// One data row as read: its number and the six columns' texts.
struct RawRow {
    row: u32,
    cells: [String; 6],
}

struct Sheet {
    /// Where each column is (None: not in the file), with its header as written.
    at: [Option<(usize, String)>; 6],
    rows: Vec<RawRow>,
}

fn read(path: &Path, need_class: bool) -> Result<Sheet, AppError> {
    let unreadable =
        |e: sheet::SheetError| AppError::Invalid(vec![FieldError::new("file", "timetable-import-unreadable").arg("detail", e)]);
    let mut reader = sheet::Reader::open(path, None, &sheet::Limits::default()).map_err(unreadable)?;
    let header = match reader.next() {
        Some(r) => r.map_err(unreadable)?,
        None => return Err(AppError::invalid("file", "timetable-import-empty")),
    };
    let names: Vec<String> = header.cells.iter().map(|c| header_name(&c.text)).collect();
    let mut at: [Option<(usize, String)>; 6] = Default::default();
    let mut errors = Vec::new();
    for (i, (column, aliases)) in COLUMNS.iter().enumerate() {
        at[i] = names.iter().position(|n| aliases.contains(&n.as_str())).map(|p| (p, header.cells[p].text.trim().to_string()));
        let required = matches!(i, WEEKDAY | PERIOD | SUBJECT) || (i == CLASS && need_class);
        if at[i].is_none() && required {
            errors.push(FieldError::new(*column, "timetable-import-missing-column").arg("column", aliases[0]));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut rows = Vec::new();
    for record in reader {
        let record = record.map_err(unreadable)?;
        let cell = |i: usize| {
            at[i].as_ref().and_then(|(p, _)| record.cells.get(*p)).map(|c| c.text.trim().to_string()).unwrap_or_default()
        };
        let cells = [cell(0), cell(1), cell(2), cell(3), cell(4), cell(5)];
        if cells.iter().all(String::is_empty) {
            continue;
        }
        rows.push(RawRow { row: record.row, cells });
        if rows.len() > 100_000 {
            return Err(AppError::invalid("file", "timetable-import-too-many"));
        }
    }
    if rows.is_empty() {
        return Err(AppError::invalid("file", "timetable-import-empty"));
    }
    Ok(Sheet { at, rows })
}

const CN_NUMBERS: [&str; 16] =
    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六"];

/// 1 (Monday) … 7 from "1", "周一", "星期一", "礼拜一", "一", "日"/"天" (Sunday), "Mon", "Monday".
pub fn parse_weekday(value: &str) -> Option<i64> {
    let v = value.trim();
    if let Ok(n) = v.parse::<i64>() {
        return (1..=7).contains(&n).then_some(n);
    }
    let lower = v.to_lowercase();
    const EN: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    if lower.len() >= 3
        && let Some(i) = EN.iter().position(|d| d.starts_with(&lower))
    {
        return Some(i as i64 + 1);
    }
    let rest = ["星期", "礼拜", "周"].iter().find_map(|p| v.strip_prefix(p)).unwrap_or(v);
    match rest {
        "日" | "天" | "七" => Some(7),
        _ => CN_NUMBERS[..6].iter().position(|n| *n == rest).map(|i| i as i64 + 1),
    }
}

/// 1 … 16 from "3", "第3节", "第三节".
pub fn parse_period(value: &str) -> Option<i64> {
    let v = value.trim();
    let v = v.strip_prefix('第').unwrap_or(v);
    let v = v.strip_suffix('节').unwrap_or(v).trim();
    let n = v.parse::<i64>().ok().or_else(|| CN_NUMBERS.iter().position(|n| *n == v).map(|i| i as i64 + 1))?;
    (1..=16).contains(&n).then_some(n)
}

#[derive(Debug, serde::Serialize)]
pub struct ImportSummary {
    pub classes: usize,
    pub lessons: usize,
}

/// Imports a sheet into the drafts of one class (`class_id`) or of the classes of a school.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    school_id: i64,
    class_id: Option<i64>,
    term_id: i64,
    path: &Path,
    locale: Locale,
) -> Result<ImportSummary, AppError> {
    let (school, only): (directory::org::model::OrgUnit, Option<ClassAccess>) = match class_id {
        Some(id) => {
            let access = super::class_access(app, actor, id, Capability::Manage).await?;
            if !access.manage {
                return Err(AppError::Forbidden);
            }
            (access.school.clone(), Some(access))
        }
        None => (super::school(app, actor, school_id, Capability::Manage).await?, None),
    };
    let term = super::required_term(app, Some(term_id)).await?;
    let bells = super::required_bells(app, school.id, term.id).await?;
    let teachers = super::teachers(app, &school).await?;
    let classes = directory::classes::store::of_school(&app.db, school.id).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let year = directory::calendar::store::school_year(&app.db, today).await?;
    let path = path.to_path_buf();
    let need_class = only.is_none();
    let sheet = tokio::task::spawn_blocking(move || read(&path, need_class)).await.map_err(AppError::internal)??;

    let column = |i: usize| sheet.at[i].as_ref().map(|(p, h)| format!("{} ({h})", letters(*p))).unwrap_or_default();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut by_class: BTreeMap<i64, Vec<Lesson>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for r in &sheet.rows {
        let problem = |i: usize, key: &'static str| {
            FieldError::new(COLUMNS[i].0, key).arg("row", r.row).arg("column", column(i)).arg("value", &r.cells[i])
        };
        let before = errors.len();
        let class = match &only {
            Some(a) => {
                let v = &r.cells[CLASS];
                let names =
                    [a.class.display_name(year, Locale::ZhCn), a.class.display_name(year, Locale::En), a.class.id.to_string()];
                if !v.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(v)) {
                    errors.push(problem(CLASS, "timetable-import-other-class"));
                }
                Some(a.class.id)
            }
            None => {
                let v = &r.cells[CLASS];
                let found = classes.iter().find(|c| {
                    c.display_name(year, Locale::ZhCn) == *v
                        || c.display_name(year, Locale::En).eq_ignore_ascii_case(v)
                        || c.id.to_string() == *v
                });
                if found.is_none() {
                    errors.push(problem(CLASS, "timetable-import-unknown-class"));
                }
                found.map(|c| c.id)
            }
        };
        let weekday = parse_weekday(&r.cells[WEEKDAY]).filter(|d| *d <= bells.schedule.days_per_week);
        if weekday.is_none() {
            errors.push(problem(WEEKDAY, "timetable-import-bad-weekday").arg("max", bells.schedule.days_per_week));
        }
        let period = parse_period(&r.cells[PERIOD]).filter(|p| *p <= bells.schedule.periods_per_day);
        if period.is_none() {
            errors.push(problem(PERIOD, "timetable-import-bad-period").arg("max", bells.schedule.periods_per_day));
        }
        let subject = super::subject_code(&r.cells[SUBJECT]);
        if subject.is_none() {
            errors.push(problem(SUBJECT, "timetable-import-bad-subject"));
        }
        let teacher = match find_teacher(&teachers, &r.cells[TEACHER]) {
            Ok(t) => t,
            Err(key) => {
                errors.push(problem(TEACHER, key));
                None
            }
        };
        let room = r.cells[ROOM].clone();
        if room.chars().count() > super::MAX_ROOM_CHARS {
            errors.push(problem(ROOM, "timetable-import-long-room").arg("max", super::MAX_ROOM_CHARS));
        }
        if let (Some(c), Some(w), Some(p)) = (class, weekday, period)
            && !seen.insert((c, w, p))
        {
            errors.push(problem(PERIOD, "timetable-import-duplicate"));
        }
        if errors.len() > MAX_ERRORS {
            break;
        }
        if errors.len() == before
            && let (Some(c), Some(weekday), Some(period), Some(subject)) = (class, weekday, period, subject)
        {
            by_class.entry(c).or_default().push(Lesson {
                weekday,
                period,
                subject: subject.to_string(),
                teacher_id: teacher,
                room,
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let lessons: usize = by_class.values().map(Vec::len).sum();
    let mut tx = app.db.begin().await?;
    for (class_id, lessons) in &by_class {
        let t = store::ensure(&mut tx, *class_id, term.id, school.id, actor.person_id).await?;
        store::replace_draft(&mut tx, t.id, lessons, actor.person_id).await?;
    }
    let (target_type, target_id, target_name) = match &only {
        Some(a) => ("class", a.class.id, format!("{} {}", school.name, a.class.display_name(year, locale))),
        None => ("org_unit", school.id, school.name.clone()),
    };
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "timetable_import", target_type, target_id, target_name, school.path.clone())
            .after(json!({ "term_id": term.id, "classes": by_class.len(), "lessons": lessons })),
    )
    .await?;
    tx.commit().await?;
    Ok(ImportSummary { classes: by_class.len(), lessons })
}

/// The drafts of `classes` as a workbook in the import's own columns, so a school can download
/// its timetables, edit them in a spreadsheet and import them again. A teacher whose name another
/// teacher of the school shares is written by staff number.
pub async fn workbook(
    app: &App,
    school: &directory::org::model::OrgUnit,
    class_ids: &[i64],
    term_id: i64,
) -> Result<Vec<u8>, AppError> {
    let teachers = super::teachers(app, school).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let year = directory::calendar::store::school_year(&app.db, today).await?;
    let mut rows: Vec<[String; 6]> = Vec::new();
    for class_id in class_ids {
        let Some(class) = directory::classes::store::get(&app.db, *class_id).await? else { continue };
        let Some(t) = store::timetable(&app.db, class.id, term_id).await? else { continue };
        for l in store::lessons(&app.db, t.id, "draft").await? {
            let teacher = match l.teacher_id.and_then(|id| teachers.iter().find(|x| x.id == id)) {
                Some(x) if teachers.iter().filter(|y| y.name == x.name).count() > 1 => x.staff_number.clone().unwrap_or_default(),
                Some(x) => x.name.clone(),
                None => String::new(),
            };
            rows.push([
                class.display_name(year, Locale::ZhCn),
                l.weekday.to_string(),
                l.period.to_string(),
                super::subject_name(&l.subject, Locale::ZhCn),
                teacher,
                l.room,
            ]);
        }
    }
    let mut wb = sheet::Workbook::new();
    let spec = |header, note, width| sheet::ColumnSpec { header, note, width };
    let sh = wb
        .sheet(
            "课表",
            &[
                spec("班级", Some("如 三年级1班"), 14.0),
                spec("星期", Some("1–7 或 周一…周日"), 8.0),
                spec("节次", Some("1, 2, … 或 第3节"), 8.0),
                spec("学科", Some("语文、数学 … 或学科代码"), 14.0),
                spec("教师(姓名或工号)", Some("本校教师的姓名；重名时填工号"), 18.0),
                spec("教室", None, 12.0),
            ],
        )
        .map_err(AppError::internal)?;
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        wb.row(sh, &cells, &[]).map_err(AppError::internal)?;
    }
    wb.to_bytes().map_err(AppError::internal)
}

/// A teacher of the school by staff number or by name; a name two teachers share must be given
/// as a staff number.
fn find_teacher(teachers: &[Teacher], value: &str) -> Result<Option<i64>, &'static str> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Some(t) = teachers.iter().find(|t| t.staff_number.as_deref() == Some(v)) {
        return Ok(Some(t.id));
    }
    let named: Vec<&Teacher> = teachers.iter().filter(|t| t.name == v).collect();
    match named.as_slice() {
        [one] => Ok(Some(one.id)),
        [] => Err("timetable-import-unknown-teacher"),
        _ => Err("timetable-import-ambiguous-teacher"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_and_periods_are_read_in_both_languages() {
        for (text, day) in
            [("1", 1), ("周三", 3), ("星期五", 5), ("礼拜六", 6), ("日", 7), ("Tue", 2), ("thursday", 4), ("二", 2)]
        {
            assert_eq!(parse_weekday(text), Some(day), "{text}");
        }
        for bad in ["0", "8", "周八", "", "x", "mo"] {
            assert_eq!(parse_weekday(bad), None, "{bad}");
        }
        for (text, p) in [("3", 3), ("第3节", 3), ("第十二节", 12), ("四", 4)] {
            assert_eq!(parse_period(text), Some(p), "{text}");
        }
        assert_eq!(parse_period("17"), None);
        assert_eq!(parse_period("第零节"), None);
    }

    #[test]
    fn headers_and_columns() {
        assert_eq!(header_name("教师(姓名或工号)"), "教师");
        assert_eq!(header_name(" Teacher （name）"), "teacher");
        assert_eq!(letters(0), "A");
        assert_eq!(letters(25), "Z");
        assert_eq!(letters(26), "AA");
    }

    #[test]
    fn teachers_are_found_by_staff_number_or_a_unique_name() {
        let t = |id, name: &str, no: &str| Teacher { id, name: name.into(), staff_number: Some(no.into()) };
        let list = [t(1, "王芳", "T001"), t(2, "李明", "T002"), t(3, "李明", "T003")];
        assert_eq!(find_teacher(&list, "王芳"), Ok(Some(1)));
        assert_eq!(find_teacher(&list, "T003"), Ok(Some(3)));
        assert_eq!(find_teacher(&list, ""), Ok(None));
        assert_eq!(find_teacher(&list, "李明"), Err("timetable-import-ambiguous-teacher"));
        assert_eq!(find_teacher(&list, "赵六"), Err("timetable-import-unknown-teacher"));
    }
}
