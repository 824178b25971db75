//! Any bytes as a trace file, streamed and parsed whole: references or a line error, never a
//! panic, and both readers agree on which.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memsim::session::replay::{parse_trace, TraceReader};

fuzz_target!(|data: &[u8]| {
    for page_size in [256u64, 4096] {
        let mut reader = TraceReader::new(data, page_size);
        let mut streamed = Vec::new();
        let ok = loop {
            match reader.next_refs() {
                Ok(Some(refs)) => streamed.extend_from_slice(refs),
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        if let Ok(text) = std::str::from_utf8(data) {
            if let Ok(whole) = parse_trace(text, page_size) {
                assert!(ok, "the stream rejected what the whole-text parser took");
                assert_eq!(whole, streamed);
            }
        }
    }
});
