//! School years and terms of the region, with their dates. A class's grade follows from its entry
//! year and the current school year, so classes move up without edits.

pub mod http;
pub mod store;
