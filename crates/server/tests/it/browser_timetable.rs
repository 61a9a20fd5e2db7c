//! The timetable scenario in real Chromium: a head teacher builds their class's week in the grid
//! editor, saves it, sees that a teacher and a room are already taken in another class, fixes the
//! lesson and publishes; a student of the class then sees the week, on a desktop and on a phone.
//!
//! SQLite only, like the other browser tests; without chromium and chromedriver it says it was
//! skipped and passes. With HANLIN_TEST_SCREENSHOTS=1 it writes the grid editor's screenshots to
//! docs/.

use crate::browser::{DESKTOP, PHONE, fits, no_console_errors, sign_in, sign_out};
use crate::fixture::{PASSWORD, region, signed_in};
use crate::harness::{Backend, TestApp};
use crate::webdriver::Browser;
use kernel::db::sql;
use serde_json::json;
use std::path::{Path, PathBuf};
use time::{Date, Duration, Month};

/// Sets a select's value as a person choosing an option would (a change event follows).
async fn select(b: &Browser, css: &str, value: &str) {
    let script = format!(
        "const s = document.querySelector('{css}'); s.value = '{value}'; s.dispatchEvent(new Event('change', {{ bubbles: true }})); return s.value;"
    );
    assert_eq!(b.execute(&script, json!([])).await, json!(value), "{css} has the option {value}");
}

