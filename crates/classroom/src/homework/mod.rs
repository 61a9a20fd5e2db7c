//! homework

pub mod http;
