//! Python's `random` module, as far as OSTEP's simulators use it: the MT19937 generator seeded by
//! `random.seed(int)` and `random.random()`'s 53-bit floats, so that a seed picks the same
//! victims here as in `paging-policy.py` (`conventions ostep`).

const N: usize = 624;
const M: usize = 397;

/// MT19937 (Matsumoto & Nishimura, 1998) with CPython's seeding and float construction.
#[derive(Clone, Debug)]
pub struct PyRandom {
    mt: Box<[u32; N]>,
    i: usize,
}

impl PyRandom {
    /// `random.seed(seed)` for a non-negative integer: the integer's 32-bit words, least
    /// significant first (one zero word for 0), are the key of `init_by_array`.
    pub fn new(seed: u64) -> Self {
        let lo = seed as u32;
        let hi = (seed >> 32) as u32;
        let key: &[u32] = if hi == 0 { &[lo] } else { &[lo, hi] };
        let mut r = PyRandom::init_genrand(19_650_218);
        r.init_by_array(key);
        r
    }

    fn init_genrand(s: u32) -> Self {
        let mut mt = Box::new([0u32; N]);
        mt[0] = s;
        for i in 1..N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        PyRandom { mt, i: N }
    }

    fn init_by_array(&mut self, key: &[u32]) {
        let mt = &mut self.mt;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        self.i = N;
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const A: u32 = 0x9908_b0df;
        let mt = &mut self.mt;
        for k in 0..N {
            let y = (mt[k] & UPPER) | (mt[(k + 1) % N] & LOWER);
            mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ if y & 1 == 1 { A } else { 0 };
        }
        self.i = 0;
    }

    /// The next 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.i >= N {
            self.twist();
        }
        let mut y = self.mt[self.i];
        self.i += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.random()`: 27 high bits of one output and 26 of the next make a 53-bit
    /// fraction in [0, 1).
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `int(random.random() * n)`: how OSTEP's simulators pick one of `n` things.
    pub fn below(&mut self, n: u64) -> u64 {
        (self.random() * n as f64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firsts(seed: u64, n: usize) -> Vec<f64> {
        let mut r = PyRandom::new(seed);
        (0..n).map(|_| r.random()).collect()
    }

    // Printed by CPython 3: `import random; random.seed(S); print([random.random() for _ in
    // range(5)])` (and the same with `random.seed(S, version=1)`, which is equal for ints).
    #[test]
    fn matches_cpython() {
        assert_eq!(firsts(5, 5), SEED5);
        assert_eq!(firsts(0, 3), SEED0);
        assert_eq!(firsts(1 << 40, 2), SEED_BIG);
        assert_eq!(firsts(u64::from(u32::MAX), 2), SEED_U32_MAX);
    }

    const SEED5: [f64; 5] = [
        0.6229016948897019,
        0.7417869892607294,
        0.7951935655656966,
        0.9424502837770503,
        0.7398985747399307,
    ];
    const SEED0: [f64; 3] = [0.8444218515250481, 0.7579544029403025, 0.420571580830845];
    const SEED_BIG: [f64; 2] = [0.1036394562812375, 0.6705558677439764];
    const SEED_U32_MAX: [f64; 2] = [0.6353574441341173, 0.20319993954407756];
}
