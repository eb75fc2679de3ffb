//! Multiplicity adjustment.

/// Holm's step-down adjusted p-values (Holm 1979, Scand J Stat 6:65), as R's
/// `p.adjust(p, "holm")`: sort ascending, p̃₍ᵢ₎ = max_{j≤i} min(1, (m − j + 1)·p₍ⱼ₎). NaN entries
/// are kept as NaN and do not count towards m (R's `na.rm` behaviour of `p.adjust`).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = idx.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_matches_r_and_skips_nan() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
        let a = holm(&[0.01, 0.04, 0.03, 0.005]);
        for (x, y) in a.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert!((x - y).abs() < 1e-15, "{a:?}");
        }
        let b = holm(&[0.5, f64::NAN, 0.6]);
        assert!((b[0] - 1.0).abs() < 1e-15 && b[1].is_nan() && (b[2] - 1.0).abs() < 1e-15);
    }
}
