//! `nerve plot`: redraws a run folder's charts.

use anyhow::Result;

use crate::charts::{Format, draw_run};

const EXAMPLES: &str = "\
Examples:
  nerve plot runs/iris-20261130-101500
  nerve plot runs/iris --png";

/// Flags of `nerve plot`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct PlotArgs {
    /// A run folder written by `nerve train` (holding history.csv and metrics.json).
    run_dir: std::path::PathBuf,
    /// Draw PNG files instead of SVG.
    #[arg(long)]
    png: bool,
}

/// Runs `nerve plot`.
pub(crate) fn plot(args: PlotArgs) -> Result<std::process::ExitCode> {
    let format = if args.png { Format::Png } else { Format::Svg };
    for path in draw_run(&args.run_dir, format)? {
        crate::output::print(&format!("wrote {}\n", path.display()))?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
