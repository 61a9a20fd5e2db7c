//! Live progress of background jobs in this process (imports now; long uploads and reports later).
//!
//! A job's row in its own table is the durable record; this registry holds what changes many
//! times a second (rows done, cancellation) so that pages can poll it without touching the
//! database, including while the job's transaction holds SQLite's write lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug)]
pub struct Live {
    phase: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
    /// When the current phase began, for rows per second and time left.
    phase_started: Mutex<Instant>,
}

/// A snapshot for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Snapshot {
    pub phase: u8,
    pub done: u64,
    pub total: u64,
    /// Units per second over the current phase.
    pub rate: f64,
    /// Seconds left at that rate, once it is known.
    pub eta_seconds: Option<u64>,
}

impl Default for Live {
    fn default() -> Live {
        Live::new()
    }
}

impl Live {
    pub fn new() -> Live {
        Live {
            phase: AtomicU8::new(0),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            phase_started: Mutex::new(Instant::now()),
        }
    }

    pub fn set(&self, phase: u8, done: u64, total: u64) {
        if self.phase.swap(phase, Ordering::Relaxed) != phase {
            *self.phase_started.lock().expect("lock poisoned") = Instant::now();
        }
        self.done.store(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> Snapshot {
        let (done, total) = (self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed));
        let secs = self.phase_started.lock().expect("lock poisoned").elapsed().as_secs_f64();
        let rate = if secs > 0.5 { done as f64 / secs } else { 0.0 };
        let eta_seconds = (rate > 0.0 && total >= done).then(|| ((total - done) as f64 / rate).ceil() as u64);
        Snapshot { phase: self.phase.load(Ordering::Relaxed), done, total, rate, eta_seconds }
    }
}

/// Jobs running in this process, by (kind, id).
#[derive(Default)]
pub struct Registry {
    live: Mutex<HashMap<(&'static str, i64), Arc<Live>>>,
}

impl Registry {
    pub fn start(&self, kind: &'static str, id: i64) -> Arc<Live> {
        let live = Arc::new(Live::new());
        self.live.lock().expect("lock poisoned").insert((kind, id), live.clone());
        live
    }

    pub fn get(&self, kind: &'static str, id: i64) -> Option<Arc<Live>> {
        self.live.lock().expect("lock poisoned").get(&(kind, id)).cloned()
    }

    pub fn finish(&self, kind: &'static str, id: i64) {
        self.live.lock().expect("lock poisoned").remove(&(kind, id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_reported_and_cancellable() {
        let r = Registry::default();
        let live = r.start("import", 7);
        live.set(1, 50, 200);
        let s = r.get("import", 7).unwrap().snapshot();
        assert_eq!((s.phase, s.done, s.total), (1, 50, 200));
        live.cancel();
        assert!(r.get("import", 7).unwrap().cancelled());
        r.finish("import", 7);
        assert!(r.get("import", 7).is_none());
    }
}
