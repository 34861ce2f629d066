//! The latest routing decisions of each number, for its page: recorded beside the calls, never
//! in their way. A decision goes into a bounded queue (a full queue drops it: a call never waits
//! for its record); a task writes the queue in batches, and forgets decisions older than a week.

use kros_storage::{CallDecisionRecord, Storage};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Decisions waiting to be written, at most.
const QUEUE: usize = 10_000;
/// Decisions written in one transaction, at most.
const BATCH: usize = 500;
/// How long decisions are kept.
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often the old ones are forgotten.
const FORGET_EVERY: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct DecisionLog {
    sender: mpsc::Sender<CallDecisionRecord>,
}

impl DecisionLog {
    /// The log, and its writer on this runtime.
    pub fn start(store: Arc<dyn Storage>) -> DecisionLog {
        let (sender, receiver) = mpsc::channel(QUEUE);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(write_batches(store, receiver));
        }
        DecisionLog { sender }
    }

    /// Queues a decision (dropped if the queue is full).
    pub fn record(&self, decision: CallDecisionRecord) {
        if self.sender.try_send(decision).is_err() {
            tracing::debug!("the call decision log's queue is full: a decision was not recorded");
        }
    }
}

async fn write_batches(store: Arc<dyn Storage>, mut receiver: mpsc::Receiver<CallDecisionRecord>) {
    let mut forgot_at = tokio::time::Instant::now() - FORGET_EVERY;
    loop {
        let mut batch = Vec::new();
        tokio::select! {
            received = receiver.recv_many(&mut batch, BATCH) => if received == 0 { return },
            () = tokio::time::sleep_until(forgot_at + FORGET_EVERY) => {}
        }
        if !batch.is_empty() {
            if let Err(err) = store.insert_call_decisions(&batch).await {
                tracing::warn!(error = %err, count = batch.len(), "call decisions could not be recorded");
            }
        }
        if forgot_at.elapsed() >= FORGET_EVERY {
            forgot_at = tokio::time::Instant::now();
            let before = kros_storage::now() - chrono::Duration::from_std(KEEP).unwrap_or(chrono::Duration::MAX);
            if let Err(err) = store.forget_call_decisions_before(before).await {
                tracing::warn!(error = %err, "old call decisions could not be forgotten");
            }
        }
    }
}
