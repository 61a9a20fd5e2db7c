//! The library scenario in real Chromium: a teacher uploads a video with the progress bar, fills
//! in its metadata and submits it to the district; the district's reviewer approves it; a teacher
//! of another school finds it with a Chinese query and a facet, plays it and seeks; a takedown
//! hides it from them. The search and resource pages are also looked at on a phone.
//!
//! SQLite only, like the other browser tests; without chromium and chromedriver it says it was
//! skipped and passes.

use crate::browser::{DESKTOP, PHONE, fits, no_console_errors, sign_in, sign_out};
use crate::fixture::{PASSWORD, add_person, region};
use crate::harness::{Backend, TestApp};
use crate::webdriver::Browser;
use kernel::auth::Role;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CLIP: &[u8] = include_bytes!("../../src/demo/lesson.webm");
const TITLE: &str = "勾股定理的证明（微课）";

/// Polls `script` until it returns something other than null or false; its value.
async fn wait_for(b: &Browser, script: &str, what: &str) -> Value {
    let start = Instant::now();
    loop {
        let v = b.execute(script, json!([])).await;
        if !v.is_null() && v != json!(false) {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{what}: still waiting at {}", b.current_url().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn select(b: &Browser, css: &str, value: &str) {
    let script = format!(
        "const s = document.querySelector('{css}'); s.value = '{value}'; s.dispatchEvent(new Event('change', {{ bubbles: true }})); return s.value;"
    );
    assert_eq!(b.execute(&script, json!([])).await, json!(value), "{css} has the option {value}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_goes_from_upload_to_review_search_playback_and_takedown() {
    let (browser, app) =
        tokio::join!(Browser::start(DESKTOP.0, DESKTOP.1), TestApp::start_with(Backend::Sqlite, |c| c.library.chunk_mb = 1));
    let Some(b) = browser else { return };
    let t = app.expect("SQLite test app");
    let r = region(&t).await;
    add_person(&t, "d1-reviewer", "东区审核员", Role::Reviewer, r.d1, None).await;
    add_person(&t, "s2-teacher", "二中刘老师", Role::Teacher, r.s2, None).await;
    let dir = std::env::temp_dir().join(format!("hanlin-clip-{}", kernel::secret::random_token(6).replace(['-', '_'], "x")));
    std::fs::create_dir_all(&dir).unwrap();
    let clip = dir.join("勾股定理微课.webm");
    std::fs::write(&clip, CLIP).unwrap();

    // The teacher uploads the clip; the bar shows and fills while the chunks go up.
    sign_in(&b, &t, "teacher", PASSWORD).await;
    b.goto(&t.url("/library/new")).await;
    b.find("[data-testid=resource-form]").await;
    no_console_errors(&b, "the upload form", &[]).await;
    b.choose_file("[data-testid=resource-file]", &clip).await;
    b.send_keys("#r-title", TITLE).await;
    b.send_keys("#r-description", "用拼图法证明勾股定理，约 20 秒。").await;
    select(&b, "#r-stage", "junior").await;
    b.send_keys("#r-grade", "2").await;
    select(&b, "#r-subject", "math").await;
    select(&b, "#r-edition", "pep").await;
    select(&b, "#r-volume", "lower").await;
    select(&b, "#r-type", "micro-lecture").await;
    b.send_keys("#r-keywords", "勾股定理，拼图").await;
    // The page navigates away when the upload is done: what the bar showed is kept in sessionStorage.
    b.execute(
        "const bar = document.querySelector('[data-upload-progress]'); sessionStorage.setItem('bar', '[]');\
         const seen = []; setInterval(() => { if (!bar.hidden) { seen.push(bar.value); sessionStorage.setItem('bar', JSON.stringify(seen)); } }, 5);\
         return true;",
        json!([]),
    )
    .await;
    b.click("[data-testid=resource-save]").await;
    wait_for(&b, "return location.pathname.match(/^\\/library\\/resources\\/\\d+$/) !== null;", "the new resource's page").await;
    b.find("[data-testid=resource-title]").await;
    let bar: Vec<u64> =
        serde_json::from_str(b.execute("return sessionStorage.getItem('bar');", json!([])).await.as_str().unwrap()).unwrap();
    assert!(bar.contains(&100), "the progress bar showed and filled: {bar:?}");
    assert_eq!(b.text("[data-testid=resource-title]").await, TITLE);
    assert_eq!(b.attribute("[data-testid=resource-status]", "data-status").await.as_deref(), Some("draft"));
    no_console_errors(&b, "the new draft", &[]).await;
    // It plays for its author already, and goes to the district for review.
    b.find("[data-testid=preview-video]").await;
    select(&b, "#submit-level", "district").await;
    b.click_and_wait("[data-testid=resource-submit]").await;
    assert_eq!(b.attribute("[data-testid=resource-status]", "data-status").await.as_deref(), Some("submitted"));
    let page = b.current_url().await;
    sign_out(&b, "the teacher").await;

    // The district's reviewer finds it in the queue and approves it.
    sign_in(&b, &t, "d1-reviewer", PASSWORD).await;
    b.goto(&t.url("/library/review")).await;
    let queue = b.text("[data-testid=review-queue]").await;
    assert!(queue.contains(TITLE), "the queue lists it: {queue}");
    no_console_errors(&b, "the review queue", &[]).await;
    b.click(&format!("input[name=publication][aria-label='{TITLE}']")).await;
    b.click_and_wait("[data-testid=review-approve]").await;
    b.find("[data-testid=review-done]").await;
    sign_out(&b, "the reviewer").await;

    // A teacher of another school of the district searches in Chinese and narrows by a facet.
    sign_in(&b, &t, "s2-teacher", PASSWORD).await;
    b.goto(&t.url("/library")).await;
    b.send_keys("[data-testid=library-q]", "勾股定理\n").await;
    wait_for(
        &b,
        "return document.querySelector('[data-testid=library-total]') !== null && location.search.includes('q=');",
        "the results",
    )
    .await;
    no_console_errors(&b, "the search results", &[]).await;
    b.click_and_wait("a[data-facet=type][data-value=micro-lecture]").await;
    let results = b.text("[data-testid=library-results]").await;
    assert!(results.contains(TITLE), "found by 勾股定理 and 微课: {results}");
    b.click_and_wait(&format!("[data-testid=library-results] a[href='{}']", page.trim_start_matches(&t.url("")))).await;
    // It plays, and seeking to 0:15 fetches that part with a range request.
    let played = wait_for(
        &b,
        "const v = document.querySelector('[data-testid=preview-video]'); v.muted = true;\
         if (v.paused) v.play().catch(() => {}); return v.currentTime > 0.3 ? v.currentTime : null;",
        "the video playing",
    )
    .await;
    assert!(played.as_f64().unwrap() > 0.3);
    b.execute(
        "const v = document.querySelector('[data-testid=preview-video]'); v.pause(); v.currentTime = 15; return true;",
        json!([]),
    )
    .await;
    let seeked = wait_for(
        &b,
        "const v = document.querySelector('[data-testid=preview-video]'); return !v.seeking && v.currentTime >= 14.9 ? v.currentTime : null;",
        "the seek to 0:15",
    )
    .await;
    assert!(seeked.as_f64().unwrap() < 20.1);
    no_console_errors(&b, "playing the video", &[]).await;
    // The library and the resource on a phone.
    b.set_viewport(PHONE.0, PHONE.1).await;
    fits(&b, PHONE.0, "the resource page on a phone").await;
    b.goto(&t.url("/library?q=勾股定理")).await;
    fits(&b, PHONE.0, "the search page on a phone").await;
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;
    sign_out(&b, "the other school's teacher").await;

    // A copyright complaint: the reviewer takes it down, and it is gone for the other school.
    sign_in(&b, &t, "d1-reviewer", PASSWORD).await;
    b.goto(&page).await;
    b.click("[data-testid=resource-take-down-open]").await;
    b.send_keys("#take-down-reason", "版权投诉：视频素材未获授权").await;
    b.click_and_wait("[data-testid=resource-take-down]").await;
    assert_eq!(b.attribute("[data-testid=resource-status]", "data-status").await.as_deref(), Some("taken_down"));
    sign_out(&b, "the reviewer").await;
    sign_in(&b, &t, "s2-teacher", PASSWORD).await;
    b.goto(&t.url("/library?q=勾股定理")).await;
    let results = b.try_find("[data-testid=library-results]").await;
    let text = match results {
        Some(_) => b.text("[data-testid=library-results]").await,
        None => String::new(),
    };
    assert!(!text.contains(TITLE), "taken down, so not found: {text}");
    b.goto(&page).await;
    no_console_errors(&b, "the taken-down resource", &[404]).await;
    assert!(b.try_find("[data-testid=preview-video]").await.is_none(), "the video is no longer shown");
    sign_out(&b, "the other school's teacher").await;
    let _ = std::fs::remove_dir_all(&dir);
}
