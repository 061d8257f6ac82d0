//! The PHP interfaces the extension declares for the plugin's adapters: `WpfBridge\Site` (the
//! `Site` port, `crate::site`) and `WpfBridge\Queue` (the `Queue` port,
//! `crate::queue::port`). An adapter class implements one (`class WPF_Bridge_Site implements
//! WpfBridge\Site`), so PHP checks its methods' signatures when the class is declared, and the
//! functions that take adapters (`wpf_bridge_handle_queued`, `wpf_bridge_drain`, ...) check
//! the object they are given with `adapter()`: a wrong one is a `TypeError` at the call, naming
//! the interface and the class given. The stubs print both interfaces, so they document the
//! contract (what each method must guarantee is in the ports' Rust docs).
//!
//! These traits only declare: PHP code implements them; `PhpSite` and `PhpQueue` call the
//! methods by name.

use ext_php_rs::convert::FromZvalMut;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::DataType;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, ZendObject, Zval};
use ext_php_rs::zend::{ce, ClassEntry};

/// A PHP array, as the interfaces' methods take and return it.
type Array = ext_php_rs::boxed::ZBox<ZendHashTable>;

/// The `Site` port (`crate::site::Site`): everything the apply step needs from WordPress. User
/// ids are ints; `user()` returns `login`, `email`, `roles`, `capabilities`, `super_admin`, or
/// null; `create_user()` takes `login`, `email`, `password`, `role`, `core`, `meta`;
/// `roles()` lists `slug`, `name`, `capabilities`. A method that cannot do its work throws.
#[allow(dead_code)] // A declaration for PHP: nothing in Rust implements it.
#[php_interface]
#[php(name = "WpfBridge\\Site", change_method_case = "snake_case")]
pub trait SiteAdapter {
    /// The lowest user id whose meta `$key` equals `$value`, or null.
    fn find_user_by_meta(&self, key: String, value: String) -> Option<i64>;
    /// A hint before a drain's round: the users linked to these values of meta `$key` may be
    /// looked up at once; each later `find_user_by_meta()` answer from it is checked against
    /// the user's current meta.
    fn prime_contact_links(&self, key: String, values: Vec<String>);
    /// The user with this email (case-insensitive, as WordPress compares), or null.
    fn find_user_by_email(&self, email: String) -> Option<i64>;
    /// The user, or null when it does not exist.
    fn user(&self, id: i64) -> Option<Array>;
    /// Whether a user has this login.
    fn login_exists(&self, login: String) -> bool;
    /// Creates a user (`wp_insert_user`, its meta in the same call) and returns its id.
    fn create_user(&self, user: &ZendHashTable) -> i64;
    /// Updates core user fields (`wp_update_user`).
    fn update_user(&self, id: i64, core: &ZendHashTable);
    /// One user meta value, or null when absent.
    fn user_meta(&self, id: i64, key: String) -> Zval;
    /// Writes one user meta value.
    fn update_user_meta(&self, id: i64, key: String, value: &Zval);
    /// Deletes one user meta key.
    fn delete_user_meta(&self, id: i64, key: String);
    /// Every registered role.
    fn roles(&self) -> Array;
    /// The default role of new users.
    fn default_role(&self) -> String;
    /// Replaces the user's roles with this one.
    fn set_role(&self, id: i64, role: String);
    /// Sends WordPress's new-user email.
    fn send_new_user_notification(&self, id: i64);
    /// Takes a named lock, waiting up to `$timeout` seconds; false when it could not be had.
    fn lock(&self, name: String, timeout: i64) -> bool;
    /// Releases a named lock taken by `lock()`.
    fn unlock(&self, name: String);
    /// Opens one apply's unit of work (a database transaction): its writes are committed
    /// together by `commit_writes`.
    fn begin_writes(&self);
    /// Commits the unit: true when committed; false, after rolling it back, when the database
    /// ended it early but the connection and its locks are intact (a deadlock, a lock wait
    /// timeout: the apply is run again); throws, after rolling it back, on anything else (a
    /// lost connection).
    fn commit_writes(&self) -> bool;
    /// Writes a log line (`info`, `notice`, `error`); never given a secret.
    fn log(&self, level: String, message: String);
    /// Fires a WordPress action hook with these arguments.
    fn do_action(&self, hook: String, args: &ZendHashTable);
}

