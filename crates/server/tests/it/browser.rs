//! Browser tests in real Chromium, driven through chromedriver: signing in as each demo role,
//! switching language, failed logins and the lockout, a refusal page, and the phone layout.
//!
//! SQLite only: one database is enough for the pages (the API tests cover both). Without
//! chromium and chromedriver each test says it was skipped and passes.

use crate::fixture::{PASSWORD, region};
use crate::harness::{Backend, TestApp};
use crate::webdriver::Browser;
use serde_json::json;
use std::path::PathBuf;

/// A desktop window; the phone test narrows it.
pub(crate) const DESKTOP: (u32, u32) = (1280, 800);
pub(crate) const PHONE: (u32, u32) = (360, 740);

/// Starts the browser and the server side by side; None (the test skipped) without a browser.
async fn start() -> Option<(Browser, TestApp)> {
    let (browser, app) = tokio::join!(Browser::start(DESKTOP.0, DESKTOP.1), TestApp::start(Backend::Sqlite));
    Some((browser?, app.expect("SQLite test app")))
}

/// Fails on any console error since the last look, except the browser's own note that the page
/// itself came with one of the `expected` HTTP statuses (an error page, a refused login).
pub(crate) async fn no_console_errors(b: &Browser, step: &str, expected: &[u16]) {
    let unexpected: Vec<String> = b
        .console_errors()
        .await
        .into_iter()
        .filter(|e| {
            let expected_status = e.source == "network"
                && expected
                    .iter()
                    .any(|s| e.message.contains(&format!("Failed to load resource: the server responded with a status of {s} ")));
            !expected_status
        })
        .map(|e| format!("[{}] {}", e.source, e.message))
        .collect();
    assert!(unexpected.is_empty(), "console errors at {step}:\n{}", unexpected.join("\n"));
}

async fn html_lang(b: &Browser) -> String {
    b.execute("return document.documentElement.lang;", json!([])).await.as_str().unwrap_or_default().to_string()
}

async fn page_html(b: &Browser) -> String {
    b.execute("return document.documentElement.outerHTML;", json!([])).await.as_str().unwrap_or_default().to_string()
}

/// Fills in and sends the login form (the browser must be on the login page).
async fn submit_login(b: &Browser, login: &str, password: &str) {
    b.send_keys("#login", login).await;
    b.send_keys("#password", password).await;
    b.click_and_wait("[data-testid=login-submit]").await;
}

/// Signs in through the login page and waits for the home page.
pub(crate) async fn sign_in(b: &Browser, t: &TestApp, login: &str, password: &str) {
    b.goto(&t.url("/login")).await;
    b.find("[data-testid=login-submit]").await;
    no_console_errors(b, &format!("the login page (for {login})"), &[]).await;
    submit_login(b, login, password).await;
    if b.try_find("[data-testid=home-title]").await.is_none() {
        panic!("{login} did not reach the home page but {}: {}", b.current_url().await, b.title().await);
    }
    no_console_errors(b, &format!("the home page of {login}"), &[]).await;
}

pub(crate) async fn sign_out(b: &Browser, who: &str) {
    b.click_and_wait("[data-testid=logout]").await;
    b.find("[data-testid=login-submit]").await;
    assert!(b.current_url().await.ends_with("/login"), "{who} signed out onto {}", b.current_url().await);
    no_console_errors(b, &format!("signing out {who}"), &[]).await;
}

