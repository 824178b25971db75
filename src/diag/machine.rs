//! Machine-configuration errors (`mem::machine::…`): unknown profiles and settings, bad values,
//! inconsistent settings, and malformed profile files.
//!
//! Errors about a `.mem` file's `machine` settings carry no source text: the caller attaches the
//! chunk's source (a file, a REPL line, a notebook cell). Errors found in a YAML profile file
//! carry that file's own text, because the span points into it and not into the `.mem` file.

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum MachineError {
    /// `machine NAME` where NAME is no built-in profile.
    #[error("unknown machine profile `{name}`")]
    #[diagnostic(code(mem::machine::unknown_profile), help("{help}"))]
    UnknownProfile {
        name: String,
        #[label("no built-in profile has this name")]
        span: SourceSpan,
        help: String,
    },

    /// `machine "file.yaml"` where the file cannot be read.
    #[error("cannot read the machine profile `{path}`: {reason}")]
    #[diagnostic(code(mem::machine::profile_file), help("{help}"))]
    ProfileFile {
        path: String,
        reason: String,
        #[label("this file")]
        span: SourceSpan,
        help: String,
    },

    /// A setting key that no machine knows, or a key a profile file does not allow.
    #[error("unknown machine setting `{key}`")]
    #[diagnostic(code(mem::machine::unknown_setting), help("{help}"))]
    UnknownSetting {
        key: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    /// A known setting given a value of the wrong shape (`memory lots`, `aslr maybe`).
    #[error("bad value for `{key}`")]
    #[diagnostic(code(mem::machine::bad_value), help("{help}"))]
    BadValue {
        key: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    #[error("invalid page size {value}")]
    #[diagnostic(code(mem::machine::page_size), help("{help}"))]
    PageSize {
        value: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    #[error("invalid memory size {value}")]
    #[diagnostic(code(mem::machine::memory), help("{help}"))]
    Memory {
        value: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    #[error("invalid swap size {value}")]
    #[diagnostic(code(mem::machine::swap), help("{help}"))]
    Swap {
        value: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    #[error("invalid virtual address width: {value} bits")]
    #[diagnostic(code(mem::machine::va_bits), help("{help}"))]
    VaBits {
        value: u32,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    #[error("invalid page-table entry size: {value} bytes")]
    #[diagnostic(code(mem::machine::pte_size), help("{help}"))]
    PteSize {
        value: u32,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    /// The page-table levels cannot cover the virtual address bits (too few or too many).
    #[error("{levels} page-table levels do not fit {va_bits}-bit addresses with {page} pages")]
    #[diagnostic(code(mem::machine::levels), help("{help}"))]
    Levels {
        levels: u32,
        va_bits: u32,
        page: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    #[error("invalid TLB: {what}")]
    #[diagnostic(code(mem::machine::tlb), help("{help}"))]
    Tlb {
        what: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    #[error("invalid stack limit {value}")]
    #[diagnostic(code(mem::machine::stack_limit), help("{help}"))]
    StackLimit {
        value: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    /// The fixed heap of the teaching allocators (`heap SIZE at BASE`, `header N`).
    #[error("invalid teaching heap: {what}")]
    #[diagnostic(code(mem::machine::heap), help("{help}"))]
    Heap {
        what: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    /// `addresses decimal` on a machine whose allocator prints in hex (glibc).
    #[error("{allocator} addresses cannot print in decimal")]
    #[diagnostic(code(mem::machine::addresses), help("{help}"))]
    Addresses {
        allocator: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        #[source_code]
        src: Option<Arc<NamedSource<crate::files::Quoted>>>,
    },

    /// A profile file that is not valid YAML or does not have the profile's shape.
    #[error("invalid machine profile file: {message}")]
    #[diagnostic(code(mem::machine::yaml), help("{help}"))]
    Yaml {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
        /// Only the line the error is on: a file that is not a profile is not echoed.
        #[source_code]
        src: Arc<NamedSource<crate::files::Excerpt>>,
    },
}

impl MachineError {
    /// Attaches a profile file's text (shared by all of that file's errors) to an error whose span points into that file. Errors that
    /// already carry a source, or that can only come from a `.mem` file, are returned unchanged.
    pub fn with_source(mut self, source: Arc<NamedSource<crate::files::Quoted>>) -> MachineError {
        match &mut self {
            MachineError::UnknownSetting { src, .. }
            | MachineError::BadValue { src, .. }
            | MachineError::PageSize { src, .. }
            | MachineError::Memory { src, .. }
            | MachineError::Swap { src, .. }
            | MachineError::VaBits { src, .. }
            | MachineError::PteSize { src, .. }
            | MachineError::Levels { src, .. }
            | MachineError::Tlb { src, .. }
            | MachineError::StackLimit { src, .. }
            | MachineError::Heap { src, .. }
            | MachineError::Addresses { src, .. } => {
                if src.is_none() {
                    *src = Some(source);
                }
            }
            MachineError::UnknownProfile { .. }
            | MachineError::ProfileFile { .. }
            | MachineError::Yaml { .. } => {}
        }
        self
    }

    /// Whether the error carries its own source text (it came from a profile file), so a caller
    /// rendering it must not attach the `.mem` chunk's source instead.
    pub fn has_own_source(&self) -> bool {
        match self {
            MachineError::UnknownSetting { src, .. }
            | MachineError::BadValue { src, .. }
            | MachineError::PageSize { src, .. }
            | MachineError::Memory { src, .. }
            | MachineError::Swap { src, .. }
            | MachineError::VaBits { src, .. }
            | MachineError::PteSize { src, .. }
            | MachineError::Levels { src, .. }
            | MachineError::Tlb { src, .. }
            | MachineError::StackLimit { src, .. }
            | MachineError::Heap { src, .. }
            | MachineError::Addresses { src, .. } => src.is_some(),
            MachineError::Yaml { .. } => true,
            MachineError::UnknownProfile { .. } | MachineError::ProfileFile { .. } => false,
        }
    }

    /// Where the error points (into the `.mem` chunk or into the profile file).
    pub fn span(&self) -> SourceSpan {
        match self {
            MachineError::UnknownProfile { span, .. }
            | MachineError::ProfileFile { span, .. }
            | MachineError::UnknownSetting { span, .. }
            | MachineError::BadValue { span, .. }
            | MachineError::PageSize { span, .. }
            | MachineError::Memory { span, .. }
            | MachineError::Swap { span, .. }
            | MachineError::VaBits { span, .. }
            | MachineError::PteSize { span, .. }
            | MachineError::Levels { span, .. }
            | MachineError::Tlb { span, .. }
            | MachineError::StackLimit { span, .. }
            | MachineError::Heap { span, .. }
            | MachineError::Addresses { span, .. }
            | MachineError::Yaml { span, .. } => *span,
        }
    }
}
