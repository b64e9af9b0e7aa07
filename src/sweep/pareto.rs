//! The Pareto front of a sweep: the points no other point beats on both error and cost.

/// Indices of the non-dominated points of `points = [(cost, error), …]`, both minimized,
/// sorted by cost then error then index. Point `p` is dominated when some `q` has
/// `cost_q ≤ cost_p` and `error_q ≤ error_p` with at least one strict; points equal in both
/// are all kept. Points with a non-finite cost or error take no part (neither kept nor
/// dominating). O(n²), fine for the sizes of sweeps.
///
/// ```
/// use lpmc::sweep::pareto::front;
/// // (cost, error): the second is dominated by the first.
/// assert_eq!(front(&[(1.0, 0.5), (2.0, 0.6), (3.0, 0.1)]), vec![0, 2]);
/// ```
pub fn front(points: &[(f64, f64)]) -> Vec<usize> {
    let ok = |&(c, e): &(f64, f64)| c.is_finite() && e.is_finite();
    let mut keep: Vec<usize> = (0..points.len())
        .filter(|&p| ok(&points[p]))
        .filter(|&p| {
            let (cp, ep) = points[p];
            !points
                .iter()
                .any(|q| ok(q) && q.0 <= cp && q.1 <= ep && (q.0 < cp || q.1 < ep))
        })
        .collect();
    keep.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
            .then(a.cmp(&b))
    });
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-drawn set: the staircase (1, 0.9), (2, 0.5), (4, 0.2), (8, 0.1) is the front;
    /// (3, 0.5) ties (2, 0.5) on error at a higher cost, (4, 0.3) is beaten by (4, 0.2),
    /// (9, 0.1) by (8, 0.1); the duplicate (2, 0.5) is kept with its twin; NaN is ignored.
    #[test]
    fn known_front() {
        let pts = [
            (8.0, 0.1),
            (3.0, 0.5),
            (2.0, 0.5),
            (4.0, 0.3),
            (1.0, 0.9),
            (4.0, 0.2),
            (9.0, 0.1),
            (2.0, 0.5),
            (0.5, f64::NAN),
        ];
        assert_eq!(front(&pts), vec![4, 2, 7, 5, 0]);
        assert!(front(&[]).is_empty());
        assert_eq!(front(&[(1.0, 1.0)]), vec![0]);
    }
}
