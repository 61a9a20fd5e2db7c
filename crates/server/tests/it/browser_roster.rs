//! The rostering scenario in real Chromium: a school admin downloads the students template,
//! uploads a GBK CSV with mistakes and reads them on the job page, uploads the fixed file; the
//! head teacher prints activation slips for the class; one of the new students activates the
//! account with the slip; the district admin sees the school's activation rate go up.
//!
//! SQLite only, like the other browser tests; without chromium and chromedriver it says it was
//! skipped and passes.

use crate::browser::{DESKTOP, PHONE, no_console_errors, sign_in};
use crate::fixture::{PASSWORD, region};
use crate::harness::{Backend, TestApp};
use crate::webdriver::Browser;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long an import may take before the test gives up.
const IMPORT_WAIT: Duration = Duration::from_secs(30);
/// Meets the default password policy (ASVS profile, at least 12 characters).
const NEW_PASSWORD: &str = "liu-yi-new-password-2026";

const HEADER: &str = "学校标识码,年级,班级,姓名,性别,学籍号,家长姓名,家长关系,家长手机号\r\n";

/// What a person would see is wrong with the pages (untranslated message keys, text running out
/// of its box, a page scrolling sideways on a phone). Collected as the scenario goes on and
/// reported together at the end, so that one layout slip does not hide the rest of the walk.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn note(&mut self, finding: String) {
        eprintln!("FINDING: {finding}");
        self.0.push(finding);
    }

    /// Console errors fail at once; then looks for message keys shown instead of their text.
    async fn page(&mut self, b: &Browser, step: &str) {
        no_console_errors(b, step, &[]).await;
        let keys = b
            .execute(
                "const words = [];\
                 const add = (t) => { for (const w of (t || '').split(/[\\s,，。:：;；()（）“”\"'·›]+/)) if (w) words.push(w); };\
                 add(document.title); add(document.body.innerText);\
                 for (const o of document.querySelectorAll('option')) add(o.textContent);\
                 for (const el of document.querySelectorAll('*')) for (const a of el.attributes)\
                   if (['aria-label', 'placeholder', 'title', 'alt', 'data-confirm'].includes(a.name) || a.name.startsWith('data-label')) add(a.value);\
                 return [...new Set(words.filter((w) => /^[a-z][a-z0-9]*(-[a-z0-9_]+)+$/.test(w)))];",
                json!([]),
            )
            .await;
        let keys: Vec<String> = serde_json::from_value(keys).unwrap_or_default();
        if !keys.is_empty() {
            self.note(format!("{step} ({}): untranslated message keys {keys:?}", b.current_url().await));
        }
    }

    /// Notes a page that scrolls sideways in a `width` px window.
    async fn fits(&mut self, b: &Browser, width: u32, step: &str) {
        let scroll_width = b.execute("return document.documentElement.scrollWidth;", json!([])).await;
        let scroll_width = scroll_width.as_u64().expect("a width");
        if scroll_width > u64::from(width) + 1 {
            self.note(format!("{step} scrolls sideways: {scroll_width} px wide in a {width} px window"));
        }
    }

    /// Notes slip lines whose text runs past the edge of the slip (cut off when printed).
    async fn slips_fit(&mut self, b: &Browser, step: &str) {
        let over = b
            .execute(
                "return Array.from(document.querySelectorAll('[data-testid=slip]')).flatMap((slip) => {\
                   const edge = slip.getBoundingClientRect().right;\
                   return Array.from(slip.querySelectorAll('dd')).filter((dd) => {\
                     const text = document.createRange(); text.selectNodeContents(dd);\
                     return text.getBoundingClientRect().right > edge + 1;\
                   }).map((dd) => `${dd.previousElementSibling.textContent.trim()}: ${dd.textContent.trim()}`);\
                 });",
                json!([]),
            )
            .await;
        let over: Vec<String> = serde_json::from_value(over).unwrap_or_default();
        if !over.is_empty() {
            self.note(format!("{step}: text runs out of its slip: {over:?}"));
        }
    }
}

