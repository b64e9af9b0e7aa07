//! Figure 3 (not yet implemented).

use super::{Ctx, FigureReport};
use crate::error::Result;

/// Runs figure 3.
pub fn run(_ctx: &Ctx) -> Result<FigureReport> {
    Ok(FigureReport::new("fig3", "not yet implemented"))
}
