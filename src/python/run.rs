//! Running core work from Python: the run options as Python passes them ([`RunArgs`]), the
//! GIL released while the work runs on a helper thread, the calling thread watching for
//! Ctrl-C ([`watch_signals`]), and progress reported to a Python callable.

use super::errors::to_py;
use crate::engine::SimOptions;
use crate::error::Error;
use crate::request::RunRequest;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How often the calling thread checks for Ctrl-C while the core works.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Run `work` (with the GIL released) on a helper thread while this thread, which must be the
/// one Python delivers signals to (the caller of the binding), checks for Ctrl-C every
/// [`SIGNAL_POLL`]: on a signal (KeyboardInterrupt, or whatever a Python signal handler raised)
/// the exception goes to `failure` and `stop` is set, which the core's loops check, so that the
/// work returns [`Error::Cancelled`] promptly. (`Python::check_signals` does nothing on other
/// threads, so a progress callback called from the core's workers cannot do this.)
pub(super) fn watch_signals<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    failure: &Mutex<Option<PyErr>>,
    work: impl FnOnce() -> T + Send,
) -> T {
    py.detach(|| {
        std::thread::scope(|scope| {
            let caller = std::thread::current();
            let worker = scope.spawn(move || {
                let out = work();
                caller.unpark();
                out
            });
            while !worker.is_finished() {
                std::thread::park_timeout(SIGNAL_POLL);
                if worker.is_finished() || stop.load(Ordering::Relaxed) {
                    continue;
                }
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                    if slot.is_none() {
                        *slot = Some(e);
                    }
                    stop.store(true, Ordering::Relaxed);
                }
            }
            match worker.join() {
                Ok(out) => out,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    })
}

/// The outcome of watched work: a cancellation becomes the Python exception that caused it
/// (a signal handler's, or the progress callback's), other errors their mapped exception.
pub(super) fn finish<T>(
    py: Python<'_>,
    result: crate::Result<T>,
    failure: Mutex<Option<PyErr>>,
) -> PyResult<T> {
    match result {
        Ok(v) => Ok(v),
        Err(Error::Cancelled) => match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Err(to_py(py, Error::Cancelled)),
        },
        Err(e) => Err(to_py(py, e)),
    }
}

/// Call the Python progress callback with (done, total); an exception it raises goes to
/// `failure` and sets `stop`. Returns whether to go on.
pub(super) fn report_progress(
    progress: Option<&Py<PyAny>>,
    stop: &AtomicBool,
    failure: &Mutex<Option<PyErr>>,
    done: usize,
    total: usize,
) -> bool {
    if stop.load(Ordering::Relaxed) {
        return false;
    }
    let Some(callback) = progress else {
        return true;
    };
    Python::attach(|py| match callback.call1(py, (done, total)) {
        Ok(_) => true,
        Err(e) => {
            *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            stop.store(true, Ordering::Relaxed);
            false
        }
    })
}

/// The run options that `simulate`, `compare` and `sensitivity` share, as
/// `rebatesim.simulation._kwargs` builds them: a dict with every key (`None` for a default).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(super) struct RunArgs {
    scenarios: usize,
    seed: u64,
    threads: Option<usize>,
    chunk_size: Option<usize>,
    statistic: Option<String>,
    tolerance: Option<f64>,
    max_scenarios: Option<usize>,
    memory_limit: Option<usize>,
}

impl From<RunArgs> for RunRequest {
    fn from(a: RunArgs) -> RunRequest {
        RunRequest {
            scenarios: a.scenarios,
            seed: a.seed,
            threads: a.threads,
            chunk_size: a.chunk_size,
            statistic: a.statistic,
            tolerance: a.tolerance,
            max_scenarios: a.max_scenarios,
            memory_limit: a.memory_limit,
        }
    }
}

/// Resolve run options in the core (defaults, the statistic) or raise.
pub(super) fn settings(
    py: Python<'_>,
    request: impl Into<RunRequest>,
) -> PyResult<SimOptions<'static>> {
    request.into().resolve().map_err(|e| to_py(py, e))
}

/// Run `f` with the GIL released and a progress callback that reports to `progress` (a
/// Python callable taking (done, total)); Ctrl-C stops it promptly ([`watch_signals`]).
pub(super) fn run_detached<T: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    settings: &SimOptions<'static>,
    f: impl for<'a> FnOnce(&SimOptions<'a>) -> crate::Result<T> + Send,
) -> PyResult<T> {
    let failure: Mutex<Option<PyErr>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let report = |done: usize, total: usize| -> bool {
        report_progress(progress.as_ref(), &stop, &failure, done, total)
    };
    let options = SimOptions {
        progress: Some(&report),
        cancel: Some(&stop),
        ..*settings
    };
    let result = watch_signals(py, &stop, &failure, || f(&options));
    finish(py, result, failure)
}
