//! The directory's part of the OpenAPI document at /api/v1/openapi.json.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        crate::accounts::http::api_login,
        crate::accounts::http::api_totp,
        crate::accounts::http::api_logout,
        crate::accounts::http::api_me,
        crate::accounts::http::api_set_role,
        crate::accounts::http::api_set_locale,
        crate::accounts::http::api_password,
        crate::accounts::http::api_sessions,
        crate::accounts::http::api_session_revoke,
        crate::accounts::http::api_tokens,
        crate::accounts::http::api_token_create,
        crate::accounts::http::api_token_revoke,
        crate::org::http::api_create,
        crate::org::http::api_get,
        crate::org::http::api_update,
        crate::org::http::api_children,
        crate::org::http::api_move,
        crate::org::http::api_classes,
        crate::org::http::api_create_class,
        crate::classes::http::api_get,
        crate::classes::http::api_assign_teacher,
        crate::classes::http::api_move_student,
        crate::accounts::activation::api_issue,
        crate::people::http::api_list,
        crate::people::http::api_create,
        crate::people::http::api_get,
        crate::people::http::api_link_guardian,
        crate::audit::http::api_audit,
        crate::calendar::http::api_list,
        crate::calendar::http::api_create_year,
        crate::calendar::http::api_create_term
    ),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "me", description = "The signed-in person: roles, language, password, sessions, API tokens"),
        (name = "org", description = "The org tree: bureaus, schools, teaching points, offices"),
        (name = "classes", description = "Classes and their teachers and students"),
        (name = "people", description = "People, roles and family links"),
        (name = "audit", description = "The audit log of a scope"),
        (name = "calendar", description = "The region's school years and terms")
    )
)]
pub struct DirectoryApi;
