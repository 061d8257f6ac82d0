//! The flow of one webhook: `accept` (authenticate, parse, the `max_events` cap), then either
//! `apply` in the request (`handle`, without a queue) or `store` in the queue and answer at
//! once or settle each contact now (`handle_queued`). `needs_loaded_site` says, before any of
//! it, whether a request must wait for the whole site (a webhook applied in the request).
//! What each step produced goes to `answer` as plain data (`report`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Instant;

use super::answer::{answer, answer_queued, answer_settled, refuse, Answer};
use super::report::{Failure, Queued, Report};
use crate::crm::{self, Crm};
use crate::error::{Error, Result};
use crate::queue::{self, ContactKey, Queue};
use crate::settings::{Processing, Settings, SourceRef};
use crate::site::Site;
use crate::sync::ordering::LOCK_WAIT_SECS;
use crate::sync::{self, ContactLock};
use crate::webhook::action::{parse_action, parse_options};
use crate::webhook::{auth, mapping, payload, Action, Options, Request, Webhook};

/// Authenticates a request and parses it into a `Webhook`. Nothing is applied. A signed
/// payload alone decides which contacts it is about; a webhook with more events than one
/// request may apply (`max_events`) is refused whole, 413 `too_many_events`.
pub fn accept(request: &Request, settings: &Settings) -> Result<Webhook, Error> {
    let (source, signed) = auth::authenticate(request, settings)?;
    let webhook = match source {
        SourceRef::First => {
            payload::parse_authenticated(settings.crm, request, settings.max_body_bytes, signed)?
        }
        SourceRef::Further(source) => {
            mapping::read_source(source, request, settings.max_body_bytes)?
        }
    };
    if webhook.events.len() > settings.max_events {
        return Err(Error::TooManyEvents {
            count: webhook.events.len(),
            limit: settings.max_events,
        });
    }
    Ok(webhook)
}

/// Applies a parsed webhook. Events run in order; the first failure stops the batch, so the
/// CRM's retry (or the queue's) starts again from it (every step is idempotent, and an event
/// already applied is skipped as stale).
///
/// The time budget (`time_budget`) is checked between events: once spent, the batch stops
/// cleanly with `time_budget_exceeded` (503) and the events left are reported `pending`. At
/// least one event runs per request, so retries always make progress; one event can outlast
/// the budget by its own CRM calls (each bounded by `crm_timeout`) and its lock wait.
pub fn apply(webhook: &Webhook, settings: &Settings, site: &dyn Site, crm: &dyn Crm) -> Report {
    let deadline = Instant::now() + settings.time_budget;
    let mut report = Report {
        action: webhook.action,
        crm: webhook.crm.clone(),
        results: Vec::with_capacity(webhook.events.len()),
        failure: None,
        pending: Vec::new(),
    };
    if webhook.action == Action::Test {
        return report;
    }
    for (done, event) in webhook.events.iter().enumerate() {
        if done > 0 && Instant::now() >= deadline {
            report.pending = webhook.events[done..]
                .iter()
                .map(|event| event.contact_id.clone())
                .collect();
            report.failure = Some(Failure {
                contact_id: event.contact_id.clone(),
                error: Error::TimeBudgetExceeded {
                    done,
                    total: webhook.events.len(),
                },
            });
            break;
        }
        match sync::apply_event(webhook, event, settings, site, crm, ContactLock::Take) {
            Ok(result) => report.results.push(result),
            Err(error) => {
                report.failure = Some(Failure {
                    contact_id: event.contact_id.clone(),
                    error,
                });
                break;
            }
        }
    }
    report
}

/// The whole flow for one request: accept, apply (as its source: `applied_as`), answer.
pub fn handle(request: &Request, settings: &Settings, site: &dyn Site) -> Answer {
    match accept(request, settings) {
        Ok(webhook) => {
            let (settings, crm) = applied_as(&webhook, settings);
            answer(&webhook, &apply(&webhook, &settings, site, crm.as_ref()))
        }
        Err(error) => refuse(&error, request, Some(settings)),
    }
}

/// The settings and the CRM client an accepted webhook is applied with: those of the source
/// it came in through (`Settings::applied_as`, `crm::for_source`).
fn applied_as<'s>(webhook: &Webhook, settings: &'s Settings) -> (Cow<'s, Settings>, Box<dyn Crm>) {
    let source = settings
        .source_by_slug(&webhook.crm)
        .unwrap_or(SourceRef::First);
    (
        settings.applied_as(source),
        crm::for_source(settings, source),
    )
}

/// Whether a request must wait for the whole site to be loaded (other plugins' hooks, the
/// theme's) before `handle_queued`: a webhook applied in the request (`planned_processing`:
/// immediate, and `test`). The others (background processing, refusals) need only the
/// options and the database, so the plugin's must-use loader can answer them at once.
pub fn needs_loaded_site(request: &Request, settings: &Settings, can_answer_early: bool) -> bool {
    planned_processing(request, settings, can_answer_early) == Processing::Immediate
}

