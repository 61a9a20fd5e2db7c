//! The `hanlin` binary as an operator meets it: configuration errors, database trouble at start.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn hanlin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hanlin"));
    c.env_remove("HANLIN_DATABASE_URL").env("HANLIN_LOG", "info");
    c
}

fn temp_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("hanlin-cli-{}", kernel::secret::random_token(6)));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_bad_configuration_value_names_the_key_and_file() {
    let dir = temp_dir();
    let file = dir.join("hanlin.toml");
    std::fs::write(&file, "[session]\nidle_minutes = \"soon\"\n").unwrap();
    let out = hanlin().args(["--config", file.to_str().unwrap(), "migrate"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("session.idle_minutes") && err.contains("hanlin.toml"), "{err}");
    let out = hanlin().args(["migrate", "--data-dir", dir.to_str().unwrap()]).env("HANLIN_LISTEN", "nowhere").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HANLIN_LISTEN"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unknown_database_scheme_is_refused() {
    let out = hanlin().arg("migrate").env("HANLIN_DATABASE_URL", "mysql://localhost/hanlin").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL scheme") && err.contains("mysql"), "{err}");
}

#[test]
fn an_unreachable_database_leaves_the_server_up_but_not_ready() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = temp_dir();
    let mut child = hanlin()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", dir.to_str().unwrap()])
        .env("HANLIN_DATABASE_URL", "postgres://nobody@127.0.0.1:1/hanlin")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (health, ready) = rt.block_on(async {
        let c = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(r) = c.get(format!("http://127.0.0.1:{port}/healthz")).send().await {
                let ready = c.get(format!("http://127.0.0.1:{port}/readyz")).send().await.unwrap().status();
                // Give the first failed attempt time to be logged.
                tokio::time::sleep(Duration::from_millis(3500)).await;
                break (r.status(), ready);
            }
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(health, 200);
    assert_eq!(ready, 503);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("retrying"), "{log}");
}

#[test]
fn create_superuser_then_login_works() {
    let dir = temp_dir();
    let d = dir.to_str().unwrap();
    let out = hanlin()
        .args([
            "admin",
            "create-superuser",
            "--data-dir",
            d,
            "--login",
            "root",
            "--name",
            "管理员",
            "--root-name",
            "某某市",
            "--root-code",
            "429900",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let password = stdout.lines().find_map(|l| l.strip_prefix("password: ")).expect("a generated password").to_string();
    let again = hanlin().args(["admin", "create-superuser", "--data-dir", d, "--login", "root", "--name", "x"]).output().unwrap();
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("already taken"));
    let reset = hanlin().args(["admin", "reset-password", "--data-dir", d, "--login", "root"]).output().unwrap();
    assert!(reset.status.success());
    let new_password =
        String::from_utf8_lossy(&reset.stdout).lines().find_map(|l| l.strip_prefix("password: ")).unwrap().to_string();
    assert_ne!(password, new_password);
    let missing = hanlin().args(["admin", "reset-password", "--data-dir", d, "--login", "nobody"]).output().unwrap();
    assert!(!missing.status.success());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_reindex_rebuilds_the_search_index_from_the_database() {
    // The demo's library in a data directory, then its index thrown away and rebuilt.
    let dir = temp_dir();
    let config = kernel::config::Config { data_dir: dir.clone(), ..Default::default() };
    let db = kernel::db::Db::open(&config.database_url()).await.unwrap();
    db.migrate().await.unwrap();
    let app = server::app(config, db.clone()).unwrap();
    server::demo::prepare(&app, &dir).await.unwrap();
    let (published,): (i64,) =
        db.fetch_one(kernel::db::sql("SELECT COUNT(*) FROM resources WHERE status = 'approved'")).await.unwrap();
    drop(app);
    db.close().await;
    std::fs::remove_dir_all(dir.join("index")).unwrap();
    let out = hanlin().args(["library", "reindex", "--data-dir", dir.to_str().unwrap()]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains(&format!("indexed {published} resources")), "{said}");
    let _ = std::fs::remove_dir_all(dir);
}
