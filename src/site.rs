//! The `Site` port: everything the apply step needs from WordPress, and nothing more.
//!
//! `sync/` makes every decision and calls these methods to carry them out. In production the
//! implementation is `php::PhpSite`, backed by the plugin's adapter object (each method a few
//! WordPress API calls), which implements the PHP interface `WpfBridge\Site` the extension
//! declares with these methods (`src/php/interfaces.rs`); tests use an in-memory
//! implementation.

use serde_json::{Map, Value};

use crate::error::Result;

/// A WordPress user id.
pub type UserId = u64;

/// What the core needs to know about an existing user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    pub id: UserId,
    pub login: String,
    pub email: String,
    /// Role slugs.
    pub roles: Vec<String>,
    /// Every capability the user holds, through its roles or granted directly.
    pub capabilities: Vec<String>,
    /// A super admin of a multisite network: WordPress grants them every capability on every
    /// site, whatever their role there (often none on a subsite).
    pub super_admin: bool,
}

/// A role registered on the site.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Role {
    pub slug: String,
    /// Display name, e.g. "Customer".
    pub name: String,
    /// Capabilities the role grants.
    pub capabilities: Vec<String>,
}

/// A user to create. `core` holds `wp_insert_user` fields other than login, email, password
/// and role (first_name, last_name, display_name, nickname, user_url, description); `meta`
/// is written in the same `wp_insert_user` call (`meta_input`), so a user never exists
/// without its contact link.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub password: String,
    pub role: String,
    pub core: Map<String, Value>,
    pub meta: Map<String, Value>,
}

/// Log levels, as the plugin's log stores them (the variant's name, lowercased: strum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum LogLevel {
    Info,
    Notice,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The port to WordPress.
pub trait Site {
    /// The lowest user id whose meta `key` equals `value`.
    fn find_user_by_meta(&self, key: &str, value: &str) -> Result<Option<UserId>>;
    /// A hint before a drain's round: `find_user_by_meta(key, v)` will be asked for these
    /// values. An implementation may look them all up at once (one scan of the key's rows,
    /// not one per value) and answer later calls from that, as long as each answer is checked
    /// against the user's current meta and anything else is looked up as usual.
    fn prime_contact_links(&self, key: &str, values: &[String]) -> Result<()>;
    /// The user with this email (case-insensitive, as WordPress compares).
    fn find_user_by_email(&self, email: &str) -> Result<Option<UserId>>;
    /// Reads a user; `None` when it does not exist.
    fn user(&self, id: UserId) -> Result<Option<User>>;
    /// Whether a user has this login.
    fn login_exists(&self, login: &str) -> Result<bool>;
    /// Creates a user (`wp_insert_user`) and returns its id.
    fn create_user(&self, user: &NewUser) -> Result<UserId>;
    /// Updates core user fields (`wp_update_user`): user_email, user_pass, first_name, ...
    fn update_user(&self, id: UserId, core: &Map<String, Value>) -> Result<()>;
    /// Reads one user meta value; `None` when absent.
    fn user_meta(&self, id: UserId, key: &str) -> Result<Option<Value>>;
    /// Writes one user meta value.
    fn update_user_meta(&self, id: UserId, key: &str, value: &Value) -> Result<()>;
    /// Deletes one user meta key.
    fn delete_user_meta(&self, id: UserId, key: &str) -> Result<()>;
    /// Every registered role.
    fn roles(&self) -> Result<Vec<Role>>;
    /// The site's default role for new users (`get_option('default_role')`).
    fn default_role(&self) -> Result<String>;
    /// Replaces the user's roles with this one.
    fn set_role(&self, id: UserId, role: &str) -> Result<()>;
    /// Sends WordPress's new-user email to the user (`wp_new_user_notification`).
    fn send_new_user_notification(&self, id: UserId) -> Result<()>;
    /// Takes a named lock, waiting up to `timeout_secs`; false when it could not be had.
    fn lock(&self, name: &str, timeout_secs: u32) -> Result<bool>;
    /// Releases a named lock taken by `lock`.
    fn unlock(&self, name: &str) -> Result<()>;
    /// Opens one apply's unit of work: the writes until `commit_writes` reach the database
    /// together, in one commit instead of one per write (a database transaction). A site
    /// without transactions does nothing.
    fn begin_writes(&self) -> Result<()>;
    /// Commits the unit opened by `begin_writes`: true when committed. False when the
    /// database ended it early but the connection and its locks are intact (a deadlock, a
    /// lock wait timeout): none of its writes was kept, and the apply can run again at once.
    /// An error on anything else (a lost connection, which lost the contact's lock too): none
    /// of its writes was kept, and the apply is to be retried later.
    fn commit_writes(&self) -> Result<bool>;
    /// Writes a log entry. Callers never pass secrets.
    fn log(&self, level: LogLevel, message: &str);
    /// Fires a WordPress action hook with these arguments.
    fn do_action(&self, hook: &str, args: &[Value]) -> Result<()>;
}
