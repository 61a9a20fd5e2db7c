//! Login and sessions: passwords (Argon2id), throttling and lockout, sessions with CSRF tokens,
//! personal API tokens, TOTP second factor, activation codes for first logins, and building the
//! [`kernel::auth::Actor`] of a request.

pub mod activation;
pub mod actor;
pub mod admin;
pub mod http;
pub mod login;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod totp;

pub const SESSION_COOKIE: &str = "hanlin_session";
