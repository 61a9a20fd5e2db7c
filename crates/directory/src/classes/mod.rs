//! Classes: administrative, teaching and elective. A class records its stage and entry year, so its
//! grade follows from the date and it moves up each school year without edits.

pub mod http;
pub mod model;
pub mod store;
