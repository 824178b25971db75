//! Page replacement: the bookkeeping each policy needs and the choice of a victim frame.
//!
//! Conventions (docs/policies.md): FIFO evicts the frame loaded earliest, LRU
//! the frame used least recently, OPT the frame whose page is next used farthest in the future
//! (never-again first), CLOCK sweeps a hand over the frames in frame-number order clearing
//! reference bits and evicts the first clear one, random picks a frame with a seeded PRNG.
//!
//! Under `conventions ostep` the policies follow `paging-policy.py`: the resident pages form one
//! list (loaded at the tail; LRU and MRU move a used page to the tail), OPT breaks ties for the
//! last of them and UNOPT for the first, RAND takes `list[int(random() * n)]` and CLOCK draws
//! list positions the same way, decrementing a counter of `clock_bits` bits until it finds a
//! zero, both from CPython's own random sequence (`pyrandom`). MRU evicts the list's tail in
//! both conventions.
//!
//! Costs: loading and freeing a frame are O(1) (LRU and OPT: O(log n)). An access is one
//! store for LRU (the frame's last-use number) and O(log n) for OPT during a replay (its key
//! changes). LRU's order is kept lazily in a min-heap of (last use, frame) that is corrected
//! only when a victim is chosen: an entry whose frame was used since it was pushed is pushed
//! again with the newer number. Every correction answers at least one access, so choosing
//! victims costs O(log n) per access amortised, and the heap holds one entry per frame.
//! FIFO's order is an intrusive list (O(1)); CLOCK turns its hand at most twice round.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::config::Policy;
use super::pyrandom::PyRandom;
use super::FrameInfo;

const NIL: u32 = u32::MAX;

/// OPT's knowledge of the future while a reference string or trace is replayed.
#[derive(Clone, Debug, Default)]
struct Opt {
    /// The position of the next use of the page being accessed now (`u64::MAX` = never).
    pending: u64,
    /// Each frame's key: the position of its page's next use.
    key: Vec<u64>,
    /// The resident frames as an indexed binary max-heap on (key, frame): the victim is on
    /// top, and an access moves its frame in O(log n) with no stale entries left behind.
    heap: Vec<u32>,
    /// Each frame's index in `heap` (`NIL` when not resident).
    pos: Vec<u32>,
    /// A machine of a few frames keeps no heap: its victim is found by a pass over the keys,
    /// which costs less than keeping the heap in order on every access.
    scan: bool,
}

impl Opt {
    #[inline]
    fn rank(&self, i: usize) -> (u64, u32) {
        let f = self.heap[i];
        (self.key[f as usize], f)
    }

    #[inline]
    fn place(&mut self, i: usize, f: u32) {
        self.heap[i] = f;
        self.pos[f as usize] = i as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        let f = self.heap[i];
        let r = (self.key[f as usize], f);
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.rank(parent) >= r {
                break;
            }
            let pf = self.heap[parent];
            self.place(i, pf);
            i = parent;
        }
        self.place(i, f);
    }

    fn sift_down(&mut self, mut i: usize) {
        let f = self.heap[i];
        let r = (self.key[f as usize], f);
        loop {
            let l = 2 * i + 1;
            if l >= self.heap.len() {
                break;
            }
            let c = if l + 1 < self.heap.len() && self.rank(l + 1) > self.rank(l) {
                l + 1
            } else {
                l
            };
            if self.rank(c) <= r {
                break;
            }
            let cf = self.heap[c];
            self.place(i, cf);
            i = c;
        }
        self.place(i, f);
    }

    /// Frame `f` (resident or not) now has key `k`.
    #[inline]
    fn set(&mut self, f: u32, k: u64) {
        if self.scan {
            self.key[f as usize] = k;
            return;
        }
        let i = self.pos[f as usize];
        let old = std::mem::replace(&mut self.key[f as usize], k);
        if i == NIL {
            self.heap.push(f);
            self.sift_up(self.heap.len() - 1);
        } else if k > old {
            self.sift_up(i as usize);
        } else if k < old {
            self.sift_down(i as usize);
        }
    }

    fn remove(&mut self, f: u32) {
        if self.scan {
            self.key[f as usize] = u64::MAX;
            return;
        }
        let i = self.pos[f as usize];
        if i == NIL {
            return;
        }
        self.pos[f as usize] = NIL;
        self.key[f as usize] = u64::MAX;
        let last = self.heap.pop().unwrap_or(f);
        if last != f {
            let i = i as usize;
            self.place(i, last);
            self.sift_up(i);
            let j = self.pos[last as usize] as usize;
            self.sift_down(j);
        }
    }
}

/// The most frames a steady run keeps the policy's state for, in registers and on the stack.
pub const STEADY_FRAMES: usize = 64;

/// A frame's index into a steady run's tables, which are [`STEADY_FRAMES`] long: masked, it
/// needs no bounds check.
pub const FRAME_MASK: usize = STEADY_FRAMES - 1;

/// The policies a steady run keeps, by number: each steady loop is compiled for one of them, so
/// that no step asks which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SteadyKind {
    Fifo = STEADY_FIFO,
    Lru = STEADY_LRU,
    Clock = STEADY_CLOCK,
    Opt = STEADY_OPT,
}

pub const STEADY_FIFO: u8 = 0;
pub const STEADY_LRU: u8 = 1;
pub const STEADY_CLOCK: u8 = 2;
pub const STEADY_OPT: u8 = 3;

/// A policy's state while a steady run (`machine/steady.rs`) replaces a page on every fault of
/// a full memory whose every frame may go: FIFO's list is then a ring that only turns, LRU's
/// victim heads a recency ring of a few frames, CLOCK's reference bits fit in a word, OPT's
/// victim is the largest of a few keys. Copied out of the [`Replacer`] at the start
/// ([`Replacer::steady`]) and back at the end ([`Replacer::steady_end`]); in between, each step
/// does what [`Replacer::replace_any`] (OPT: `victim`, `freed` and `loaded`) and
/// [`Replacer::touched`] (with the machine's CLOCK bit) do.
///
/// Its words apart from its tables are a [`SteadyHot`], which a steady loop keeps as a local
/// of its own (`Steady::hot`) and hands to each step: a local of a few words lives in
/// registers, where a field of a struct of tables lives in memory, and a step would wait for
/// the store of the step before.
#[derive(Debug, Clone, Copy)]
pub struct Steady {
    kind: SteadyKind,
    /// FIFO: the frames in list order from `ring[k]`, the next victim.
    ring: [u32; STEADY_FRAMES],
    /// LRU, CLOCK and OPT: each frame's place in the load order (the list's order at the end).
    loads: [u64; STEADY_FRAMES],
    /// LRU and OPT: each frame's last use.
    used: [u64; STEADY_FRAMES],
    /// LRU: the frames from least to most recently used, as a list from `first` to `last`
    /// whose ends have [`RING`] as their missing neighbour: a hit or a fault moves one frame
    /// to the end with no branch, where finding the least of the last uses would read them
    /// all. Indexed by a byte, so no index is ever out of range.
    prv: [u8; 256],
    nxt: [u8; 256],
    /// OPT: each frame's next use, encoded so that the largest is the victim ([`next_key`]).
    keys: [u64; STEADY_FRAMES],
    pub hot: SteadyHot,
}

