//! Figure 5 (not yet implemented).

use super::{Ctx, FigureReport};
use crate::error::Result;

/// Runs figure 5.
pub fn run(_ctx: &Ctx) -> Result<FigureReport> {
    Ok(FigureReport::new("fig5", "not yet implemented"))
}
