//! The one run driver: how a long Monte Carlo job (a simulation, a comparison, a forecast's
//! conditioned run) is executed, whatever it computes.
//!
//! - [`RunOptions`]: worker threads, chunk size and memory limit, the options every job shares
//!   (a job's own options, e.g. [`crate::engine::SimOptions`], carry them);
//! - [`Control`]: the progress callback and the cancel flag, one small `Copy` struct;
//! - [`thread_pool`] and [`check_threads`]: the job's own rayon pool, refused beyond
//!   [`MAX_THREADS`];
//! - [`check_memory`] (with the saturating byte arithmetic of [`Bytes`]): the guard that
//!   refuses a request whose outputs would not fit before anything is allocated;
//! - [`run_chunks`]: runs scenarios `[a, b)` in chunks across the pool, hands each chunk's
//!   outputs to a fold *in scenario order*, and checks the cancel flag and reports progress
//!   between chunks. Every output is computed from its scenario index alone, and folds run in
//!   index order, so results do not depend on the number of threads or the chunk size.

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

/// The most worker threads a run may ask for (`threads`, `--threads`): more is refused with
/// [`Error::Request`] rather than starting threads without bound. The engine's results do not
/// depend on the number of threads, so more threads than cores never helps.
pub const MAX_THREADS: usize = 1024;

/// The default memory limit of a run's outputs (bytes): 4 GiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 4 << 30;

/// The default number of scenarios per chunk (between progress reports and cancel checks).
pub const DEFAULT_CHUNK_SIZE: usize = 64;

/// Check a requested number of worker threads (`None` = all cores): at least 1 and at most
/// [`MAX_THREADS`].
pub fn check_threads(threads: Option<usize>) -> Result<()> {
    match threads {
        Some(0) => Err(Error::Request(
            "threads must be at least 1 (or None for all cores)".into(),
        )),
        Some(t) if t > MAX_THREADS => Err(Error::Request(format!(
            "threads = {t} is above the maximum of {MAX_THREADS} worker threads (this machine has {} cores; None uses them all)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ))),
        _ => Ok(()),
    }
}

/// How a run is executed (not what it computes): results never depend on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Worker threads (`None` = all cores).
    pub threads: Option<usize>,
    /// Scenarios per chunk between progress reports and cancel checks.
    pub chunk_size: usize,
    /// Refuse a request whose outputs would need more memory than this (bytes).
    pub memory_limit: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }
}

impl RunOptions {
    /// Check the options: threads as [`check_threads`], a chunk size of at least 1.
    pub fn check(&self) -> Result<()> {
        check_threads(self.threads)?;
        if self.chunk_size == 0 {
            return Err(Error::Request("chunk_size must be at least 1".into()));
        }
        Ok(())
    }

    /// The rayon pool of a run with these options ([`thread_pool`]).
    pub fn pool(&self) -> Result<rayon::ThreadPool> {
        thread_pool(self.threads)
    }
}

/// A progress callback: called with (done, planned) after each chunk (of scenarios, or of
/// years in a backtest); returning `false` cancels the run ([`Error::Cancelled`]).
pub type ProgressCallback<'a> = &'a (dyn Fn(usize, usize) -> bool + Sync);

/// How a caller follows and stops a run: a progress callback and a cancel flag.
#[derive(Clone, Copy, Default)]
pub struct Control<'a> {
    /// Progress callback ([`ProgressCallback`]).
    pub progress: Option<ProgressCallback<'a>>,
    /// Set to `true` (from another thread, e.g. a Ctrl-C watcher) to stop the run with
    /// [`Error::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

impl std::fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}

impl<'a> Control<'a> {
    /// A control with this callback and flag.
    pub fn new(progress: Option<ProgressCallback<'a>>, cancel: Option<&'a AtomicBool>) -> Self {
        Control { progress, cancel }
    }

