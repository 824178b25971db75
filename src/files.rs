//! Which host files a scenario may read: paths resolve inside a root (the scenario's folder, the
//! REPL's or kernel's working folder) or inside the extra root the user gives (`--root DIR`),
//! and only regular files are read, so a scenario from someone else cannot read the host's
//! secrets, block on a FIFO or stream a device forever.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Why a path a scenario names is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The path leads outside every root.
    OutsideRoot,
    /// Not a regular file: a FIFO, a device, a socket; `kind` says which.
    NotAFile { kind: &'static str },
}

/// The roots a scenario's paths must stay inside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roots {
    /// A folder the user allowed besides the scenario's own (`--root DIR`, `MEMSIM_ROOT`).
    pub extra: Option<PathBuf>,
}

impl Roots {
    /// Where `path` (as written in the scenario) is on the host, if it may be read: relative to
    /// `base` (the scenario's folder), inside `base` or the extra root once symbolic links and
    /// `..` are resolved. A path that does not exist yet is judged by its parts as written, so
    /// its diagnostic is "no such file", not a refusal, only when it would be inside a root.
    pub fn resolve(&self, base: &Path, path: &str) -> Result<PathBuf, Refusal> {
        let full = base.join(path);
        let real = canonical(&full);
        let inside = |root: &Path| real.starts_with(canonical(root));
        if !inside(base) && !self.extra.as_deref().is_some_and(inside) {
            return Err(Refusal::OutsideRoot);
        }
        if let Ok(meta) = std::fs::metadata(&full) {
            let kind = file_kind(&meta);
            if let Some(kind) = kind {
                return Err(Refusal::NotAFile { kind });
            }
        }
        Ok(full)
    }
}

/// `None` for a regular file or a folder (a folder has its own diagnostics), else what it is.
fn file_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// The path with symbolic links resolved as far as it exists, and `.` and `..` folded in the
/// rest: a path to a file not yet there still compares with its root.
fn canonical(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    // The longest prefix that exists is resolved by the host; the rest is folded by hand.
    let parts: Vec<Component> = absolute.components().collect();
    for cut in (0..=parts.len()).rev() {
        let head: PathBuf = parts[..cut].iter().collect();
        if let Ok(real) = std::fs::canonicalize(&head) {
            let mut out = real;
            for c in &parts[cut..] {
                match c {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other.as_os_str()),
                }
            }
            return out;
        }
    }
    absolute
}

/// Reads at most `limit` bytes of a file as text; more is an error that names the limit, so a
/// huge file is never loaded whole.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("it is larger than {} bytes", limit),
        ));
    }
    String::from_utf8(bytes).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))
}

/// One line of a file, as the source of a diagnostic: miette sees the file's own line number
/// and byte offsets, and nothing of the file but the line the diagnostic is about (a
/// scenario's diagnostic must not show other lines of a file it was not meant to read).
#[derive(Debug, Clone, Default)]
pub struct Excerpt {
    text: String,
    /// Byte offset of `text` in the file, and the 0-based number of its line.
    offset: usize,
    first_line: usize,
}

/// Longer lines are not quoted: no text file a scenario reads has them.
const MAX_QUOTED: usize = 1 << 20;

impl Excerpt {
    /// Line `line` (1-based) of what `input` reads, or `None` if it cannot be read that far.
    pub fn line_of(input: impl Read, line: usize) -> Option<Self> {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(input);
        let (mut n, mut offset) = (1usize, 0usize);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let got = (&mut r)
                .take(MAX_QUOTED as u64 + 1)
                .read_until(b'\n', &mut buf)
                .ok()?;
            if got == 0 || got > MAX_QUOTED {
                return None;
            }
            if n == line {
                return Some(Excerpt {
                    text: String::from_utf8_lossy(&buf).into_owned(),
                    offset,
                    first_line: line - 1,
                });
            }
            offset += got;
            n += 1;
        }
    }

    /// Line `line` (1-based) of a text already in memory.
    pub fn line_of_text(text: &str, line: usize) -> Self {
        Excerpt::line_of(text.as_bytes(), line).unwrap_or_default()
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let local = SourceSpan::new(
            span.offset().saturating_sub(self.offset).into(),
            span.len().min(self.text.len()),
        );
        let c = self.text.read_span(&local, before, after)?;
        let at = c.span();
        Ok(Box::new(MietteSpanContents::new(
            c.data(),
            SourceSpan::new((at.offset() + self.offset).into(), at.len()),
            c.line() + self.first_line,
            c.column(),
            c.line_count(),
        )))
    }
}

