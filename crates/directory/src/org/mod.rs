//! The org tree: province → city → district → school (→ teaching point), with offices under bureaus.

pub mod counts;
pub mod http;
pub mod model;
pub mod store;
