//! The audit log as its readers see it: a filterable page and API for the auditors of a scope.
//! Writing entries is the kernel's ([`kernel::audit`]), so every area records the same way.

pub mod http;
