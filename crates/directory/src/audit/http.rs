use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kernel::auth::{Actor, Capability, Target};
use kernel::db::{path_range, sql};
use kernel::web::PageContext;
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new().route("/audit", get(audit_page)).route("/api/v1/audit", get(api_audit))
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub ip: String,
    pub action: String,
    pub outcome: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    pub target_name: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditFilter {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub actor: String,
    /// Only entries before this id: the next page.
    #[serde(default)]
    pub before: Option<i64>,
}

const PAGE: i64 = 100;

/// Entries under the actor's scope, newest first, filtered.
async fn query(app: &App, actor: &Actor, f: &AuditFilter) -> Result<Vec<AuditRow>, AppError> {
    if !actor.may(Capability::Audit, Target::Unit { path: &actor.unit_path }) {
        return Err(AppError::Forbidden);
    }
    for (field, v) in [("action", &f.action), ("outcome", &f.outcome), ("actor", &f.actor)] {
        if v.chars().count() > 60 {
            return Err(AppError::Invalid(vec![kernel::error::FieldError::new(field, "error-field-too-long").arg("max", 60)]));
        }
    }
    let (lo, hi) = path_range(&actor.unit_path);
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    Ok(app
        .db
        .fetch_all(
            sql("SELECT id, at, actor_id, actor_name, ip, action, outcome, target_type, target_id, target_name, before_json, after_json \
                 FROM audit_log WHERE scope_path >= $1 AND scope_path < $2 \
                 AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR outcome = $4) AND ($5 IS NULL OR actor_name LIKE $5) \
                 AND ($6 IS NULL OR id < $6) ORDER BY id DESC LIMIT $7")
            .bind(lo)
            .bind(hi)
            .bind(text(&f.action))
            .bind(text(&f.outcome))
            .bind(text(&f.actor).map(|a| format!("%{a}%")))
            .bind(f.before)
            .bind(PAGE),
        )
        .await?)
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage<'a> {
    ctx: &'a PageContext,
    rows: Vec<AuditRow>,
    filter: AuditFilter,
    next: Option<i64>,
    retention_days: i64,
}

impl AuditPage<'_> {
    fn is_action(&self, a: &str) -> bool {
        self.filter.action == a
    }

    fn action(&self, a: &str) -> String {
        let key = format!("audit-action-{a}");
        let t = self.ctx.t(&key);
        if t == key { a.to_string() } else { t }
    }
}

async fn audit_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(f): Query<AuditFilter>,
) -> Result<Response, AppError> {
    let rows = query(&app, &actor, &f).await?;
    let next = (rows.len() as i64 == PAGE).then(|| rows.last().map(|r| r.id)).flatten();
    let page = AuditPage { ctx: &ctx, rows, filter: f, next, retention_days: app.config.audit.retention_days };
    Ok(ctx.render(&ctx.t("audit-title"), &page)?.into_response())
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", summary = "Audit entries under the caller's scope, newest first (query: action, outcome, actor, before)", responses((status = 200, description = "entries and the next page's cursor"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_audit(
    State(app): State<App>,
    actor: Actor,
    Query(f): Query<AuditFilter>,
) -> Result<Json<serde_json::Value>, AppError> {
    let rows = query(&app, &actor, &f).await?;
    let next = (rows.len() as i64 == PAGE).then(|| rows.last().map(|r| r.id)).flatten();
    Ok(Json(json!({ "entries": rows, "next_before": next })))
}
