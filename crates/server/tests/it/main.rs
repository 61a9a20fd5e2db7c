//! Integration tests: a real server per test, each on its own fresh SQLite and PostgreSQL database.

mod fixture;
mod harness;

mod accounts;
mod activation;
mod audit;
mod browser;
mod browser_homework;
mod browser_library;
mod browser_messaging;
mod browser_roster;
mod browser_timetable;
mod calendar;
mod classes;
mod cli;
mod homework;
mod library;
mod messaging;
mod openapi;
mod org;
mod pages;
mod roster;
mod schema;
mod timetable;
mod webdriver;
