//! Shell completions for bash, zsh and fish, generated from the clap
//! definitions by `clap_complete` and committed in `completions/` (a test
//! fails when they are stale; `UPDATE_GOLDEN=1 cargo test --bin qsurgeon
//! completions` rewrites them). `qsurgeon generate completions DIR` writes
//! the same files for packagers.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Opts;

/// The shells, with the file name each one's completion system looks for
/// (bash-completion: `qsurgeon` or `qsurgeon.bash`; zsh: `_qsurgeon` on
/// `$fpath`; fish: `qsurgeon.fish`).
const SCRIPTS: [(Shell, &str); 3] = [
    (Shell::Bash, "qsurgeon.bash"),
    (Shell::Zsh, "_qsurgeon"),
    (Shell::Fish, "qsurgeon.fish"),
];

/// Every completion script: (file name, content).
pub fn scripts() -> Vec<(&'static str, Vec<u8>)> {
    SCRIPTS
        .iter()
        .map(|&(shell, name)| {
            let mut cmd = Opts::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "qsurgeon", &mut out);
            (name, out)
        })
        .collect()
}

/// `qsurgeon generate completions DIR`: writes every script into `dir`.
pub fn write_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    for (name, text) in scripts() {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The committed scripts must be what the CLI definition generates.
    #[test]
    fn committed_completions_are_current() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
        let update = std::env::var_os("UPDATE_GOLDEN").is_some();
        if update {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let mut stale = Vec::new();
        for (name, generated) in super::scripts() {
            let path = dir.join(name);
            if update {
                std::fs::write(&path, &generated).unwrap();
            }
            if std::fs::read(&path).unwrap_or_default() != generated {
                stale.push(name);
            }
        }
        assert!(
            stale.is_empty(),
            "stale completions {stale:?}: run UPDATE_GOLDEN=1 cargo test --bin qsurgeon completions"
        );
    }

    #[test]
    fn completions_know_every_command_and_flag() {
        for (name, text) in super::scripts() {
            let text = String::from_utf8(text).unwrap();
            // Flags without their dashes: fish writes `-l sasl-user`.
            for word in ["summary", "restore", "sasl-user", "older-than", "backup"] {
                assert!(text.contains(word), "{name} lacks {word}");
            }
        }
    }
}
