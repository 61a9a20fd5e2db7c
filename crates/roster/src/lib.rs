//! The rostering area (归校归班): import and export of schools, classes, teachers, students and
//! parents, official headcounts, and the rostering statistics against them.

pub mod columns;
pub mod export;
pub mod import;
pub mod normalize;
pub mod openapi;
pub mod stats;

use axum::Router;
use kernel::App;
use kernel::auth::Role;
use kernel::web::NavLink;

pub fn routes() -> Router<App> {
    Router::new().merge(import::http::routes()).merge(stats::http::routes()).merge(export::routes())
}

const ROSTER: &[Role] = &[Role::RegionAdmin, Role::SchoolAdmin, Role::Researcher, Role::Reviewer, Role::Auditor];

pub fn nav() -> Vec<NavLink> {
    vec![NavLink { key: "nav-roster", href: "/roster", roles: ROSTER, only: None }]
}
