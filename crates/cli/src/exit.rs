//! Exit codes, documented in one place (and in the README).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command ran and found a problem (invalid dataset, unresolved check, failed run) |
//! | 2 | bad usage or configuration (unknown flag, bad config key, missing file) |
//! | 3 | infrastructure unavailable (no Docker engine, image missing and not buildable) |
//! | 130 | interrupted (Ctrl-C); containers were removed before exit |

/// Success.
pub const SUCCESS: u8 = 0;
/// The command ran and found a problem.
pub const FAILURE: u8 = 1;
/// Bad usage or configuration.
pub const USAGE: u8 = 2;
/// Infrastructure unavailable.
pub const INFRA: u8 = 3;
/// Interrupted by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

/// An error that carries its exit code. Commands wrap errors in it when the default (1) is
/// wrong.
#[derive(Debug)]
pub struct CodedError {
    /// The exit code.
    pub code: u8,
    /// The error.
    pub error: anyhow::Error,
}

impl std::error::Error for CodedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl std::fmt::Display for CodedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render(&self.error))
    }
}

/// Attach an exit code to an error.
pub fn with_code(code: u8, error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(CodedError {
        code,
        error: error.into(),
    })
}

/// The message of an error and its causes, each said once: `message: cause: cause`, leaving out
/// a cause whose text is already part of what is printed (an error that quotes its source,
/// an exit code wrapped around a whole chain).
pub fn render(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// The exit code for an error: its [`CodedError`] code, else [`FAILURE`].
pub fn code_for(e: &anyhow::Error) -> u8 {
    e.downcast_ref::<CodedError>().map_or(FAILURE, |c| c.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that quotes its source in its own message, as many do.
    #[derive(Debug)]
    struct Quoting {
        source: std::io::Error,
    }

    impl std::fmt::Display for Quoting {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot read the config file x.toml: {}", self.source)
        }
    }

    impl std::error::Error for Quoting {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let io_text = io.to_string();
        let e = with_code(USAGE, Quoting { source: io });
        let shown = render(&e);
        assert_eq!(shown.matches(&io_text).count(), 1, "{shown}");
        assert!(
            shown.starts_with("cannot read the config file x.toml: "),
            "{shown}"
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(render(&e), "outer: inner");
    }
}
