//! Figure 2 (not yet implemented).

use super::{Ctx, FigureReport};
use crate::error::Result;

/// Runs figure 2.
pub fn run(_ctx: &Ctx) -> Result<FigureReport> {
    Ok(FigureReport::new("fig2", "not yet implemented"))
}
