//! Browser tests in real Chromium (being written).
