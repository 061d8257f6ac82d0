//! TODO fields
