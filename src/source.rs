//! Reading `.mem` source: a file's bytes to text, with a coded diagnostic for a file that is
//! missing, a folder, unreadable or not UTF-8.

use std::path::Path;

use miette::NamedSource;

use crate::diag::io::IoError;

/// The text of a `.mem` file, named in diagnostics as `name`; at most `limit` bytes are read,
/// so `/dev/zero` or a huge file is an error, not all the host's memory.
pub fn read(path: &Path, name: &str, limit: usize) -> Result<String, Box<IoError>> {
    use std::io::Read;
    let path_text = || name.to_string();
    if path.is_dir() {
        return Err(Box::new(IoError::IsAFolder { path: path_text() }));
    }
    let bytes = std::fs::File::open(path).and_then(|f| {
        // Room for the whole file at once (a reader under `take` gives no size hint, and
        // growing by doubling reads a file of megabytes in many pieces).
        let size = f.metadata().map_or(0, |m| m.len()).min(limit as u64 + 1);
        let mut bytes = Vec::with_capacity(size as usize + 1);
        f.take(limit as u64 + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    match bytes {
        Ok(bytes) if bytes.len() > limit => Err(Box::new(IoError::TooLarge {
            path: path_text(),
            limit,
        })),
        Ok(bytes) => decode(name, bytes),
        Err(e) => Err(Box::new(match e.kind() {
            std::io::ErrorKind::NotFound => IoError::NotFound { path: path_text() },
            std::io::ErrorKind::PermissionDenied => IoError::PermissionDenied { path: path_text() },
            std::io::ErrorKind::IsADirectory => IoError::IsAFolder { path: path_text() },
            _ => IoError::Read {
                path: path_text(),
                reason: crate::diag::io::describe(&e),
            },
        })),
    }
}

/// Bytes to text, or where the first byte that is not UTF-8 is.
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<String, Box<IoError>> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let bytes = e.into_bytes();
            let bad = bad_byte(&bytes).unwrap_or_default();
            let at = bad.offset;
            // Up to the bad byte the text is valid, so its offset is the same in the lossy copy.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Err(Box::new(IoError::NotUtf8 {
                path: name.to_string(),
                byte: format!("{:#04x}", bytes[at]),
                line: bad.line,
                column: bad.column,
                src: NamedSource::new(name, text),
                span: (at, '\u{fffd}'.len_utf8()).into(),
            }))
        }
    }
}

/// Where a line's first byte that is not UTF-8 is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BadByte {
    pub offset: usize,
    /// 1-based, lines ending as the parser ends them (`\n`, `\r\n`, a lone `\r`).
    pub line: usize,
    /// 1-based, in bytes from the line's start, as diagnostics count columns.
    pub column: usize,
}

/// The first byte of `bytes` that is not UTF-8, if any.
pub fn bad_byte(bytes: &[u8]) -> Option<BadByte> {
    let offset = std::str::from_utf8(bytes).err()?.valid_up_to();
    let before = &bytes[..offset];
    // Valid UTF-8 up to `offset`.
    let line = crate::session::line_of(std::str::from_utf8(before).unwrap_or_default(), offset);
    let line_start = before
        .iter()
        .rposition(|&c| c == b'\n' || c == b'\r')
        .map_or(0, |i| i + 1);
    Some(BadByte {
        offset,
        line,
        column: offset - line_start + 1,
    })
}

/// `src` without a leading UTF-8 byte-order mark, which editors on Windows write and which
/// is not part of the text (rustc and Python skip it too).
pub fn strip_bom(src: &str) -> &str {
    src.strip_prefix('\u{feff}').unwrap_or(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bad_byte_is_found_by_line_and_column() {
        let b = bad_byte(b"print 1\nprint \xff\n").unwrap();
        assert_eq!((b.offset, b.line, b.column), (14, 2, 7));
        let b = bad_byte(b"a\rb\r\ncd\xc3").unwrap();
        assert_eq!((b.line, b.column), (3, 3));
        assert_eq!(bad_byte("héllo".as_bytes()), None);
    }

    #[test]
    fn a_bom_is_skipped_once() {
        assert_eq!(strip_bom("\u{feff}print 1"), "print 1");
        assert_eq!(strip_bom("print 1"), "print 1");
    }
}
