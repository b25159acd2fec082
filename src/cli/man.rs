//! `rdpscope man`: the man pages generated from the options, one per command.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};

/// Prints the page of `command` (the top-level page without one), or writes every page into
/// `dir` (rdpscope.1 and rdpscope-COMMAND.1 for each command, as the top page refers to them).
pub fn run(cli: clap::Command, command: Option<&str>, dir: Option<&Path>) -> Result<ExitCode> {
    let mut cli = cli.disable_help_subcommand(true);
    // Building gives each subcommand its display name (rdpscope-analyze) used in the pages.
    cli.build();
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        clap_mangen::generate_to(cli.clone(), dir)
            .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        let count = 1 + cli.get_subcommands().count();
        eprintln!("rdpscope: wrote {count} man pages to {}", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let page = match command {
        None => cli,
        Some(name) => cli.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
            anyhow!("no command {name:?}; the pages are: {}", names.join(", "))
        })?,
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    std::io::stdout().lock().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}
