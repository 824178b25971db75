//! `memsim kernel install | uninstall | list`: the kernelspec folder Jupyter finds the kernel by.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::diag::kernel::KernelError;

/// The name Jupyter knows the kernel by unless told otherwise.
pub const DEFAULT_NAME: &str = "mem";
pub const DISPLAY_NAME: &str = "Mem (memsim)";

const LOGO_32: &[u8] = include_bytes!("logo/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("logo/logo-64x64.png");
const LOGO_SVG: &[u8] = include_bytes!("logo/logo-svg.svg");
/// The language reference travels with the kernelspec, for the notebook's Help menu.
const LANGUAGE_DOCS: &str = include_str!("../../docs/language.md");

/// Which Jupyter data folder to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The user's own (`~/.local/share/jupyter` on Linux).
    User,
    /// The active virtual or conda environment's: one install for everyone using it.
    SysPrefix,
    /// `DIR/share/jupyter`.
    Prefix(PathBuf),
}

/// Reads an environment variable; tests pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The Jupyter data folder of `scope`.
pub fn data_dir(scope: &Scope, env: Env) -> Result<PathBuf, KernelError> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    match scope {
        Scope::Prefix(dir) => Ok(absolute(dir).join("share").join("jupyter")),
        Scope::SysPrefix => set("VIRTUAL_ENV")
            .or_else(|| set("CONDA_PREFIX"))
            .map(|p| p.join("share").join("jupyter"))
            .ok_or(KernelError::NoPrefix),
        Scope::User => {
            if let Some(d) = set("JUPYTER_DATA_DIR") {
                return Ok(d);
            }
            let no = |reason: &str| KernelError::NoDataDir {
                reason: reason.into(),
            };
            if cfg!(windows) {
                return set("APPDATA")
                    .map(|a| a.join("jupyter"))
                    .ok_or_else(|| no("APPDATA is not set"));
            }
            let home = set("HOME").ok_or_else(|| no("HOME is not set"))?;
            if cfg!(target_os = "macos") {
                Ok(home.join("Library").join("Jupyter"))
            } else {
                Ok(set("XDG_DATA_HOME")
                    .unwrap_or_else(|| home.join(".local").join("share"))
                    .join("jupyter"))
            }
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Every folder Jupyter looks for kernels in, first found first (as `jupyter kernelspec list`).
pub fn search_dirs(env: Env) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(paths) = env("JUPYTER_PATH") {
        dirs.extend(std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()));
    }
    dirs.extend(data_dir(&Scope::User, env).ok());
    dirs.extend(data_dir(&Scope::SysPrefix, env).ok());
    if !cfg!(windows) {
        dirs.push(PathBuf::from("/usr/local/share/jupyter"));
        dirs.push(PathBuf::from("/usr/share/jupyter"));
    }
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let new = !seen.contains(d);
        seen.push(d.clone());
        new
    });
    dirs
}

fn check_name(name: &str) -> Result<(), KernelError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(KernelError::Name { name: name.into() })
    }
}

/// `kernel.json` for a memsim at `exe`, with its docs at `docs`.
pub fn kernel_json(exe: &Path, docs: &Path) -> Value {
    json!({
        "argv": [exe.display().to_string(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "mem",
        "interrupt_mode": "message",
        "kernel_protocol_version": "5.3",
        "env": { "MEMSIM_KERNEL_DOCS": docs.display().to_string() },
        "metadata": { "debugger": false },
    })
}

/// Writes `kernels/NAME/` under the data folder of `scope`; returns the folder.
pub fn install(scope: &Scope, name: &str, exe: &Path, env: Env) -> Result<PathBuf, KernelError> {
    check_name(name)?;
    let dir = data_dir(scope, env)?.join("kernels").join(name);
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).map_err(|e| KernelError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    };
    std::fs::create_dir_all(&dir).map_err(|e| KernelError::Write {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let docs = dir.join("language.md");
    let spec = serde_json::to_string_pretty(&kernel_json(&absolute(exe), &docs))
        .unwrap_or_default()
        + "\n";
    write(&dir.join("kernel.json"), spec.as_bytes())?;
    write(&dir.join("logo-32x32.png"), LOGO_32)?;
    write(&dir.join("logo-64x64.png"), LOGO_64)?;
    write(&dir.join("logo-svg.svg"), LOGO_SVG)?;
    write(&docs, LANGUAGE_DOCS.as_bytes())?;
    Ok(dir)
}

/// Whether `dir` holds a memsim kernelspec (and not some other kernel of that name).
fn is_memsim(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("kernel.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .is_some_and(|v| v["language"] == "mem")
}

/// Removes the kernelspec `name`: from `scope`'s folder, or from the first folder Jupyter
/// would find it in. Returns the folder removed.
pub fn uninstall(scope: Option<&Scope>, name: &str, env: Env) -> Result<PathBuf, KernelError> {
    check_name(name)?;
    let dirs = match scope {
        Some(s) => vec![data_dir(s, env)?],
        None => search_dirs(env),
    };
    let Some(dir) = dirs
        .iter()
        .map(|d| d.join("kernels").join(name))
        .find(|d| is_memsim(d))
    else {
        let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(KernelError::NotInstalled {
            name: name.into(),
            dirs: list.join(", "),
        });
    };
    std::fs::remove_dir_all(&dir).map_err(|e| KernelError::Write {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(dir)
}

/// Every memsim kernelspec Jupyter can find: name and folder, in search order.
pub fn list(env: Env) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for d in search_dirs(env) {
        let Ok(entries) = std::fs::read_dir(d.join("kernels")) else {
            continue;
        };
        let mut here: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .filter(|(_, p)| is_memsim(p))
            .collect();
        here.sort();
        found.extend(here);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| vars.iter().find(|v| v.0 == k).map(|v| OsString::from(v.1))
    }

    #[test]
    fn data_dirs_follow_jupyter() {
        let e = env(&[("HOME", "/home/ann"), ("VIRTUAL_ENV", "/venv")]);
        assert_eq!(
            data_dir(&Scope::SysPrefix, &e).unwrap(),
            PathBuf::from("/venv/share/jupyter")
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                data_dir(&Scope::User, &e).unwrap(),
                PathBuf::from("/home/ann/.local/share/jupyter")
            );
        }
        let none = env(&[("HOME", "/home/ann")]);
        assert!(matches!(
            data_dir(&Scope::SysPrefix, &none),
            Err(KernelError::NoPrefix)
        ));
        let conda = env(&[("CONDA_PREFIX", "/opt/conda")]);
        assert_eq!(
            data_dir(&Scope::SysPrefix, &conda).unwrap(),
            PathBuf::from("/opt/conda/share/jupyter")
        );
    }

    #[test]
    fn kernel_names_are_checked() {
        assert!(check_name("mem").is_ok() && check_name("mem-2.x_y").is_ok());
        assert!(check_name("").is_err() && check_name("../x").is_err());
    }
}
