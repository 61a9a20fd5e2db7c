//! The messaging area: conversations that follow the roster and direct messages, notices with read
//! receipts, moderation, family-education deliveries, and the real-time hub that pushes all of it
//! to open pages over WebSocket, across the nodes of a cluster.

pub mod conversations;
pub mod family;
pub mod hub;
pub mod live;
pub mod moderation;
pub mod notices;
pub mod openapi;

use axum::Router;
use kernel::App;
use kernel::auth::Role;
use kernel::web::NavLink;
use std::time::Duration;

pub fn routes() -> Router<App> {
    Router::new()
        .merge(conversations::http::routes())
        .merge(moderation::http::routes())
        .merge(notices::http::routes())
        .merge(family::http::routes())
        .merge(live::routes())
}

const CHATTING: &[Role] = &[Role::SchoolAdmin, Role::Teacher, Role::HeadTeacher, Role::Student, Role::Parent];
const ADMINS: &[Role] = &[Role::RegionAdmin, Role::SchoolAdmin];

pub fn nav() -> Vec<NavLink> {
    vec![
        NavLink { key: "nav-messages", href: "/messages", roles: CHATTING, only: None },
        NavLink { key: "nav-notices", href: "/notices", roles: &Role::ALL, only: None },
        NavLink { key: "nav-family", href: "/family", roles: ADMINS, only: None },
        NavLink { key: "nav-reports", href: "/reports", roles: ADMINS, only: None },
    ]
}

/// The state messaging keeps for the life of the process.
pub fn parts(app: App) -> App {
    app.with_part(hub::Hub::default()).with_part(conversations::Flood::default()).with_part(live::SessionWatch::default())
}

/// Background work: the cluster listener, the sessions of open live connections, due
/// family-education deliveries, groups nobody has opened lately brought in step with the roster,
/// and messages past retention deleted.
pub fn spawn_background(app: App) {
    let _listener = hub::spawn_listener(app.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut minutes = 0u64;
        loop {
            tick.tick().await;
            if !app.is_ready() {
                continue;
            }
            if let Err(e) = live::check_sessions(&app).await {
                tracing::warn!(error = %e, "could not check the sessions of open live connections");
            }
            match family::send_due(&app).await {
                Ok(n) if n > 0 => tracing::info!(deliveries = n, "family-education deliveries sent"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not send due family-education deliveries"),
            }
            if let Err(e) = conversations::sync_stale(&app, 600, 200).await {
                tracing::warn!(error = %e, "could not bring groups in step with the roster");
            }
            if minutes.is_multiple_of(60) {
                match moderation::purge(&app).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "messages past retention removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "message retention purge failed"),
                }
            }
            minutes += 1;
        }
    });
}
