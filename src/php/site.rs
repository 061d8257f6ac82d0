//! `PhpSite`: the `Site` port backed by the plugin's adapter object, which implements
//! `WpfBridge\Site` (`interfaces.rs`; the exposed functions check it). Each port method calls
//! the adapter method of the same name; a PHP exception thrown by the adapter is taken from
//! the engine and becomes `Error::Site`, so the core decides what happens next.

use ext_php_rs::convert::IntoZvalDyn;
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::ExecutorGlobals;
use serde_json::{Map, Value};

use super::convert::{map_to_array, to_value, to_zval};
use crate::error::{Error, Result};
use crate::site::{LogLevel, NewUser, Role, Site, User, UserId};

pub struct PhpSite<'a> {
    adapter: &'a ZendObject,
}

impl<'a> PhpSite<'a> {
    pub fn new(adapter: &'a ZendObject) -> Self {
        PhpSite { adapter }
    }

    /// Calls an adapter method and returns its result as JSON.
    fn call(&self, method: &str, args: Vec<&dyn IntoZvalDyn>) -> Result<Value> {
        call_adapter(self.adapter, "site", method, args)
    }

    fn id_arg(id: UserId) -> i64 {
        i64::try_from(id).unwrap_or(i64::MAX)
    }
}

thread_local! {
    /// Calls from the extension into PHP (adapter methods, the settings callable) made by
    /// this thread: the drain reports how many one drain made (`adapter_calls`).
    static ROUND_TRIPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts one call from the extension into PHP code.
pub(super) fn count_round_trip() {
    ROUND_TRIPS.with(|n| n.set(n.get().wrapping_add(1)));
}

/// Calls into PHP made by this thread so far (see `count_round_trip`).
pub(super) fn round_trips() -> u64 {
    ROUND_TRIPS.with(std::cell::Cell::get)
}

/// Calls a method of a plugin adapter object (`port` names it in errors) and returns its
/// result as JSON. A PHP exception thrown by the method is taken from the engine (so it does
/// not escape to the caller) and becomes `Error::Site`, as does a missing method.
/// The message of an exception PHP code threw during our call, taken from the engine (so it
/// does not escape to the caller), as printable text.
pub(super) fn take_thrown() -> Option<String> {
    let exception = ExecutorGlobals::take_exception()?;
    let message = exception
        .try_call_method("getMessage", vec![])
        .ok()
        .and_then(|m| m.string())
        .unwrap_or_default();
    Some(crate::text::printable(&message, 300))
}

pub(super) fn call_adapter(
    adapter: &ZendObject,
    port: &str,
    method: &str,
    args: Vec<&dyn IntoZvalDyn>,
) -> Result<Value> {
    count_round_trip();
    let result = adapter.try_call_method(method, args);
    if let Some(message) = take_thrown() {
        return Err(Error::Site(format!("{method}: {message}")));
    }
    match result {
        Ok(zval) => to_value(&zval),
        Err(error) => Err(Error::Site(format!(
            "the {port} adapter has no usable {method}() method ({error})"
        ))),
    }
}

fn user_id(value: Value, method: &str) -> Result<Option<UserId>> {
    match value {
        Value::Null | Value::Bool(false) => Ok(None),
        Value::Number(n) => Ok(n.as_u64().filter(|id| *id > 0)),
        Value::String(s) => Ok(s.trim().parse::<UserId>().ok().filter(|id| *id > 0)),
        other => Err(Error::Site(format!(
            "{method}() returned {} instead of a user id",
            type_name(&other)
        ))),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(crate::text::value_text).collect(),
        Some(Value::Object(map)) => map.values().filter_map(crate::text::value_text).collect(),
        _ => Vec::new(),
    }
}

fn text(value: Option<&Value>) -> String {
    value.and_then(crate::text::value_text).unwrap_or_default()
}

fn zval(value: &Value) -> Result<Zval> {
    to_zval(value)
}

impl Site for PhpSite<'_> {
    fn find_user_by_meta(&self, key: &str, value: &str) -> Result<Option<UserId>> {
        user_id(
            self.call("find_user_by_meta", vec![&key, &value])?,
            "find_user_by_meta",
        )
    }

    fn prime_contact_links(&self, key: &str, values: &[String]) -> Result<()> {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        self.call("prime_contact_links", vec![&key, &values])
            .map(drop)
    }

    fn find_user_by_email(&self, email: &str) -> Result<Option<UserId>> {
        user_id(
            self.call("find_user_by_email", vec![&email])?,
            "find_user_by_email",
        )
    }

    fn user(&self, id: UserId) -> Result<Option<User>> {
        match self.call("user", vec![&Self::id_arg(id)])? {
            Value::Object(map) => Ok(Some(User {
                id,
                login: text(map.get("login")),
                email: text(map.get("email")),
                roles: strings(map.get("roles")),
                capabilities: strings(map.get("capabilities")),
                super_admin: matches!(map.get("super_admin"), Some(Value::Bool(true))),
            })),
            Value::Null | Value::Bool(false) => Ok(None),
            other => Err(Error::Site(format!(
                "user() returned {} instead of an array",
                type_name(&other)
            ))),
        }
    }

    fn login_exists(&self, login: &str) -> Result<bool> {
        Ok(matches!(
            self.call("login_exists", vec![&login])?,
            Value::Bool(true)
        ))
    }

    fn create_user(&self, user: &NewUser) -> Result<UserId> {
        let mut map = Map::new();
        map.insert("login".into(), user.login.clone().into());
        map.insert("email".into(), user.email.clone().into());
        map.insert("password".into(), user.password.clone().into());
        map.insert("role".into(), user.role.clone().into());
        map.insert("core".into(), Value::Object(user.core.clone()));
        map.insert("meta".into(), Value::Object(user.meta.clone()));
        let mut arg = Zval::new();
        arg.set_hashtable(map_to_array(&map)?);
        user_id(self.call("create_user", vec![&arg])?, "create_user")?
            .ok_or_else(|| Error::Site("create_user() returned no user id".into()))
    }

    fn update_user(&self, id: UserId, core: &Map<String, Value>) -> Result<()> {
        let mut arg = Zval::new();
        arg.set_hashtable(map_to_array(core)?);
        self.call("update_user", vec![&Self::id_arg(id), &arg])
            .map(drop)
    }

    fn user_meta(&self, id: UserId, key: &str) -> Result<Option<Value>> {
        match self.call("user_meta", vec![&Self::id_arg(id), &key])? {
            Value::Null => Ok(None),
            value => Ok(Some(value)),
        }
    }

    fn update_user_meta(&self, id: UserId, key: &str, value: &Value) -> Result<()> {
        let value = zval(value)?;
        self.call("update_user_meta", vec![&Self::id_arg(id), &key, &value])
            .map(drop)
    }

    fn delete_user_meta(&self, id: UserId, key: &str) -> Result<()> {
        self.call("delete_user_meta", vec![&Self::id_arg(id), &key])
            .map(drop)
    }

    fn roles(&self) -> Result<Vec<Role>> {
        let items = match self.call("roles", vec![])? {
            Value::Array(items) => items,
            Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
            other => {
                return Err(Error::Site(format!(
                    "roles() returned {} instead of a list",
                    type_name(&other)
                )))
            }
        };
        Ok(items
            .iter()
            .filter_map(Value::as_object)
            .map(|role| Role {
                slug: text(role.get("slug")),
                name: text(role.get("name")),
                capabilities: strings(role.get("capabilities")),
            })
            .filter(|role| !role.slug.is_empty())
            .collect())
    }

    fn default_role(&self) -> Result<String> {
        Ok(text(Some(&self.call("default_role", vec![])?)))
    }

    fn set_role(&self, id: UserId, role: &str) -> Result<()> {
        self.call("set_role", vec![&Self::id_arg(id), &role])
            .map(drop)
    }

    fn send_new_user_notification(&self, id: UserId) -> Result<()> {
        self.call("send_new_user_notification", vec![&Self::id_arg(id)])
            .map(drop)
    }

    fn lock(&self, name: &str, timeout_secs: u32) -> Result<bool> {
        Ok(matches!(
            self.call("lock", vec![&name, &i64::from(timeout_secs)])?,
            Value::Bool(true)
        ))
    }

    fn unlock(&self, name: &str) -> Result<()> {
        self.call("unlock", vec![&name]).map(drop)
    }

    fn begin_writes(&self) -> Result<()> {
        self.call("begin_writes", vec![]).map(drop)
    }

    fn commit_writes(&self) -> Result<bool> {
        match self.call("commit_writes", vec![])? {
            Value::Bool(committed) => Ok(committed),
            other => Err(Error::Site(format!(
                "commit_writes() answered {}, not a bool",
                type_name(&other)
            ))),
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        // Logging must never break a webhook; a failing logger is ignored.
        let _ = self.call("log", vec![&level.as_str(), &message]);
    }

    fn do_action(&self, hook: &str, args: &[Value]) -> Result<()> {
        let args = zval(&Value::Array(args.to_vec()))?;
        self.call("do_action", vec![&hook, &args]).map(drop)
    }
}

pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an array",
    }
}
