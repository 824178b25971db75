//! Any frames as a Jupyter message: decoded only when signed with the kernel's key, and never a
//! panic. Half the inputs are signed properly, so the JSON layer behind the signature is
//! reached too.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use memsim::kernel::jupyter::{Message, Signer, DELIMITER};

#[derive(Debug, Arbitrary)]
struct Input {
    ids: Vec<Vec<u8>>,
    /// Sign the four parts with the right key, or use `signature` as it is.
    sign: bool,
    signature: Vec<u8>,
    header: Vec<u8>,
    parent: Vec<u8>,
    metadata: Vec<u8>,
    content: Vec<u8>,
    buffers: Vec<Vec<u8>>,
    /// Drop this many frames from the end (a short message).
    drop: u8,
    /// Leave the delimiter out.
    no_delimiter: bool,
}

fuzz_target!(|input: Input| {
    let signer = Signer::new("fuzz-key");
    let parts: [&[u8]; 4] = [&input.header, &input.parent, &input.metadata, &input.content];
    let signature = if input.sign {
        signer.sign(&parts).into_bytes()
    } else {
        input.signature.clone()
    };
    let mut frames = input.ids.clone();
    if !input.no_delimiter {
        frames.push(DELIMITER.to_vec());
    }
    frames.push(signature);
    frames.extend(parts.iter().map(|p| p.to_vec()));
    frames.extend(input.buffers.iter().cloned());
    let keep = frames.len().saturating_sub(input.drop as usize % 8);
    frames.truncate(keep);
    let at = frames.iter().position(|f| f == DELIMITER);
    let sent = frames.clone();
    if let Ok(m) = Message::decode(frames, &signer) {
        // A message that decodes carries the signature of its four parts, made with the key.
        let at = at.expect("decoded without a delimiter");
        let four: Vec<&[u8]> = sent[at + 2..at + 6].iter().map(Vec::as_slice).collect();
        assert_eq!(
            sent[at + 1].to_ascii_lowercase(),
            signer.sign(&four).into_bytes()
        );
        let _ = m.msg_type();
        let _ = m.encode(&signer);
    }
});
