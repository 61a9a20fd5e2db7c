//! Lesson packages (备课包): a teacher gathers the resources for a chapter, in order and with a
//! note on each, and may share the package with the colleagues of their school, who open it
//! read-only. Everyone sees only the items they may see themselves.

pub mod http;
pub mod store;

use crate::resources::model::{classification, number};
use crate::resources::store::Resource;
use crate::{resources, uploads};
use kernel::auth::Actor;
use kernel::web::{Checks, Validate, check};
use kernel::{App, AppError};
use serde::Deserialize;
use store::Package;

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct PackageInput {
    pub title: String,
    pub description: String,
    pub stage: String,
    #[serde(deserialize_with = "number")]
    pub grade: Option<i64>,
    pub subject: String,
    #[serde(deserialize_with = "number")]
    pub chapter_id: Option<i64>,
    /// Shared with the colleagues of the owner's school.
    #[serde(deserialize_with = "flag")]
    pub shared: bool,
}

/// A checkbox (`on`, `true`, `1`) or a JSON boolean.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Bool(b) => b,
        Raw::Text(t) => matches!(t.as_str(), "on" | "true" | "1"),
    })
}

impl Validate for PackageInput {
    fn validate(&self, v: &mut Checks) {
        v.required("title", &self.title).max_chars("title", &self.title, 120);
        v.max_chars("description", &self.description, 2000);
        classification(v, &self.stage, self.grade, &self.subject);
    }
}

pub const MAX_NOTE_CHARS: usize = 500;
pub const MAX_ITEMS: usize = 100;

/// The package, if the actor may open it: their own, or a colleague's shared with their school.
pub async fn visible(app: &App, actor: &Actor, id: i64) -> Result<Package, AppError> {
    let p = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if p.owner_id == actor.person_id || (p.shared && p.unit_id == actor.unit_id) { Ok(p) } else { Err(AppError::NotFound) }
}

/// The package, if the actor may change it: only their own.
async fn own(app: &App, actor: &Actor, id: i64) -> Result<Package, AppError> {
    let p = visible(app, actor, id).await?;
    if p.owner_id != actor.person_id {
        return Err(AppError::Forbidden);
    }
    Ok(p)
}

pub async fn create(app: &App, actor: &Actor, input: &PackageInput) -> Result<i64, AppError> {
    if !uploads::may_contribute(actor) {
        return Err(AppError::Forbidden);
    }
    check(input)?;
    resources::check_chapter(app, input.chapter_id, &input.stage, &input.subject).await?;
    let mut tx = app.db.begin().await?;
    let id = store::create(&mut tx, actor.person_id, actor.unit_id, input).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(app: &App, actor: &Actor, id: i64, input: &PackageInput) -> Result<(), AppError> {
    own(app, actor, id).await?;
    check(input)?;
    resources::check_chapter(app, input.chapter_id, &input.stage, &input.subject).await?;
    let mut tx = app.db.begin().await?;
    store::update(&mut tx, id, input).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    own(app, actor, id).await?;
    let mut tx = app.db.begin().await?;
    store::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Puts a resource the owner may see into their package, with a note.
pub async fn add(app: &App, actor: &Actor, id: i64, resource_id: i64, note: &str) -> Result<(), AppError> {
    let package = own(app, actor, id).await?;
    resources::visible(app, actor, resource_id)
        .await
        .map_err(|_| AppError::invalid("resource_id", "library-error-package-resource"))?;
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::too_long("note", MAX_NOTE_CHARS));
    }
    let already = store::items(&app.db, id).await?;
    if already.len() >= MAX_ITEMS && !already.iter().any(|i| i.resource_id == resource_id) {
        return Err(AppError::invalid("resource_id", "library-error-package-full"));
    }
    let mut tx = app.db.begin().await?;
    store::add_item(&mut tx, package.id, resource_id, note).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove(app: &App, actor: &Actor, id: i64, resource_id: i64) -> Result<(), AppError> {
    own(app, actor, id).await?;
    let mut tx = app.db.begin().await?;
    store::remove_item(&mut tx, id, resource_id).await?;
    tx.commit().await?;
    Ok(())
}

/// The items of a package as this person sees them: the resources they may see, in order, with
/// the notes; how many others are hidden from them (taken down, or not published to them).
pub async fn contents(app: &App, actor: &Actor, package: &Package) -> Result<(Vec<(Resource, String)>, usize), AppError> {
    let items = store::items(&app.db, package.id).await?;
    let ids: Vec<i64> = items.iter().map(|i| i.resource_id).collect();
    let found = resources::store::many(&app.db, &ids).await?;
    let mut shown = Vec::new();
    for item in &items {
        let Some(r) = found.iter().find(|r| r.id == item.resource_id) else { continue };
        let pubs = resources::store::publications(&app.db, r.id).await?;
        let usable = r.status != "taken_down" && resources::may_view(actor, r, &pubs);
        if usable {
            shown.push((r.clone(), item.note.clone()));
        }
    }
    let hidden = items.len() - shown.len();
    Ok((shown, hidden))
}
