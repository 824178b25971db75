//! Memory-safety findings (warnings): heap-buffer-overflow, use-after-free, uninitialised reads
//! and leaks. The page is valid, so none of them faults; they are reported as valgrind and ASan
//! report them, and `expect warning KIND { ... }` checks for them.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum HeapFinding {
    #[error("{message}")]
    #[diagnostic(code(mem::heap::overflow), severity(Warning), help("{help}"))]
    Overflow {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    #[error("{message}")]
    #[diagnostic(code(mem::heap::use_after_free), severity(Warning), help("{help}"))]
    UseAfterFree {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    #[error("{message}")]
    #[diagnostic(code(mem::heap::uninit), severity(Warning), help("{help}"))]
    Uninit {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    #[error("{message}")]
    #[diagnostic(code(mem::heap::leak), severity(Warning), help("{help}"))]
    Leak {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
}

impl HeapFinding {
    /// The diagnostic for a tracker's finding.
    pub fn from_finding(f: crate::heap::safety::Finding) -> Self {
        use crate::heap::safety::FindingKind as K;
        let span = SourceSpan::from(f.site.0..f.site.1.max(f.site.0));
        let (message, label, help) = (f.message, f.label, f.help);
        match f.kind {
            K::Overflow => HeapFinding::Overflow {
                message,
                span,
                label,
                help,
            },
            K::UseAfterFree => HeapFinding::UseAfterFree {
                message,
                span,
                label,
                help,
            },
            K::Uninit => HeapFinding::Uninit {
                message,
                span,
                label,
                help,
            },
            K::Leak => HeapFinding::Leak {
                message,
                span,
                label,
                help,
            },
        }
    }
}