/// A PNG of the whole page (up to `max_height` px tall) at `width`; the window is `height` tall again afterwards.
async fn page_screenshot(b: &Browser, path: &Path, (width, height): (u32, u32), max_height: u32) {
    let tall = b.execute("return document.documentElement.scrollHeight;", json!([])).await;
    let tall = tall.as_u64().and_then(|h| u32::try_from(h).ok()).unwrap_or(height).clamp(height, max_height);
    b.set_viewport(width, tall).await;
    b.execute("window.scrollTo(0, 0); return true;", json!([])).await;
    b.screenshot(path).await;
    b.set_viewport(width, height).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_teacher_builds_publishes_and_fixes_a_clash() {
    let (browser, app) = tokio::join!(Browser::start(DESKTOP.0, DESKTOP.1), TestApp::start(Backend::Sqlite));
    let Some(b) = browser else { return };
    let t = app.expect("SQLite test app");
    let r = region(&t).await;
    let screenshots = std::env::var("HANLIN_TEST_SCREENSHOTS").is_ok_and(|v| v == "1");
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs");

    // The term, the school's bell schedule, and class a1's published week: 王老师 teaches it on
    // Monday's first period in room 301.
    let today = kernel::today(480);
    let year = directory::codes::school_year_of(today);
    let d = |y: i64, m: Month, day: u8| Date::from_calendar_date(y as i32, m, day).unwrap();
    let mut tx = t.app.db.begin().await.unwrap();
    let y = directory::calendar::store::create_year(
        &mut tx,
        "学年",
        year,
        d(year, Month::September, 1),
        d(year + 1, Month::August, 31),
    )
    .await
    .unwrap();
    let first = (d(year, Month::September, 1), d(year + 1, Month::January, 31));
    let second = (d(year + 1, Month::February, 1), d(year + 1, Month::August, 31));
    let t1 = directory::calendar::store::create_term(&mut tx, y, "第一学期", first.0, first.1).await.unwrap();
    let t2 = directory::calendar::store::create_term(&mut tx, y, "第二学期", second.0, second.1).await.unwrap();
    tx.commit().await.unwrap();
    let (term, (starts, ends)) = if today <= first.1 { (t1, first) } else { (t2, second) };
    let split = starts + Duration::days(30);
    let admin = signed_in(&t, "s1-admin").await;
    let bells = json!({ "term": term, "days_per_week": 5, "variants": [
        { "name": "夏季作息", "starts_on": starts.to_string(), "ends_on": split.to_string(),
          "periods": ["08:00-08:40", "08:50-09:30", "09:50-10:30", "10:40-11:20", "14:30-15:10", "15:20-16:00"] },
        { "name": "冬季作息", "starts_on": (split + Duration::days(1)).to_string(), "ends_on": ends.to_string(),
          "periods": ["08:10-08:50", "09:00-09:40", "10:00-10:40", "10:50-11:30", "14:00-14:40", "14:50-15:30"] } ] });
    let resp = admin.put(t.url(&format!("/api/v1/schools/{}/bell-schedule", r.s1))).json(&bells).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let a1 = json!({ "term": term, "lessons": [{ "weekday": 1, "period": 1, "subject": "math", "teacher_id": r.teacher, "room": "301" }] });
    assert_eq!(admin.put(t.url(&format!("/api/v1/classes/{}/timetable", r.a1))).json(&a1).send().await.unwrap().status(), 200);
    let resp = admin
        .post(t.url(&format!("/api/v1/classes/{}/timetable/publish", r.a1)))
        .json(&json!({ "term": term }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (head,): (i64,) = t.app.db.fetch_one(sql("SELECT id FROM people WHERE login = 'head'")).await.unwrap();

    // The head teacher opens their class from their timetable page.
    sign_in(&b, &t, "head", PASSWORD).await;
    b.goto(&t.url("/timetable")).await;
    no_console_errors(&b, "the head teacher's timetable page", &[]).await;
    b.click_and_wait(&format!("[data-testid=edit-class-{}]", r.a2)).await;
    b.find("[data-testid=timetable-grid]").await;
    no_console_errors(&b, "the grid editor", &[]).await;
    assert_eq!(b.attribute("[data-testid=timetable-version]", "data-version").await.as_deref(), Some("0"));

    // Monday: maths with 王老师 in 301 (taken by 三年级1班), then Chinese with themself.
    select(&b, "#s-1-1", "math").await;
    select(&b, "#t-1-1", &r.teacher.to_string()).await;
    b.send_keys("#r-1-1", "301").await;
    select(&b, "#s-1-2", "chinese").await;
    select(&b, "#t-1-2", &head.to_string()).await;
    b.send_keys("#r-1-2", "202").await;
    select(&b, "#s-2-1", "class-meeting").await;
    select(&b, "#t-2-1", &head.to_string()).await;
    assert!(b.try_find("td.tt-dirty[data-cell='1-1']").await.is_some(), "the script marks edited cells");
    b.click_and_wait("[data-testid=timetable-save]").await;
    b.find("[data-testid=timetable-saved]").await;
    no_console_errors(&b, "the saved draft", &[]).await;

    // The clash list names the teacher, the room and the other class; publishing is held back.
    let clashes = b.text("[data-testid=timetable-clashes]").await;
    assert!(clashes.contains("周一 第1节：王老师 同时在 三年级1班 上课"), "{clashes}");
    assert!(clashes.contains("教室 301 同时排给了 三年级1班"), "{clashes}");
    assert!(b.try_find("td.tt-clash[data-cell='1-1']").await.is_some(), "the clashing cell is marked");
    assert!(b.try_find("[data-testid=timetable-publish][disabled]").await.is_some(), "publishing waits for a fix");
    if screenshots {
        page_screenshot(&b, &docs.join("screenshot-timetable.png"), DESKTOP, 2200).await;
    }
    b.set_viewport(PHONE.0, PHONE.1).await;
    fits(&b, PHONE.0, "the grid editor on a phone").await;
    if screenshots {
        page_screenshot(&b, &docs.join("screenshot-timetable-phone.png"), PHONE, 1800).await;
    }
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;

    // The fix: maths on Tuesday's second period in the class's own room.
    select(&b, "#s-1-1", "").await;
    select(&b, "#t-1-1", "0").await;
    b.send_keys("#r-1-1", "").await;
    select(&b, "#s-2-2", "math").await;
    select(&b, "#t-2-2", &r.teacher.to_string()).await;
    b.send_keys("#r-2-2", "202").await;
    b.click_and_wait("[data-testid=timetable-save]").await;
    b.find("[data-testid=timetable-no-clashes]").await;
    b.click_and_wait("[data-testid=timetable-publish]").await;
    b.find("[data-testid=timetable-published]").await;
    assert_eq!(b.attribute("[data-testid=timetable-version]", "data-version").await.as_deref(), Some("1"));
    let week = b.text("[data-testid=published-week]").await;
    assert!(week.contains("数学") && week.contains("王老师") && week.contains("班会"), "{week}");
    no_console_errors(&b, "the published timetable", &[]).await;
    b.set_viewport(PHONE.0, PHONE.1).await;
    fits(&b, PHONE.0, "the class's timetable on a phone").await;
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;
    sign_out(&b, "the head teacher").await;

    // A student of the class sees the published week, on a phone too, and can get a feed address.
    sign_in(&b, &t, "student2", PASSWORD).await;
    b.goto(&t.url("/timetable")).await;
    let week = b.text(&format!("[data-testid=class-week-{}]", r.a2)).await;
    assert!(week.contains("语文") && week.contains("李老师") && week.contains("202"), "{week}");
    b.execute("window.confirm = () => true; return true;", json!([])).await;
    b.click_and_wait("[data-testid=feed-reset]").await;
    let url = b.execute("return document.querySelector('[data-testid=feed-url]').value;", json!([])).await;
    assert!(url.as_str().is_some_and(|u| u.contains("/timetable/feed/") && u.ends_with(".ics")), "{url}");
    no_console_errors(&b, "the student's timetable", &[]).await;
    b.set_viewport(PHONE.0, PHONE.1).await;
    fits(&b, PHONE.0, "the student's timetable on a phone").await;
    let days = b.text(".tt-days").await;
    assert!(
        days.contains("周一") && days.contains("第2节") && days.contains("语文 李老师"),
        "phones list the week day by day: {days}"
    );
    if screenshots {
        page_screenshot(&b, &docs.join("screenshot-timetable-week-phone.png"), PHONE, 1600).await;
    }
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;
    sign_out(&b, "the student").await;

    // The school's administrator sees the classes' state and the bell schedule, on a phone too.
    sign_in(&b, &t, "s1-admin", PASSWORD).await;
    b.goto(&t.url(&format!("/timetable/schools/{}", r.s1))).await;
    let classes = b.text("[data-testid=school-classes]").await;
    assert!(classes.contains("三年级2班") && classes.contains("第 1 版"), "{classes}");
    no_console_errors(&b, "the school's timetables", &[]).await;
    b.set_viewport(PHONE.0, PHONE.1).await;
    fits(&b, PHONE.0, "the school's timetables on a phone").await;
    b.click_and_wait("[data-testid=bells-edit]").await;
    b.find("[data-testid=bells-form]").await;
    fits(&b, PHONE.0, "the bell schedule form on a phone").await;
    no_console_errors(&b, "the bell schedule form", &[]).await;
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;
    sign_out(&b, "the school's administrator").await;
}
