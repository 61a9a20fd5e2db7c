//! The thin shared kernel every Hanlin area builds on. It knows no area's tables.

pub mod activity;
pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod i18n;
pub mod jobs;
pub mod secret;
mod sqlite_memory;
pub mod state;
pub mod storage;
pub mod upload;
pub mod web;

pub use error::AppError;
pub use state::App;

/// Current time as Unix seconds, the one representation of instants in the database.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Today's date in the region's time zone (UTC offset in minutes).
pub fn today(utc_offset_minutes: i32) -> time::Date {
    let offset = time::UtcOffset::from_whole_seconds(utc_offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(offset).date()
}
