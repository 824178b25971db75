//! `memsim kernel …`: run the Jupyter kernel, or install, uninstall and list its kernelspec.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use miette::Report;

use crate::diag::kernel::KernelError;
use crate::kernel::install::{self, Scope};
use crate::render::diag;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct KernelArgs {
    #[command(subcommand)]
    action: Option<Action>,
    /// Run the kernel on this connection file (Jupyter passes it).
    #[arg(long, value_name = "FILE")]
    connection_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Write the kernelspec (kernel.json and logos) where Jupyter looks for kernels.
    Install(Where),
    /// Remove an installed kernelspec.
    Uninstall(Where),
    /// List the installed memsim kernelspecs.
    List,
}

#[derive(Args, Debug)]
struct Where {
    #[command(flatten)]
    place: Place,
    /// The kernel's name in Jupyter.
    #[arg(long, default_value = install::DEFAULT_NAME)]
    name: String,
}

/// One of the data folders; none given: your own for install, wherever Jupyter finds it for
/// uninstall.
#[derive(Args, Debug)]
#[group(multiple = false)]
struct Place {
    /// Your own Jupyter data folder (the default for install).
    #[arg(long)]
    user: bool,
    /// The active virtual or conda environment (one install for a JupyterHub image).
    #[arg(long)]
    sys_prefix: bool,
    /// DIR/share/jupyter.
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
}

impl Place {
    fn scope(&self) -> Option<Scope> {
        if self.sys_prefix {
            Some(Scope::SysPrefix)
        } else if let Some(p) = &self.prefix {
            Some(Scope::Prefix(p.clone()))
        } else if self.user {
            Some(Scope::User)
        } else {
            None
        }
    }
}

fn fail(e: KernelError, color: bool) -> i32 {
    eprint!("{}", diag::render(&Report::new(e), color, 100));
    2
}

pub fn main(args: KernelArgs, color: bool) -> i32 {
    let env = |k: &str| std::env::var_os(k);
    match (args.action, args.connection_file) {
        (None, Some(file)) => match crate::kernel::run(&file) {
            Ok(()) => 0,
            Err(e) => fail(e, color),
        },
        (None, None) => {
            eprintln!(
                "memsim kernel: give --connection-file FILE (Jupyter does), or one of \
                 install, uninstall, list; `memsim kernel --help` says more"
            );
            2
        }
        (Some(Action::Install(w)), _) => {
            let exe = match std::env::current_exe() {
                Ok(p) => p,
                Err(e) => {
                    return fail(
                        KernelError::Write {
                            path: "kernel.json".into(),
                            reason: format!("cannot tell where this memsim is: {e}"),
                        },
                        color,
                    )
                }
            };
            let scope = w.place.scope().unwrap_or(Scope::User);
            match install::install(&scope, &w.name, &exe, &env) {
                Ok(dir) => {
                    println!(
                        "installed the kernel `{}` ({}) in {}",
                        w.name,
                        install::DISPLAY_NAME,
                        dir.display()
                    );
                    0
                }
                Err(e) => fail(e, color),
            }
        }
        (Some(Action::Uninstall(w)), _) => {
            match install::uninstall(w.place.scope().as_ref(), &w.name, &env) {
                Ok(dir) => {
                    println!("removed the kernel `{}` from {}", w.name, dir.display());
                    0
                }
                Err(e) => fail(e, color),
            }
        }
        (Some(Action::List), _) => {
            let found = install::list(&env);
            if found.is_empty() {
                println!("no memsim kernel is installed; `memsim kernel install` installs one");
            }
            let width = found.iter().map(|f| f.0.len()).max().unwrap_or(0);
            for (name, dir) in found {
                println!("{name:width$}  {}", dir.display());
            }
            0
        }
    }
}
