//! The classroom's part of the OpenAPI document.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    crate::homework::http::api_list,
    crate::homework::http::api_assign,
    crate::homework::http::api_get,
    crate::homework::http::api_hand_in,
    crate::homework::http::api_mark,
    crate::homework::http::api_remind,
    crate::load::http::api_load,
    crate::questions::http::api_list,
    crate::questions::http::api_ask,
    crate::questions::http::api_get,
    crate::questions::http::api_reply,
    crate::questions::http::api_solve,
))]
pub struct ClassroomApi;

/// The classroom's whole part: homework, load and Q&A, and the timetables.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ClassroomApi::openapi();
    doc.merge(crate::timetable::http::TimetableApi::openapi());
    doc
}
