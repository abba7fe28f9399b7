//! A tiny deterministic random number generator (SplitMix64) and the few
//! distributions the generator needs.
//!
//! Hand-written rather than taken from `rand` so that a `--seed` keeps
//! producing the same queue forever: `rand`'s algorithms and sampling code
//! may change between versions, this one only changes with this file.

/// SplitMix64: one 64-bit state, full period, good enough statistics for
/// picking names and sizes (not for cryptography).
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// A generator for `stream` (a message index, a table name…) under
    /// `seed`. Streams are independent, so the messages can be built in any
    /// order, on any number of threads, and still come out the same.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng {
            state: seed ^ stream.wrapping_mul(GOLDEN).rotate_left(17),
        };
        // Mix the combined state once so that neighbouring streams diverge.
        r.next_u64();
        r.state ^= mix(stream.wrapping_add(0x5851_F42D_4C95_7F2D));
        r
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `0..n` (`n > 0`). Multiply-shift: no modulo bias worth
    /// caring about for the small `n` used here.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Standard normal (Box–Muller; the second value is thrown away, which
    /// keeps the generator stateless between calls).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: ln() stays finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Lognormal with the given median and shape `sigma`.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A discrete distribution over `0..weights.len()`, sampled by binary search
/// over the cumulative weights (the tables are a few thousand entries).
#[derive(Clone, Debug)]
pub struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    /// From non-negative weights, at least one positive.
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Weighted { cumulative }
    }

    /// Zipf-like weights `1 / (rank + 1)^s` for `n` items: a few popular
    /// ones (big mail providers, busy users) and a long tail.
    pub fn zipf(n: usize, s: f64) -> Weighted {
        Weighted::new((0..n).map(|i| 1.0 / ((i + 1) as f64).powf(s)))
    }

    /// An index drawn with probability proportional to its weight.
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("a non-empty weight table");
        let x = rng.unit() * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(7, 1).next_u64(), Rng::new(7, 2).next_u64());
        assert_ne!(Rng::new(7, 1).next_u64(), Rng::new(8, 1).next_u64());
    }

    #[test]
    fn lognormal_median_is_about_right() {
        let mut rng = Rng::new(1, 0);
        let mut v: Vec<f64> = (0..20_001).map(|_| rng.lognormal(1300.0, 0.8)).collect();
        v.sort_by(f64::total_cmp);
        let median = v[10_000];
        assert!((1200.0..1400.0).contains(&median), "{median}");
    }

    #[test]
    fn weighted_sampling_respects_weights() {
        let w = Weighted::new([0.0, 3.0, 1.0]);
        let mut rng = Rng::new(3, 3);
        let mut counts = [0usize; 3];
        for _ in 0..40_000 {
            counts[w.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[0], 0);
        let ratio = counts[1] as f64 / counts[2] as f64;
        assert!((2.7..3.3).contains(&ratio), "{counts:?}");
    }
}
