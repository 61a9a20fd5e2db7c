//! The classroom area: timetables, homework from assignment to marking and statistics, the 双减
//! homework-load guard, and Q&A tutoring (答疑辅导).

pub mod homework;
pub mod load;
pub mod openapi;
pub mod questions;
pub mod timetable;

use axum::Router;
use kernel::App;
use kernel::auth::Role;
use kernel::web::NavLink;

pub fn routes() -> Router<App> {
    Router::new()
        .merge(timetable::http::routes())
        .merge(homework::http::routes())
        .merge(questions::http::routes())
        .merge(load::http::routes())
}

const SCHOOL_LIFE: &[Role] = &[Role::Teacher, Role::HeadTeacher, Role::Student, Role::Parent];
const BUREAU: &[Role] = &[Role::RegionAdmin, Role::SchoolAdmin, Role::Researcher, Role::Auditor];

pub fn nav() -> Vec<NavLink> {
    vec![
        NavLink { key: "nav-timetable", href: "/timetable", roles: &Role::ALL, only: None },
        NavLink { key: "nav-homework", href: "/homework", roles: SCHOOL_LIFE, only: None },
        NavLink { key: "nav-questions", href: "/questions", roles: SCHOOL_LIFE, only: None },
        NavLink { key: "nav-homework-load", href: "/homework/load", roles: BUREAU, only: None },
    ]
}
