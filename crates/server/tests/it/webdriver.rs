//! A small W3C WebDriver client: starts chromedriver on a free port, drives one headless Chromium
//! session over HTTP, and tears both down on drop.
//!
//! Without chromedriver or Chromium, [`Browser::start`] says the browser tests were skipped and
//! returns None (CI installs both, so they run there).

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an explicit wait (for an element, a page load) polls before it fails.
pub const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);
/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error answer: its `error` code (e.g. "no such element") and message.
#[derive(Debug)]
pub struct WdError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// One entry of the browser's console log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub level: String,
    pub source: String,
    pub message: String,
}

/// A running chromedriver with one Chromium session.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session_url: String,
    port: u16,
    session_id: String,
    driver: Child,
    profile: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

fn chromium_binary() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    ["chromium", "chromium-browser"].into_iter().find_map(on_path)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local address").port()
}

fn temp_profile() -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("hanlin-chromium-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary browser profile");
    dir
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a `width`×`height` window; None (after
    /// saying so) when either is not installed.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        let (Some(driver_bin), Some(chromium)) = (on_path("chromedriver"), chromium_binary()) else {
            eprintln!("SKIPPED: browser test (install chromium and chromium-driver)");
            return None;
        };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("HTTP client");
        // The free port may be taken again before chromedriver binds it: then try another.
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut driver = Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver");
            if let Err(e) = wait_ready(&http, port, &mut driver).await {
                last_error = e;
                let _ = driver.kill();
                let _ = driver.wait();
                continue;
            }
            let profile = temp_profile();
            let capabilities = json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--disable-dev-shm-usage",
                        format!("--user-data-dir={}", profile.display()),
                        format!("--window-size={width},{height}"),
                    ],
                },
                "goog:loggingPrefs": { "browser": "ALL" },
            });
            let created = http
                .post(format!("http://127.0.0.1:{port}/session"))
                .json(&json!({ "capabilities": { "alwaysMatch": capabilities } }))
                .send()
                .await;
            let body: Value = match created {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(e) => Value::String(e.to_string()),
            };
            let Some(session_id) = body["value"]["sessionId"].as_str().map(str::to_string) else {
                let _ = driver.kill();
                let _ = driver.wait();
                let _ = std::fs::remove_dir_all(&profile);
                panic!("chromedriver could not start Chromium: {body}");
            };
            let session_url = format!("http://127.0.0.1:{port}/session/{session_id}");
            return Some(Browser { http, session_url, port, session_id, driver, profile });
        }
        panic!("chromedriver did not become ready: {last_error}");
    }

    /// Sends one command; the answer's `value`, or the WebDriver error.
    pub async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        let url = format!("{}{path}", self.session_url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response =
            request.send().await.map_err(|e| WdError { error: "transport".into(), message: format!("{method} {url}: {e}") })?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| WdError { error: "transport".into(), message: format!("{method} {url}: not JSON: {e}") })?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        Err(WdError {
            error: value["error"].as_str().unwrap_or("unknown error").to_string(),
            message: value["message"].as_str().unwrap_or("").lines().next().unwrap_or("").to_string(),
        })
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await.unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Opens `url` and waits for it to load (the default page load strategy).
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn current_url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or_default().to_string()
    }

    pub async fn title(&self) -> String {
        self.get("/title").await.as_str().unwrap_or_default().to_string()
    }

    /// The element matching `css` now, if there is one.
    pub async fn try_find(&self, css: &str) -> Option<String> {
        match self.command(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await {
            Ok(v) => Some(v[ELEMENT_KEY].as_str().expect("an element reference").to_string()),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("find {css}: {e}"),
        }
    }

    /// Waits (up to [`WAIT`]) for an element matching `css`; its element id.
    pub async fn find(&self, css: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            if start.elapsed() > WAIT {
                panic!("no element {css} within {WAIT:?} on {} ({})", self.current_url().await, self.title().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Clicks something that loads a new page (a submit button, a link) and waits until the new
    /// page has replaced the old one and finished loading.
    pub async fn click_and_wait(&self, css: &str) {
        let id = self.find(css).await;
        self.execute("window.__hanlinOldPage = true;", json!([])).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
        self.wait_for_new_page().await;
    }

    /// Waits until the page marked by [`Browser::click_and_wait`] has gone and the new one loaded.
    async fn wait_for_new_page(&self) {
        let start = Instant::now();
        loop {
            let done = self
                .command(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(json!({
                        "script": "return window.__hanlinOldPage !== true && document.readyState === 'complete';",
                        "args": [],
                    })),
                )
                .await;
            // Between the two pages the script may find no document to run in: just try again.
            if let Ok(Value::Bool(true)) = done {
                return;
            }
            if start.elapsed() > WAIT {
                panic!("no new page within {WAIT:?}, still at {}", self.current_url().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Types `text` into the field matching `css` after clearing it.
    pub async fn send_keys(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    /// The rendered text of the element matching `css` (empty when it is not displayed).
    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/text")).await.as_str().unwrap_or_default().to_string()
    }

    /// Whether the element matching `css` is displayed.
    pub async fn displayed(&self, css: &str) -> bool {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/displayed")).await.as_bool().unwrap_or(false)
    }

    /// An attribute of the element matching `css`.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/attribute/{name}")).await.as_str().map(str::to_string)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; what it returns.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    pub async fn set_window_rect(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height })).await;
    }

    /// Sizes the window so that the page's viewport (scroll bar included, as CSS media queries
    /// see it) is `width`×`height`: the window's own frame, if any, is added on.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.set_window_rect(width, height).await;
        let inner = self.execute("return [window.innerWidth, window.innerHeight];", json!([])).await;
        let (Some(w), Some(h)) = (inner[0].as_i64(), inner[1].as_i64()) else { panic!("no viewport size: {inner}") };
        let (extra_w, extra_h) = (i64::from(width) - w, i64::from(height) - h);
        if extra_w != 0 || extra_h != 0 {
            let grow = |size: u32, extra: i64| u32::try_from(i64::from(size) + extra).unwrap_or(size);
            self.set_window_rect(grow(width, extra_w), grow(height, extra_h)).await;
        }
    }

    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await;
    }

    /// Chooses `file` (an absolute path) in the `<input type=file>` matching `css`: WebDriver
    /// types the path into it, without clearing first.
    pub async fn choose_file(&self, css: &str, file: &Path) {
        assert!(file.is_absolute(), "WebDriver needs an absolute path, not {}", file.display());
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/value"), json!({ "text": file.to_string_lossy() })).await;
    }

    /// The current site's cookies as a `Cookie` request header (`name=value; …`), HttpOnly ones
    /// included: lets a plain HTTP client fetch what the signed-in browser would download.
    pub async fn cookie_header(&self) -> String {
        let cookies = self.get("/cookie").await;
        cookies
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|c| Some(format!("{}={}", c["name"].as_str()?, c["value"].as_str()?)))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    /// Deletes every cookie of the current site: signs out and forgets the language.
    pub async fn delete_cookies(&self) {
        self.command(reqwest::Method::DELETE, "/cookie", None).await.unwrap_or_else(|e| panic!("DELETE /cookie: {e}"));
    }

    /// A PNG of the viewport, written to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let encoded = self.get("/screenshot").await;
        let png = base64_decode(encoded.as_str().expect("base64 screenshot")).expect("a valid base64 screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// The console entries since the last call (chromedriver's log endpoint drains them).
    pub async fn console(&self) -> Vec<LogEntry> {
        let entries = self.post("/se/log", json!({ "type": "browser" })).await;
        entries
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|e| LogEntry {
                        level: e["level"].as_str().unwrap_or_default().to_string(),
                        source: e["source"].as_str().unwrap_or_default().to_string(),
                        message: e["message"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The console errors (level SEVERE) since the last look at the console.
    pub async fn console_errors(&self) -> Vec<LogEntry> {
        self.console().await.into_iter().filter(|e| e.level == "SEVERE").collect()
    }
}

async fn wait_ready(http: &reqwest::Client, port: u16, driver: &mut Child) -> Result<(), String> {
    let start = Instant::now();
    let url = format!("http://127.0.0.1:{port}/status");
    loop {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(format!("chromedriver exited: {status}"));
        }
        if let Ok(r) = http.get(&url).timeout(Duration::from_secs(2)).send().await
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"].as_bool() == Some(true)
        {
            return Ok(());
        }
        if start.elapsed() > WAIT {
            return Err(format!("no ready answer from {url} within {WAIT:?}"));
        }
        tokio::time::sleep(POLL).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver close Chromium; killing chromedriver alone would
        // leave Chromium running. Drop cannot await, so this one request is written by hand.
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session_id, self.port
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                // chromedriver keeps the connection open: read just the one answer.
                let mut answer = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    answer.extend_from_slice(&buf[..n]);
                    if http_answer_complete(&answer) {
                        break;
                    }
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Whether `answer` holds a whole HTTP answer: its head and as much body as Content-Length says.
fn http_answer_complete(answer: &[u8]) -> bool {
    let Some(head_end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&answer[..head_end]).to_ascii_lowercase();
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(0);
    answer.len() >= head_end + 4 + length
}

/// Standard base64 (with or without padding), enough for screenshots.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let digits = digits.strip_suffix(b"==").or_else(|| digits.strip_suffix(b"=")).unwrap_or(&digits);
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut bits = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            bits |= value(c)? << (18 - 6 * i);
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGFubGlu").unwrap(), b"hanlin");
    assert_eq!(base64_decode("aGFubGk=").unwrap(), b"hanli");
    assert_eq!(base64_decode("aGFubA==").unwrap(), b"hanl");
    assert_eq!(base64_decode("aGFu\nbA").unwrap(), b"hanl");
    assert!(base64_decode("a").is_none());
    assert!(base64_decode("a*==").is_none());
}
