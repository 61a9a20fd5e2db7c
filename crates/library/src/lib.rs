//! The resource library: uploads, one metadata structure on the national code lists, textbook
//! catalogues, review and publishing up the levels of the org tree, and Chinese full-text search.

pub mod attachments;
pub mod catalogue;
pub mod feedback;
pub mod harvest;
pub mod oai;
pub mod openapi;
pub mod packages;
pub mod preview;
pub mod resources;
pub mod search;
pub mod sniff;
pub mod suggest;
pub mod uploads;
pub mod versions;
pub mod vocab;

use axum::Router;
use kernel::App;
use kernel::auth::Role;
use kernel::web::NavLink;

pub fn routes() -> Router<App> {
    Router::new()
        .merge(uploads::http::routes())
        .merge(resources::http::routes())
        .merge(catalogue::http::routes())
        .merge(oai::http::routes())
        .merge(feedback::http::routes())
        .merge(versions::http::routes())
        .merge(packages::http::routes())
        .merge(harvest::http::routes())
}

const EVERYONE: &[Role] = &Role::ALL;
const CONTRIBUTORS: &[Role] =
    &[Role::RegionAdmin, Role::SchoolAdmin, Role::Researcher, Role::Reviewer, Role::Teacher, Role::HeadTeacher];
const REVIEWERS: &[Role] = &[Role::RegionAdmin, Role::SchoolAdmin, Role::Reviewer];

pub fn nav() -> Vec<NavLink> {
    vec![
        NavLink { key: "nav-library", href: "/library", roles: EVERYONE, only: None },
        NavLink { key: "nav-library-mine", href: "/library/mine", roles: CONTRIBUTORS, only: None },
        NavLink { key: "nav-library-favourites", href: "/library/favourites", roles: EVERYONE, only: None },
        NavLink { key: "nav-library-packages", href: "/library/packages", roles: CONTRIBUTORS, only: None },
        NavLink { key: "nav-library-review", href: "/library/review", roles: REVIEWERS, only: None },
        NavLink {
            key: "nav-library-harvest",
            href: "/library/harvest",
            roles: &[Role::RegionAdmin],
            only: Some(harvest::may_manage),
        },
    ]
}
