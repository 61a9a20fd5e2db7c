use axum::Router;
use kernel::App;

pub fn routes() -> Router<App> {
    Router::new()
}
