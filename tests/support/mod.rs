//! Shared test support: the in-memory Site.
#![allow(dead_code)]
pub mod memory_site;
