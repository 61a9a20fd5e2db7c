//! Timetables: bell schedules with summer and winter times, class drafts, clash checks,
//! publishing (课表发布) with the changes announced to the class, XLSX/CSV import, personal weeks,
//! the private iCalendar feed, and who may see and do what.

use crate::fixture::{Region, csrf, region, signed_in};
use crate::harness::{TestApp, db_test};
use kernel::db::sql;
use reqwest::Client;
use serde_json::{Value, json};
use time::{Date, Duration};

/// The region with a school year and its two terms; the term under way today.
struct Setup {
    r: Region,
    term: i64,
    starts: Date,
    ends: Date,
    head: i64,
}

async fn setup(t: &TestApp) -> Setup {
    let r = region(t).await;
    let today = kernel::today(480);
    let year = directory::codes::school_year_of(today);
    let d = |y: i64, m: time::Month, day: u8| Date::from_calendar_date(y as i32, m, day).unwrap();
    let mut tx = t.app.db.begin().await.unwrap();
    let y = directory::calendar::store::create_year(
        &mut tx,
        "学年",
        year,
        d(year, time::Month::September, 1),
        d(year + 1, time::Month::August, 31),
    )
    .await
    .unwrap();
    let first = (d(year, time::Month::September, 1), d(year + 1, time::Month::January, 31));
    let second = (d(year + 1, time::Month::February, 1), d(year + 1, time::Month::August, 31));
    let t1 = directory::calendar::store::create_term(&mut tx, y, "第一学期", first.0, first.1).await.unwrap();
    let t2 = directory::calendar::store::create_term(&mut tx, y, "第二学期", second.0, second.1).await.unwrap();
    tx.commit().await.unwrap();
    let (term, (starts, ends)) = if today <= first.1 { (t1, first) } else { (t2, second) };
    let (head,): (i64,) = t.app.db.fetch_one(sql("SELECT id FROM people WHERE login = 'head'")).await.unwrap();
    Setup { r, term, starts, ends, head }
}

/// Summer times for the term's first month, winter times after it; six periods, five days.
fn bells_body(s: &Setup) -> Value {
    let split = s.starts + Duration::days(30);
    json!({
        "term": s.term,
        "days_per_week": 5,
        "variants": [
            { "name": "夏季作息", "starts_on": s.starts.to_string(), "ends_on": split.to_string(),
              "periods": ["08:00-08:40", "08:50-09:30", "09:50-10:30", "10:40-11:20", "14:30-15:10", "15:20-16:00"] },
            { "name": "冬季作息", "starts_on": (split + Duration::days(1)).to_string(), "ends_on": s.ends.to_string(),
              "periods": ["08:10-08:50", "09:00-09:40", "10:00-10:40", "10:50-11:30", "14:00-14:40", "14:50-15:30"] }
        ]
    })
}

async fn put_bells(t: &TestApp, c: &Client, school: i64, s: &Setup) -> reqwest::Response {
    c.put(t.url(&format!("/api/v1/schools/{school}/bell-schedule"))).json(&bells_body(s)).send().await.unwrap()
}

async fn put_draft(t: &TestApp, c: &Client, class: i64, term: i64, lessons: Value) -> reqwest::Response {
    c.put(t.url(&format!("/api/v1/classes/{class}/timetable")))
        .json(&json!({ "term": term, "lessons": lessons }))
        .send()
        .await
        .unwrap()
}

async fn publish(t: &TestApp, c: &Client, class: i64, term: i64) -> reqwest::Response {
    c.post(t.url(&format!("/api/v1/classes/{class}/timetable/publish"))).json(&json!({ "term": term })).send().await.unwrap()
}

