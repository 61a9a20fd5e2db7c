//! The library's part of the OpenAPI document.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    crate::uploads::http::api_start,
    crate::uploads::http::api_state,
    crate::uploads::http::api_chunk,
    crate::uploads::http::api_complete,
    crate::resources::http::api_search,
    crate::resources::http::api_create,
    crate::resources::http::api_get,
    crate::resources::http::api_update,
    crate::resources::http::api_submit,
    crate::resources::http::api_recommend,
    crate::resources::http::api_take_down,
    crate::resources::http::api_queue,
    crate::resources::http::api_decide,
    crate::catalogue::http::api_textbooks,
    crate::catalogue::http::api_tree,
    crate::catalogue::http::api_suggest,
    crate::catalogue::http::api_chapters,
    crate::catalogue::http::api_import,
    crate::oai::http::oai_get,
    crate::feedback::http::api_favourites,
    crate::feedback::http::api_favourite,
    crate::feedback::http::api_unfavourite,
    crate::feedback::http::api_rate,
    crate::feedback::http::api_comments,
    crate::feedback::http::api_comment,
    crate::feedback::http::api_hide,
    crate::versions::http::api_list,
    crate::versions::http::api_propose,
    crate::versions::http::api_queue,
    crate::versions::http::api_decide,
))]
pub struct LibraryApi;
