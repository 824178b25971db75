//! Errors of `memsim kernel`: starting the Jupyter kernel and installing its kernelspec.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum KernelError {
    #[error("cannot read the connection file {path}: {reason}")]
    #[diagnostic(
        code(mem::kernel::connection_file),
        help("Jupyter writes this file and starts the kernel with it: install the kernel with `memsim kernel install`, then pick \"Mem (memsim)\" in Jupyter or run `jupyter console --kernel mem`")
    )]
    ConnectionFile { path: String, reason: String },
    #[error("the connection file {path} is not valid: {reason}")]
    #[diagnostic(
        code(mem::kernel::connection_json),
        help("a connection file is a JSON object with ip, transport, the five *_port numbers, key and signature_scheme")
    )]
    ConnectionJson { path: String, reason: String },
    #[error("signature scheme `{scheme}` is not supported")]
    #[diagnostic(
        code(mem::kernel::signature_scheme),
        help("memsim signs and checks messages with hmac-sha256, Jupyter's default; set `signature_scheme` to \"hmac-sha256\"")
    )]
    SignatureScheme { scheme: String },
    #[error("transport `{transport}` is not supported")]
    #[diagnostic(
        code(mem::kernel::transport),
        help("memsim's kernel speaks over TCP only; set `transport` to \"tcp\"")
    )]
    Transport { transport: String },
    #[error("cannot listen for {channel} on {addr}: {reason}")]
    #[diagnostic(
        code(mem::kernel::bind),
        help("another program holds the port, or the address is not this machine's; let Jupyter pick fresh ports by starting the kernel again")
    )]
    Bind {
        channel: &'static str,
        addr: String,
        reason: String,
    },
    #[error("`%{line}` is not a magic memsim knows")]
    #[diagnostic(
        code(mem::kernel::magic),
        help("a cell may start with `%trace off` or `%trace on` (hide or show what each statement did), or `%trace` (say which)")
    )]
    Magic {
        line: String,
        #[label("this line")]
        span: miette::SourceSpan,
    },
    #[error("--sys-prefix needs an active virtual environment or conda environment")]
    #[diagnostic(
        code(mem::kernel::no_prefix),
        help("activate the environment Jupyter runs from (VIRTUAL_ENV or CONDA_PREFIX is then set), or use --user or --prefix DIR")
    )]
    NoPrefix,
    #[error("cannot find the user's Jupyter data folder: {reason}")]
    #[diagnostic(
        code(mem::kernel::no_data_dir),
        help("set JUPYTER_DATA_DIR, or install with --prefix DIR")
    )]
    NoDataDir { reason: String },
    #[error("`{name}` cannot name a kernel")]
    #[diagnostic(
        code(mem::kernel::name),
        help("Jupyter kernel names use only letters, digits, `.`, `_` and `-`, e.g. `mem` or `mem-dev`")
    )]
    Name { name: String },
    #[error("cannot write {path}: {reason}")]
    #[diagnostic(
        code(mem::kernel::write),
        help("pick a folder you may write to: --user for your own account, --prefix DIR for any other")
    )]
    Write { path: String, reason: String },
    #[error("no kernel named `{name}` is installed in {dirs}")]
    #[diagnostic(
        code(mem::kernel::not_installed),
        help("`memsim kernel list` shows the installed memsim kernels and where they are")
    )]
    NotInstalled { name: String, dirs: String },
}