async fn get_json(t: &TestApp, c: &Client, path: &str) -> (u16, Value) {
    let r = c.get(t.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn lesson(weekday: i64, period: i64, subject: &str, teacher: Option<i64>, room: &str) -> Value {
    json!({ "weekday": weekday, "period": period, "subject": subject, "teacher_id": teacher, "room": room })
}

async fn upload(t: &TestApp, c: &Client, path: &str, term: i64, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let token = csrf(t, c).await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("term", term.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    c.post(t.url(path)).multipart(form).send().await.unwrap()
}

db_test!(a_bell_schedule_has_summer_and_winter_times_and_is_checked, |t| {
    let s = setup(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    let r = put_bells(&t, &admin, s.r.s1, &s).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let teacher = signed_in(&t, "teacher").await;
    let (status, body) = get_json(&t, &teacher, &format!("/api/v1/schools/{}/bell-schedule?term={}", s.r.s1, s.term)).await;
    assert_eq!(status, 200);
    let variants = body["bell_schedule"]["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["variant"]["name"], "夏季作息");
    assert_eq!(variants[1]["periods"][0]["starts_minute"], 8 * 60 + 10);
    assert_eq!(body["bell_schedule"]["schedule"]["periods_per_day"], 6);

    // Overlapping dates, a malformed time and a different number of periods are each named.
    let mut bad = bells_body(&s);
    bad["variants"][1]["starts_on"] = json!(s.starts.to_string());
    bad["variants"][0]["periods"][2] = json!("10:40-09:50");
    bad["variants"][1]["periods"] = json!(["08:10-08:50"]);
    let r = admin.put(t.url(&format!("/api/v1/schools/{}/bell-schedule", s.r.s1))).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let problems: Value = r.json().await.unwrap();
    let fields: Vec<&str> = problems["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"v1_periods") && fields.contains(&"v2_starts_on") && fields.contains(&"v2_periods"), "{problems}");
    assert!(problems.to_string().contains("10:40-09:50"), "the bad time is quoted: {problems}");
    // Nothing of the bad schedule was written.
    let (_, body) = get_json(&t, &teacher, &format!("/api/v1/schools/{}/bell-schedule?term={}", s.r.s1, s.term)).await;
    assert_eq!(body["bell_schedule"]["variants"].as_array().unwrap().len(), 2);
    assert_eq!(body["bell_schedule"]["variants"][0]["periods"][2]["starts_minute"], 9 * 60 + 50);

    // Teachers do not set it; the neighbouring school's and district's administrators are refused.
    assert_eq!(put_bells(&t, &teacher, s.r.s1, &s).await.status(), 403);
    let s3 = signed_in(&t, "s3-admin").await;
    assert_eq!(put_bells(&t, &s3, s.r.s1, &s).await.status(), 403);
    let d2 = signed_in(&t, "d2-admin").await;
    assert_eq!(put_bells(&t, &d2, s.r.s1, &s).await.status(), 403);
    let (status, _) = get_json(&t, &d2, &format!("/api/v1/schools/{}/bell-schedule?term={}", s.r.s1, s.term)).await;
    assert_eq!(status, 403);
    let west = signed_in(&t, "student3").await;
    let (status, _) = get_json(&t, &west, &format!("/api/v1/schools/{}/bell-schedule?term={}", s.r.s1, s.term)).await;
    assert_eq!(status, 403);
    // The district's administrator sets up a school of the district.
    let d1 = signed_in(&t, "d1-admin").await;
    assert_eq!(put_bells(&t, &d1, s.r.s2, &s).await.status(), 200);

    // The page form saves too, and shows its problems beside the variant.
    let token = csrf(&t, &admin).await;
    let form = [
        ("_csrf", token.as_str()),
        ("term", &s.term.to_string()),
        ("days_per_week", "6"),
        ("v1_name", "全学期"),
        ("v1_starts_on", &s.starts.to_string()),
        ("v1_ends_on", &s.ends.to_string()),
        ("v1_periods", "8:00-8:40\n8:50-9:30\nxx"),
    ];
    let r = admin.post(t.url(&format!("/timetable/schools/{}/bells", s.r.s1))).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("“xx”"));
    let mut ok = form;
    ok[6] = ("v1_periods", "8:00-8:40\n8:50-9:30\n9:50-10:30\n10:40-11:20\n14:30-15:10\n15:20-16:00\n16:10-16:50");
    let r = admin.post(t.url(&format!("/timetable/schools/{}/bells", s.r.s1))).form(&ok).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, body) = get_json(&t, &teacher, &format!("/api/v1/schools/{}/bell-schedule?term={}", s.r.s1, s.term)).await;
    assert_eq!(body["bell_schedule"]["schedule"]["days_per_week"], 6);
    assert_eq!(body["bell_schedule"]["variants"].as_array().unwrap().len(), 1);
    let r = s3.get(t.url(&format!("/timetable/schools/{}/bells", s.r.s1))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = s3.post(t.url(&format!("/timetable/schools/{}/bells", s.r.s1))).form(&ok).send().await.unwrap();
    assert_eq!(r.status(), 403, "the neighbouring district's admin cannot post the form (own CSRF or not)");
});

db_test!(a_head_teacher_publishes_and_the_class_sees_only_what_is_published, |t| {
    let s = setup(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    assert_eq!(put_bells(&t, &admin, s.r.s1, &s).await.status(), 200);
    let head = signed_in(&t, "head").await;
    let week = json!([
        lesson(1, 1, "chinese", Some(s.head), "201"),
        lesson(1, 2, "math", Some(s.r.teacher), "201"),
        lesson(2, 1, "class-meeting", Some(s.head), ""),
    ]);
    let r = put_draft(&t, &head, s.r.a2, s.term, week.clone()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["draft"].as_array().unwrap().len(), 3);
    assert_eq!(body["clashes"], json!([]));

    // A student of the class sees nothing yet, and no draft.
    let student = signed_in(&t, "student2").await;
    let (status, body) = get_json(&t, &student, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a2, s.term)).await;
    assert_eq!(status, 200);
    assert_eq!(body["published"], json!([]));
    assert!(body.get("draft").is_none(), "students never see drafts: {body}");

    let r = publish(&t, &head, s.r.a2, s.term).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["version"], 1);
    let (events,): (i64,) = t
        .app
        .db
        .fetch_one(sql("SELECT COUNT(*) FROM activity_events WHERE kind = 'timetable_publish' AND target_id = $1").bind(s.r.a2))
        .await
        .unwrap();
    assert_eq!(events, 1, "publishing is one activity event (课表发布数)");
    let (audited,): (i64,) = t
        .app
        .db
        .fetch_one(sql("SELECT COUNT(*) FROM audit_log WHERE action = 'timetable_publish' AND target_id = $1").bind(s.r.a2))
        .await
        .unwrap();
    assert_eq!(audited, 1, "and an audit entry");
    let (status, body) = get_json(&t, &student, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a2, s.term)).await;
    assert_eq!(status, 200);
    assert_eq!(body["published"].as_array().unwrap().len(), 3);
    assert_eq!(body["published"][1]["subject_name"], "数学");
    assert_eq!(body["published"][1]["teacher"], "王老师");
    // The student's own week is the class's; the teacher's own week holds only the lesson they give.
    let (_, me) = get_json(&t, &student, &format!("/api/v1/timetable/me?term={}", s.term)).await;
    assert_eq!(me["lessons"].as_array().unwrap().len(), 3);
    let teacher = signed_in(&t, "teacher").await;
    let (_, me) = get_json(&t, &teacher, "/api/v1/timetable/me").await;
    assert_eq!(me["lessons"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["lessons"][0]["class"], "三年级2班");
    let html = teacher.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"my-week\"") && html.contains("三年级2班"), "the teacher's week names the class");
    let html = student.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("班会") && html.contains("李老师"), "the student's week shows the lessons");

    // Only the class's head teacher and the school's administrators edit it.
    assert_eq!(put_draft(&t, &teacher, s.r.a2, s.term, week.clone()).await.status(), 403);
    assert_eq!(put_draft(&t, &head, s.r.a1, s.term, week.clone()).await.status(), 403, "not the head of a1");
    assert_eq!(publish(&t, &head, s.r.a1, s.term).await.status(), 403);
    assert_eq!(put_draft(&t, &student, s.r.a2, s.term, week.clone()).await.status(), 403);
    // Parents see their children's classes only.
    let parent = signed_in(&t, "parent").await;
    let (status, _) = get_json(&t, &parent, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a2, s.term)).await;
    assert_eq!(status, 403);
    let (status, _) = get_json(&t, &parent, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(status, 200);
    // The neighbouring school and district are refused, reading and writing.
    let s2_teacher = crate::fixture::add_person(&t, "s2-teacher", "二中刘老师", kernel::auth::Role::Teacher, s.r.s2, None).await;
    assert!(s2_teacher > 0);
    for login in ["s3-admin", "d2-admin", "s2-teacher", "student3"] {
        let c = signed_in(&t, login).await;
        let (status, _) = get_json(&t, &c, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a2, s.term)).await;
        assert_eq!(status, 403, "{login} reads a2");
        assert_eq!(put_draft(&t, &c, s.r.a2, s.term, week.clone()).await.status(), 403, "{login} edits a2");
        assert_eq!(publish(&t, &c, s.r.a2, s.term).await.status(), 403, "{login} publishes a2");
        let (status, _) = get_json(&t, &c, &format!("/api/v1/schools/{}/timetables?term={}", s.r.s1, s.term)).await;
        assert_eq!(status, 403, "{login} lists s1");
        let r = c.get(t.url(&format!("/timetable/classes/{}", s.r.a2))).send().await.unwrap();
        assert_eq!(r.status(), 403, "{login} opens a2's page");
        let r = c.get(t.url(&format!("/timetable/schools/{}", s.r.s1))).send().await.unwrap();
        assert_eq!(r.status(), 403, "{login} opens s1's page");
    }
    // Bureau staff of the district view.
    let d1 = signed_in(&t, "d1-admin").await;
    let (status, list) = get_json(&t, &d1, &format!("/api/v1/schools/{}/timetables?term={}", s.r.s1, s.term)).await;
    assert_eq!(status, 200);
    let a2 = list["classes"].as_array().unwrap().iter().find(|c| c["class_id"] == s.r.a2).unwrap().clone();
    assert_eq!((a2["version"].clone(), a2["unpublished_changes"].clone()), (json!(1), json!(false)));
    // Publishing again without a change is refused, and nothing is recorded.
    assert_eq!(publish(&t, &head, s.r.a2, s.term).await.status(), 422);
    let (events,): (i64,) =
        t.app.db.fetch_one(sql("SELECT COUNT(*) FROM activity_events WHERE kind = 'timetable_publish'")).await.unwrap();
    assert_eq!(events, 1);
});

