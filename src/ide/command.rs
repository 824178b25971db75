//! The REPL's own `:`-commands: their table (read by `:help` and completion) and parsing.

use std::path::PathBuf;

use crate::suggest::Reach;

/// One `:`-command as `:help` lists it.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    pub name: &'static str,
    /// The arguments, as a usage line shows them (empty: none).
    pub args: &'static str,
    pub summary: &'static str,
}

/// Every `:`-command, in the order `:help` lists them.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "help",
        args: "[TOPIC]",
        summary: "explain a keyword, a builtin or a concept (page, page fault, TLB, malloc, …)",
    },
    CommandInfo {
        name: "machine",
        args: "",
        summary: "describe the current machine: pages, address bits, levels, memory, TLB",
    },
    CommandInfo {
        name: "trace",
        args: "on|off",
        summary: "show or hide what the MMU and the OS did for each input",
    },
    CommandInfo {
        name: "undo",
        args: "",
        summary: "take back the last accepted input (the session is rebuilt without it)",
    },
    CommandInfo {
        name: "reset",
        args: "",
        summary: "start over: the default machine, no processes, no variables",
    },
    CommandInfo {
        name: "load",
        args: "FILE",
        summary: "run a .mem file in this session, keeping its state",
    },
    CommandInfo {
        name: "save",
        args: "FILE",
        summary: "write the accepted input as a .mem file that replays to this state",
    },
    CommandInfo {
        name: "quit",
        args: "",
        summary: "leave (Ctrl-D does too)",
    },
];

/// A parsed `:`-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help(Option<String>),
    Machine,
    /// `None`: say whether the trace is on.
    Trace(Option<bool>),
    Undo,
    Reset,
    Load(PathBuf),
    Save(PathBuf),
    Quit,
}

/// Parses a line that starts with `:`. The error is a sentence for the user.
pub fn parse(line: &str) -> Result<Command, String> {
    let body = line.trim().trim_start_matches(':');
    let (name, arg) = match body.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (body, ""),
    };
    let no_arg = |c: Command| {
        if arg.is_empty() {
            Ok(c)
        } else {
            Err(format!(":{name} takes no argument"))
        }
    };
    let file = |make: fn(PathBuf) -> Command| {
        if arg.is_empty() {
            Err(format!("usage: :{name} FILE"))
        } else {
            Ok(make(PathBuf::from(unquote(arg))))
        }
    };
    match name {
        "help" | "h" | "?" => Ok(Command::Help((!arg.is_empty()).then(|| arg.to_string()))),
        "machine" | "m" => no_arg(Command::Machine),
        "trace" | "t" => match arg {
            "" => Ok(Command::Trace(None)),
            "on" => Ok(Command::Trace(Some(true))),
            "off" => Ok(Command::Trace(Some(false))),
            other => Err(format!("usage: :trace on|off (not `{other}`)")),
        },
        "undo" | "u" => no_arg(Command::Undo),
        "reset" => no_arg(Command::Reset),
        "load" | "l" => file(Command::Load),
        "save" | "s" => file(Command::Save),
        "quit" | "q" | "exit" => no_arg(Command::Quit),
        "" => Err("a command name follows the `:`; `:help` lists them".into()),
        other => {
            let hint = match crate::suggest::did_you_mean(
                other,
                COMMANDS.iter().map(|c| c.name),
                Reach::Typo,
            ) {
                Some(s) => format!("did you mean `:{s}`?"),
                None => "`:help` lists the commands".into(),
            };
            Err(format!("unknown command `:{other}`; {hint}"))
        }
    }
}

/// `"my file.mem"` → `my file.mem`, so names with spaces can be given.
fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse(":help"), Ok(Command::Help(None)));
        assert_eq!(
            parse(":help page fault"),
            Ok(Command::Help(Some("page fault".into())))
        );
        assert_eq!(parse(" :trace off "), Ok(Command::Trace(Some(false))));
        assert_eq!(
            parse(":save \"a b.mem\""),
            Ok(Command::Save(PathBuf::from("a b.mem")))
        );
        assert_eq!(parse(":q"), Ok(Command::Quit));
        assert!(parse(":save").is_err());
        assert!(parse(":undo now").is_err());
        assert!(parse(":trace maybe").is_err());
        assert!(parse(":").is_err());
        assert!(parse(":sav x").unwrap_err().contains(":save"));
    }
}
