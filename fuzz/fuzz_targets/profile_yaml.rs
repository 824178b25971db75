//! Any text as a machine profile file: a machine or diagnostics, never a panic, and no
//! diagnostic echoes the file beyond the line it points at.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = memsim::profile::load_file(Path::new("fuzz.yaml"), text) {
        for e in &errors {
            let _ = format!("{e:?}");
        }
    }
});
