//! The rostering area's part of the OpenAPI document.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    crate::import::http::api_upload,
    crate::import::http::api_job,
    crate::import::http::api_problems,
    crate::import::http::api_cancel,
    crate::stats::http::api_stats,
))]
pub struct RosterApi;