/// Fails when the page is wider than `width` CSS pixels, that is, scrolls sideways.
pub(crate) async fn fits(b: &Browser, width: u32, step: &str) {
    let scroll_width = b.execute("return document.documentElement.scrollWidth;", json!([])).await;
    let scroll_width = scroll_width.as_u64().expect("a width");
    assert!(scroll_width <= u64::from(width), "{step} scrolls sideways: {scroll_width} px wide in a {width} px window");
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

/// Seeds the demo region into the test app; its accounts.
async fn demo(t: &TestApp) -> Vec<server::demo::DemoAccount> {
    let dir = TempDir::new("hanlin-demo");
    server::demo::prepare(&t.app, &dir.0).await.expect("seed the demo region")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_role_sees_its_home_page() {
    let Some((b, t)) = start().await else { return };
    let accounts = demo(&t).await;
    let first = |role: &str| accounts.iter().find(|a| a.role == role).unwrap_or_else(|| panic!("a demo {role}")).clone();
    let city = first("region_admin");
    let district = accounts
        .iter()
        .find(|a| a.role == "region_admin" && a.scope != city.scope)
        .expect("a district's region admin in the demo")
        .clone();
    // (account, role label on the home page, what only that role's home page shows)
    let cases = [
        (city, "教育局管理员", "home-counts"),
        (district, "教育局管理员", "home-counts"),
        (first("school_admin"), "学校管理员", "home-counts"),
        (first("auditor"), "审计员", "home-counts"),
        (first("teacher"), "教师", "home-classes"),
        (first("head_teacher"), "班主任", "home-classes"),
        (first("student"), "学生", "home-classes"),
        (first("parent"), "家长", "home-children"),
    ];
    for (account, label, content) in cases {
        let who = format!("{} ({}, {})", account.login, account.role, account.scope);
        sign_in(&b, &t, &account.login, &account.password).await;
        let title = b.text("[data-testid=home-title]").await;
        assert!(title.contains(&account.name), "{who}: the greeting {title:?} names them");
        let role = b.text("[data-testid=home-role]").await;
        // Class scopes read "school class": the home page names the school.
        let unit = account.scope.split_whitespace().next().expect("a scope");
        assert!(role.contains(label) && role.contains(unit), "{who}: the home page says {role:?}");
        assert!(b.try_find(&format!("[data-testid={content}]")).await.is_some(), "{who}: no {content} on the home page");
        for other in ["home-counts", "home-classes", "home-children"].into_iter().filter(|c| *c != content) {
            assert!(b.try_find(&format!("[data-testid={other}]")).await.is_none(), "{who}: {other} on the home page");
        }
        sign_out(&b, &who).await;
        b.delete_cookies().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_switch() {
    let Some((b, t)) = start().await else { return };
    region(&t).await;
    b.goto(&t.url("/login")).await;
    assert_eq!(html_lang(&b).await, "zh-CN", "pages speak Chinese first");
    assert_eq!(b.text("[data-testid=login-submit]").await, "登录");
    no_console_errors(&b, "the Chinese login page", &[]).await;

    b.click_and_wait("[data-testid=lang-en]").await;
    assert_eq!(html_lang(&b).await, "en");
    assert_eq!(b.text("[data-testid=login-submit]").await, "Sign in");
    assert!(b.current_url().await.ends_with("/login"), "the switch comes back to the same page");
    no_console_errors(&b, "the English login page", &[]).await;

    submit_login(&b, "teacher", PASSWORD).await;
    assert_eq!(html_lang(&b).await, "en", "the choice outlives signing in");
    assert_eq!(b.text("[data-testid=home-title]").await, "Hello, 王老师");
    assert!(b.text("[data-testid=home-role]").await.starts_with("Teacher"));
    assert_eq!(b.text("[data-testid=logout]").await, "Sign out");
    no_console_errors(&b, "the English home page", &[]).await;

    b.click_and_wait("[data-testid=lang-zh]").await;
    assert_eq!(html_lang(&b).await, "zh-CN");
    assert_eq!(b.text("[data-testid=home-title]").await, "王老师，您好");
    assert!(b.text("[data-testid=home-role]").await.starts_with("教师"));
    assert_eq!(b.text("[data-testid=logout]").await, "退出");
    no_console_errors(&b, "the home page switched back to Chinese", &[]).await;

    sign_out(&b, "teacher").await;
    assert_eq!(html_lang(&b).await, "zh-CN", "Chinese still after signing out");
    assert_eq!(b.text("[data-testid=login-submit]").await, "登录");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_login_then_lockout() {
    let Some((b, t)) = start().await else { return };
    region(&t).await;
    b.goto(&t.url("/login")).await;
    assert!(b.try_find("[data-testid=login-error]").await.is_none());
    for attempt in 1..=5 {
        submit_login(&b, "teacher", "not-the-password").await;
        let error = b.text("[data-testid=login-error]").await;
        assert!(error.contains("账号或密码不正确"), "attempt {attempt}: {error:?}");
        assert_eq!(b.attribute("#login", "value").await.as_deref(), Some("teacher"), "the login stays filled in");
        assert!(b.try_find("[data-testid=home-title]").await.is_none());
        no_console_errors(&b, &format!("failed attempt {attempt}"), &[401]).await;
    }
    submit_login(&b, "teacher", PASSWORD).await;
    let error = b.text("[data-testid=login-error]").await;
    assert!(error.contains("分钟后再试"), "after five failures even the right password is refused: {error:?}");
    assert!(b.try_find("[data-testid=home-title]").await.is_none(), "locked out, not signed in");
    no_console_errors(&b, "the locked login", &[429]).await;

    // Only that account is locked: another one still signs in from the same browser.
    submit_login(&b, "student", PASSWORD).await;
    b.find("[data-testid=home-title]").await;
    no_console_errors(&b, "another account's home page", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn district_admin_refused_other_district() {
    let Some((b, t)) = start().await else { return };
    let r = region(&t).await;
    sign_in(&b, &t, "d1-admin", PASSWORD).await;

    b.goto(&t.url(&format!("/org/{}", r.s3))).await;
    b.find("[data-testid=error-page]").await;
    assert!(b.try_find("[data-testid=unit-name]").await.is_none());
    assert!(!page_html(&b).await.contains("西区一小"), "the refusal page does not name the other district's school");
    no_console_errors(&b, "the refusal page", &[403]).await;

    b.goto(&t.url(&format!("/org/{}", r.s1))).await;
    assert!(b.text("[data-testid=unit-name]").await.contains("东区一小"));
    assert!(b.try_find("[data-testid=error-page]").await.is_none());
    no_console_errors(&b, "the district's own school", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_width_layout() {
    let Some((b, t)) = start().await else { return };
    let accounts = demo(&t).await;
    let city = accounts.iter().find(|a| a.role == "region_admin").expect("the city's admin");
    let admin = accounts.iter().find(|a| a.role == "region_admin" && a.scope != city.scope).expect("a district admin");
    let screenshots = std::env::var("HANLIN_TEST_SCREENSHOTS").is_ok_and(|v| v == "1");
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs");

    b.goto(&t.url("/login")).await;
    b.set_viewport(PHONE.0, PHONE.1).await;
    let size = b.execute("return [window.innerWidth, window.innerHeight];", json!([])).await;
    assert_eq!(size, json!([PHONE.0, PHONE.1]), "the viewport is phone-sized");
    fits(&b, PHONE.0, "the phone login page").await;
    b.click_and_wait("[data-testid=lang-en]").await;
    fits(&b, PHONE.0, "the English phone login page").await;
    b.click_and_wait("[data-testid=lang-zh]").await;

    sign_in(&b, &t, &admin.login, &admin.password).await;
    fits(&b, PHONE.0, "the phone home page").await;
    assert!(b.displayed("[data-menu-toggle]").await, "the menu button shows on a phone");
    assert!(!b.displayed("#nav").await, "the navigation is folded away on a phone");
    if screenshots {
        b.screenshot(&docs.join("screenshot-phone.png")).await;
    }
    b.click("[data-menu-toggle]").await;
    assert!(b.displayed("#nav").await, "the menu button unfolds the navigation");
    assert_eq!(b.attribute("[data-menu-toggle]", "aria-expanded").await.as_deref(), Some("true"));
    fits(&b, PHONE.0, "the phone home page with the menu unfolded").await;
    b.click("[data-menu-toggle]").await;
    assert!(!b.displayed("#nav").await, "the menu button folds the navigation again");
    no_console_errors(&b, "the phone home page", &[]).await;
    // English words are longer: the top bar still fits.
    b.click_and_wait("[data-testid=lang-en]").await;
    fits(&b, PHONE.0, "the English phone home page").await;
    assert!(!b.displayed("#nav").await, "the navigation is folded away in English too");
    b.click_and_wait("[data-testid=lang-zh]").await;
    no_console_errors(&b, "the English phone home page", &[]).await;

    b.set_viewport(DESKTOP.0, DESKTOP.1).await;
    b.refresh().await;
    b.find("[data-testid=home-title]").await;
    assert!(b.displayed("#nav").await, "the navigation shows on a desktop without a click");
    assert!(!b.displayed("[data-menu-toggle]").await, "no menu button on a desktop");
    fits(&b, DESKTOP.0, "the desktop home page").await;
    if screenshots {
        b.screenshot(&docs.join("screenshot-home.png")).await;
    }
    no_console_errors(&b, "the desktop home page", &[]).await;
}
