//! load

pub mod http;
