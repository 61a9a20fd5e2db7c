//! Test harness: every test gets its own fresh database and a real server on 127.0.0.1:0.
//!
//! SQLite: a new file in a temporary directory. PostgreSQL: `CREATE DATABASE … TEMPLATE` from a
//! template migrated once per migration set, when HANLIN_TEST_DATABASE_URL names a server
//! (e.g. postgres://postgres@127.0.0.1:5432/postgres); without it the PostgreSQL variants say they
//! were skipped.

use kernel::App;
use kernel::config::Config;
use kernel::db::Db;
use sqlx::Connection;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin_url: String, name: String, dir: std::path::PathBuf },
}

pub struct TestApp {
    pub base: String,
    pub app: App,
    cleanup: Cleanup,
    server: tokio::task::JoinHandle<()>,
    /// PostgreSQL: the messaging listener that hears NOTIFY, as a served node runs it.
    listener: Option<tokio::task::JoinHandle<()>>,
}

pub fn pg_admin_url() -> Option<String> {
    std::env::var("HANLIN_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", kernel::secret::random_token(9).to_lowercase().replace(['-', '_'], "x"))
}

fn with_database(url: &str, name: &str) -> String {
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    format!("{base}/{name}")
}

/// The template's name changes whenever a migration does.
fn template_name() -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres")).expect("migrations folder")
    {
        let path = entry.expect("dir entry").path();
        all.push_str(&path.display().to_string());
        all.push_str(&std::fs::read_to_string(&path).expect("migration file"));
    }
    format!("hanlin_tpl_{}", &kernel::secret::token_hash(&all)[..12])
}

async fn fresh_pg_database(admin_url: &str) -> String {
    let template = template_name();
    let mut admin = sqlx::PgConnection::connect(admin_url).await.expect("connect to HANLIN_TEST_DATABASE_URL");
    // Several test processes start at once: one creates the template, the others wait for it.
    sqlx::query("SELECT pg_advisory_lock(72201)").execute(&mut admin).await.expect("advisory lock");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut admin)
        .await
        .expect("query pg_database");
    if exists.is_none() {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {template}")))
            .execute(&mut admin)
            .await
            .expect("create template");
        let db = Db::open(&with_database(admin_url, &template)).await.expect("open template");
        db.migrate().await.expect("migrate template");
        db.close().await;
    }
    let name = unique("hanlin_test");
    let created =
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE {template}"))).execute(&mut admin).await;
    sqlx::query("SELECT pg_advisory_unlock(72201)").execute(&mut admin).await.expect("advisory unlock");
    created.expect("create test database");
    name
}

impl TestApp {
    /// Starts a server on a fresh database; None (after saying so) for PostgreSQL without a URL.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let mut config = Config::default();
        // Every test has its own data directory (uploads, import files, the SQLite file).
        let dir = std::env::temp_dir().join(unique("hanlin-test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        config.data_dir = dir.clone();
        let (url, cleanup) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.join("hanlin.db").display()), Cleanup::Dir(dir)),
            Backend::Postgres => {
                let Some(admin_url) = pg_admin_url() else {
                    eprintln!("SKIPPED: PostgreSQL variant (set HANLIN_TEST_DATABASE_URL to run it)");
                    return None;
                };
                let name = fresh_pg_database(&admin_url).await;
                (with_database(&admin_url, &name), Cleanup::PgDatabase { admin_url, name, dir })
            }
        };
        config.database_url = Some(url.clone());
        configure(&mut config);
        let db = Db::open(&url).await.expect("open test database");
        db.migrate().await.expect("migrate test database");
        let app = server::app(config, db).expect("storage");
        app.set_ready(true);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let router = server::router(app.clone(), None);
        let notify_listener = messaging::hub::spawn_listener(app.clone());
        // Ready as `hanlin serve` is: on PostgreSQL, once the node hears the messaging signals.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while !messaging::hub::hub(&app).hears_signals(app.db.dialect()) {
            assert!(std::time::Instant::now() < deadline, "the messaging listener did not start");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let server = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.expect("serve");
        });
        Some(TestApp { base, app, cleanup, server, listener: notify_listener })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with its own cookie jar: one browser.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(l) = &self.listener {
            l.abort();
        }
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase { admin_url, name, dir } => {
                let _ = std::fs::remove_dir_all(dir);
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside async context rules: a short-lived runtime of its own drops the database.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                    rt.block_on(async move {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                                .execute(&mut admin)
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL, each on a fresh database.
macro_rules! db_test {
    ($name:ident, |$t:ident| $body:block) => {
        db_test!($name, |_c| {}, |$t| $body);
    };
    ($name:ident, |$c:ident| $configure:block, |$t:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($t: crate::harness::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = crate::harness::TestApp::start_with(crate::harness::Backend::Sqlite, |$c: &mut kernel::config::Config| $configure).await.unwrap();
                run(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = crate::harness::TestApp::start_with(crate::harness::Backend::Postgres, |$c: &mut kernel::config::Config| $configure).await {
                    run(app).await;
                }
            }
        }
    };
}
pub(crate) use db_test;
