//! The iterative resolution engine.

pub mod hints;
