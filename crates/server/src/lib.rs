//! Wiring: the router of every area over the kernel's middleware, and the server's life cycle.

pub mod demo;
pub mod synthetic;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use kernel::config::Config;
use kernel::db::Db;
use kernel::{App, AppError};
use std::net::SocketAddr;
use std::time::Duration;

/// The whole application's router.
pub fn router(app: App, metrics: Option<metrics_exporter_prometheus::PrometheusHandle>) -> Router {
    let areas = Router::new()
        .merge(directory::routes())
        .merge(roster::routes())
        .merge(library::routes())
        .merge(classroom::routes())
        .merge(messaging::routes())
        .fallback(|| async { AppError::NotFound })
        .layer(axum::middleware::from_fn_with_state(app.clone(), kernel::web::finish_errors))
        .layer(axum::middleware::from_fn_with_state(app.clone(), directory::authenticate))
        .layer(axum::middleware::from_fn_with_state(app.clone(), kernel::web::request_context))
        .layer(axum::middleware::from_fn_with_state(app.clone(), not_ready_guard));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(move || async move { metrics.map(|m| m.render()).unwrap_or_default() }))
        .route("/static/{name}", get(kernel::web::static_asset))
        .route("/api/v1/openapi.json", get(|| async { axum::Json(openapi()) }))
        .merge(areas)
        .layer(axum::middleware::from_fn(count_requests))
        .with_state(app)
}

/// Ready once the database is migrated and answers, and (on PostgreSQL) this node hears the
/// other nodes' messaging signals.
async fn readyz(State(app): State<App>) -> impl IntoResponse {
    let hears = messaging::hub::hub(&app).hears_signals(app.db.dialect());
    if app.is_ready() && hears && app.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

/// Until the database is migrated, every page answers 503 rather than failing half-way.
async fn not_ready_guard(
    State(app): State<App>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !app.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "5")], "Hanlin is starting: the database is not ready yet.")
            .into_response();
    }
    next.run(req).await
}

async fn count_requests(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("hanlin_http_requests_total", "status" => status).increment(1);
    metrics::histogram!("hanlin_http_request_seconds").record(started.elapsed().as_secs_f64());
    response
}

/// Opens the database; for PostgreSQL, migrations retry in the background until the server is
/// reachable (with /readyz false meanwhile). SQLite migrates before returning.
pub async fn open(config: &Config) -> anyhow::Result<(Db, bool)> {
    let db = Db::open(&config.database_url()).await?;
    match db.dialect() {
        kernel::db::Dialect::Sqlite => {
            db.migrate().await?;
            Ok((db, true))
        }
        kernel::db::Dialect::Postgres => Ok((db, false)),
    }
}

/// Migrates until it succeeds, then marks the app ready.
pub async fn migrate_with_retry(app: App) {
    let mut wait = Duration::from_millis(500);
    loop {
        // Bounded, so an unreachable server is reported within seconds, not after the pool's timeout.
        match tokio::time::timeout(Duration::from_secs(3), app.db.migrate()).await {
            Ok(Ok(())) => {
                app.set_ready(true);
                tracing::info!("database ready");
                return;
            }
            outcome => {
                let error = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer within 3 s".to_string(),
                };
                tracing::warn!(%error, retry_in = ?wait, "database unreachable or migration failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// The OpenAPI document of every area's API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut doc = directory::openapi::DirectoryApi::openapi();
    doc.merge(roster::openapi::RosterApi::openapi());
    doc.merge(library::openapi::LibraryApi::openapi());
    doc.merge(classroom::openapi::document());
    doc.merge(<messaging::openapi::MessagingApi as utoipa::OpenApi>::openapi());
    doc.info.title = "Hanlin API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "JSON API of Hanlin. Authenticate with the session cookie from POST /api/v1/auth/login, or with \
         `Authorization: Bearer hlt_…` (a personal API token). Errors are `{code, message, details}` with a \
         stable snake_case code and a message in the caller's language (Accept-Language)."
            .into(),
    );
    doc
}

/// The shared state with every area's navigation; fails when the configured file storage or the
/// search index cannot be opened.
pub fn app(config: Config, db: Db) -> anyhow::Result<App> {
    let storage = kernel::storage::Storage::open(&config.storage, &config.data_dir)?;
    let index_dir = config.data_dir.join("index").join("resources");
    std::fs::create_dir_all(&index_dir)?;
    let library = library::search::Library::open(Some(&index_dir))
        .map_err(|e| anyhow::anyhow!("cannot open the search index in {}: {e}", index_dir.display()))?;
    let mut nav = directory::nav();
    nav.extend(roster::nav());
    nav.extend(library::nav());
    nav.extend(classroom::nav());
    nav.extend(messaging::nav());
    let previews = library::preview::Converter::new(&config.library.libreoffice);
    let app = App::new(config, db, storage, nav)
        .with_part(library)
        .with_part(previews)
        .with_part(library::uploads::UnitUsage::default())
        .with_part(directory::accounts::sessions::Touches::default());
    Ok(messaging::parts(app))
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> anyhow::Result<()> {
    let router = router(app.clone(), metrics);
    library::search::spawn_sync(app.clone());
    messaging::spawn_background(app.clone());
    directory::accounts::sessions::spawn_touches(app.clone());
    spawn_housekeeping(app.clone());
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // The sessions seen since the last flush keep their activity across a restart.
    if let Some(touches) = app.part::<directory::accounts::sessions::Touches>() {
        touches.flush(&app.db).await?;
    }
    Ok(())
}

/// Periodic work: audit retention, import jobs whose process died, expired uploads, due harvests.
fn spawn_housekeeping(app: App) {
    let jobs_app = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut at_start = true;
        loop {
            tick.tick().await;
            if jobs_app.is_ready() {
                match roster::import::job::recover(&jobs_app.db, at_start).await {
                    Ok(n) if n > 0 => tracing::warn!(jobs = n, "interrupted import jobs marked as failed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not check for interrupted import jobs"),
                }
                match library::uploads::housekeeping(&jobs_app).await {
                    Ok(n) if n > 0 => tracing::info!(uploads = n, "expired unfinished uploads removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not remove expired uploads"),
                }
                if let Err(e) = library::harvest::run_due(&jobs_app).await {
                    tracing::warn!(error = %e, "could not run the due harvests");
                }
                at_start = false;
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if app.is_ready() {
                match kernel::audit::purge(&app.db, app.config.audit.retention_days).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "audit entries past retention removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "audit retention purge failed"),
                }
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
