//! One HTTP client for calls to other systems (harvesting another platform's OAI-PMH): rustls on
//! ring like the file storage, bounded waits, and a user agent that names us.

pub use reqwest;
use std::time::Duration;

pub fn client() -> reqwest::Client {
    // The same crypto provider the S3 storage installs; whichever comes first wins.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("Hanlin/", env!("CARGO_PKG_VERSION"), " (+OAI-PMH harvester)"))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client with a TLS provider installed")
}
