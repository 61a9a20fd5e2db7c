//! The demo region's timetables: the current school year and its two terms (if the calendar has
//! none for today), each school's bell schedule with summer and winter times, and a published
//! week for every class, built from the class's subject teachers so that no teacher is in two
//! places at once. One class has a second publication, so its "课表已更新" notice shows.

use anyhow::Context;
use classroom::timetable::store::{self, Lesson, NewVariant};
use directory::calendar::store as calendar;
use kernel::App;
use kernel::auth::Role;
use kernel::db::sql;
use std::collections::{HashMap, HashSet};
use time::{Date, Duration, Month};

/// Seeds the timetables once; a demo that already has some is left alone. Returns the classes published.
pub async fn seed(app: &App) -> anyhow::Result<usize> {
    let (existing,): (i64,) = app.db.fetch_one(sql("SELECT COUNT(*) FROM timetables")).await?;
    if existing > 0 {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let term = ensure_term(app, today).await.context("cannot set up the demo's school year")?;
    let schools: Vec<_> = directory::org::store::roots(&app.db).await?.into_iter().map(|r| r.path).collect::<Vec<_>>();
    let mut units = Vec::new();
    for root in schools {
        units.extend(directory::org::store::subtree(&app.db, &root).await?.into_iter().filter(|u| u.kind().is_school()));
    }
    let max_load = app.config.classroom.max_weekly_lessons;
    let mut published = 0;
    let mut tx = app.db.begin().await?;
    // Teachers may teach at two sites (a central school and its teaching point): one busy map.
    let mut busy: HashSet<(i64, i64, i64)> = HashSet::new();
    let mut load: HashMap<i64, i64> = HashMap::new();
    for school in &units {
        let classes = directory::classes::store::of_school(&app.db, school.id).await?;
        let Some(first) = classes.first() else { continue };
        let periods: i64 = if first.stage == "primary" || first.stage == "preschool" { 6 } else { 8 };
        let (summer, winter) = variants(&term, periods);
        let rows = [
            NewVariant { name: "夏季作息", starts_on: summer.0, ends_on: summer.1, periods: &summer.2 },
            NewVariant { name: "冬季作息", starts_on: winter.0, ends_on: winter.1, periods: &winter.2 },
        ];
        let mut by = None;
        for (n, class) in classes.iter().enumerate() {
            let members = directory::people::store::class_members(&app.db, class.id, today).await?;
            let head = members.iter().find(|(a, _)| a.role() == Role::HeadTeacher).map(|(a, _)| a.person_id);
            let teachers: Vec<(&'static str, i64)> = members
                .iter()
                .filter(|(a, _)| a.role() == Role::Teacher)
                .filter_map(|(a, _)| Some((classroom::timetable::subject_code(a.subject.as_deref()?)?, a.person_id)))
                .collect();
            let Some(author) = head.or(teachers.first().map(|t| t.1)) else { continue };
            if by.is_none() {
                by = Some(author);
                store::save_schedule(&mut tx, school.id, term.id, 5, periods, &rows, author).await?;
            }
            let room = format!("{}号教室", 101 + n);
            let lessons = week(&class.stage, periods, &teachers, head, &room, &mut busy, &mut load, max_load);
            let t = store::ensure(&mut tx, class.id, term.id, school.id, author).await?;
            store::replace_draft(&mut tx, t.id, &lessons, author).await?;
            store::publish(&mut tx, t.id, author, "[]").await?;
            published += 1;
            if published == 1 {
                // A change after publishing: the last period on Friday becomes reading.
                let mut changed = lessons.clone();
                let before = changed.iter().find(|l| l.weekday == 5 && l.period == periods).cloned();
                changed.retain(|l| !(l.weekday == 5 && l.period == periods));
                let after =
                    Lesson { weekday: 5, period: periods, subject: "reading".into(), teacher_id: None, room: room.clone() };
                changed.push(after.clone());
                if let Some(b) = &before
                    && let Some(tid) = b.teacher_id
                {
                    busy.remove(&(tid, 5, periods));
                }
                store::replace_draft(&mut tx, t.id, &changed, author).await?;
                let slot = |l: &Lesson, teacher: String| json_slot(&l.subject, &teacher, &l.room);
                let teacher_name = match before.as_ref().and_then(|b| b.teacher_id) {
                    Some(id) => directory::people::store::get(&app.db, id).await?.map(|p| p.name).unwrap_or_default(),
                    None => String::new(),
                };
                let change = serde_json::json!([{ "weekday": 5, "period": periods,
                    "before": before.as_ref().map(|b| slot(b, teacher_name.clone())), "after": slot(&after, String::new()) }]);
                store::publish(&mut tx, t.id, author, &change.to_string()).await?;
            }
        }
    }
    tx.commit().await?;
    tracing::info!(classes = published, ms = started.elapsed().as_millis() as u64, "demo timetables published");
    Ok(published)
}

fn json_slot(subject: &str, teacher: &str, room: &str) -> serde_json::Value {
    serde_json::json!({ "subject": subject, "teacher": teacher, "room": room })
}

/// The term under way today, made (with its school year) when the calendar has none.
async fn ensure_term(app: &App, today: Date) -> anyhow::Result<calendar::Term> {
    if let Some(t) = calendar::terms(&app.db).await?.into_iter().find(|t| t.starts_on <= today && today <= t.ends_on) {
        return Ok(t);
    }
    let year = directory::codes::school_year_of(today);
    let d = |y: i64, m: Month, day: u8| Date::from_calendar_date(y as i32, m, day).context("a calendar date");
    let (first, second) = (
        (d(year, Month::September, 1)?, d(year + 1, Month::January, 31)?),
        (d(year + 1, Month::February, 1)?, d(year + 1, Month::August, 31)?),
    );
    let mut tx = app.db.begin().await?;
    let existing = calendar::years(&app.db).await?.into_iter().find(|y| y.start_year == year);
    let year_id = match existing {
        Some(y) => y.id,
        None => calendar::create_year(&mut tx, &format!("{year}—{}学年", year + 1), year, first.0, second.1).await?,
    };
    let t1 = calendar::create_term(&mut tx, year_id, "第一学期", first.0, first.1).await?;
    let t2 = calendar::create_term(&mut tx, year_id, "第二学期", second.0, second.1).await?;
    tx.commit().await?;
    let (id, (starts_on, ends_on), name) =
        if today <= first.1 { (t1, first, "第一学期") } else { (t2, second, "第二学期") };
    Ok(calendar::Term { id, school_year_id: year_id, name: name.into(), starts_on, ends_on })
}

type Times = (Date, Date, Vec<(i64, i64)>);

/// Summer times until the end of September (autumn term) or from May (spring term), winter times otherwise.
fn variants(term: &calendar::Term, periods: i64) -> (Times, Times) {
    let times = |start: i64, afternoon: i64| -> Vec<(i64, i64)> {
        let morning = 4.min(periods);
        let mut out = Vec::new();
        for p in 0..periods {
            let s = if p < morning { start + p * 50 + if p >= 2 { 20 } else { 0 } } else { afternoon + (p - morning) * 50 };
            out.push((s, s + 40));
        }
        out
    };
    let summer_times = times(8 * 60, 14 * 60 + 30);
    let winter_times = times(8 * 60 + 10, 14 * 60);
    let year = term.starts_on.year();
    if term.starts_on.month() == Month::September {
        let split = Date::from_calendar_date(year, Month::September, 30).unwrap_or(term.starts_on + Duration::days(29));
        ((term.starts_on, split, summer_times), (split + Duration::days(1), term.ends_on, winter_times))
    } else {
        let split = Date::from_calendar_date(year, Month::April, 30).unwrap_or(term.starts_on + Duration::days(88));
        ((split + Duration::days(1), term.ends_on, summer_times), (term.starts_on, split, winter_times))
    }
}

/// A class's week: its subjects' weekly lessons given to their teachers where the teacher is
/// free and under the weekly limit; the remaining periods go to subjects without a set teacher.
#[allow(clippy::too_many_arguments)]
fn week(
    stage: &str,
    periods: i64,
    teachers: &[(&'static str, i64)],
    head: Option<i64>,
    room: &str,
    busy: &mut HashSet<(i64, i64, i64)>,
    load: &mut HashMap<i64, i64>,
    max_load: i64,
) -> Vec<Lesson> {
    let quota = |subject: &str| match (stage, subject) {
        (_, "chinese") => 6,
        (_, "math") => 5,
        ("primary", "english") => 3,
        (_, "english") => 5,
        ("primary", "science") => 2,
        _ => 3,
    };
    let mut lessons: Vec<Lesson> = Vec::new();
    let mut taken: HashSet<(i64, i64)> = HashSet::new();
    for (i, (subject, teacher)) in teachers.iter().enumerate() {
        let mut left = quota(subject);
        // Main subjects in the morning first; each subject starts on a different period.
        for p in 0..periods {
            for d in 1..=5 {
                let period = (p + i as i64) % periods + 1;
                if left == 0 || taken.contains(&(d, period)) || busy.contains(&(*teacher, d, period)) {
                    continue;
                }
                if lessons.iter().any(|l| l.weekday == d && l.subject == *subject) && left < 5 {
                    continue;
                }
                if *load.get(teacher).unwrap_or(&0) >= max_load {
                    break;
                }
                busy.insert((*teacher, d, period));
                *load.entry(*teacher).or_default() += 1;
                taken.insert((d, period));
                lessons.push(Lesson {
                    weekday: d,
                    period,
                    subject: subject.to_string(),
                    teacher_id: Some(*teacher),
                    room: room.into(),
                });
                left -= 1;
            }
        }
    }
    let fill: &[&str] = if stage == "primary" {
        &["pe", "music", "fine-arts", "morality", "pe", "reading", "labour", "self-study"]
    } else {
        &["pe", "morality", "history", "geography", "music", "fine-arts", "pe", "self-study", "info-tech"]
    };
    let mut next = 0;
    for d in 1..=5 {
        for period in 1..=periods {
            if taken.contains(&(d, period)) {
                continue;
            }
            let (subject, teacher) = if d == 5 && period == periods {
                ("class-meeting", head.filter(|h| !busy.contains(&(*h, d, period)) && *load.get(h).unwrap_or(&0) < max_load))
            } else {
                next += 1;
                (fill[next % fill.len()], None)
            };
            if let Some(h) = teacher {
                busy.insert((h, d, period));
                *load.entry(h).or_default() += 1;
            }
            lessons.push(Lesson { weekday: d, period, subject: subject.into(), teacher_id: teacher, room: room.into() });
        }
    }
    lessons.sort_by_key(|l| (l.weekday, l.period));
    lessons
}