/// A whole file as the source of a diagnostic, quoted one line at a time: miette shows the
/// lines a label points at and no lines around them.
#[derive(Debug, Clone)]
pub struct Quoted(pub String);

impl SourceCode for Quoted {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        _before: usize,
        _after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = &self.0;
        let (from, to) = (span.offset(), span.offset() + span.len());
        if to > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        // Whole lines: the label's line from its first byte to its end.
        let start = text[..from].rfind('\n').map_or(0, |i| i + 1);
        let end = text[to..]
            .find('\n')
            .map_or(text.len(), |i| to + i)
            .max(start);
        let line = text[..start].matches('\n').count();
        let lines = text[start..end].matches('\n').count() + 1;
        Ok(Box::new(MietteSpanContents::new(
            &text.as_bytes()[start..end],
            SourceSpan::new(start.into(), end - start),
            line,
            text[start..from].chars().count(),
            lines,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("memsim-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/a.trace"), "1\n").unwrap();
        d
    }

    #[test]
    fn paths_inside_the_scenario_folder_resolve() {
        let d = tmp("inside");
        let r = Roots::default();
        assert!(r.resolve(&d, "sub/a.trace").is_ok());
        assert!(r.resolve(&d, "sub/../sub/a.trace").is_ok());
        assert!(r.resolve(&d, "missing.trace").is_ok());
    }

    #[test]
    fn paths_outside_are_refused_unless_a_root_widens_them() {
        let d = tmp("outside");
        let r = Roots::default();
        let sub = d.join("sub");
        assert_eq!(r.resolve(&sub, "../x"), Err(Refusal::OutsideRoot));
        assert_eq!(r.resolve(&sub, "/etc/passwd"), Err(Refusal::OutsideRoot));
        assert_eq!(
            r.resolve(&sub, "../../../../../../etc/passwd"),
            Err(Refusal::OutsideRoot)
        );
        let wide = Roots {
            extra: Some(d.clone()),
        };
        assert!(wide.resolve(&sub, "../sub/a.trace").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_root_is_refused() {
        let d = tmp("link");
        std::os::unix::fs::symlink("/etc", d.join("sub/etc")).unwrap();
        let r = Roots::default();
        assert_eq!(
            r.resolve(&d.join("sub"), "etc/passwd"),
            Err(Refusal::OutsideRoot)
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_not_files() {
        let r = Roots {
            extra: Some("/dev".into()),
        };
        assert!(matches!(
            r.resolve(Path::new("/dev"), "zero"),
            Err(Refusal::NotAFile { .. })
        ));
    }

    #[test]
    fn an_excerpt_holds_one_line_only() {
        let e = Excerpt::line_of_text("one\ntwo\nthree\n", 2);
        assert_eq!(e.text, "two\n");
        assert_eq!((e.offset, e.first_line), (4, 1));
        assert!(Excerpt::line_of(&b"one\n"[..], 3).is_none());
    }

    #[test]
    fn a_file_over_the_limit_is_not_read_whole() {
        let d = tmp("limit");
        std::fs::write(d.join("big"), "x".repeat(100)).unwrap();
        assert!(read_limited(&d.join("big"), 100).is_ok());
        let e = read_limited(&d.join("big"), 99).unwrap_err();
        assert!(e.to_string().contains("larger than 99 bytes"));
    }
}
