//! Family education (家庭教育): a school or bureau schedules library resources for the parents of a
//! class or of the whole school (or region), one a week. When one falls due it is sent as a notice
//! of kind `family`, so its deliveries and reads are counted like any notice's.

pub mod http;
pub mod store;

use crate::notices::{self, Draft, Scope};
use directory::people::audience::Members;
use kernel::auth::{Actor, Capability};
use kernel::db::Dialect;
use kernel::error::FieldError;
use kernel::{App, AppError};

/// Resources one schedule may hold (a term's weeks).
pub const MAX_RESOURCES: usize = 20;
const WEEK: i64 = 7 * 86_400;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct FamilyInput {
    /// `unit` (the whole school or region) or `class:<id>`.
    #[serde(default)]
    pub scope: String,
    /// Library resource ids (or their page links), in order, separated by commas, spaces or lines.
    #[serde(default)]
    pub resources: String,
    /// The first delivery, `2026-12-07T19:30` in the region's time; the next ones a week apart.
    #[serde(default)]
    pub first_at: String,
}

/// Resource ids in the order given: plain numbers or links ending in one.
pub fn resource_ids(text: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for part in text.split([',', '，', ' ', '\n', '\r', '\t', '、']).map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.trim_end_matches('/').rsplit('/').next()?.parse().ok()?;
        out.push(id);
    }
    Some(out)
}

pub fn may_schedule(actor: &Actor) -> bool {
    actor.role.is_admin()
}

/// Schedules one delivery per resource, a week apart; returns their ids.
pub async fn schedule(app: &App, actor: &Actor, input: &FamilyInput) -> Result<Vec<i64>, AppError> {
    if !may_schedule(actor) {
        return Err(AppError::Forbidden);
    }
    let scope = match input.scope.trim() {
        "unit" => Scope { class_id: None, audience: Members::Parents },
        s => match s.strip_prefix("class:").and_then(|c| c.parse().ok()) {
            Some(class) => Scope { class_id: Some(class), audience: Members::Parents },
            None => return Err(AppError::invalid("scope", "notices-error-scope")),
        },
    };
    let mut errors = Vec::new();
    let ids = resource_ids(&input.resources).unwrap_or_default();
    if ids.is_empty() {
        errors.push(FieldError::new("resources", "family-error-resources"));
    } else if ids.len() > MAX_RESOURCES {
        errors.push(FieldError::new("resources", "family-error-too-many").arg("max", MAX_RESOURCES));
    }
    let offset = app.config.display_utc_offset_minutes;
    let first = kernel::parse_local(&input.first_at, offset).map(|f| f.0);
    match first {
        None => errors.push(FieldError::new("first_at", "error-field-malformed")),
        Some(t) if t < kernel::now() - 60 => errors.push(FieldError::new("first_at", "family-error-past")),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (_, scope_path, issuer) = notices::resolve(app, actor, &scope).await?;
    let mut titles = Vec::with_capacity(ids.len());
    for id in &ids {
        titles.push(reachable_title(app, actor, *id, &scope_path).await?);
    }
    let first = first.unwrap_or_default();
    let mut tx = app.db.begin().await?;
    let mut out = Vec::with_capacity(ids.len());
    for (i, (id, title)) in ids.iter().zip(&titles).enumerate() {
        let row = store::NewDelivery {
            created_by: actor.person_id,
            issuer_name: &issuer,
            issuer_path: &actor.unit_path,
            scope_path: &scope_path,
            scope_class_id: scope.class_id,
            resource_id: *id,
            title,
            send_at: first + i as i64 * WEEK,
        };
        out.push(store::create(&mut tx, &row).await?);
    }
    kernel::activity::record(&mut tx, actor, "family_schedule", out[0]).await?;
    tx.commit().await?;
    Ok(out)
}

/// The resource's title, if the actor may see it and it is published where the parents can open it.
async fn reachable_title(app: &App, actor: &Actor, id: i64, scope_path: &str) -> Result<String, AppError> {
    let refused = || AppError::Invalid(vec![FieldError::new("resources", "family-error-resource").arg("id", id)]);
    let (resource, _) = library::resources::visible(app, actor, id).await.map_err(|_| refused())?;
    let published = library::resources::store::approved_scopes(&app.db, &[id]).await?;
    if resource.status != "approved" || !published.iter().any(|(_, path, _)| scope_path.starts_with(path.as_str())) {
        return Err(refused());
    }
    Ok(resource.title)
}

/// Cancels a delivery not yet sent.
pub async fn cancel(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    let d = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if !may_schedule(actor) || !actor.may(Capability::Manage, kernel::auth::Target::Unit { path: &d.issuer_path }) {
        return Err(AppError::NotFound);
    }
    if d.notice_id.is_some() {
        return Err(AppError::invalid("id", "family-error-sent"));
    }
    let mut tx = app.db.begin().await?;
    store::delete_unsent(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Sends the deliveries that are due; returns how many went. Each is claimed in its own transaction
/// (on PostgreSQL with SKIP LOCKED), so several nodes never send one twice.
pub async fn send_due(app: &App) -> Result<usize, AppError> {
    let due = store::due(&app.db, kernel::now(), 20).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let mut sent = 0;
    for d in due {
        let place = match d.scope_class_id {
            Some(c) => directory::people::audience::Place::Class(c),
            None => directory::people::audience::Place::Under(&d.scope_path),
        };
        let people = directory::people::audience::of(&app.db, place, Members::Parents, today).await?;
        let mut tx = app.db.begin().await?;
        let lock = if tx.dialect() == Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        if !store::claim(&mut tx, d.id, lock).await? {
            continue;
        }
        let scope = Scope { class_id: d.scope_class_id, audience: Members::Parents };
        let draft = Draft { kind: "family", title: &d.title, body: "", resource_id: Some(d.resource_id), needs_confirm: false };
        let (notice, staged) =
            notices::create(&mut tx, d.created_by, &scope, (&people, &d.scope_path, &d.issuer_name), &draft).await?;
        store::set_notice(&mut tx, d.id, notice).await?;
        tx.commit().await?;
        staged.deliver(app);
        sent += 1;
    }
    Ok(sent)
}
