//! Keeping the search index in step with the database, and searching what a person may see.
//!
//! Each node keeps its own index on local disk. The node that approves or takes down a resource
//! updates its index at once; every node also polls for resources changed in the database (by any
//! node) about once a second, so a change is searchable everywhere within a few seconds.

pub mod index;

use crate::resources::store::{self, Resource};
use index::{IndexedResource, SearchIndex, SearchQuery, SearchResults};
use kernel::auth::Actor;
use kernel::{App, AppError};
use std::collections::HashMap;
use std::sync::Mutex;

/// The library's process-wide state, kept in the app's parts.
pub struct Library {
    pub index: SearchIndex,
    /// The change stamp last indexed per resource, so the poll does not index a change twice.
    indexed: Mutex<HashMap<i64, i64>>,
}

impl Library {
    pub fn open(dir: Option<&std::path::Path>) -> Result<Library, index::SearchError> {
        Ok(Library { index: SearchIndex::open(dir)?, indexed: Mutex::default() })
    }
}

pub fn library(app: &App) -> Result<&Library, AppError> {
    app.part::<Library>().ok_or_else(|| AppError::internal("library search index not opened"))
}

fn internal(e: index::SearchError) -> AppError {
    AppError::internal(e)
}

/// The index's view of the resources `ids`; those not published (or taken down) are left out.
async fn documents(app: &App, ids: &[i64]) -> Result<Vec<IndexedResource>, AppError> {
    let resources = store::many(&app.db, ids).await?;
    let scopes = store::approved_scopes(&app.db, ids).await?;
    let mut out = Vec::new();
    for r in resources.into_iter().filter(|r| r.status == "approved") {
        let mine: Vec<&(i64, String, String)> = scopes.iter().filter(|s| s.0 == r.id).collect();
        if mine.is_empty() {
            continue;
        }
        let level = mine
            .iter()
            .map(|s| s.2.as_str())
            .max_by_key(|l| crate::resources::LEVELS.iter().position(|x| x.0 == *l))
            .unwrap_or("school")
            .to_string();
        let rating = if r.rating_count > 0 { r.rating_rank() } else { 0.0 };
        let chapter_path = match r.chapter_id {
            Some(c) => crate::catalogue::store::node(&app.db, c).await?.map(|n| n.path_ids()).unwrap_or_default(),
            None => vec![],
        };
        out.push(IndexedResource {
            id: r.id,
            keywords: crate::resources::model::split_list(&r.keywords),
            authors: crate::resources::model::split_list(&r.authors),
            title: r.title,
            description: r.description,
            stage: r.stage,
            grade: r.grade,
            subject: r.subject,
            edition: r.edition.unwrap_or_default(),
            volume: r.volume.unwrap_or_default(),
            chapter_path,
            resource_type: r.resource_type,
            format: r.format,
            level,
            licence: r.licence,
            scope_paths: mine.iter().map(|s| s.1.clone()).collect(),
            published_at: r.published_at.unwrap_or(r.created_at),
            uses: r.views + r.downloads,
            rating,
        });
    }
    Ok(out)
}

/// Brings the index up to date for `ids`: published ones are (re)indexed, the rest removed.
pub async fn refresh(app: &App, ids: &[i64]) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let lib = library(app)?;
    let docs = documents(app, ids).await?;
    let hidden: Vec<i64> = ids.iter().copied().filter(|id| !docs.iter().any(|d| d.id == *id)).collect();
    let index = lib.index.clone();
    tokio::task::spawn_blocking(move || {
        if !hidden.is_empty() {
            index.remove(&hidden)?;
        }
        if !docs.is_empty() {
            index.upsert(&docs)?;
        }
        Ok::<_, index::SearchError>(())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(internal)
}

/// One poll: indexes resources changed since the last, by any node. Changes committed out of
/// order are caught by looking back a few seconds past the newest stamp seen.
pub async fn catch_up(app: &App, watermark: &mut i64) -> Result<usize, AppError> {
    let lib = library(app)?;
    let changed = store::changed_since(&app.db, *watermark - 5000).await?;
    let fresh: Vec<(i64, i64)> = {
        let seen = lib.indexed.lock().expect("lock poisoned");
        changed.into_iter().filter(|(id, stamp)| seen.get(id) != Some(stamp)).collect()
    };
    if fresh.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = fresh.iter().map(|c| c.0).collect();
    refresh(app, &ids).await?;
    let mut seen = lib.indexed.lock().expect("lock poisoned");
    for (id, stamp) in &fresh {
        seen.insert(*id, *stamp);
        *watermark = (*watermark).max(*stamp);
    }
    // Stamps older than the look-back window can no longer come round again.
    let horizon = *watermark - 60_000;
    seen.retain(|_, stamp| *stamp > horizon);
    Ok(fresh.len())
}

/// Rebuilds the whole index from the database, reporting how many resources were read.
pub async fn rebuild(app: &App, progress: &(dyn Fn(u64) + Sync)) -> Result<u64, AppError> {
    let lib = library(app)?;
    let mut docs = Vec::new();
    let mut after = 0;
    loop {
        let ids = store::ids_after(&app.db, after, 2000).await?;
        let Some(&last) = ids.last() else { break };
        after = last;
        docs.extend(documents(app, &ids).await?);
        progress(docs.len() as u64);
    }
    let index = lib.index.clone();
    tokio::task::spawn_blocking(move || index.rebuild(docs.into_iter(), &mut |_| {}))
        .await
        .map_err(AppError::internal)?
        .map_err(internal)
}

/// Keeps this node's index in step with the database for as long as the process runs.
pub fn spawn_sync(app: App) {
    tokio::spawn(async move {
        let mut watermark = 0;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !app.is_ready() {
                continue;
            }
            if let Err(e) = catch_up(&app, &mut watermark).await {
                tracing::warn!(error = %e, "search index could not catch up");
            }
        }
    });
}

/// The org paths from the top of the tree down to the actor's unit: publications at any of them
/// reach the actor.
pub fn reach(actor: &Actor) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = String::from("/");
    for part in actor.unit_path.split('/').filter(|p| !p.is_empty()) {
        path.push_str(part);
        path.push('/');
        out.push(path.clone());
    }
    out
}

/// Searches what the actor may see; the hits come back as resources in rank order.
pub async fn search(app: &App, actor: &Actor, mut query: SearchQuery) -> Result<(SearchResults, Vec<Resource>), AppError> {
    query.visible_in = reach(actor);
    let index = library(app)?.index.clone();
    let results =
        tokio::task::spawn_blocking(move || index.search(&query)).await.map_err(AppError::internal)?.map_err(internal)?;
    let ids: Vec<i64> = results.hits.iter().map(|h| h.id).collect();
    let mut found = store::many(&app.db, &ids).await?;
    // The index may lag a moment behind a takedown: the database has the last word.
    found.retain(|r| r.status == "approved");
    found.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok((results, found))
}
