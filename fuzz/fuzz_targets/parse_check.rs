//! Any bytes as a `.mem` file: parsing and checking end in a program or in diagnostics, and
//! rendering those diagnostics never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memsim::session::{Options, Session};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let session = Session::new(Options::default());
    let result = session.check("fuzz.mem", src);
    for d in &result.diagnostics {
        let _ = format!("{:?}", d.report);
    }
});
