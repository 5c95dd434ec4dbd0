//! Flushing a file on another thread while this one commits the index.

use std::io;
use std::sync::mpsc;

/// A flush running elsewhere; `wait` for its result.
pub(crate) struct Flushing(State);

enum State {
    Done(io::Result<()>),
    Running(mpsc::Receiver<io::Result<()>>),
}

/// Starts `flush` on the runtime's blocking pool (whose idle threads are
/// reused, so no thread is created per instance). Outside a runtime it runs
/// here, before returning.
pub(crate) fn flush_during(flush: impl FnOnce() -> io::Result<()> + Send + 'static) -> Flushing {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            let (tx, rx) = mpsc::sync_channel(1);
            runtime.spawn_blocking(move || {
                let _ = tx.send(flush());
            });
            Flushing(State::Running(rx))
        }
        Err(_) => Flushing(State::Done(flush())),
    }
}

impl Flushing {
    pub(crate) fn wait(self) -> io::Result<()> {
        match self.0 {
            State::Done(r) => r,
            // A runtime shutting down drops the task unrun: not flushed.
            State::Running(rx) => rx.recv().unwrap_or_else(|_| Err(io::Error::other("the flush did not run"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_runtime_the_flush_runs_at_once() {
        let f = flush_during(|| Err(io::Error::other("disk gone")));
        assert_eq!(f.wait().unwrap_err().to_string(), "disk gone");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn inside_a_runtime_it_runs_meanwhile_and_wait_returns_its_result() {
        let (go, gate) = mpsc::channel::<()>();
        let f = tokio::task::spawn_blocking(move || {
            // Run inline, the flush would wait for a signal sent only after it returned.
            let f = flush_during(move || {
                gate.recv_timeout(std::time::Duration::from_secs(5)).map_err(|_| io::Error::other("ran inline"))
            });
            // The flush is blocked on the gate, so it is not running here.
            go.send(()).unwrap();
            f.wait()
        });
        f.await.unwrap().unwrap();
    }
}