/// The words of a [`Steady`] that its steps change.
#[derive(Debug, Clone, Copy)]
pub struct SteadyHot {
    n: usize,
    /// FIFO: where the ring starts.
    k: usize,
    /// LRU and OPT: the last use number given.
    seq: u64,
    /// LRU: the ends of the recency list.
    first: u8,
    last: u8,
    /// CLOCK: the frames' reference bits, and the hand's bit as the run goes.
    refd: u64,
    hand_bit: u64,
    /// The hand, as the run ends.
    hand: u64,
    /// OPT: the next use of the page being accessed now.
    pub pending: u64,
}

/// OPT's key of frame `f` whose page is next used at `next` (`u64::MAX`: never): one more than
/// the use (so that frames past the machine's, at 0, never win), the frame in the low six bits
/// (so that of equal uses the last frame wins, as OPT's pass over the frames chooses).
#[inline(always)]
fn next_key(next: u64, f: usize) -> u64 {
    (next.min(UNUSED - 1) + 1) << 6 | f as u64
}

/// The next use a key of [`next_key`] holds.
fn key_next(key: u64) -> u64 {
    match (key >> 6) - 1 {
        n if n == UNUSED - 1 => u64::MAX,
        n => n,
    }
}

impl Steady {
    /// LRU: frame `f` moves to the most recent end of the recency list (where it may be
    /// already: taking it out and putting it back leaves the list as it was). The ends live in
    /// `first` and `last`, so that the next victim is known without reading memory written by
    /// the move before; an end's missing neighbour is [`RING`], whose own slots only absorb
    /// writes.
    #[inline(always)]
    fn make_recent(&mut self, h: &mut SteadyHot, f: usize) {
        let f8 = f as u8;
        let (a, b) = (self.prv[f], self.nxt[f]);
        self.nxt[a as usize] = b;
        self.prv[b as usize] = a;
        let first = if a == RING { b } else { h.first };
        let last = if b == RING { a } else { h.last };
        self.nxt[last as usize] = f8;
        self.prv[f] = last;
        self.nxt[f] = RING;
        h.last = f8;
        h.first = if first == RING { f8 } else { first };
    }

    /// The policy kept.
    pub fn kind(&self) -> SteadyKind {
        self.kind
    }

    /// The victim, loaded again at once at step `now` (a number that grows with every step):
    /// [`Replacer::replace_any`]. `K` is the policy's [`SteadyKind`].
    #[inline(always)]
    pub fn replace<const K: u8>(&mut self, h: &mut SteadyHot, now: u64) -> usize {
        debug_assert_eq!(K, self.kind as u8);
        let n = h.n;
        let v = match K {
            STEADY_FIFO => {
                // The ring is the load order: no place to keep, and the hand is set once, at
                // the end ([`Steady::turned`]).
                let v = self.ring[h.k & FRAME_MASK] as usize;
                h.k = if h.k + 1 == n { 0 } else { h.k + 1 };
                return v;
            }
            STEADY_LRU => {
                // The least recently used frame comes first in the recency list.
                let v = h.first as usize;
                h.seq += 1;
                self.used[v] = h.seq;
                self.make_recent(h, v);
                v
            }
            STEADY_OPT => {
                let key = if n <= 8 {
                    most::<8>(&self.keys)
                } else if n <= 12 {
                    most::<12>(&self.keys)
                } else if n <= 16 {
                    most::<16>(&self.keys)
                } else {
                    most::<32>(&self.keys)
                };
                let v = (key & 63) as usize;
                h.seq += 1;
                self.used[v] = h.seq;
                self.keys[v] = next_key(h.pending, v);
                v
            }
            _ => {
                // CLOCK: the first clear bit from the hand on, clearing the set ones passed; if
                // every bit from the hand to the end is set, the turn goes on from frame 0, and
                // if every bit is set it comes back to the hand, which it has cleared. The hand
                // is kept as its bit, and the victim found as one: the next step waits on no
                // count of zeros.
                let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                let hand = h.hand_bit;
                let from_hand = all & hand.wrapping_neg();
                let clear = !h.refd & all;
                let ahead = clear & from_hand;
                // The bits the hand passed: from the hand up to the victim's, turning past the
                // end if need be.
                let (bit, passed) = if ahead != 0 {
                    let bit = ahead & ahead.wrapping_neg();
                    (bit, from_hand & (bit - 1))
                } else if clear != 0 {
                    let bit = clear & clear.wrapping_neg();
                    (bit, from_hand | (bit - 1))
                } else {
                    (hand, all)
                };
                h.refd &= !passed;
                let next = bit << 1;
                h.hand_bit = if next & all == 0 { 1 } else { next };
                let v = bit.trailing_zeros() as usize;
                self.loads[v & FRAME_MASK] = now + STEADY_FRAMES as u64;
                return v;
            }
        };
        self.loaded(v, now);
        v
    }

    /// After one fault or more: the hand just past the last frame loaded. Only CLOCK reads
    /// the hand as it goes (and keeps it as a bit); under FIFO the last frame loaded is the
    /// one before the next victim in the ring, under LRU and OPT the one of the latest load.
    pub fn turned<const K: u8>(&self, h: &mut SteadyHot) {
        let n = h.n;
        if K == STEADY_CLOCK {
            h.hand = u64::from(h.hand_bit.trailing_zeros());
            return;
        }
        let last = match K {
            STEADY_FIFO => self.ring[(h.k + n - 1) % n] as usize,
            _ => (0..n).max_by_key(|&f| self.loads[f]).unwrap_or(0),
        };
        h.hand = if last + 1 == n { 0 } else { last as u64 + 1 };
    }

    /// Frame `v` was loaded at `now`: its place in the load order (the hand is set by
    /// [`Steady::turned`]). Only the order of the places counts: `now` grows with every step,
    /// and a load's place is taken past every place the run started with (each below
    /// [`STEADY_FRAMES`]), so that no count of loads need be kept.
    #[inline(always)]
    fn loaded(&mut self, v: usize, now: u64) {
        self.loads[v & FRAME_MASK] = now + STEADY_FRAMES as u64;
    }

