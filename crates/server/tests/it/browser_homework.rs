//! The homework scenario in real Chromium: a teacher assigns homework with a library resource;
//! a second assignment for the same day meets the 双减 warning and is confirmed; a student hands
//! in a photo from a phone-sized window; the teacher marks it; the parent sees the mark on a phone.
//!
//! SQLite only, like the other browser tests; without chromium and chromedriver it says it was
//! skipped and passes.

use crate::browser::{DESKTOP, PHONE, fits, no_console_errors, sign_in, sign_out};
use crate::fixture::{PASSWORD, add_person, region, signed_in};
use crate::harness::{Backend, TestApp};
use crate::webdriver::Browser;
use kernel::auth::Role;
use serde_json::{Value, json};

/// A school-published PDF resource by the teacher; its id.
async fn published_resource(t: &TestApp) -> i64 {
    let teacher = signed_in(t, "teacher").await;
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let up: Value = teacher
        .post(t.url("/api/v1/uploads"))
        .json(&json!({ "file_name": "面积单位换算.pdf", "size": pdf.len() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upload = up["id"].as_i64().unwrap();
    assert_eq!(teacher.put(t.url(&format!("/api/v1/uploads/{upload}/chunks/0"))).body(pdf).send().await.unwrap().status(), 200);
    assert_eq!(
        teacher.post(t.url(&format!("/api/v1/uploads/{upload}/complete"))).json(&json!({})).send().await.unwrap().status(),
        200
    );
    let body = json!({ "upload_id": upload, "title": "面积单位换算练习纸", "description": "三年级下册", "stage": "primary", "grade": 3,
        "subject": "math", "resource_type": "exercise", "language": "zh", "licence": "cc-by-4.0" });
    let created = teacher.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let submitted =
        teacher.post(t.url(&format!("/api/v1/resources/{id}/submit"))).json(&json!({ "level": "school" })).send().await.unwrap();
    assert_eq!(submitted.status(), 200, "{}", submitted.text().await.unwrap());
    let reviewer = signed_in(t, "s1-reviewer").await;
    let queue: Value = reviewer.get(t.url("/api/v1/reviews")).send().await.unwrap().json().await.unwrap();
    let publication = queue["items"][0]["publication_id"].as_i64().unwrap();
    let decided = reviewer
        .post(t.url("/api/v1/reviews"))
        .json(&json!({ "publication_ids": [publication], "decision": "approve", "reason": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 200, "{}", decided.text().await.unwrap());
    id
}

async fn set_value(b: &Browser, css: &str, value: &str) {
    let script = format!("const e = document.querySelector('{css}'); e.value = '{value}'; return e.value;");
    assert_eq!(b.execute(&script, json!([])).await, json!(value), "{css}");
}

/// Fills the assignment form for class `class` and publishes it.
async fn assign(b: &Browser, t: &TestApp, resource: Option<i64>, title: &str, minutes: &str, due: &str, class: i64) {
    let path = match resource {
        Some(r) => format!("/homework/new?resource={r}"),
        None => "/homework/new".to_string(),
    };
    b.goto(&t.url(&path)).await;
    b.find("[data-testid=homework-form]").await;
    b.send_keys("[data-testid=homework-title]", title).await;
    set_value(b, "[data-testid=homework-due]", due).await;
    set_value(b, "[data-testid=homework-minutes]", minutes).await;
    set_value(b, "#h-subject", "math").await;
    if b.execute(&format!("return document.querySelector('[data-testid=homework-class-{class}]').checked;"), json!([])).await
        != json!(true)
    {
        b.click(&format!("[data-testid=homework-class-{class}]")).await;
    }
    b.click_and_wait("[data-testid=homework-publish]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn homework_goes_from_assignment_to_a_photo_hand_in_a_mark_and_the_parent() {
    let (browser, app) = tokio::join!(Browser::start(DESKTOP.0, DESKTOP.1), TestApp::start(Backend::Sqlite));
    let Some(b) = browser else { return };
    let t = app.expect("SQLite test app");
    let r = region(&t).await;
    add_person(&t, "s1-reviewer", "一小审核员", Role::Reviewer, r.s1, None).await;
    let resource = published_resource(&t).await;
    let day = kernel::today(480) + time::Duration::days(2);

    // The teacher assigns homework with the library resource.
    sign_in(&b, &t, "teacher", PASSWORD).await;
    assign(&b, &t, Some(resource), "面积单位换算", "40", &format!("{day}T18:00"), r.a1).await;
    b.find("[data-testid=homework-heading]").await;
    assert_eq!(b.text("[data-testid=homework-resource]").await, "面积单位换算练习纸");
    let homework_url = b.current_url().await;
    no_console_errors(&b, "the new homework", &[]).await;

    // A second one due the same day would take grade 3 past 60 minutes: the 双减 warning shows.
    assign(&b, &t, None, "口算练习", "30", &format!("{day}T19:00"), r.a1).await;
    let warning = b.text("[data-testid=load-warning]").await;
    assert!(warning.contains("70") && warning.contains("60"), "{warning}");
    no_console_errors(&b, "the load warning", &[422]).await;
    b.click("[data-testid=homework-confirm-load]").await;
    b.click_and_wait("[data-testid=homework-publish]").await;
    b.find("[data-testid=homework-heading]").await;
    sign_out(&b, "the teacher").await;

    // The student hands in a photo from a phone.
    b.set_viewport(PHONE.0, PHONE.1).await;
    sign_in(&b, &t, "student", PASSWORD).await;
    b.goto(&t.url("/homework")).await;
    b.find("[data-testid=homework-todo]").await;
    fits(&b, PHONE.0, "the student's homework list").await;
    b.goto(&homework_url).await;
    b.find("[data-testid=hand-in-form]").await;
    fits(&b, PHONE.0, "the hand-in form").await;
    let dir = std::env::temp_dir().join(format!("hanlin-photo-{}", kernel::secret::random_token(6).replace(['-', '_'], "x")));
    std::fs::create_dir_all(&dir).unwrap();
    let photo = dir.join("作业照片.bmp");
    std::fs::write(&photo, server::demo::files::bmp(120, 80, 7)).unwrap();
    b.choose_file("[data-testid=hand-in-photo]", &photo).await;
    b.send_keys("#w-body", "1 平方米 = 100 平方分米").await;
    b.click_and_wait("[data-testid=hand-in-submit]").await;
    assert_eq!(b.attribute("[data-testid=my-work]", "data-state").await.as_deref(), Some("handed_in"));
    let loaded = b
        .execute("const i = document.querySelector('[data-testid=work-photo]'); return i.complete && i.naturalWidth;", json!([]))
        .await;
    assert_eq!(loaded, json!(120), "the photo shows");
    no_console_errors(&b, "the student's hand-in", &[]).await;
    sign_out(&b, "the student").await;

    // The teacher marks it.
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;
    sign_in(&b, &t, "teacher", PASSWORD).await;
    b.goto(&homework_url).await;
    assert_eq!(b.text("[data-testid=stat-handed-in]").await.split_whitespace().next(), Some("1"));
    b.click_and_wait("[data-testid=start-marking]").await;
    b.find("[data-testid=work-photo]").await;
    b.send_keys("[data-testid=mark-score-input]", "92").await;
    b.send_keys("[data-testid=mark-feedback-input]", "换算正确，书写工整。").await;
    b.click_and_wait("[data-testid=mark-save]").await;
    b.find("[data-testid=score-chart]").await;
    assert_eq!(b.text("[data-testid=stat-average]").await, "92");
    no_console_errors(&b, "the marked homework", &[]).await;
    sign_out(&b, "the teacher").await;

    // The parent sees the mark on a phone.
    b.set_viewport(PHONE.0, PHONE.1).await;
    sign_in(&b, &t, "parent", PASSWORD).await;
    b.goto(&t.url("/homework")).await;
    assert!(b.text("[data-testid=homework-todo]").await.contains("92"));
    b.goto(&homework_url).await;
    assert_eq!(b.text("[data-testid=mark-score]").await, "92");
    assert_eq!(b.text("[data-testid=mark-feedback]").await, "换算正确，书写工整。");
    fits(&b, PHONE.0, "the parent's view of the mark").await;
    no_console_errors(&b, "the parent's view", &[]).await;
}
