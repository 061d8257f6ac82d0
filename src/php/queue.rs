//! `PhpQueue`: the `Queue` port backed by the plugin's queue adapter object (`$wpdb`,
//! `WPF_Bridge_Queue`; `ArrayQueue` in the PHPUnit suite). Each port method calls the adapter method of the same name with plain
//! values (strings, ints, lists); what the adapter returns is checked and converted here, and
//! a PHP exception or a malformed answer becomes `Error::Site`, so the drain decides.
//!
//! The adapter implements `WpfBridge\Queue` (`interfaces.rs`: its methods, their PHP types
//! and the contract; the exposed functions check the interface before this is built), so
//! what is checked here is what PHP's types cannot say: the arrays' contents.

use std::time::Duration;

use ext_php_rs::types::{ZendObject, Zval};
use serde_json::Value;

use super::convert::to_zval;
use super::site::{call_adapter, type_name};
use crate::error::{Error, Result};
use crate::queue::{
    Claim, ClaimedRow, ContactKey, EventId, Load, NewRow, Queue, QueueState, RowView, UnixTime,
};
use crate::sync::EventResult;

pub struct PhpQueue<'a> {
    adapter: &'a ZendObject,
}

impl<'a> PhpQueue<'a> {
    pub fn new(adapter: &'a ZendObject) -> Self {
        PhpQueue { adapter }
    }

    fn call(
        &self,
        method: &str,
        args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>,
    ) -> Result<Value> {
        call_adapter(self.adapter, "queue", method, args)
    }
}

fn wrong(method: &str, what: &str, value: &Value) -> Error {
    Error::Site(format!(
        "{method}() returned {} instead of {what}",
        type_name(value)
    ))
}

/// A whole number, as an int or a numeric string (`$wpdb` returns strings).
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn list(value: Value, method: &str) -> Result<Vec<Value>> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(map) if map.is_empty() => Ok(Vec::new()),
        other => Err(wrong(method, "a list", &other)),
    }
}

fn field<'v>(row: &'v Value, key: &str, method: &str) -> Result<&'v Value> {
    row.get(key)
        .ok_or_else(|| Error::Site(format!("{method}() returned a row without {key}")))
}

fn id_field(row: &Value, method: &str) -> Result<EventId> {
    integer(field(row, "id", method)?)
        .and_then(|id| EventId::try_from(id).ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::Site(format!("{method}() returned a row with a bad id")))
}

fn text_field(row: &Value, key: &str, method: &str) -> Result<String> {
    match field(row, key, method)? {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(wrong(method, "text", other)),
    }
}

