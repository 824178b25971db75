//! Static checks of a parsed chunk: names, arity, types, sizes and machine settings.

pub mod machine;