/// The queued flow (issue 10): accept, store every contact event in one durable write, then
/// answer at once (`background`: the queue's drain applies them after the answer) or apply
/// them in the request (`immediate`); see `processing`. A refused request stores nothing; a
/// `test` webhook is answered as by `handle`.
pub fn handle_queued(
    request: &Request,
    settings: &Settings,
    site: &dyn Site,
    queue: &dyn Queue,
    can_answer_early: bool,
) -> Answer {
    let webhook = match accept(request, settings) {
        Ok(webhook) => webhook,
        Err(error) => return refuse(&error, request, Some(settings)),
    };
    let (settings, crm) = applied_as(&webhook, settings);
    if webhook.action == Action::Test {
        return answer(&webhook, &apply(&webhook, &settings, site, crm.as_ref()));
    }
    let queued = match store(&webhook, &settings, queue) {
        Ok(queued) => queued,
        Err(error) => return answer(&webhook, &not_stored(&webhook, error)),
    };
    match processing(&webhook.options, &settings, can_answer_early) {
        Processing::Background => answer_queued(&webhook, &queued),
        Processing::Immediate => apply_queued(&webhook, &queued, &settings, site, queue),
    }
}

/// Which processing applies: `immediate` where the server cannot end the answer before the
/// apply (`can_answer_early` false, e.g. mod_php: the events would wait for the next trigger
/// otherwise); else the URL's `async` flag; else the `processing` setting.
pub fn processing(options: &Options, settings: &Settings, can_answer_early: bool) -> Processing {
    if !can_answer_early {
        return Processing::Immediate;
    }
    match options.async_ {
        Some(true) => Processing::Background,
        Some(false) => Processing::Immediate,
        None => settings.processing,
    }
}

/// The processing a request will get, known before it is authenticated, so the plugin can
/// answer a background webhook before the rest of WordPress loads (its must-use loader) and
/// leave the others for `init`, when everything an apply needs is loaded. `test` needs the
/// site, so it is `immediate`; a request that will be refused needs nothing and is
/// `background` (refused at once). `handle_queued` decides the same way once accepted.
pub fn planned_processing(
    request: &Request,
    settings: &Settings,
    can_answer_early: bool,
) -> Processing {
    match (parse_action(request), parse_options(request)) {
        (Ok(Action::Test), _) => Processing::Immediate,
        (Ok(_), Ok(options)) => processing(&options, settings, can_answer_early),
        _ => Processing::Background,
    }
}

/// Stores an accepted webhook's events (secrets dropped, `queue::intake`) in one write, each
/// with its delivery key (a delivery already waiting is not stored twice: its ids are
/// answered), once the queue's caps allow it (`queue::room`: 503 `queue_full`, nothing
/// stored).
pub fn store(webhook: &Webhook, settings: &Settings, queue: &dyn Queue) -> Result<Vec<Queued>> {
    let stored = queue::intake(webhook, settings);
    let rows: Vec<_> = stored
        .iter()
        .enumerate()
        .map(|(index, event)| event.to_row(index))
        .collect();
    queue::room::make_room(&rows, settings, queue)?;
    let ids = queue.store(&rows)?;
    if ids.len() != rows.len() {
        return Err(Error::Site(format!(
            "the queue stored {} of {} events",
            ids.len(),
            rows.len()
        )));
    }
    Ok(ids
        .into_iter()
        .zip(rows)
        .map(|(id, row)| Queued {
            id,
            contact_id: row.contact_id,
        })
        .collect())
}

/// The report of a webhook whose events could not be stored: nothing was applied.
fn not_stored(webhook: &Webhook, error: Error) -> Report {
    Report {
        action: webhook.action,
        crm: webhook.crm.clone(),
        results: Vec::new(),
        failure: Some(Failure {
            contact_id: webhook
                .events
                .first()
                .map(|event| event.contact_id.clone())
                .unwrap_or_default(),
            error,
        }),
        pending: Vec::new(),
    }
}

/// Immediate processing: each contact of the webhook takes its turn now (waiting for its
/// lock as `apply` does), within the time budget (at least one contact runs); the answer
/// (`answer_settled`) has one result per event, `queued` for one not reached (budget spent,
/// contact busy). A failing queue stops the turns and is answered with its error.
pub fn apply_queued(
    webhook: &Webhook,
    queued: &[Queued],
    settings: &Settings,
    site: &dyn Site,
    queue: &dyn Queue,
) -> Answer {
    let deadline = Instant::now() + settings.time_budget;
    let mut settled = HashMap::new();
    let mut port_error = None;
    let mut contacts: Vec<&str> = Vec::new();
    for q in queued {
        if !contacts.contains(&q.contact_id.as_str()) {
            contacts.push(&q.contact_id);
        }
    }
    for (turn, contact_id) in contacts.into_iter().enumerate() {
        if turn > 0 && Instant::now() >= deadline {
            break;
        }
        let contact = ContactKey {
            crm: webhook.crm.clone(),
            contact_id: contact_id.to_string(),
        };
        match queue::settle_contact(queue, settings, site, &contact, LOCK_WAIT_SECS) {
            Ok(Some(run)) => settled.extend(run.events),
            Ok(None) => {}
            Err(error) => {
                port_error = Some(error);
                break;
            }
        }
    }
    answer_settled(webhook, queued, &settled, port_error)
}