/// The `Queue` port (`crate::queue::port`): the durable queue's storage. It decides nothing
/// and guarantees: one durable write per `store()`; one waiting copy per delivery key (a key
/// held by a row waiting unclaimed answers that row's id); a row is due when pending or
/// retrying with `due_at <= now()`, or claimed with `lease_until <= now()`; `claim()` takes a
/// contact's oldest due rows atomically under the token for the lease (attempts + 1; a dead
/// claim counted for a row taken from an expired lease; the delivery key freed); `event_data()`,
/// `complete()`, `retry()` and `fail()` act only on rows still claimed under the caller's token;
/// nothing is deleted; `now()` is the one clock. Failures throw.
#[allow(dead_code)] // A declaration for PHP: nothing in Rust implements it.
#[php_interface]
#[php(name = "WpfBridge\\Queue", change_method_case = "snake_case")]
pub trait QueueAdapter {
    /// The queue's clock, in Unix seconds.
    fn now(&self) -> i64;
    /// Stores rows (`crm`, `contact_id`, `data`, `head`, `delivery_key`) in one durable write,
    /// due now; returns their ids in the same order.
    fn store(&self, rows: &ZendHashTable) -> Array;
    /// `['events' => int, 'bytes' => int]` of the waiting rows, at most `$max_age` seconds old.
    fn waiting_load(&self, max_age: i64) -> Array;
    /// The waiting rows of each contact id of `$crm`, in the same order.
    fn waiting_per_contact(&self, crm: String, contact_ids: &ZendHashTable) -> Array;
    /// Contacts (`crm`, `contact_id`) with a due row, the longest waiting first, at most `$limit`.
    fn due_contacts(&self, limit: i64) -> Array;
    /// Claims the oldest due rows of one contact, at most `$max_rows`, under `$token` for
    /// `$lease_seconds`: rows of `id`, `attempts`, `dead_claims`, `head`.
    fn claim(
        &self,
        crm: String,
        contact_id: String,
        token: String,
        lease_seconds: i64,
        max_rows: i64,
    ) -> Array;
    /// The data of one row claimed under `$token`; throws when it is not so claimed.
    fn event_data(&self, token: String, id: i64) -> String;
    /// Marks rows claimed under `$token` done with the apply's result (`outcome`, `user_id`).
    fn complete(&self, token: String, ids: &ZendHashTable, result: &ZendHashTable);
    /// Releases rows claimed under `$token` to be tried again at `$at`, keeping the error.
    fn retry(&self, token: String, ids: &ZendHashTable, at: i64, code: String, message: String);
    /// Marks rows claimed under `$token` failed with the error.
    fn fail(&self, token: String, ids: &ZendHashTable, code: String, message: String);
    /// How many rows are in `$state`.
    fn count(&self, state: String) -> i64;
    /// Rows, newest first, optionally of one state and one contact, at most `$limit` (never
    /// their data).
    fn list(&self, state: Option<String>, contact_id: Option<String>, limit: i64) -> Array;
}

/// An adapter argument of an exposed function: any object as it arrives (its declared type,
/// which the stubs print, is the interface `I`); `adapter()` checks it implements `I`.
pub struct Adapter<'a, I: Interface>(&'a mut ZendObject, std::marker::PhantomData<I>);

/// Which interface an `Adapter` must implement.
pub trait Interface {
    const NAME: &'static str;
}

/// `WpfBridge\Site`.
pub struct SiteInterface;
impl Interface for SiteInterface {
    const NAME: &'static str = "WpfBridge\\Site";
}

/// `WpfBridge\Queue`.
pub struct QueueInterface;
impl Interface for QueueInterface {
    const NAME: &'static str = "WpfBridge\\Queue";
}

impl<'a, I: Interface> FromZvalMut<'a> for Adapter<'a, I> {
    const TYPE: DataType = DataType::object(I::NAME);

    fn from_zval_mut(zval: &'a mut Zval) -> Option<Self> {
        zval.object_mut()
            .map(|object| Adapter(object, std::marker::PhantomData))
    }
}

impl<'a, I: Interface> Adapter<'a, I> {
    /// The object, when it implements the interface; else a `TypeError` worded as PHP words
    /// its own: `function(): Argument #position ($parameter) must be of type Interface, Class
    /// given`.
    pub fn adapter(
        self,
        function: &str,
        position: u32,
        parameter: &str,
    ) -> PhpResult<&'a ZendObject> {
        let object: &'a ZendObject = self.0;
        let implements = ClassEntry::try_find(I::NAME)
            .is_some_and(|interface| object.get_class_entry().instance_of(interface));
        if implements {
            return Ok(object);
        }
        // An anonymous class's name goes on after a NUL (its file and line): PHP prints the part
        // before it, `Foo@anonymous`.
        let class = object
            .get_class_name()
            .map(|name| name.split('\0').next().unwrap_or_default().to_string())
            .unwrap_or_else(|_| "object".into());
        Err(PhpException::new(
            format!(
                "{function}(): Argument #{position} (${parameter}) must be of type {}, {class} given",
                I::NAME
            ),
            0,
            ce::type_error(),
        ))
    }
}

/// Registers both interfaces with the module.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .interface::<PhpInterfaceSiteAdapter>()
        .interface::<PhpInterfaceQueueAdapter>()
}
