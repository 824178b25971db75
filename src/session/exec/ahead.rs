//! A long `refs` string decoded on another core, a batch at a time, while this one works on what
//! is decoded already: OPT's future first, then the replay. Decoding the packed items is a fifth
//! of a lean run's time; this way it overlaps the rest.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::thread::Scope;

use crate::session::replay;
use crate::syntax::PageRefs;

/// The fewest references a string decodes on another thread: below, starting the thread costs
/// more than it saves.
const AHEAD_MIN: usize = 1 << 18;

/// Items a batch holds: a few chunks, so that the threads meet once every few chunks, not at
/// each.
const BATCH: usize = 4 * replay::CHUNK;

/// Whether a string of `n` references is decoded on another thread: a long one, when this
/// process has another core, and not in a sweep (whose runs have the cores already). Tests
/// take this path on one core too, so that it is tested wherever they run.
pub(super) fn worth_it(n: usize) -> bool {
    n >= AHEAD_MIN && rayon::current_thread_index().is_none() && (cores() > 1 || cfg!(test))
}

/// Decoding threads started so far: tests check that a long string starts one.
#[cfg(test)]
pub(crate) static DECODERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many cores this process may use, asked once (the answer reads the cgroup's files).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// The items of a string as a thread of the scope decodes them, made into `T`s.
pub(super) struct Batches<T> {
    ready: Receiver<Vec<T>>,
    spent: Sender<Vec<T>>,
    batch: Vec<T>,
}

/// Starts decoding `items` on a thread of `scope`, each made into a `T` by `make`: the batches
/// come in order, two waiting at most (and a third being decoded) beside the one in use. The
/// thread ends at the last item, or when the [`Batches`] are dropped.
pub(super) fn decode<'scope, 'env: 'scope, T: Send + 'scope>(
    scope: &'scope Scope<'scope, 'env>,
    items: &'env PageRefs,
    make: impl Fn(u64, bool) -> T + Send + 'scope,
) -> Batches<T> {
    #[cfg(test)]
    DECODERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (ready, rx) = sync_channel(2);
    let (spent, back) = channel::<Vec<T>>();
    scope.spawn(move || {
        let mut all = items.iter();
        loop {
            // A batch the other side is done with, else a new one.
            let mut batch = back.try_recv().unwrap_or_default();
            batch.clear();
            all.fill(&mut batch, BATCH, &make);
            if batch.is_empty() || ready.send(batch).is_err() {
                return;
            }
        }
    });
    Batches {
        ready: rx,
        spent,
        batch: Vec::new(),
    }
}

impl<T> Batches<T> {
    /// The next batch (the one before goes back to be filled again), or `None` after the last.
    pub(super) fn next(&mut self) -> Option<&[T]> {
        // Unless the decoder has ended.
        let _ = self.spent.send(std::mem::take(&mut self.batch));
        self.batch = self.ready.recv().ok()?;
        Some(&self.batch)
    }

    /// The batch in use.
    pub(super) fn current(&self) -> &[T] {
        &self.batch
    }
}
