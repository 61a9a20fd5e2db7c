//! The state every handler shares.

use crate::config::Config;
use crate::db::Db;
use crate::i18n::I18n;
use crate::web::NavLink;
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
            ready: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True once the database is migrated and answering.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release)
    }
}
