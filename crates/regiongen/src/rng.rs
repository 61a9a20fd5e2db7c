//! A small deterministic PRNG (SplitMix64) and the integer helpers built on it. No floating point
//! anywhere in the generator, so output is identical on every platform.

/// SplitMix64: 64 bits of state, passes BigCrush, and is fast enough for tens of millions of rows.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a bijective 64-bit mix.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// An independent stream for (seed, purpose, index): per-school streams keep each school's rows
    /// independent of how many random numbers the schools before it used.
    pub(crate) fn derive(seed: u64, stream: u64, index: u64) -> Rng {
        Rng(mix(mix(seed ^ stream.wrapping_mul(GOLDEN)).wrapping_add(index.wrapping_mul(0xD1B5_4A32_D192_ED03))))
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-high; the bias is below 2^-40 for our n).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    #[inline]
    pub(crate) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// A weighted table, picked by binary search over cumulative weights.
pub(crate) struct Table<T: Copy> {
    items: Vec<T>,
    cum: Vec<u32>,
    total: u32,
}

impl<T: Copy> Table<T> {
    pub(crate) fn new(pairs: &[(T, u32)]) -> Table<T> {
        let mut total = 0;
        let mut cum = Vec::with_capacity(pairs.len());
        for &(_, w) in pairs {
            total += w;
            cum.push(total);
        }
        assert!(total > 0, "a weighted table needs a positive total");
        Table { items: pairs.iter().map(|p| p.0).collect(), cum, total }
    }

    #[inline]
    pub(crate) fn pick(&self, rng: &mut Rng) -> T {
        let r = rng.below(u64::from(self.total)) as u32;
        self.items[self.cum.partition_point(|&c| c <= r)]
    }
}

/// Splits `total` over `weights` exactly (the parts sum to `total`), proportionally, by rounding
/// the cumulative share. All-zero weights split evenly.
pub(crate) fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let n = weights.len() as u128;
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    let mut out = Vec::with_capacity(weights.len());
    let (mut cum, mut prev) = (0u128, 0u128);
    for (i, &w) in weights.iter().enumerate() {
        cum += u128::from(w);
        let upto = (u128::from(total) * cum).checked_div(sum).unwrap_or(u128::from(total) * (i as u128 + 1) / n);
        out.push((upto - prev) as u64);
        prev = upto;
    }
    out
}

pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A random affine bijection `x -> (a*x + b) mod n` on `0..n`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Affine {
    pub(crate) n: u64,
    a: u64,
    b: u64,
}

impl Affine {
    pub(crate) fn new(rng: &mut Rng, n: u64) -> Affine {
        if n <= 1 {
            return Affine { n, a: 1, b: 0 };
        }
        loop {
            let a = rng.range(1, n - 1).max(1);
            if gcd(a, n) == 1 {
                return Affine { n, a, b: rng.below(n) };
            }
        }
    }

    #[inline]
    pub(crate) fn map(&self, x: u64) -> u64 {
        ((u128::from(self.a) * u128::from(x) + u128::from(self.b)) % u128::from(self.n)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact_and_proportional() {
        let parts = apportion(1000, &[1, 2, 3, 4]);
        assert_eq!(parts, vec![100, 200, 300, 400]);
        let parts = apportion(7, &[5, 5, 5]);
        assert_eq!(parts.iter().sum::<u64>(), 7);
        assert_eq!(apportion(5, &[0, 0]).iter().sum::<u64>(), 5);
        assert!(apportion(3, &[]).is_empty());
    }

    #[test]
    fn tables_pick_by_weight_and_affine_maps_are_bijective() {
        let t = Table::new(&[('a', 1), ('b', 0), ('c', 3)]);
        let mut rng = Rng::derive(1, 2, 3);
        let mut counts = [0u32; 3];
        for _ in 0..4000 {
            counts[(t.pick(&mut rng) as u8 - b'a') as usize] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[0] > 800 && counts[0] < 1200, "{counts:?}");
        let f = Affine::new(&mut rng, 360);
        let mut seen = vec![false; 360];
        for x in 0..360 {
            seen[f.map(x) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