db_test!(
    clashes_are_listed_and_block_publishing_until_fixed,
    |c| {
        c.classroom.max_weekly_lessons = 4;
    },
    |t| {
        let s = setup(&t).await;
        let admin = signed_in(&t, "s1-admin").await;
        assert_eq!(put_bells(&t, &admin, s.r.s1, &s).await.status(), 200);
        let a1 = json!([lesson(1, 1, "math", Some(s.r.teacher), "301"), lesson(1, 2, "math", Some(s.r.teacher), "301")]);
        assert_eq!(put_draft(&t, &admin, s.r.a1, s.term, a1).await.status(), 200);
        assert_eq!(publish(&t, &admin, s.r.a1, s.term).await.status(), 200);

        // a2 puts the same teacher and room in Monday's first period, and the teacher over the limit.
        let a2 = json!([
            lesson(1, 1, "math", Some(s.r.teacher), "301"),
            lesson(2, 1, "math", Some(s.r.teacher), "302"),
            lesson(3, 1, "math", Some(s.r.teacher), "302"),
        ]);
        let r = put_draft(&t, &admin, s.r.a2, s.term, a2).await;
        assert_eq!(r.status(), 200, "a clashing draft is saved, with its clashes");
        let body: Value = r.json().await.unwrap();
        let clashes = body["clashes"].as_array().unwrap();
        let kinds: Vec<&str> = clashes.iter().map(|c| c["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["teacher", "room", "load"], "{body}");
        assert_eq!(clashes[0]["message"], "周一 第1节：王老师 同时在 三年级1班 上课");
        assert_eq!(clashes[1]["message"], "周一 第1节：教室 301 同时排给了 三年级1班");
        assert_eq!(clashes[2]["message"], "王老师 每周 5 节课，超过上限 4 节");
        let r = publish(&t, &admin, s.r.a2, s.term).await;
        assert_eq!(r.status(), 422);
        let problems = r.text().await.unwrap();
        assert!(problems.contains("王老师 同时在 三年级1班 上课"), "{problems}");
        let (_, body) = get_json(&t, &admin, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a2, s.term)).await;
        assert_eq!(body["version"], 0, "a refused publication changes nothing");
        let (events,): (i64,) =
            t.app.db.fetch_one(sql("SELECT COUNT(*) FROM activity_events WHERE kind = 'timetable_publish'")).await.unwrap();
        assert_eq!(events, 1);
        // The page lists the clashes and disables publishing.
        let html = admin.get(t.url(&format!("/timetable/classes/{}", s.r.a2))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("data-testid=\"timetable-clashes\"") && html.contains("tt-clash"), "clashes shown on the grid");

        // Fixed: another teacher and room on Monday, one lesson fewer.
        let fixed = json!([lesson(1, 1, "chinese", Some(s.head), "201"), lesson(2, 1, "math", Some(s.r.teacher), "302"),]);
        let body: Value = put_draft(&t, &admin, s.r.a2, s.term, fixed).await.json().await.unwrap();
        assert_eq!(body["clashes"], json!([]), "{body}");
        assert_eq!(publish(&t, &admin, s.r.a2, s.term).await.status(), 200);
    }
);

db_test!(bad_lessons_are_named_and_nothing_is_saved, |t| {
    let s = setup(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    // Without a bell schedule there is no grid to fill.
    let r = put_draft(&t, &admin, s.r.a1, s.term, json!([lesson(1, 1, "math", None, "")])).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("作息时间表"));
    assert_eq!(put_bells(&t, &admin, s.r.s1, &s).await.status(), 200);
    let west: (i64,) = t.app.db.fetch_one(sql("SELECT id FROM people WHERE login = 'student3'")).await.unwrap();
    let bad = json!([
        lesson(6, 1, "math", None, ""),
        lesson(1, 7, "math", None, ""),
        lesson(1, 1, "alchemy", None, ""),
        lesson(1, 2, "math", Some(west.0), ""),
        lesson(1, 3, "math", None, &"长".repeat(31)),
    ]);
    let r = put_draft(&t, &admin, s.r.a1, s.term, bad).await;
    assert_eq!(r.status(), 422);
    let problems: Value = r.json().await.unwrap();
    let fields: Vec<&str> = problems["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        ["lessons[0].weekday", "lessons[1].period", "lessons[2].subject", "lessons[3].teacher", "lessons[4].room"]
    );
    let (_, body) = get_json(&t, &admin, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(body["draft"], json!([]), "nothing saved");

    // The grid form: a bad cell is shown again with its message, the rest as typed.
    let token = csrf(&t, &admin).await;
    let form = [
        ("_csrf", token.as_str()),
        ("term", &s.term.to_string()),
        ("s-1-1", "math"),
        ("t-1-1", &s.r.teacher.to_string()),
        ("r-1-1", "301"),
        ("s-2-2", ""),
        ("t-2-2", &s.head.to_string()),
        ("r-2-2", ""),
    ];
    let r = admin.post(t.url(&format!("/timetable/classes/{}", s.r.a1))).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("选了教师或教室，但没有选学科"), "the cell's problem is shown");
    assert!(html.contains("value=\"301\""), "the typed room is kept");
    let mut ok = form;
    ok[6] = ("t-2-2", "0");
    let r = admin.post(t.url(&format!("/timetable/classes/{}", s.r.a1))).form(&ok).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, body) = get_json(&t, &admin, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(
        body["draft"],
        json!([{ "weekday": 1, "period": 1, "subject": "math", "subject_name": "数学",
        "teacher_id": s.r.teacher, "teacher": "王老师", "room": "301" }])
    );
    // The neighbours cannot post the grid form.
    let s3 = signed_in(&t, "s3-admin").await;
    let token = csrf(&t, &s3).await;
    let mut theirs = ok;
    theirs[0] = ("_csrf", token.as_str());
    let r = s3.post(t.url(&format!("/timetable/classes/{}", s.r.a1))).form(&theirs).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = s3
        .post(t.url(&format!("/timetable/classes/{}/publish", s.r.a1)))
        .form(&[("_csrf", token.as_str()), ("term", &s.term.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
});

db_test!(a_later_publication_announces_the_changed_lessons_to_the_class, |t| {
    let s = setup(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    assert_eq!(put_bells(&t, &admin, s.r.s1, &s).await.status(), 200);
    let v1 = json!([lesson(1, 1, "math", Some(s.r.teacher), "301"), lesson(1, 2, "chinese", Some(s.head), "301")]);
    assert_eq!(put_draft(&t, &admin, s.r.a1, s.term, v1).await.status(), 200);
    assert_eq!(publish(&t, &admin, s.r.a1, s.term).await.status(), 200);
    let student = signed_in(&t, "student").await;
    let html = student.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("课表已更新"), "a first publication is no update");

    let v2 = json!([lesson(1, 1, "english", Some(s.head), "302"), lesson(1, 2, "chinese", Some(s.head), "301")]);
    assert_eq!(put_draft(&t, &admin, s.r.a1, s.term, v2).await.status(), 200);
    // Students still see version 1 until it is published.
    let (_, body) = get_json(&t, &student, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(body["published"][0]["subject"], "math");
    let r = publish(&t, &admin, s.r.a1, s.term).await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["version"], 2);
    assert_eq!(
        p["changes"],
        json!([{ "weekday": 1, "period": 1,
                 "before": { "subject": "math", "teacher": "王老师", "room": "301" },
                 "after": { "subject": "english", "teacher": "李老师", "room": "302" } }])
    );
    let html = student.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("课表已更新"), "the class is told");
    assert!(html.contains("周一 第1节：数学 王老师 301 → 英语 李老师 302"), "with the changed lesson");
    let parent = signed_in(&t, "parent").await;
    let home = parent.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("张小明 · 三年级1班") && home.contains("课表已更新"), "the parent's page names the child");
    let html = parent.get(t.url(&format!("/timetable/classes/{}", s.r.a1))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("课表已更新") && html.contains("tt-changed"), "parents see it on the class's page");
    let (_, body) = get_json(&t, &parent, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(body["latest_changes"].as_array().unwrap().len(), 1);
    // The teacher taken off the lesson no longer has it in their week, and is told.
    let teacher = signed_in(&t, "teacher").await;
    let html = teacher.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("课表已更新") && html.contains("三年级1班"), "the class's teachers see the notice");
    let (_, me) = get_json(&t, &teacher, "/api/v1/timetable/me").await;
    assert_eq!(me["lessons"], json!([]));
});

db_test!(an_import_is_all_or_nothing_and_names_row_and_column, |t| {
    let s = setup(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    assert_eq!(put_bells(&t, &admin, s.r.s1, &s).await.status(), 200);
    let school = format!("/api/v1/schools/{}/timetables/import", s.r.s1);
    let bad = "班级,星期,节次,学科,教师(姓名或工号),教室\n三年级1班,周一,1,数学,王老师,301\n三年级1班,周八,2,语文,李老师,301\n三年级9班,周二,1,语文,李老师,\n三年级2班,2,第九节,炼金,赵老师,\n";
    let r = upload(&t, &admin, &school, s.term, "课表.csv", bad.as_bytes().to_vec()).await;
    assert_eq!(r.status(), 422);
    let problems: Value = r.json().await.unwrap();
    let messages: Vec<&str> = problems["details"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert_eq!(
        messages,
        [
            "第 3 行 B (星期) 列：“周八”不是有效的星期（1–5，或周一…）。",
            "第 4 行 A (班级) 列：本校没有班级“三年级9班”。",
            "第 5 行 C (节次) 列：“第九节”不是有效的节次（1–6）。",
            "第 5 行 D (学科) 列：未知的学科“炼金”。",
            "第 5 行 E (教师(姓名或工号)) 列：本校没有教师“赵老师”。",
        ]
    );
    let (_, body) = get_json(&t, &admin, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(body["draft"], json!([]), "the good row was not written either");

    // English headers in an XLSX workbook, for the whole school.
    let mut wb = sheet::Workbook::new();
    let spec = |h| sheet::ColumnSpec { header: h, note: None, width: 10.0 };
    let sh = wb
        .sheet("Timetable", &[spec("Class"), spec("Weekday"), spec("Period"), spec("Subject"), spec("Teacher"), spec("Room")])
        .unwrap();
    wb.row(sh, &["三年级1班", "Mon", "1", "Mathematics", "王老师", "301"], &[]).unwrap();
    wb.row(sh, &["三年级1班", "Tue", "2", "语文", "李老师", "301"], &[]).unwrap();
    wb.row(sh, &["三年级2班", "星期三", "第3节", "english", "", ""], &[]).unwrap();
    let r = upload(&t, &admin, &school, s.term, "timetable.xlsx", wb.to_bytes().unwrap()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap(), json!({ "classes": 2, "lessons": 3 }));
    let (_, body) = get_json(&t, &admin, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(body["draft"].as_array().unwrap().len(), 2);
    assert_eq!(body["draft"][1]["teacher"], "李老师");

    // The drafts download in the same columns and import again unchanged.
    let r = admin.get(t.url(&format!("/timetable/schools/{}/timetable.xlsx?term={}", s.r.s1, s.term))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let book = r.bytes().await.unwrap().to_vec();
    let rows: Vec<Vec<String>> = sheet::Reader::from_bytes(book.clone(), None, &sheet::Limits::default())
        .unwrap()
        .map(|r| r.unwrap().cells.into_iter().map(|c| c.text).collect())
        .collect();
    assert_eq!(rows.len(), 4, "a header and three lessons: {rows:?}");
    assert_eq!(rows[1], ["三年级1班", "1", "1", "数学", "王老师", "301"]);
    let r = upload(&t, &admin, &school, s.term, "again.xlsx", book).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({ "classes": 2, "lessons": 3 }));
    let (_, again) = get_json(&t, &admin, &format!("/api/v1/classes/{}/timetable?term={}", s.r.a1, s.term)).await;
    assert_eq!(again["draft"], body["draft"]);
    for login in ["s3-admin", "d2-admin", "head", "teacher"] {
        let c = signed_in(&t, login).await;
        let r = c.get(t.url(&format!("/timetable/schools/{}/timetable.xlsx", s.r.s1))).send().await.unwrap();
        assert_eq!(r.status(), 403, "{login} downloads s1's timetables");
        let r = c.get(t.url(&format!("/timetable/classes/{}/timetable.xlsx", s.r.a1))).send().await.unwrap();
        assert_eq!(r.status(), 403, "{login} downloads a1's timetable");
    }
    let head = signed_in(&t, "head").await;
    let r = head.get(t.url(&format!("/timetable/classes/{}/timetable.xlsx", s.r.a2))).send().await.unwrap();
    assert_eq!(r.status(), 200, "a head teacher downloads their own class's");

    // A head teacher imports their own class only; the class column may be left out.
    let own = "星期,节次,学科,教师\n1,1,语文,李老师\n1,2,数学,王老师\n";
    let r = upload(&t, &head, &format!("/api/v1/classes/{}/timetable/import", s.r.a2), s.term, "a2.csv", own.as_bytes().to_vec())
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = upload(&t, &head, &format!("/api/v1/classes/{}/timetable/import", s.r.a1), s.term, "a1.csv", own.as_bytes().to_vec())
        .await;
    assert_eq!(r.status(), 403);
    let r = upload(&t, &head, &school, s.term, "s1.csv", bad.as_bytes().to_vec()).await;
    assert_eq!(r.status(), 403, "head teachers do not import a whole school");
    // The neighbours are refused, whatever the file.
    for login in ["s3-admin", "d2-admin"] {
        let c = signed_in(&t, login).await;
        let r = upload(&t, &c, &school, s.term, "s1.csv", own.as_bytes().to_vec()).await;
        assert_eq!(r.status(), 403, "{login}");
        let r =
            upload(&t, &c, &format!("/api/v1/classes/{}/timetable/import", s.r.a2), s.term, "a2.csv", own.as_bytes().to_vec())
                .await;
        assert_eq!(r.status(), 403, "{login}");
        let r = upload(&t, &c, &format!("/timetable/classes/{}/import", s.r.a2), s.term, "a2.csv", own.as_bytes().to_vec()).await;
        assert_eq!(r.status(), 403, "{login}");
        let r = upload(&t, &c, &format!("/timetable/schools/{}/import", s.r.s1), s.term, "s1.csv", own.as_bytes().to_vec()).await;
        assert_eq!(r.status(), 403, "{login}");
    }
    // The page shows the problems with their rows.
    let r =
        upload(&t, &admin, &format!("/timetable/schools/{}/import", s.r.s1), s.term, "课表.csv", bad.as_bytes().to_vec()).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("第 3 行 B (星期) 列"));
});

/// Parses a feed with the `icalendar` package from PyPI and prints its events as JSON.
const PARSE_ICS: &str = r#"
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(open(sys.argv[1], 'rb').read())
out = {"name": str(cal.get("X-WR-CALNAME")), "events": []}
for e in cal.walk("VEVENT"):
    rule = e.get("RRULE")
    out["events"].append({
        "uid": str(e.get("UID")), "summary": str(e.get("SUMMARY")), "location": str(e.get("LOCATION") or ""),
        "start": e.decoded("DTSTART").isoformat(), "end": e.decoded("DTEND").isoformat(),
        "freq": rule["FREQ"][0], "until": rule["UNTIL"][0].isoformat(), "sequence": int(e.get("SEQUENCE")),
    })
print(json.dumps(out, ensure_ascii=False))
"#;

db_test!(each_person_gets_a_private_icalendar_feed, |t| {
    let s = setup(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    assert_eq!(put_bells(&t, &admin, s.r.s1, &s).await.status(), 200);
    let week = json!([lesson(1, 1, "math", Some(s.r.teacher), "301, 东楼"), lesson(3, 6, "chinese", Some(s.head), "")]);
    assert_eq!(put_draft(&t, &admin, s.r.a1, s.term, week).await.status(), 200);
    assert_eq!(publish(&t, &admin, s.r.a1, s.term).await.status(), 200);

    let student = signed_in(&t, "student").await;
    let r = student.post(t.url("/api/v1/timetable/feed")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let url = r.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&t.url("/timetable/feed/")) && url.ends_with(".ics"), "{url}");
    let (stored,): (String,) = t.app.db.fetch_one(sql("SELECT token_hash FROM calendar_feeds")).await.unwrap();
    let token = url.rsplit('/').next().unwrap().trim_end_matches(".ics");
    assert!(!url.contains(&stored) && stored == kernel::secret::token_hash(token), "only the token's hash is stored");
    // The feed needs no session: a phone's calendar fetches it.
    let r = t.client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = r.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    assert!(ics.split("\r\n").all(|l| l.len() <= 75 && !l.contains('\n')), "lines are folded at 75 octets and end in CRLF");
    // Two lessons × two bell-schedule variants.
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 4, "{ics}");
    assert!(ics.contains("LOCATION:301\\, 东楼\r\n"), "TEXT is escaped");
    let unfolded = ics.replace("\r\n ", "");
    // Summer: Mondays at 08:00 in UTC+8 from the first Monday of the term.
    let first_monday = (0..7).map(|i| s.starts + Duration::days(i)).find(|d| d.weekday() == time::Weekday::Monday).unwrap();
    let dtstart = format!("DTSTART:{}T000000Z", first_monday.to_string().replace('-', ""));
    assert!(unfolded.contains(&dtstart), "{dtstart} in {unfolded}");
    assert!(unfolded.contains("RRULE:FREQ=WEEKLY;UNTIL="));

    let have_icalendar =
        std::process::Command::new("python3").args(["-c", "import icalendar"]).output().is_ok_and(|o| o.status.success());
    if have_icalendar {
        let file = std::env::temp_dir().join(format!("hanlin-{}.ics", kernel::secret::random_token(6)));
        std::fs::write(&file, &ics).unwrap();
        let out = std::process::Command::new("python3").args(["-c", PARSE_ICS, file.to_str().unwrap()]).output().unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(out.status.success(), "icalendar parses the feed: {}", String::from_utf8_lossy(&out.stderr));
        let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(parsed["name"], "张小明的课表");
        let events = parsed["events"].as_array().unwrap();
        assert_eq!(events.len(), 4);
        let summer_math =
            events.iter().find(|e| e["summary"] == "数学" && e["start"].as_str().unwrap().contains("T00:00:00")).unwrap();
        assert_eq!(summer_math["location"], "301, 东楼");
        assert_eq!(summer_math["freq"], "WEEKLY");
        assert_eq!(summer_math["end"].as_str().unwrap()[11..19], *"00:40:00");
        let winter_chinese = events.iter().find(|e| e["summary"] == "语文" && e["start"].as_str().unwrap().contains("T06:50:00"));
        assert!(winter_chinese.is_some(), "winter's sixth period is 14:50 local, 06:50 UTC: {parsed}");
        let uids: std::collections::HashSet<&str> = events.iter().map(|e| e["uid"].as_str().unwrap()).collect();
        assert_eq!(uids.len(), 4, "every series has its own UID");
        assert!(
            events.iter().all(|e| e["until"].as_str().unwrap() <= &format!("{}T23:59:59", s.ends)[..]),
            "series end with the term"
        );
    } else {
        eprintln!("SKIPPED: iCalendar parser check (pip install icalendar)");
    }

    // The teacher's feed carries only the lesson they give; a parent's their child's class.
    let teacher = signed_in(&t, "teacher").await;
    let turl = teacher.post(t.url("/api/v1/timetable/feed")).send().await.unwrap().json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let tics = t.client().get(&turl).send().await.unwrap().text().await.unwrap();
    assert_eq!(tics.matches("BEGIN:VEVENT").count(), 2);
    assert!(!tics.contains("SUMMARY:语文"));
    // Resetting stops the old address; made-up tokens find nothing.
    let page = student.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"feed-reset\""));
    let token = csrf(&t, &student).await;
    let r = student.post(t.url("/timetable/feed")).form(&[("_csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"feed-url\"") && html.contains("webcal://"), "the new address is shown");
    assert_eq!(t.client().get(&url).send().await.unwrap().status(), 403, "the old address is dead");
    let forged = format!("/timetable/feed/{}.ics", kernel::secret::random_token(32));
    assert_eq!(t.client().get(t.url(&forged)).send().await.unwrap().status(), 403);
    assert_eq!(t.client().get(t.url("/timetable/feed/short.ics")).send().await.unwrap().status(), 403);
    // A read-only API token reads the week but does not make feeds.
    let created: Value = student
        .post(t.url("/api/v1/tokens"))
        .json(&json!({ "name": "calendar script", "scope": "read", "days": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let read_only = created["token"].as_str().unwrap_or_else(|| panic!("{created}")).to_string();
    let r = t.client().get(t.url("/api/v1/timetable/me")).bearer_auth(&read_only).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = t.client().post(t.url("/api/v1/timetable/feed")).bearer_auth(&read_only).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = t
        .client()
        .put(t.url(&format!("/api/v1/classes/{}/timetable", s.r.a1)))
        .bearer_auth(&read_only)
        .json(&json!({ "term": s.term, "lessons": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Administrators have no week of their own, so no feed.
    let r = admin.post(t.url("/api/v1/timetable/feed")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // A student of the other district gets a feed without a1's lessons.
    let west = signed_in(&t, "student3").await;
    let wurl = west.post(t.url("/api/v1/timetable/feed")).send().await.unwrap().json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let wics = t.client().get(&wurl).send().await.unwrap().text().await.unwrap();
    assert_eq!(wics.matches("BEGIN:VEVENT").count(), 0);
    let (_, me) = get_json(&t, &west, "/api/v1/timetable/me").await;
    assert_eq!(me["lessons"], json!([]));
});

db_test!(the_pages_work_for_every_role, |t| {
    let s = setup(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    assert_eq!(put_bells(&t, &admin, s.r.s1, &s).await.status(), 200);
    assert_eq!(
        put_draft(&t, &admin, s.r.a1, s.term, json!([lesson(1, 1, "math", Some(s.r.teacher), "301")])).await.status(),
        200
    );
    for login in ["teacher", "head", "student", "student2", "parent", "s1-admin", "d1-admin", "city-admin", "auditor"] {
        let c = signed_in(&t, login).await;
        let r = c.get(t.url("/timetable")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{login}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<h1>课表</h1>"), "{login}");
    }
    let city = signed_in(&t, "city-admin").await;
    let html = city.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("东区一小") && html.contains("西区一小"), "the city admin reaches every school");
    let s3 = signed_in(&t, "s3-admin").await;
    let html = s3.get(t.url("/timetable")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("东区一小"), "the other district's school is not listed");
    let html = admin.get(t.url(&format!("/timetable/schools/{}", s.r.s1))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("三年级1班") && html.contains("夏季作息") && html.contains("school-import"));
    let html = admin.get(t.url(&format!("/timetable/classes/{}", s.r.a1))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"timetable-grid\"") && html.contains("id=\"s-5-6\""), "a 5 × 6 grid");
    let html = admin.get(t.url(&format!("/timetable/schools/{}/bells", s.r.s1))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("08:10-08:50"), "the winter times are in the form");
    // English pages.
    let token = csrf(&t, &admin).await;
    admin.post(t.url("/language")).form(&[("_csrf", token.as_str()), ("locale", "en"), ("back", "/")]).send().await.unwrap();
    let html = admin.get(t.url(&format!("/timetable/classes/{}", s.r.a1))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Clash check") && html.contains("Mathematics"), "English page");
    // Teachers and students see the class page without the editor.
    let teacher = signed_in(&t, "teacher").await;
    let html = teacher.get(t.url(&format!("/timetable/classes/{}", s.r.a1))).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("timetable-grid"), "a subject teacher does not edit the class's timetable");
    let r = teacher.get(t.url(&format!("/timetable/schools/{}", s.r.s1))).send().await.unwrap();
    assert_eq!(r.status(), 403, "the school overview is for its administrators and bureau staff");
});

db_test!(the_demo_region_gains_published_timetables_without_clashes, |t| {
    let dir = std::env::temp_dir().join(format!("hanlin-demo-tt-{}", kernel::secret::random_token(6).replace(['-', '_'], "x")));
    let accounts = server::demo::prepare(&t.app, &dir).await.expect("seed the demo region");
    let city = accounts.iter().find(|a| a.role == "region_admin").unwrap();
    let c = t.client();
    let r = c
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({ "login": city.login, "password": city.password }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let classes: Vec<(i64,)> = t.app.db.fetch_all(sql("SELECT id FROM classes ORDER BY id")).await.unwrap();
    let mut updated = 0;
    for (id,) in &classes {
        let (status, body) = get_json(&t, &c, &format!("/api/v1/classes/{id}/timetable")).await;
        assert_eq!(status, 200);
        assert!(body["version"].as_i64().unwrap() >= 1, "class {id} has a published timetable: {body}");
        assert!(body["published"].as_array().unwrap().len() >= 30, "a full week for class {id}");
        assert_eq!(body["clashes"], json!([]), "class {id}");
        assert_eq!(body["bell_schedule"]["variants"].as_array().unwrap().len(), 2, "summer and winter times");
        if body["latest_changes"].as_array().is_some_and(|c| !c.is_empty()) {
            updated += 1;
        }
    }
    assert_eq!(updated, 1, "one class shows a 课表已更新 notice");
    // Seeding again adds nothing.
    server::demo::prepare(&t.app, &dir).await.expect("a second start reuses the demo");
    let (n,): (i64,) = t.app.db.fetch_one(sql("SELECT COUNT(*) FROM timetables")).await.unwrap();
    assert_eq!(n as usize, classes.len());
    let _ = std::fs::remove_dir_all(&dir);
});