fn optional_text(row: &Value, key: &str) -> Option<String> {
    match row.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn crm_field(row: &Value, method: &str) -> Result<String> {
    let slug = text_field(row, "crm", method)?;
    match crate::crm_kind::slug_problem(&slug) {
        None => Ok(slug),
        Some(_) => Err(Error::Site(format!(
            "{method}() returned a row of an unknown CRM"
        ))),
    }
}

fn parse_state(slug: &str, method: &str) -> Result<QueueState> {
    slug.parse()
        .map_err(|_| Error::Site(format!("{method}() returned an unknown state")))
}

fn ids_arg(ids: &[EventId]) -> Result<Zval> {
    to_zval(&Value::Array(ids.iter().map(|id| (*id).into()).collect()))
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn count_arg(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Queue for PhpQueue<'_> {
    fn now(&self) -> Result<UnixTime> {
        let value = self.call("now", vec![])?;
        integer(&value).ok_or_else(|| wrong("now", "a Unix time", &value))
    }

    fn store(&self, rows: &[NewRow]) -> Result<Vec<EventId>> {
        let rows = Value::Array(
            rows.iter()
                .map(|row| {
                    serde_json::json!({
                        "crm": row.crm,
                        "contact_id": row.contact_id,
                        "data": row.data,
                        "head": row.head,
                        "delivery_key": row.delivery_key,
                    })
                })
                .collect(),
        );
        let arg = to_zval(&rows)?;
        list(self.call("store", vec![&arg])?, "store")?
            .iter()
            .map(|id| {
                integer(id)
                    .and_then(|id| EventId::try_from(id).ok())
                    .filter(|id| *id > 0)
                    .ok_or_else(|| wrong("store", "an event id", id))
            })
            .collect()
    }

    fn waiting_load(&self, max_age: Duration) -> Result<Load> {
        let value = self.call("waiting_load", vec![&secs(max_age)])?;
        let figure = |key: &str| {
            value
                .get(key)
                .and_then(integer)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| Error::Site(format!("waiting_load() returned no {key}")))
        };
        Ok(Load {
            events: figure("events")?,
            bytes: figure("bytes")?,
        })
    }

    fn waiting_per_contact(&self, crm: &str, contact_ids: &[String]) -> Result<Vec<u64>> {
        let ids = to_zval(&Value::Array(
            contact_ids
                .iter()
                .map(|id| Value::from(id.as_str()))
                .collect(),
        ))?;
        list(
            self.call("waiting_per_contact", vec![&crm, &ids])?,
            "waiting_per_contact",
        )?
        .iter()
        .map(|n| {
            integer(n)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| wrong("waiting_per_contact", "a count", n))
        })
        .collect()
    }

    fn due_contacts(&self, limit: usize) -> Result<Vec<ContactKey>> {
        list(
            self.call("due_contacts", vec![&count_arg(limit)])?,
            "due_contacts",
        )?
        .iter()
        .map(|row| {
            Ok(ContactKey {
                crm: crm_field(row, "due_contacts")?,
                contact_id: text_field(row, "contact_id", "due_contacts")?,
            })
        })
        .collect()
    }

    fn claim(
        &self,
        contact: &ContactKey,
        token: &str,
        lease: Duration,
        max_rows: usize,
    ) -> Result<Claim> {
        let rows = list(
            self.call(
                "claim",
                vec![
                    &contact.crm,
                    &contact.contact_id.as_str(),
                    &token,
                    &secs(lease),
                    &count_arg(max_rows),
                ],
            )?,
            "claim",
        )?
        .iter()
        .map(|row| {
            Ok(ClaimedRow {
                id: id_field(row, "claim")?,
                attempts: integer(field(row, "attempts", "claim")?)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(1),
                dead_claims: row
                    .get("dead_claims")
                    .and_then(integer)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                head: text_field(row, "head", "claim")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Claim {
            token: token.to_string(),
            rows,
        })
    }

    fn event_data(&self, token: &str, id: EventId) -> Result<String> {
        let id = i64::try_from(id).unwrap_or(i64::MAX);
        match self.call("event_data", vec![&token, &id])? {
            Value::String(data) => Ok(data),
            other => Err(wrong("event_data", "the event's data", &other)),
        }
    }

    fn complete(&self, token: &str, ids: &[EventId], result: &EventResult) -> Result<()> {
        let result = serde_json::to_value(result).map_err(|e| Error::Site(e.to_string()))?;
        let result = to_zval(&result)?;
        let ids = ids_arg(ids)?;
        self.call("complete", vec![&token, &ids, &result]).map(drop)
    }

    fn retry(&self, token: &str, ids: &[EventId], at: UnixTime, error: &Error) -> Result<()> {
        let ids = ids_arg(ids)?;
        let message = error.to_string();
        self.call(
            "retry",
            vec![&token, &ids, &at, &error.code(), &message.as_str()],
        )
        .map(drop)
    }

    fn fail(&self, token: &str, ids: &[EventId], error: &Error) -> Result<()> {
        let ids = ids_arg(ids)?;
        let message = error.to_string();
        self.call("fail", vec![&token, &ids, &error.code(), &message.as_str()])
            .map(drop)
    }

    fn count(&self, state: QueueState) -> Result<u64> {
        let value = self.call("count", vec![&state.as_str()])?;
        integer(&value)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| wrong("count", "a count", &value))
    }

    fn list(
        &self,
        state: Option<QueueState>,
        contact_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RowView>> {
        let state_arg = to_zval(&state.map_or(Value::Null, |s| s.as_str().into()))?;
        let contact_arg = to_zval(&contact_id.map_or(Value::Null, Value::from))?;
        list(
            self.call("list", vec![&state_arg, &contact_arg, &count_arg(limit)])?,
            "list",
        )?
        .iter()
        .map(|row| {
            Ok(RowView {
                id: id_field(row, "list")?,
                crm: crm_field(row, "list")?,
                contact_id: text_field(row, "contact_id", "list")?,
                state: parse_state(&text_field(row, "state", "list")?, "list")?,
                attempts: row
                    .get("attempts")
                    .and_then(integer)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                accepted_at: row.get("accepted_at").and_then(integer).unwrap_or(0),
                due_at: row.get("due_at").and_then(integer),
                outcome: optional_text(row, "outcome"),
                error_code: optional_text(row, "error_code"),
                error_message: optional_text(row, "error_message"),
            })
        })
        .collect()
    }
}