    /// Whether the cancel flag is set (a relaxed load: cheap enough to call before each
    /// partner of a scenario).
    #[inline]
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// [`Error::Cancelled`] once the cancel flag is set.
    pub fn check(&self) -> Result<()> {
        if self.cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Report `done` of `planned` to the callback; [`Error::Cancelled`] when it returns
    /// `false`.
    pub fn report(&self, done: usize, planned: usize) -> Result<()> {
        match self.progress {
            Some(callback) if !callback(done, planned) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }
}

/// A rayon pool of `threads` workers (`None` = as many as the global pool, i.e. all cores).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let threads = threads.unwrap_or_else(rayon::current_num_threads);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Request(format!("cannot start {threads} worker threads: {e}")))
}

/// Saturating byte arithmetic for memory estimates: a huge request (scenarios near
/// `usize::MAX`) comes out as `usize::MAX`, above any limit, instead of wrapping round to a
/// small number.
pub struct Bytes;

impl Bytes {
    /// The saturating sum of `terms`.
    pub fn sum(terms: &[usize]) -> usize {
        terms.iter().fold(0usize, |a, &b| a.saturating_add(b))
    }

    /// The saturating product `a × b`.
    pub fn mul(a: usize, b: usize) -> usize {
        a.saturating_mul(b)
    }
}

/// Refuse a run whose estimated memory `need` (bytes, saturated) is above `limit`.
pub fn check_memory(need: usize, limit: usize, scenarios: usize, partners: usize) -> Result<()> {
    if need > limit {
        let mb = if need == usize::MAX {
            "more memory than this computer can address".to_owned()
        } else {
            format!("about {} MB", need / 1_000_000 + 1)
        };
        return Err(Error::Request(format!(
            "the outputs of {scenarios} scenarios × {partners} partners would need {mb}, above the memory limit of {} MB: run fewer scenarios or raise the limit",
            limit / 1_000_000
        )));
    }
    Ok(())
}

/// Where chunks of a [`run_chunks`] call end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Scenarios per chunk (at least 1).
    pub chunk_size: usize,
    /// Chunks never cross a multiple of this (e.g. a precision checkpoint), `None` for no
    /// such boundaries.
    pub checkpoint_every: Option<usize>,
}

impl Chunking {
    /// The end of the chunk that starts at `done`, before `end`.
    fn chunk_end(&self, done: usize, end: usize) -> usize {
        let mut chunk_end = done.saturating_add(self.chunk_size).min(end);
        if let Some(every) = self.checkpoint_every {
            chunk_end = chunk_end.min((done / every + 1).saturating_mul(every));
        }
        chunk_end
    }
}

