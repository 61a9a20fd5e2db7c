//! questions

pub mod http;
