//! The one error type at the HTTP edge. Each variant has a stable snake_case code, an HTTP status
//! and a Fluent key; [`crate::web::finish_errors`] renders it as JSON or as a page in the user's language.

use crate::db::DbError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A problem with one input field: which field, and a Fluent key (with arguments) saying what is wrong.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(skip)]
    pub key: &'static str,
    #[serde(skip)]
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, key: &'static str) -> FieldError {
        FieldError { field: field.into(), key, args: Vec::new() }
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> FieldError {
        self.args.push((name, value.to_string()));
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("wrong login or password")]
    InvalidCredentials,
    #[error("locked for {retry_after} s")]
    Locked { retry_after: i64 },
    #[error("server busy, retry after {retry_after} s")]
    Busy { retry_after: i64 },
    /// One person sending faster than the configured rate (messages in a flood).
    #[error("too fast, retry after {retry_after} s")]
    TooFast { retry_after: i64 },
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("request body too large")]
    TooLarge,
    #[error("a second factor is required")]
    SecondFactorRequired,
    #[error("service not ready")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, key: &'static str) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, key)])
    }

    /// A text longer than `max` characters.
    pub fn too_long(field: impl Into<String>, max: usize) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, "error-field-too-long").arg("max", max)])
    }

    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Locked { .. } => "locked",
            AppError::Busy { .. } => "busy",
            AppError::TooFast { .. } => "too_fast",
            AppError::Csrf => "csrf",
            AppError::Invalid(_) => "invalid_input",
            AppError::TooLarge => "too_large",
            AppError::SecondFactorRequired => "second_factor_required",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf | AppError::SecondFactorRequired => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Locked { .. } | AppError::Busy { .. } | AppError::TooFast { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Fluent key of the message shown to the user.
    pub fn key(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "error-unauthenticated",
            AppError::Forbidden => "error-forbidden",
            AppError::NotFound => "error-not-found",
            AppError::InvalidCredentials => "error-invalid-credentials",
            AppError::Locked { .. } => "error-locked",
            AppError::Busy { .. } => "error-busy",
            AppError::TooFast { .. } => "error-too-fast",
            AppError::Csrf => "error-csrf",
            AppError::Invalid(_) => "error-invalid-input",
            AppError::TooLarge => "error-too-large",
            AppError::SecondFactorRequired => "error-second-factor",
            AppError::Unavailable => "error-unavailable",
            AppError::Internal(_) => "error-internal",
        }
    }

    pub fn retry_after(&self) -> Option<i64> {
        match self {
            AppError::Locked { retry_after } | AppError::Busy { retry_after } | AppError::TooFast { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> AppError {
        match &e {
            DbError::Sqlx(sqlx::Error::RowNotFound) => AppError::NotFound,
            DbError::Sqlx(sqlx::Error::PoolTimedOut) | DbError::Sqlx(sqlx::Error::Io(_)) => {
                tracing::error!(error = %e, "database unavailable");
                AppError::Unavailable
            }
            _ => AppError::Internal(e.to_string()),
        }
    }
}

/// The error as it travels from a handler to the renderer, which knows the request's language.
#[derive(Debug, Clone)]
pub struct PendingError {
    pub code: &'static str,
    pub status: StatusCode,
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub details: Vec<FieldError>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            // Internal causes are logged, never shown.
            tracing::error!(%cause, "internal error");
        }
        let mut args = Vec::new();
        if let Some(s) = self.retry_after() {
            args.push(("minutes", ((s + 59) / 60).max(1).to_string()));
            args.push(("seconds", s.to_string()));
        }
        let pending = PendingError {
            code: self.code(),
            status: self.status(),
            key: self.key(),
            args,
            details: match &self {
                AppError::Invalid(d) => d.clone(),
                _ => Vec::new(),
            },
        };
        let mut response = self.status().into_response();
        if let Some(s) = self.retry_after() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, s.max(1).into());
        }
        response.extensions_mut().insert(pending);
        response
    }
}