/// Runs `script` in the page without failing while a page is being replaced (the job page
/// reloads itself): None then.
async fn try_execute(b: &Browser, script: &str) -> Option<Value> {
    b.command(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [] }))).await.ok()
}

/// Waits on the job page until the job has finished and the page shows the outcome; its status.
/// Also says whether the live progress box was seen on the way.
async fn wait_for_job(b: &Browser, step: &str) -> (String, bool) {
    let start = Instant::now();
    let mut saw_progress = false;
    loop {
        let state = try_execute(
            b,
            "if (document.readyState !== 'complete') return null; \
             const s = document.querySelector('[data-testid=job-status]'); \
             return s ? [s.dataset.status, document.querySelector('[data-testid=progress]') !== null] : null;",
        )
        .await;
        if let Some(Value::Array(state)) = state {
            saw_progress |= state[1].as_bool() == Some(true);
            let status = state[0].as_str().unwrap_or_default().to_string();
            if matches!(status.as_str(), "done" | "failed" | "cancelled") {
                return (status, saw_progress);
            }
        }
        if start.elapsed() > IMPORT_WAIT {
            panic!("{step}: the import did not finish within {IMPORT_WAIT:?}, at {}", b.current_url().await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fetches `url` as the signed-in browser would download it (with its cookies); the status, the
/// content type and the bytes.
async fn download(b: &Browser, url: &str) -> (u16, String, Vec<u8>) {
    let cookies = b.cookie_header().await;
    let r = reqwest::Client::new().get(url).header(reqwest::header::COOKIE, cookies).send().await.expect("download");
    let status = r.status().as_u16();
    let kind = r.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, kind, r.bytes().await.expect("download body").to_vec())
}

fn is_xlsx(kind: &str, bytes: &[u8]) -> bool {
    kind == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" && bytes.starts_with(b"PK\x03\x04")
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", kernel::secret::random_token(9).replace(['-', '_'], "x")));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `text` GBK-encoded, as Excel on a Chinese Windows saves CSV.
fn gbk_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "the test file is all GBK");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the CSV");
    path
}

/// On /roster: chooses `file` for a students import with no options and sends it; waits for the
/// job page.
async fn upload_students(b: &Browser, file: &Path) {
    b.find("[data-testid=import-form]").await;
    let kind = b.execute("return document.getElementById('kind').value;", json!([])).await;
    assert_eq!(kind, json!("students"), "students are the default kind");
    for option in ["dry_run", "valid_rows_only", "mark_missing_left"] {
        let checked = b.execute(&format!("return document.querySelector('input[name={option}]').checked;"), json!([])).await;
        assert_eq!(checked, json!(false), "{option} is off unless asked");
    }
    b.choose_file("#file", file).await;
    b.click_and_wait("[data-testid=import-submit]").await;
    let url = b.current_url().await;
    assert!(url.contains("/roster/imports/"), "the upload lands on the job page, not {url}");
}

/// The rows of the problems table: (row, column, value, reason).
async fn problem_rows(b: &Browser) -> Vec<[String; 4]> {
    let rows = b
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=problems] tbody tr'))\
               .map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()));",
            json!([]),
        )
        .await;
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let cell = |i: usize| r[i].as_str().unwrap_or_default().to_string();
            [cell(0), cell(1), cell(2), cell(3)]
        })
        .collect()
}

/// What each slip on the slips page says: its label → value pairs, and its code.
async fn slips(b: &Browser) -> Vec<(Vec<(String, String)>, String)> {
    let all = b
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=slip]')).map(s => [\
               Array.from(s.querySelectorAll('dt')).map(dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]),\
               s.querySelector('[data-testid=activation-code]').textContent.trim()]);",
            json!([]),
        )
        .await;
    serde_json::from_value(all).expect("slips")
}

fn field<'a>(slip: &'a [(String, String)], label: &str) -> Option<&'a str> {
    slip.iter().find(|(l, _)| l == label).map(|(_, v)| v.as_str())
}

