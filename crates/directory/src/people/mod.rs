//! People, their role assignments (dated, at a place in the tree or a class) and parent–student links.

pub mod audience;
pub mod http;
pub mod model;
pub mod store;
