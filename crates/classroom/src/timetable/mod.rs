//! Timetables: bell schedules, each class's week, conflict checks, publishing, and calendar feeds.

pub mod http;