/// The activation rate of `school` in the district's statistics, as shown ("12.5%", or "—").
async fn activation_of(b: &Browser, school: i64) -> String {
    b.find("[data-testid=stats-table]").await;
    b.text(&format!("[data-testid=activation-{school}]")).await
}

/// A PNG of the whole page (up to `max_height` px tall) at `width`, written to `path`; the window
/// is `height` tall again afterwards.
async fn page_screenshot(b: &Browser, path: &Path, (width, height): (u32, u32), max_height: u32) {
    let tall = b.execute("return document.documentElement.scrollHeight;", json!([])).await;
    let tall = tall.as_u64().and_then(|h| u32::try_from(h).ok()).unwrap_or(height).clamp(height, max_height);
    b.set_viewport(width, tall).await;
    b.screenshot(path).await;
    b.set_viewport(width, height).await;
}

fn percent(shown: &str) -> f64 {
    shown.trim_end_matches('%').parse().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_roster_import_slips_activation_and_stats() {
    let (b, t) = tokio::join!(Browser::start(DESKTOP.0, DESKTOP.1), TestApp::start(Backend::Sqlite));
    let Some(b) = b else { return };
    let t = t.expect("SQLite test app");
    let r = region(&t).await;
    let screenshots = std::env::var("HANLIN_TEST_SCREENSHOTS").is_ok_and(|v| v == "1");
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let files = TempDir::new("hanlin-roster-upload");
    let mut findings = Findings::default();

    // 1. The school admin opens the roster hub and downloads the students template.
    sign_in(&b, &t, "s1-admin", PASSWORD).await;
    b.goto(&t.url("/roster")).await;
    b.find("[data-testid=import-form]").await;
    findings.page(&b, "the roster hub").await;
    let href = b.attribute("[data-testid=template-students]", "href").await.expect("a template link");
    assert!(href.ends_with("/roster/templates/students.xlsx"), "{href}");
    let (status, kind, bytes) = download(&b, &t.url("/roster/templates/students.xlsx")).await;
    assert_eq!(status, 200, "the students template");
    assert!(is_xlsx(&kind, &bytes), "the template is an XLSX file: {kind}, {} bytes", bytes.len());
    let header = sheet::Reader::from_bytes(bytes, None, &sheet::Limits::default()).unwrap().next().unwrap().unwrap();
    assert_eq!(header.cells[0].text, "学校标识码", "Chinese column headers");

    // 2. A GBK file with a bad phone, an unknown class and a repeated 学籍号: nothing is written,
    // the page lists each problem by row and column.
    let bad = format!(
        "{HEADER}2142990101,三年级,2班,刘一,男,G7001,刘大,父亲,13800000001\r\n\
         2142990101,三年级,2班,陈二,女,G7002,陈大,母亲,1380000\r\n\
         2142990101,三年级,9班,孙三,男,G7003,孙大,父亲,13800000003\r\n\
         2142990101,三年级,2班,吴五,女,G7001,,,\r\n"
    );
    let bad_file = gbk_file(&files.0, "学生名单.csv", &bad);
    upload_students(&b, &bad_file).await;
    let (status, _) = wait_for_job(&b, "the file with mistakes").await;
    assert_eq!(status, "failed", "a file with mistakes fails as a whole");
    assert_eq!(b.text("[data-testid=job-status]").await, "未导入");
    assert!(b.text("h1").await.contains("学生名单.csv"), "the job page names the uploaded file: {}", b.text("h1").await);
    let failure = b.text("[data-testid=failure]").await;
    assert!(failure.contains('3'), "the failure says how many rows are wrong: {failure:?}");
    let problems = problem_rows(&b).await;
    let find = |row: &str, column: &str| {
        problems
            .iter()
            .find(|p| p[0] == row && p[1] == column)
            .unwrap_or_else(|| panic!("no problem in row {row}, column {column}: {problems:?}"))
            .clone()
    };
    let phone = find("3", "家长手机号");
    assert_eq!(phone[2], "1380000");
    assert!(phone[3].contains("11"), "the phone needs 11 digits: {phone:?}");
    let class = find("4", "班级");
    assert!(class[2].contains("9班") && class[3].contains("班级"), "{class:?}");
    let repeated = find("5", "学籍号");
    assert!(repeated[3].contains("第 2 行"), "the repeated 学籍号 points at its first row: {repeated:?}");
    let headings = b
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=problems] th')).map(th => th.textContent);",
            json!([]),
        )
        .await;
    assert_eq!(headings, json!(["行号", "列", "内容", "原因"]), "the problems table speaks Chinese");
    findings.page(&b, "the failed job page").await;
    if screenshots {
        page_screenshot(&b, &docs.join("screenshot-import.png"), DESKTOP, 1400).await;
    }
    let report = b.attribute("[data-testid=report]", "href").await.expect("a report link");
    let (status, kind, bytes) = download(&b, &t.url(&report)).await;
    assert_eq!(status, 200, "the error report");
    assert!(is_xlsx(&kind, &bytes), "the error report is an XLSX file: {kind}");
    let rows = sheet::Reader::from_bytes(bytes, None, &sheet::Limits::default()).unwrap().count();
    assert_eq!(rows, 4, "the header and the three failing rows");

    // The job page and the hub at phone width: nothing scrolls sideways (tables scroll inside).
    b.set_viewport(PHONE.0, PHONE.1).await;
    findings.fits(&b, PHONE.0, "the failed job page on a phone").await;
    b.goto(&t.url("/roster")).await;
    b.find("[data-testid=import-form]").await;
    findings.fits(&b, PHONE.0, "the roster hub on a phone").await;
    no_console_errors(&b, "the roster hub on a phone", &[]).await;
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;

    // 3. The fixed file: three new students of 三年级2班 with their parents.
    let good = format!(
        "{HEADER}2142990101,三年级,2班,刘一,男,G7001,刘大,父亲,13800000001\r\n\
         2142990101,三年级,2班,陈二,女,G7002,陈大,母亲,13800000002\r\n\
         2142990101,三年级,2班,孙三,男,G7003,孙大,父亲,13800000003\r\n"
    );
    let good_file = gbk_file(&files.0, "学生名单-改.csv", &good);
    b.refresh().await;
    upload_students(&b, &good_file).await;
    let (status, saw_progress) = wait_for_job(&b, "the fixed file").await;
    assert_eq!(status, "done", "the fixed file imports: {}", b.text("main").await);
    eprintln!("the live progress box was {}shown", if saw_progress { "" } else { "not " });
    assert_eq!(b.text("[data-testid=job-status]").await, "已完成");
    assert_eq!(b.text("[data-testid=count-created]").await, "3", "{}", b.text("[data-testid=counts]").await);
    assert!(b.try_find("[data-testid=problems]").await.is_none(), "no problems left");
    assert!(b.try_find("[data-testid=report]").await.is_none(), "no error report");
    findings.page(&b, "the finished job page").await;
    b.goto(&t.url("/roster")).await;
    let recent = b.text("main").await;
    assert!(recent.contains("学生名单.csv") && recent.contains("学生名单-改.csv"), "the hub lists both uploads");

    // 4. The head teacher of 三年级2班 prints slips for the students of the class.
    b.delete_cookies().await;
    sign_in(&b, &t, "head", PASSWORD).await;
    b.goto(&t.url(&format!("/classes/{}", r.a2))).await;
    let students = b.text("[data-testid=students]").await;
    for name in ["刘一", "陈二", "孙三", "G7001"] {
        assert!(students.contains(name), "the class lists {name}: {students}");
    }
    findings.page(&b, "the class page").await;
    b.click("#activation summary").await;
    b.click("#act-audience option[value=students]").await;
    b.click("#act-format option[value=page]").await;
    b.execute("window.confirm = () => true;", json!([])).await;
    b.click_and_wait("[data-testid=issue-codes]").await;
    b.find("[data-testid=slips-issued]").await;
    findings.page(&b, "the slips page").await;
    findings.slips_fit(&b, "the slips page").await;
    let all = slips(&b).await;
    assert_eq!(all.len(), 4, "赵小红 and the three new students: {all:?}");
    let (liu, code) =
        all.iter().find(|(f, _)| field(f, "姓名") == Some("刘一")).unwrap_or_else(|| panic!("no slip for 刘一: {all:?}")).clone();
    let account = field(&liu, "登录账号").unwrap_or_else(|| panic!("no account on the slip: {liu:?}")).to_string();
    assert_eq!(account, "G7001", "a student signs in with the 学籍号");
    assert_eq!(field(&liu, "学校"), Some("东区一小"), "{liu:?}");
    if screenshots {
        page_screenshot(&b, &docs.join("screenshot-slips.png"), DESKTOP, 1400).await;
    }
    b.set_viewport(PHONE.0, PHONE.1).await;
    findings.fits(&b, PHONE.0, "the slips page on a phone").await;
    findings.slips_fit(&b, "the slips page on a phone").await;
    b.set_viewport(DESKTOP.0, DESKTOP.1).await;

    // The district admin's figures just before the activation.
    b.delete_cookies().await;
    sign_in(&b, &t, "d1-admin", PASSWORD).await;
    b.goto(&t.url("/roster")).await;
    b.click_and_wait("[data-testid=stats-link]").await;
    let before = activation_of(&b, r.s1).await;
    findings.page(&b, "the district's statistics").await;

    // 5. 刘一 activates the account from the login page.
    b.delete_cookies().await;
    b.goto(&t.url("/login")).await;
    b.click_and_wait("[data-testid=activate-link]").await;
    assert!(b.current_url().await.ends_with("/activate"));
    findings.page(&b, "the activation page").await;
    b.send_keys("#account", &account).await;
    b.send_keys("#activation_code", &code).await;
    b.click_and_wait("[data-testid=activate-submit]").await;
    if b.try_find("#new_password").await.is_none() {
        let error = b.try_find("[data-testid=activate-error]").await;
        panic!(
            "the code was refused ({}): {:?}",
            b.current_url().await,
            if error.is_some() { b.text("[data-testid=activate-error]").await } else { b.title().await }
        );
    }
    assert!(b.text("main").await.contains("刘一"), "the password step greets the student");
    findings.page(&b, "the new password page").await;
    b.send_keys("#new_password", NEW_PASSWORD).await;
    b.send_keys("#confirm_password", NEW_PASSWORD).await;
    b.click_and_wait("[data-testid=activate-password-submit]").await;
    if b.try_find("[data-testid=home-title]").await.is_none() {
        panic!("刘一 did not land on the home page but {}: {}", b.current_url().await, b.text("main").await);
    }
    assert!(b.text("[data-testid=home-title]").await.contains("刘一"));
    assert!(b.text("[data-testid=home-role]").await.starts_with("学生"), "{}", b.text("[data-testid=home-role]").await);
    findings.page(&b, "the activated student's home page").await;

    // 6. The district admin sees the school's activation rate go up.
    b.delete_cookies().await;
    sign_in(&b, &t, "d1-admin", PASSWORD).await;
    b.goto(&t.url(&format!("/roster/stats?unit={}", r.d1))).await;
    let after = activation_of(&b, r.s1).await;
    eprintln!("东区一小's activation rate: {before} before, {after} after the activation");
    assert!(after.ends_with('%') && percent(&after) > 0.0, "东区一小's activation rate after: {after}");
    assert!(percent(&after) > percent(&before), "the rate went from {before} to {after}");
    let row = b.text(&format!("[data-testid=stats-table] tr[data-unit=\"{}\"]", r.s1)).await;
    assert!(row.contains("东区一小"), "{row}");
    findings.page(&b, "the district's statistics after the activation").await;

    assert!(findings.0.is_empty(), "the scenario went through, but:\n{}", findings.0.join("\n"));
}
