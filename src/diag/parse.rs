//! Parse errors (`mem::parse::…`).
