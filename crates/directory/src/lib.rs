//! The directory area: who and where. Org tree, classes, people and roles, login and sessions, and
//! the audit log's pages.

pub mod accounts;
pub mod audit;
pub mod calendar;
pub mod classes;
pub mod codes;
pub mod home;
pub mod openapi;
pub mod org;
pub mod people;

use axum::Router;
use axum::routing::get;
use kernel::App;
use kernel::auth::Role;
use kernel::web::NavLink;

pub use accounts::sessions::authenticate;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home::home))
        .merge(accounts::http::routes())
        .merge(org::http::routes())
        .merge(classes::http::routes())
        .merge(people::http::routes())
        .merge(audit::http::routes())
        .merge(calendar::http::routes())
}

const EVERYONE: &[Role] = &Role::ALL;
const ADMINS: &[Role] = &[Role::RegionAdmin, Role::SchoolAdmin];
const BUREAU: &[Role] = &[Role::RegionAdmin, Role::SchoolAdmin, Role::Researcher, Role::Reviewer, Role::Auditor];
const AUDITORS: &[Role] = &[Role::RegionAdmin, Role::SchoolAdmin, Role::Auditor];

/// The directory's entries in the one navigation.
pub fn nav() -> Vec<NavLink> {
    vec![
        NavLink { key: "nav-home", href: "/", roles: EVERYONE, only: None },
        NavLink { key: "nav-org", href: "/org", roles: BUREAU, only: None },
        NavLink { key: "nav-people", href: "/people", roles: ADMINS, only: None },
        NavLink { key: "nav-audit", href: "/audit", roles: AUDITORS, only: None },
        NavLink { key: "nav-calendar", href: "/calendar", roles: BUREAU, only: None },
        NavLink { key: "nav-account", href: "/account", roles: EVERYONE, only: None },
    ]
}
