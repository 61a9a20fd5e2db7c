//! A small W3C WebDriver client (being written).
