//! The flow of one webhook, and the one place that decides its answer and its log record.
//!
//! ```text
//! Request --accept--> Webhook --apply | store--> Report | Queued --answer--> Answer { status, body, log }
//!            (webhook/: auth, parse)  (sync/ | queue/)
//! ```
//! One job per file, each using only those listed after it (no cycle):
//! - `flow.rs`: `accept`, `apply`, `store`, `handle` (without a queue), `handle_queued`,
//!   `planned_processing` and `needs_loaded_site` (what the plugin's one entry may answer
//!   before the whole site is loaded);
//! - `answer.rs`: the HTTP status, JSON body and `Retry-After` of every way a request ends,
//!   one builder for the success body and one for the failure body;
//! - `log.rs`: the log record (and the action's log label), worded in one place;
//! - `report.rs`: the plain data between them (`Report`, `Failure`, `Queued`).
//!
//! The plugin decides nothing: it sends the answer and stores the record it is given.

mod answer;
mod flow;
mod log;
mod report;

pub use answer::{answer, answer_queued, answer_settled, refuse, Answer};
pub use flow::{
    accept, apply, apply_queued, handle, handle_queued, needs_loaded_site, planned_processing,
    processing, store,
};
pub use log::{action_label, LogRecord};
pub use report::{Failure, Queued, Report};
