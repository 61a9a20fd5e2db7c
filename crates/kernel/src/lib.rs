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

/// `2026-12-05T18:00` (as a datetime-local input sends it) in a zone `offset_minutes` from UTC,
/// as Unix seconds and the local day.
pub fn parse_local(text: &str, offset_minutes: i32) -> Option<(i64, time::Date)> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let text = text.trim();
    let local = time::PrimitiveDateTime::parse(text.get(..16)?, &format).ok()?;
    let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).ok()?;
    Some((local.assume_offset(offset).unix_timestamp(), local.date()))
}
