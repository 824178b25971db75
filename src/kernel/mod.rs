//! The Jupyter kernel: `memsim kernel --connection-file F` makes memsim a third driver of the
//! same [`Session`](crate::session::Session) as the CLI and the REPL, for notebooks.
//!
//! [`jupyter`] speaks the protocol (sockets, signing, routing) and knows nothing of memsim;
//! [`outputs`] turns what a cell did into message contents and knows nothing of sockets;
//! `server` joins the two, and `magic` reads the kernel's own settings (`%trace off`) from a
//! cell; [`install`] writes the kernelspec Jupyter finds it by.

pub mod install;
pub mod jupyter;
mod magic;
pub mod outputs;
mod server;

use std::path::Path;

use crate::diag::kernel::KernelError;

/// Runs the kernel on a connection file until a front end asks it to shut down.
pub fn run(connection_file: &Path) -> Result<(), KernelError> {
    let info = jupyter::ConnectionInfo::read(connection_file)?;
    let (transport, inbox) = jupyter::Transport::bind(&info)?;
    // Jupyter starts a kernel in the notebook's folder: relative paths resolve from there.
    server::serve(transport, inbox, std::path::PathBuf::from("."));
    Ok(())
}
