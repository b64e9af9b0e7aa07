//! Figure 4 (not yet implemented).

use super::{Ctx, FigureReport};
use crate::error::Result;

/// Runs figure 4.
pub fn run(_ctx: &Ctx) -> Result<FigureReport> {
    Ok(FigureReport::new("fig4", "not yet implemented"))
}
