//! Figure 6 (not yet implemented).

use super::{Ctx, FigureReport};
use crate::error::Result;

/// Runs figure 6.
pub fn run(_ctx: &Ctx) -> Result<FigureReport> {
    Ok(FigureReport::new("fig6", "not yet implemented"))
}