/// Run scenarios `scenarios` (`[a, b)`) in chunks across `pool`.
///
/// Each chunk's scenarios run in parallel, `run(work, s)` on a per-worker scratch `init()`;
/// their outputs go, in scenario order, to `fold(chunk_end, outputs)`, on the calling thread.
/// Between chunks the cancel flag is checked (before and after each chunk) and progress is
/// reported as (scenarios done since `a`, `planned`). `fold` returning `Break` stops the run
/// after that chunk (once its progress is reported). Returns the end of the last chunk run.
///
/// Errors: [`Error::Cancelled`] when the flag is set or the callback returns `false`; any
/// error of `fold`.
#[allow(clippy::too_many_arguments)]
pub fn run_chunks<W, O: Send>(
    pool: &rayon::ThreadPool,
    scenarios: std::ops::Range<usize>,
    chunking: Chunking,
    control: &Control,
    planned: usize,
    init: impl Fn() -> W + Sync + Send,
    run: impl Fn(&mut W, usize) -> O + Sync + Send,
    mut fold: impl FnMut(usize, Vec<O>) -> Result<ControlFlow<()>>,
) -> Result<usize> {
    let start = scenarios.start;
    let mut done = start;
    while done < scenarios.end {
        control.check()?;
        let chunk_end = chunking.chunk_end(done, scenarios.end);
        let outputs: Vec<O> = pool.install(|| {
            (done..chunk_end)
                .into_par_iter()
                .map_init(&init, &run)
                .collect()
        });
        control.check()?;
        let flow = fold(chunk_end, outputs)?;
        done = chunk_end;
        control.report(done - start, planned)?;
        if flow.is_break() {
            break;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        thread_pool(Some(threads)).unwrap()
    }

    #[test]
    fn outputs_arrive_in_scenario_order_for_any_threads_and_chunks() {
        for threads in [1, 3] {
            for chunk_size in [1, 4, 7, 100] {
                let mut seen = Vec::new();
                let chunking = Chunking {
                    chunk_size,
                    checkpoint_every: None,
                };
                let end = run_chunks(
                    &pool(threads),
                    5..42,
                    chunking,
                    &Control::default(),
                    37,
                    || (),
                    |_, s| s * 10,
                    |_, outs| {
                        seen.extend(outs);
                        Ok(ControlFlow::Continue(()))
                    },
                )
                .unwrap();
                assert_eq!(end, 42);
                assert_eq!(seen, (5..42).map(|s| s * 10).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn chunks_stop_at_checkpoints_and_progress_counts_from_the_start() {
        let reports = std::sync::Mutex::new(Vec::new());
        let progress = |done: usize, planned: usize| {
            reports.lock().unwrap().push((done, planned));
            true
        };
        let mut ends = Vec::new();
        let chunking = Chunking {
            chunk_size: 4,
            checkpoint_every: Some(6),
        };
        run_chunks(
            &pool(2),
            0..14,
            chunking,
            &Control::new(Some(&progress), None),
            14,
            || (),
            |_, s| s,
            |end, _| {
                ends.push(end);
                Ok(ControlFlow::Continue(()))
            },
        )
        .unwrap();
        assert_eq!(ends, [4, 6, 10, 12, 14]);
        let reports = reports.into_inner().unwrap();
        assert_eq!(reports, [(4, 14), (6, 14), (10, 14), (12, 14), (14, 14)]);
    }

    #[test]
    fn a_break_stops_after_its_chunk() {
        let end = run_chunks(
            &pool(1),
            0..100,
            Chunking {
                chunk_size: 10,
                checkpoint_every: None,
            },
            &Control::default(),
            100,
            || (),
            |_, s| s,
            |end, _| {
                Ok(if end >= 30 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            },
        )
        .unwrap();
        assert_eq!(end, 30);
    }

    #[test]
    fn the_flag_or_the_callback_cancels() {
        let stop = AtomicBool::new(true);
        let mut folds = 0;
        let r = run_chunks(
            &pool(1),
            0..10,
            Chunking {
                chunk_size: 2,
                checkpoint_every: None,
            },
            &Control::new(None, Some(&stop)),
            10,
            || (),
            |_, s| s,
            |_, _| {
                folds += 1;
                Ok(ControlFlow::Continue(()))
            },
        );
        assert_eq!(r, Err(Error::Cancelled));
        assert_eq!(folds, 0);

        let refuse = |done: usize, _: usize| done < 4;
        let mut folds = 0;
        let r = run_chunks(
            &pool(1),
            0..10,
            Chunking {
                chunk_size: 2,
                checkpoint_every: None,
            },
            &Control::new(Some(&refuse), None),
            10,
            || (),
            |_, s| s,
            |_, _| {
                folds += 1;
                Ok(ControlFlow::Continue(()))
            },
        );
        assert_eq!(r, Err(Error::Cancelled));
        assert_eq!(folds, 2);
    }

    #[test]
    fn thread_counts_are_checked() {
        assert!(check_threads(None).is_ok());
        assert!(check_threads(Some(MAX_THREADS)).is_ok());
        assert!(check_threads(Some(0)).is_err());
        assert!(check_threads(Some(MAX_THREADS + 1)).is_err());
        let zero_chunk = RunOptions {
            chunk_size: 0,
            ..RunOptions::default()
        };
        assert_eq!(
            zero_chunk.check(),
            Err(Error::Request("chunk_size must be at least 1".into()))
        );
    }

    #[test]
    fn memory_beyond_the_limit_is_refused_with_the_sizes() {
        assert!(check_memory(10, 10, 1, 1).is_ok());
        let e = check_memory(Bytes::mul(usize::MAX, 2), 4 << 30, 7, 3).unwrap_err();
        assert!(e.to_string().contains("7 scenarios × 3 partners"), "{e}");
        assert!(e
            .to_string()
            .contains("more memory than this computer can address"));
        assert_eq!(Bytes::sum(&[usize::MAX, 1]), usize::MAX);
    }
}
