//! The classroom's part of the OpenAPI document.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths())]
pub struct ClassroomApi;
