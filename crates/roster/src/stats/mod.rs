//! Rostering statistics (归校归班, the first columns of the monthly report): for each child unit
//! of a scope, the official headcount beside what is registered, placement and activation.

pub mod http;
pub mod store;
