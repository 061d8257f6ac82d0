//! Shared test support: the in-memory Site and the in-memory queue.
#![allow(dead_code)]
pub mod memory_queue;
pub mod memory_site;