    /// A fault at step `now`: the victim, loaded and then accessed, as [`Steady::replace`] then
    /// [`Steady::touch`] (under LRU and OPT without doing twice what the access does again:
    /// the frame is the most recent already, its next use known already).
    #[inline(always)]
    pub fn fault<const K: u8>(&mut self, h: &mut SteadyHot, now: u64) -> usize {
        match K {
            STEADY_LRU => {
                // The first frame goes to the end, as `make_recent` moves it, knowing that it
                // has no previous neighbour. With one frame, it is the end already.
                let v = h.first;
                let b = self.nxt[v as usize];
                self.prv[b as usize] = RING;
                let last = if b == RING { RING } else { h.last };
                self.nxt[last as usize] = v;
                self.prv[v as usize] = last;
                self.nxt[v as usize] = RING;
                h.last = v;
                h.first = if b == RING { v } else { b };
                let v = v as usize;
                h.seq += 2;
                self.used[v & FRAME_MASK] = h.seq;
                self.loaded(v, now);
                v
            }
            STEADY_OPT => {
                let v = self.replace::<K>(h, now);
                h.seq += 1;
                self.used[v] = h.seq;
                v
            }
            _ => {
                let v = self.replace::<K>(h, now);
                self.touch::<K>(h, v);
                v
            }
        }
    }

    /// Frame `f` was accessed: LRU's last use, CLOCK's bit (`K` as for [`Steady::replace`]).
    #[inline(always)]
    pub fn touch<const K: u8>(&mut self, h: &mut SteadyHot, f: usize) {
        match K {
            STEADY_FIFO => {}
            STEADY_LRU => {
                h.seq += 1;
                self.used[f] = h.seq;
                self.make_recent(h, f);
            }
            STEADY_CLOCK => h.refd |= 1 << f,
            _ => {
                h.seq += 1;
                self.used[f] = h.seq;
                self.keys[f] = next_key(h.pending, f);
            }
        }
    }
}

/// The largest of the first `W` keys (frames past the machine's hold 0, never the largest), by
/// a tree of `W - 1` maximums, about log2 W deep, rather than a chain of them.
#[inline(always)]
fn most<const W: usize>(keys: &[u64; STEADY_FRAMES]) -> u64 {
    let mut k = [0u64; W];
    k.copy_from_slice(&keys[..W]);
    let mut w = W;
    while w > 1 {
        // The upper half (the smaller, for an odd count) onto the lower.
        let h = w.div_ceil(2);
        for i in 0..w - h {
            k[i] = k[i].max(k[i + h]);
        }
        w = h;
    }
    k[0]
}

/// The sentinel of a steady run's recency ring (whose frames number at most [`STEADY_FRAMES`]).
const RING: u8 = u8::MAX;

/// Larger than any reference's position or any last use: the bound of OPT's keys.
const UNUSED: u64 = u64::MAX >> 6;

/// Per-frame policy state. Frames are numbered from 0; the tables grow to the highest frame
/// ever handed out, so host memory follows the frames used, not the machine's size.
#[derive(Clone, Debug)]
pub struct Replacer {
    policy: Policy,
    /// LRU, OPT and UNOPT record every access (the last two read it as their future keys).
    move_on_touch: bool,
    /// FIFO's order: frames in the order they were loaded.
    prev: Vec<u32>,
    next: Vec<u32>,
    linked: Vec<bool>,
    head: u32,
    tail: u32,
    /// LRU and OPT (empty under other policies): the number of each frame's last load or
    /// access (a counter, so no two are equal and the order is exactly the order of uses).
    used: Vec<u64>,
    seq: u64,
    /// LRU: (last use when pushed, frame), one entry per frame at most; `queued[f]` says
    /// whether frame f has one.
    lru: BinaryHeap<Reverse<(u64, u32)>>,
    /// The entries a victim search passed over, kept between searches so that choosing a victim
    /// allocates nothing.
    passed: Vec<Reverse<(u64, u32)>>,
    queued: Vec<bool>,
    /// CLOCK's hand: the frame it points at.
    hand: u64,
    rng: u64,
    opt: Option<Opt>,
    /// `conventions ostep`.
    ostep: bool,
    /// Whether an access does more than LRU's store: MRU (and LRU under `ostep`) move the
    /// frame to the list's tail, CLOCK under `ostep` counts.
    extra_touch: bool,
    /// CLOCK under `ostep`: each frame's counter, and whether the frame was loaded and not
    /// accessed yet (its first access sets the counter to 1, as a new page's does).
    count: Vec<u32>,
    fresh: Vec<bool>,
    clock_bits: u32,
    /// RAND and CLOCK under `ostep`: Python's sequence for the machine's seed.
    py: Option<PyRandom>,
}

/// splitmix64: a tiny, well-mixed generator; deterministic from the machine's `seed`.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Up to this many frames, LRU and OPT choose their victim by a pass over the frames' last (or
/// next) uses instead of a heap.
const LRU_SCAN: usize = 32;

impl Replacer {
    pub fn new(policy: Policy, seed: u64) -> Self {
        Replacer::with_conventions(policy, seed, false, 2)
    }

    /// A replacer that follows `paging-policy.py` when `ostep` holds (see the module's notes).
    pub fn with_conventions(policy: Policy, seed: u64, ostep: bool, clock_bits: u32) -> Self {
        Replacer {
            policy,
            move_on_touch: matches!(policy, Policy::Lru | Policy::Opt | Policy::Unopt),
            prev: Vec::new(),
            next: Vec::new(),
            linked: Vec::new(),
            head: NIL,
            tail: NIL,
            used: Vec::new(),
            seq: 0,
            lru: BinaryHeap::new(),
            passed: Vec::new(),
            queued: Vec::new(),
            hand: 0,
            rng: seed,
            opt: None,
            ostep,
            extra_touch: policy == Policy::Mru
                || (ostep && matches!(policy, Policy::Lru | Policy::Clock)),
            count: Vec::new(),
            fresh: Vec::new(),
            clock_bits,
            py: (ostep && matches!(policy, Policy::Random | Policy::Clock))
                .then(|| PyRandom::new(seed)),
        }
    }

    /// The resident frames in the policy's list order: load order, with LRU's and MRU's used
    /// frames moved to the tail under `ostep` (what `paging-policy.py` prints between its
    /// arrows).
    pub fn order(&self) -> Vec<u64> {
        let mut v = Vec::new();
        let mut p = self.head;
        while p != NIL {
            v.push(u64::from(p));
            p = self.next[p as usize];
        }
        v
    }

