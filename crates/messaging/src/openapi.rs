//! Messaging's part of the OpenAPI document.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    crate::conversations::http::api_list,
    crate::conversations::http::api_contacts,
    crate::conversations::http::api_direct,
    crate::conversations::http::api_history,
    crate::conversations::http::api_send,
    crate::conversations::http::api_members,
    crate::conversations::http::api_read,
    crate::conversations::http::api_recall,
    crate::conversations::http::api_unread,
    crate::moderation::http::api_mute_group,
    crate::moderation::http::api_mute_member,
    crate::moderation::http::api_remove,
    crate::moderation::http::api_report,
    crate::moderation::http::api_reports,
    crate::moderation::http::api_handle,
    crate::notices::http::api_list,
    crate::notices::http::api_scopes,
    crate::notices::http::api_send,
    crate::notices::http::api_get,
    crate::notices::http::api_confirm,
    crate::notices::http::api_summary,
    crate::notices::http::api_remind,
    crate::family::http::api_list,
    crate::family::http::api_schedule,
    crate::live::live,
))]
pub struct MessagingApi;
