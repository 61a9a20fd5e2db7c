//! The state every handler shares.

use crate::config::Config;
use crate::db::Db;
use crate::i18n::I18n;
use crate::web::NavLink;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub db: Db,
    /// Where files are kept: a local directory or an S3-compatible store.
    pub storage: crate::storage::Storage,
    pub i18n: I18n,
    /// Navigation entries contributed by every area, filtered per role when a page is drawn.
    pub nav: Arc<Vec<NavLink>>,
    /// Slow password hashes run on the blocking pool, at most this many at once.
    pub hash_permits: Arc<Semaphore>,
    pub actors: Arc<crate::auth::ActorCache>,
    /// Live progress of background jobs running in this process.
    pub jobs: Arc<crate::jobs::Registry>,
    /// Imports run one at a time per process: each holds a transaction and streams a large file.
    pub import_slot: Arc<Semaphore>,
    /// State an area keeps for the life of the process (the library's search index), by type:
    /// the kernel holds it without knowing the area.
    parts: Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    ready: Arc<AtomicBool>,
}

impl App {
    pub fn new(config: Config, db: Db, storage: crate::storage::Storage, nav: Vec<NavLink>) -> App {
        let permits = config.hash_concurrency();
        App {
            config: Arc::new(config),
            db,
            storage,
            i18n: I18n::load(),
            nav: Arc::new(nav),
            hash_permits: Arc::new(Semaphore::new(permits)),
            actors: Default::default(),
            jobs: Default::default(),
            import_slot: Arc::new(Semaphore::new(1)),
            parts: Default::default(),
            ready: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Adds an area's process-wide state; only while the app is being built.
    pub fn with_part<T: Any + Send + Sync>(mut self, part: T) -> App {
        Arc::get_mut(&mut self.parts)
            .expect("parts are added before the app is shared")
            .insert(TypeId::of::<T>(), Arc::new(part));
        self
    }

    /// An area's state added with [`App::with_part`].
    pub fn part<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.parts.get(&TypeId::of::<T>()).and_then(|p| p.downcast_ref())
    }

    /// True once the database is migrated and answering.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release)
    }
}