    /// The words `paging-policy.py` writes at the two ends of its list.
    pub fn ends(&self) -> (&'static str, &'static str) {
        match self.policy {
            Policy::Fifo => ("FirstIn", "Lastin "),
            Policy::Lru | Policy::Mru => ("LRU", "MRU"),
            _ => ("Left ", "Right"),
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// CLOCK's hand, for `show frames`.
    pub fn hand(&self) -> u64 {
        self.hand
    }

    fn grow(&mut self, pfn: usize) {
        if self.linked.len() <= pfn {
            self.prev.resize(pfn + 1, NIL);
            self.next.resize(pfn + 1, NIL);
            self.linked.resize(pfn + 1, false);
            if self.move_on_touch {
                self.used.resize(pfn + 1, 0);
            }
            self.queued.resize(pfn + 1, false);
            if self.extra_touch {
                self.count.resize(pfn + 1, 0);
                self.fresh.resize(pfn + 1, false);
            }
            if let Some(o) = &mut self.opt {
                o.key.resize(pfn + 1, u64::MAX);
                o.pos.resize(pfn + 1, NIL);
            }
        }
    }

    #[inline]
    fn unlink(&mut self, p: u32) {
        let (a, b) = (self.prev[p as usize], self.next[p as usize]);
        if a == NIL {
            self.head = b;
        } else {
            self.next[a as usize] = b;
        }
        if b == NIL {
            self.tail = a;
        } else {
            self.prev[b as usize] = a;
        }
    }

    #[inline]
    fn push_back(&mut self, p: u32) {
        self.prev[p as usize] = self.tail;
        self.next[p as usize] = NIL;
        if self.tail == NIL {
            self.head = p;
        } else {
            self.next[self.tail as usize] = p;
        }
        self.tail = p;
    }

    /// A page was loaded into frame `pfn` (which may still hold the page it replaces: then
    /// this is [`Replacer::freed`] and `loaded` in one, unless OPT is replaying).
    pub fn loaded(&mut self, pfn: u64, frames: u64) {
        let p = pfn as usize;
        self.grow(p);
        if self.linked[p] {
            self.unlink(pfn as u32);
        }
        self.linked[p] = true;
        self.push_back(pfn as u32);
        if self.extra_touch {
            self.count[p] = 0;
            self.fresh[p] = true;
        }
        if self.move_on_touch {
            self.seq += 1;
            self.used[p] = self.seq;
            // A frame whose old entry is still queued is corrected when that entry surfaces.
            if !self.queued[p] {
                self.queued[p] = true;
                self.lru.push(Reverse((self.seq, pfn as u32)));
            }
        }
        // The new page goes where the hand found room and the hand moves one past it.
        let h = pfn + 1;
        self.hand = if h < frames {
            h
        } else if frames == 0 {
            0
        } else {
            h % frames
        };
        if let Some(o) = &mut self.opt {
            let k = o.pending;
            o.set(pfn as u32, k);
        }
    }

    /// Whether [`Replacer::replace_any`] may stand for [`Replacer::victim`] then
    /// [`Replacer::loaded`]: FIFO, CLOCK, and LRU over a few frames, in the default
    /// conventions and with no future being replayed.
    pub fn replaces_any(&self) -> bool {
        !self.ostep
            && !self.extra_touch
            && self.opt.is_none()
            && match self.policy {
                Policy::Fifo | Policy::Clock => true,
                Policy::Lru => self.linked.len() <= LRU_SCAN,
                _ => false,
            }
    }

    /// [`Replacer::victim`] when every frame of `frames` is resident and may go, then
    /// [`Replacer::loaded`] of the frame it chose, which it returns: the fault path of a
    /// full memory in one step, with no question asked per frame. Only where
    /// [`Replacer::replaces_any`] holds, with `frames` the machine's `total` frames in use.
    #[inline]
    pub fn replace_any(&mut self, frames: &mut [FrameInfo], total: u64) -> u64 {
        let n = frames.len() as u64;
        debug_assert!(self.replaces_any() && n > 0 && n == total);
        let v = match self.policy {
            Policy::Fifo => self.head,
            Policy::Lru => self.oldest_linked().unwrap_or(0) as u32,
            _ => {
                // CLOCK: the first clear reference bit from the hand on, clearing the set ones
                // passed; at most one turn, since the turn clears them all.
                let mut h = if self.hand < n {
                    self.hand
                } else {
                    self.hand % n
                };
                loop {
                    let f = &mut frames[h as usize];
                    if !f.referenced {
                        break h as u32;
                    }
                    f.referenced = false;
                    h = if h + 1 == n { 0 } else { h + 1 };
                }
            }
        };
        if self.tail != v {
            self.unlink(v);
            self.push_back(v);
        }
        if self.move_on_touch {
            self.seq += 1;
            self.used[v as usize] = self.seq;
            if !self.queued[v as usize] {
                self.queued[v as usize] = true;
                self.lru.push(Reverse((self.seq, v)));
            }
        }
        let h = u64::from(v) + 1;
        self.hand = if h < total { h } else { h % total };
        u64::from(v)
    }

    /// The policy's state copied out for a steady run (see [`Steady`]): where
    /// [`Replacer::replaces_any`] holds, every one of the machine's `frames` (at most
    /// [`STEADY_FRAMES`]) is resident, and LRU's heap has an entry for each. `None` otherwise.
    pub fn steady(&self, frames: &[FrameInfo]) -> Option<Steady> {
        let n = frames.len();
        // OPT replaying its future over a few frames (its keys in one array, no heap).
        let opt = self
            .opt
            .as_ref()
            .filter(|o| o.scan && self.policy == Policy::Opt && !self.ostep && o.key.len() == n);
        if !(self.replaces_any() || opt.is_some())
            || n == 0
            || n > STEADY_FRAMES
            || self.linked.len() != n
            || self.linked.iter().any(|&l| !l)
        {
            return None;
        }
        let kind = match self.policy {
            Policy::Fifo => SteadyKind::Fifo,
            Policy::Lru if self.queued.iter().all(|&q| q) && self.used.len() == n => {
                SteadyKind::Lru
            }
            Policy::Clock => SteadyKind::Clock,
            Policy::Opt
                if opt.is_some() && self.queued.iter().all(|&q| q) && self.used.len() == n =>
            {
                SteadyKind::Opt
            }
            _ => return None,
        };
        let mut s = Steady {
            kind,
            ring: [0; STEADY_FRAMES],
            loads: [0; STEADY_FRAMES],
            used: [0; STEADY_FRAMES],
            keys: [0; STEADY_FRAMES],
            prv: [RING; 256],
            nxt: [RING; 256],
            hot: SteadyHot {
                n,
                k: 0,
                seq: self.seq,
                refd: 0,
                hand: self.hand % n as u64,
                hand_bit: 1 << (self.hand % n as u64),
                pending: u64::MAX,
                first: RING,
                last: RING,
            },
        };
        if let Some(o) = opt {
            for (f, &k) in o.key.iter().enumerate() {
                s.keys[f] = next_key(k, f);
            }
            s.hot.pending = o.pending;
        }
        // The list, head first: FIFO's ring, and every policy's load order.
        let mut p = self.head;
        let mut i = 0;
        while p != NIL && i < n {
            s.ring[i] = p;
            s.loads[p as usize] = i as u64;
            p = self.next[p as usize];
            i += 1;
        }
        if i != n || p != NIL {
            return None;
        }
        if matches!(kind, SteadyKind::Lru | SteadyKind::Opt) {
            s.used[..n].copy_from_slice(&self.used);
        }
        if kind == SteadyKind::Lru {
            // The recency ring, by last use (all distinct).
            let mut by_use = [0u8; STEADY_FRAMES];
            for (f, b) in by_use[..n].iter_mut().enumerate() {
                *b = f as u8;
            }
            by_use[..n].sort_unstable_by_key(|&f| s.used[f as usize]);
            for (i, &f) in by_use[..n].iter().enumerate() {
                s.prv[f as usize] = if i == 0 { RING } else { by_use[i - 1] };
                s.nxt[f as usize] = if i + 1 == n { RING } else { by_use[i + 1] };
            }
            s.hot.first = by_use[0];
            s.hot.last = by_use[n - 1];
        }
        for (f, fi) in frames.iter().enumerate() {
            s.hot.refd |= u64::from(fi.referenced) << f;
        }
        Some(s)
    }

    /// Takes back the state of a steady run: the list in load order, the hand, LRU's last
    /// uses, CLOCK's reference bits (into `frames`).
    pub fn steady_end(&mut self, s: &Steady, frames: &mut [FrameInfo]) {
        let n = s.hot.n;
        let mut order = [0u32; STEADY_FRAMES];
        match s.kind {
            SteadyKind::Fifo => {
                for (i, o) in order[..n].iter_mut().enumerate() {
                    *o = s.ring[(s.hot.k + i) % n];
                }
            }
            _ => {
                for (f, o) in order[..n].iter_mut().enumerate() {
                    *o = f as u32;
                }
                order[..n].sort_unstable_by_key(|&f| s.loads[f as usize]);
            }
        }
        for (i, &f) in order[..n].iter().enumerate() {
            self.prev[f as usize] = if i == 0 { NIL } else { order[i - 1] };
            self.next[f as usize] = if i + 1 == n { NIL } else { order[i + 1] };
        }
        self.head = order[0];
        self.tail = order[n - 1];
        self.hand = s.hot.hand;
        if matches!(s.kind, SteadyKind::Lru | SteadyKind::Opt) {
            self.used.copy_from_slice(&s.used[..n]);
            self.seq = s.hot.seq;
        }
        if let (SteadyKind::Opt, Some(o)) = (s.kind, &mut self.opt) {
            for (k, &key) in o.key.iter_mut().zip(&s.keys[..n]) {
                *k = key_next(key);
            }
            o.pending = s.hot.pending;
        }
        if s.kind == SteadyKind::Clock {
            for (f, fi) in frames.iter_mut().enumerate() {
                fi.referenced = s.hot.refd >> f & 1 != 0;
            }
        }
    }

    /// Frame `pfn` was freed.
    pub fn freed(&mut self, pfn: u64) {
        let p = pfn as usize;
        if p < self.linked.len() && self.linked[p] {
            self.linked[p] = false;
            self.unlink(pfn as u32);
            if let Some(o) = &mut self.opt {
                o.remove(pfn as u32);
            }
        }
    }

    /// Frame `pfn` was accessed. The hot path: for LRU one store, no allocation.
    #[inline(always)]
    pub fn touched(&mut self, pfn: u64) {
        let p = pfn as usize;
        if self.extra_touch {
            self.touched_extra(p);
        }
        // Only LRU and OPT keep `used`; the zero page is one past the end of RAM and has no
        // policy state.
        let Some(u) = self.used.get_mut(p) else {
            return;
        };
        self.seq += 1;
        *u = self.seq;
        if self.opt.is_some() {
            self.opt_touched(p);
        }
    }

    /// MRU's (and `ostep` LRU's) move to the tail; `ostep` CLOCK's counter: 1 on a page's
    /// first access, then one more per access up to `clock_bits`.
    #[inline(never)]
    fn touched_extra(&mut self, p: usize) {
        if p >= self.linked.len() || !self.linked[p] {
            return;
        }
        if self.policy == Policy::Clock {
            if std::mem::take(&mut self.fresh[p]) {
                self.count[p] = 1;
            } else {
                self.count[p] = self.count[p].saturating_add(1).min(self.clock_bits);
            }
        } else if self.tail != p as u32 {
            self.unlink(p as u32);
            self.push_back(p as u32);
        }
    }

    /// OPT during a replay: the frame's key becomes its page's next use.
    #[inline(never)]
    fn opt_touched(&mut self, p: usize) {
        if let Some(o) = &mut self.opt {
            if self.linked[p] {
                let k = o.pending;
                o.set(p as u32, k);
            }
        }
    }

    /// The least recently used frame for which `ok` holds. Entries on top of the heap whose
    /// frame was used since are pushed again with their newer number; entries of frames that
    /// may not go now are put back afterwards.
    fn lru_victim(&mut self, ok: impl Fn(u64) -> bool) -> Option<u64> {
        if self.linked.len() <= LRU_SCAN {
            // A few frames: one pass over their last uses costs less than the heap's
            // corrections, which a fault-heavy string makes on nearly every search. Last uses
            // are distinct, so the pass and the heap choose the same frame; the heap keeps an
            // entry per frame (`queued`) and takes over if memory grows past the bound.
            // The least recently used frame of all is nearly always one that may go: found
            // by a pass that asks nothing else, and asked once.
            let oldest = self.oldest_linked()?;
            if ok(oldest as u64) {
                return Some(oldest as u64);
            }
            return (0..self.linked.len())
                .filter(|&i| self.linked[i] && ok(i as u64))
                .min_by_key(|&i| self.used[i])
                .map(|i| i as u64);
        }
        let mut passed = std::mem::take(&mut self.passed);
        let mut found = None;
        while let Some(Reverse((n, f))) = self.lru.pop() {
            let i = f as usize;
            if !self.linked[i] {
                self.queued[i] = false;
                continue;
            }
            let u = self.used[i];
            if u != n {
                self.lru.push(Reverse((u, f)));
                continue;
            }
            passed.push(Reverse((n, f)));
            if ok(u64::from(f)) {
                found = Some(u64::from(f));
                break;
            }
        }
        for e in passed.drain(..) {
            self.lru.push(e);
        }
        self.passed = passed;
        found
    }

    /// The resident frame used least recently, by one pass that the compiler can run
    /// without a branch per frame (last uses are distinct, so the first minimum is the only).
    #[inline]
    fn oldest_linked(&self) -> Option<usize> {
        let used = &self.used[..self.linked.len()];
        let mut best = (u64::MAX, usize::MAX);
        for (i, (&l, &u)) in self.linked.iter().zip(used).enumerate() {
            let k = if l { u } else { u64::MAX };
            if k < best.0 {
                best = (k, i);
            }
        }
        (best.1 != usize::MAX).then_some(best.1)
    }

    /// Starts a replay whose future is known: `keys` gives, for the frames resident now, the
    /// position of their page's first use in the replay (`u64::MAX` for the rest). `frames`:
    /// the machine's (a few, and the victim is found by a pass instead of a heap).
    pub fn opt_begin(&mut self, keys: impl IntoIterator<Item = (u64, u64)>, frames: u64) {
        if !self.policy.needs_future() {
            return;
        }
        let n = self.linked.len();
        let mut o = Opt {
            pending: u64::MAX,
            key: vec![u64::MAX; n],
            heap: Vec::new(),
            pos: vec![NIL; n],
            scan: frames <= LRU_SCAN as u64,
        };
        for (pfn, k) in keys {
            let p = pfn as usize;
            if p < n && self.linked[p] {
                o.key[p] = k;
            }
        }
        for f in (0..n).filter(|&f| self.linked[f]) {
            o.set(f as u32, o.key[f]);
        }
        self.opt = Some(o);
    }

    /// Whether OPT is replaying a known future (and wants [`Replacer::opt_next`]).
    #[inline]
    pub fn opt_active(&self) -> bool {
        self.opt.is_some()
    }

    /// The next use of the page about to be accessed.
    #[inline]
    pub fn opt_next(&mut self, next_use: u64) {
        if let Some(o) = &mut self.opt {
            o.pending = next_use;
        }
    }

    /// Ends a replay: OPT falls back to LRU order (the list was kept all along).
    pub fn opt_end(&mut self) {
        self.opt = None;
    }

    /// Chooses a victim among the frames for which `ok` holds, or `None`. CLOCK reads and
    /// clears the frames' reference bits.
    pub fn victim(
        &mut self,
        frames: &mut [FrameInfo],
        ok: impl Fn(u64, &FrameInfo) -> bool,
    ) -> Option<u64> {
        let n = frames.len() as u64;
        if n == 0 {
            return None;
        }
        let okp = |p: u64| frames.get(p as usize).is_some_and(|f| ok(p, f));
        match self.policy {
            Policy::Opt if self.ostep && self.opt.is_some() => {
                // paging-policy.py keeps the last of the farthest pages in its list.
                let o = self.opt.as_ref()?;
                let mut best: Option<(u64, u64)> = None;
                for f in self.order().into_iter().filter(|&f| okp(f)) {
                    let k = o.key.get(f as usize).copied().unwrap_or(u64::MAX);
                    if best.is_none_or(|(bk, _)| k >= bk) {
                        best = Some((k, f));
                    }
                }
                best.map(|b| b.1)
            }
            Policy::Unopt if self.opt.is_some() => {
                // The soonest next use; the first in list order on ties.
                let o = self.opt.as_ref()?;
                let mut best: Option<(u64, u64)> = None;
                for f in self.order().into_iter().filter(|&f| okp(f)) {
                    let k = o.key.get(f as usize).copied().unwrap_or(u64::MAX);
                    if best.is_none_or(|(bk, _)| k < bk) {
                        best = Some((k, f));
                    }
                }
                best.map(|b| b.1)
            }
            // Without a known future UNOPT does what MRU does, as OPT falls back to LRU.
            Policy::Mru | Policy::Unopt => {
                let mut p = self.tail;
                while p != NIL {
                    if okp(u64::from(p)) {
                        return Some(u64::from(p));
                    }
                    p = self.prev[p as usize];
                }
                None
            }
            Policy::Random if self.ostep => {
                let order = self.order();
                let py = self.py.as_mut()?;
                if order.is_empty() {
                    return None;
                }
                let i = py.below(order.len() as u64) as usize;
                let len = order.len();
                (0..len).map(|d| order[(i + d) % len]).find(|&f| okp(f))
            }
            Policy::Clock if self.ostep => {
                let order = self.order();
                if !order.iter().any(|&f| okp(f)) {
                    return None;
                }
                let py = self.py.as_mut()?;
                // Every draw of a frame that may go lowers its counter or ends the search, and
                // counters are finite: this ends.
                loop {
                    let f = order[py.below(order.len() as u64) as usize];
                    if !okp(f) {
                        continue;
                    }
                    let c = &mut self.count[f as usize];
                    if *c >= 1 {
                        *c -= 1;
                    } else {
                        return Some(f);
                    }
                }
            }
            Policy::Opt if self.opt.is_some() => {
                let linked = &self.linked;
                let o = self.opt.as_ref()?;
                if o.scan {
                    // The farthest of all in one pass with no call per frame; it nearly always
                    // may go.
                    let mut best = None;
                    let mut far = 0;
                    for (i, (&l, &k)) in linked.iter().zip(&o.key).enumerate() {
                        if l && k >= far {
                            (best, far) = (Some(i), k);
                        }
                    }
                    if best.is_some_and(|i| okp(i as u64)) {
                        return best.map(|i| i as u64);
                    }
                    return (0..linked.len())
                        .filter(|&i| linked[i] && okp(i as u64))
                        .max_by_key(|&i| (o.key[i], i))
                        .map(|i| i as u64);
                }
                if let Some(&top) = o.heap.first() {
                    if okp(u64::from(top)) {
                        return Some(u64::from(top));
                    }
                }
                // The farthest frame may not go (pinned, another process's, no swap): the
                // farthest of those that may, by a scan (eviction is not the hot path).
                (0..linked.len())
                    .filter(|&i| linked[i] && okp(i as u64))
                    .max_by_key(|&i| (o.key[i], i))
                    .map(|i| i as u64)
            }
            Policy::Lru | Policy::Opt => self.lru_victim(okp),
            Policy::Fifo => {
                let mut p = self.head;
                while p != NIL {
                    if okp(u64::from(p)) {
                        return Some(u64::from(p));
                    }
                    p = self.next[p as usize];
                }
                None
            }
            Policy::Clock => {
                // Two turns at most: the first clears every set bit it passes.
                let mut h = self.hand % n;
                for _ in 0..=2 * n {
                    let f = &mut frames[h as usize];
                    if ok(h, f) {
                        if !f.referenced {
                            self.hand = h;
                            return Some(h);
                        }
                        f.referenced = false;
                    }
                    // `(h + 1) % n` without a division per frame passed.
                    h = if h + 1 == n { 0 } else { h + 1 };
                    self.hand = h;
                }
                None
            }
            Policy::Random => {
                let start = splitmix(&mut self.rng) % n;
                (0..n).map(|i| (start + i) % n).find(|&p| okp(p))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{FrameUse, FREE_FRAME};

    /// A stand-alone run of a reference string over `n` frames: the policy's bookkeeping
    /// alone, with the textbook frame model (a page per frame, bits per frame).
    fn faults(policy: Policy, n: u64, refs: &[u64]) -> u64 {
        let mut r = Replacer::new(policy, 1);
        let mut page_of: Vec<Option<u64>> = vec![None; n as usize];
        let free = FREE_FRAME;
        let mut frames = vec![free; n as usize];
        let mut next = vec![u64::MAX; refs.len()];
        let mut last = std::collections::BTreeMap::new();
        for (i, &p) in refs.iter().enumerate().rev() {
            next[i] = last.get(&p).copied().unwrap_or(u64::MAX);
            last.insert(p, i as u64);
        }
        r.opt_begin([], n);
        let mut f = 0;
        for (i, &pg) in refs.iter().enumerate() {
            r.opt_next(next[i]);
            if let Some(fr) = page_of.iter().position(|&x| x == Some(pg)) {
                frames[fr].referenced = true;
                r.touched(fr as u64);
                continue;
            }
            f += 1;
            let fr = match page_of.iter().position(Option::is_none) {
                Some(fr) => fr as u64,
                None => {
                    let v = r.victim(&mut frames, |_, _| true).unwrap();
                    r.freed(v);
                    v
                }
            };
            page_of[fr as usize] = Some(pg);
            frames[fr as usize] = FrameInfo {
                used: FrameUse::File { file: 0, page: pg },
                referenced: true,
                ..free
            };
            r.loaded(fr, n);
        }
        f
    }

    // Silberschatz, Galvin & Gagne, Operating System Concepts (10th ed.), §10.4, Figs. 10.12,
    // 10.14, 10.15: the reference string below with three frames.
    const SGG: [u64; 20] = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];

    #[test]
    fn silberschatz_fifo_lru_opt() {
        assert_eq!(faults(Policy::Fifo, 3, &SGG), 15);
        assert_eq!(faults(Policy::Lru, 3, &SGG), 12);
        assert_eq!(faults(Policy::Opt, 3, &SGG), 9);
    }

    // Belady, Nelson & Shedler (1969), as in Silberschatz §10.4.2 and Tanenbaum, Modern
    // Operating Systems §3.4: FIFO takes more faults with four frames than with three.
    #[test]
    fn beladys_anomaly() {
        let s = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
        assert_eq!(faults(Policy::Fifo, 3, &s), 9);
        assert_eq!(faults(Policy::Fifo, 4, &s), 10);
        assert_eq!(faults(Policy::Lru, 4, &s), 8);
        assert_eq!(faults(Policy::Opt, 4, &s), 6);
    }

    // Arpaci-Dusseau & Arpaci-Dusseau, OSTEP ch. 22 (Beyond Physical Memory: Policies),
    // Figs. 22.1, 22.2 and 22.5: the stream 0 1 2 0 1 3 0 3 1 2 1 with a cache of three pages
    // misses 5 times under OPT (hit rate 54.5%), 7 under FIFO (36.4%), 5 under LRU.
    #[test]
    fn ostep_stream() {
        let s = [0, 1, 2, 0, 1, 3, 0, 3, 1, 2, 1];
        assert_eq!(faults(Policy::Opt, 3, &s), 5);
        assert_eq!(faults(Policy::Fifo, 3, &s), 7);
        assert_eq!(faults(Policy::Lru, 3, &s), 5);
    }

    /// CLOCK as docs/policies.md states it, written out plainly: a reference bit per frame,
    /// set on load and on every hit; a hand that clears set bits until it finds a clear one.
    fn clock_reference(n: usize, refs: &[u64]) -> u64 {
        let mut frames: Vec<Option<u64>> = vec![None; n];
        let mut bit = vec![false; n];
        let (mut hand, mut faults) = (0, 0);
        for &pg in refs {
            if let Some(f) = frames.iter().position(|&x| x == Some(pg)) {
                bit[f] = true;
                continue;
            }
            faults += 1;
            let f = match frames.iter().position(Option::is_none) {
                Some(f) => f,
                None => {
                    while bit[hand] {
                        bit[hand] = false;
                        hand = (hand + 1) % n;
                    }
                    hand
                }
            };
            frames[f] = Some(pg);
            bit[f] = true;
            hand = (f + 1) % n;
        }
        faults
    }

    #[test]
    fn random_is_deterministic_and_clock_is_the_textbook_clock() {
        let s: Vec<u64> = (0..200).map(|i| (i * 7919) % 13).collect();
        assert_eq!(faults(Policy::Random, 4, &s), faults(Policy::Random, 4, &s));
        for n in 1..=6 {
            assert_eq!(
                faults(Policy::Clock, n, &s),
                clock_reference(n as usize, &s),
                "{n} frames"
            );
        }
        // A string where the second chance matters: CLOCK keeps the page FIFO would evict.
        let s = [1, 3, 4, 3, 4, 2, 3, 1, 3, 5];
        assert_eq!(faults(Policy::Clock, 3, &s), clock_reference(3, &s));
        assert_eq!(
            (faults(Policy::Clock, 3, &s), faults(Policy::Fifo, 3, &s)),
            (6, 7)
        );
    }

    /// What one step of a frame's life does to the policy: loaded, accessed, freed, or a
    /// victim asked for among the frames a mask allows (as pinning and `scope local` do).
    #[derive(Debug, Clone)]
    enum Op {
        Load(u8),
        Touch(u8),
        Free(u8),
        Victim(u16),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            1 => (0u8..12).prop_map(Op::Load),
            3 => (0u8..12).prop_map(Op::Touch),
            1 => (0u8..12).prop_map(Op::Free),
            1 => any::<u16>().prop_map(Op::Victim),
        ]
    }

    proptest::proptest! {
        /// The lazy LRU heap and FIFO's list choose exactly the frame a plain ordered list
        /// would: the resident frame loaded (FIFO) or used (LRU, OPT outside a replay)
        /// longest ago among those allowed.
        #[test]
        fn victims_match_a_plain_ordered_list(ops in proptest::collection::vec(op(), 0..300)) {
            for policy in [Policy::Fifo, Policy::Lru, Policy::Opt] {
                let mut r = Replacer::new(policy, 1);
                let mut frames = vec![FREE_FRAME; 12];
                // Resident frames, oldest first.
                let mut order: Vec<u64> = Vec::new();
                for op in &ops {
                    match *op {
                        Op::Load(f) if !order.contains(&u64::from(f)) => {
                            r.loaded(u64::from(f), 12);
                            frames[f as usize].used = FrameUse::File { file: 0, page: 0 };
                            order.push(u64::from(f));
                        }
                        Op::Touch(f) if order.contains(&u64::from(f)) => {
                            r.touched(u64::from(f));
                            if policy != Policy::Fifo {
                                order.retain(|&x| x != u64::from(f));
                                order.push(u64::from(f));
                            }
                        }
                        Op::Free(f) if order.contains(&u64::from(f)) => {
                            r.freed(u64::from(f));
                            frames[f as usize].used = FrameUse::Free;
                            order.retain(|&x| x != u64::from(f));
                        }
                        Op::Victim(mask) => {
                            let allowed = |p: u64| mask >> p & 1 == 1;
                            let want = order.iter().copied().find(|&p| allowed(p));
                            let got = r.victim(&mut frames, |p, _| allowed(p));
                            proptest::prop_assert_eq!(got, want, "{:?}", policy);
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// During a replay OPT's indexed heap (or its pass, on a small machine) chooses what
        /// a scan would: the allowed resident frame whose page is used again farthest away
        /// (never-again first, then the highest frame number), whatever order loads, accesses
        /// and frees came in.
        #[test]
        fn opt_victims_match_a_scan(
            ops in proptest::collection::vec((op(), 0u64..40), 0..300),
            resident in proptest::collection::vec((0u8..12, 0u64..40), 0..6),
            machine in proptest::sample::select(vec![12u64, 100]),
        ) {
            let mut r = Replacer::new(Policy::Opt, 1);
            let mut frames = vec![FREE_FRAME; 12];
            let mut key: Vec<Option<u64>> = vec![None; 12];
            for &(f, _) in &resident {
                if key[f as usize].is_none() {
                    r.loaded(u64::from(f), 12);
                    frames[f as usize].used = FrameUse::File { file: 0, page: 0 };
                    key[f as usize] = Some(u64::MAX);
                }
            }
            let first: Vec<(u64, u64)> = resident
                .iter()
                .map(|&(f, k)| (u64::from(f), k))
                .collect();
            // A machine of 12 frames scans for its victim; one of 100 keeps the heap.
            r.opt_begin(first.iter().copied(), machine);
            // What opt_begin was told last wins for a frame named twice; the rest never again.
            for &(f, k) in &first {
                key[f as usize] = Some(k);
            }
            for &(ref op, next) in &ops {
                // Far futures are "never again" sometimes, as the last use of a page is.
                let next = if next >= 36 { u64::MAX } else { next };
                r.opt_next(next);
                match *op {
                    Op::Load(f) if key[f as usize].is_none() => {
                        r.loaded(u64::from(f), 12);
                        frames[f as usize].used = FrameUse::File { file: 0, page: 0 };
                        key[f as usize] = Some(next);
                    }
                    Op::Touch(f) if key[f as usize].is_some() => {
                        r.touched(u64::from(f));
                        key[f as usize] = Some(next);
                    }
                    Op::Free(f) if key[f as usize].is_some() => {
                        r.freed(u64::from(f));
                        frames[f as usize].used = FrameUse::Free;
                        key[f as usize] = None;
                    }
                    Op::Victim(mask) => {
                        let allowed = |p: u64| mask >> p & 1 == 1;
                        let want = (0..12u64)
                            .filter(|&p| allowed(p))
                            .filter_map(|p| key[p as usize].map(|k| (k, p)))
                            .max()
                            .map(|(_, p)| p);
                        let got = r.victim(&mut frames, |p, _| allowed(p));
                        proptest::prop_assert_eq!(got, want);
                    }
                    _ => {}
                }
            }
        }
    }

    proptest::proptest! {
        /// On a full memory whose every frame may go, `replace_any` chooses what `victim`
        /// chooses and leaves the policy as `victim` then `loaded` leave it: the list, the
        /// hand, LRU's last uses and heap entries, CLOCK's reference bits.
        #[test]
        fn replace_any_is_victim_then_loaded(
            policy in proptest::sample::select(vec![Policy::Fifo, Policy::Lru, Policy::Clock]),
            n in 1u64..12,
            ops in proptest::collection::vec((proptest::bool::weighted(0.6), 0u64..12), 0..200),
        ) {
            let mut a = Replacer::new(policy, 1);
            let mut fa = vec![FREE_FRAME; n as usize];
            for f in 0..n {
                fa[f as usize].used = FrameUse::File { file: 0, page: f };
                a.loaded(f, n);
            }
            let mut b = a.clone();
            let mut fb = fa.clone();
            proptest::prop_assert!(b.replaces_any());
            for (touch, f) in ops {
                if touch {
                    let f = f % n;
                    a.touched(f);
                    b.touched(f);
                    fa[f as usize].referenced = true;
                    fb[f as usize].referenced = true;
                    continue;
                }
                let va = a.victim(&mut fa, |_, _| true).unwrap();
                a.loaded(va, n);
                let vb = b.replace_any(&mut fb, n);
                proptest::prop_assert_eq!(va, vb);
                fa[va as usize].referenced = true;
                fb[vb as usize].referenced = true;
                proptest::prop_assert_eq!(a.order(), b.order());
                proptest::prop_assert_eq!(a.hand, b.hand);
                proptest::prop_assert_eq!(&a.used, &b.used);
                proptest::prop_assert_eq!(&a.queued, &b.queued);
                proptest::prop_assert_eq!(a.lru.clone().into_sorted_vec(), b.lru.clone().into_sorted_vec());
                let bits = |f: &[FrameInfo]| f.iter().map(|x| x.referenced).collect::<Vec<_>>();
                proptest::prop_assert_eq!(bits(&fa), bits(&fb));
            }
        }
    }
}
