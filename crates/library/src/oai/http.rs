//! The `/oai` endpoint: GET with a query string or POST with a form body, as OAI-PMH allows.

use super::Origin;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kernel::App;

pub fn routes() -> Router<App> {
    Router::new().route("/oai", get(oai_get).post(oai_post))
}

/// Harvesters run for hours from elsewhere: the base URL comes from `public_url`, else from the
/// Host they used.
fn origin(app: &App, headers: &HeaderMap) -> Origin {
    let site = match &app.config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    Origin { base_url: format!("{site}/oai"), site }
}

async fn answer(app: &App, headers: &HeaderMap, args: &[(String, String)]) -> Response {
    let body = super::respond(app, &origin(app, headers), args).await;
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

#[utoipa::path(get, path = "/oai", tag = "library", summary = "OAI-PMH 2.0 provider: the resources published region-wide, as oai_dc or lom (verbs Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord)", params(("verb" = String, Query, description = "the OAI-PMH verb")), responses((status = 200, description = "an OAI-PMH response document (errors included, as the protocol asks)", content_type = "text/xml")))]
pub(crate) async fn oai_get(State(app): State<App>, headers: HeaderMap, Query(args): Query<Vec<(String, String)>>) -> Response {
    answer(&app, &headers, &args).await
}

async fn oai_post(State(app): State<App>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let args: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    answer(&app, &headers, &args).await
}
