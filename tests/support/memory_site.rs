//! An in-memory `Site` for the pipeline tests: users, meta, roles, named locks, logs, hooks
//! and sent notifications, with WordPress's rules where they matter (unique login and email,
//! checked non-atomically like `wp_insert_user`, so only the core's lock prevents duplicates).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use wpf_bridge::site::{LogLevel, NewUser, Role, Site, User, UserId};
use wpf_bridge::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct StoredUser {
    pub login: String,
    pub email: String,
    pub password: String,
    pub roles: Vec<String>,
    pub extra_capabilities: Vec<String>,
    pub core: Map<String, Value>,
    pub meta: Map<String, Value>,
}

#[derive(Default)]
struct State {
    users: BTreeMap<UserId, StoredUser>,
    next_id: UserId,
    notifications: Vec<UserId>,
    logs: Vec<(LogLevel, String)>,
    actions: Vec<(String, Vec<Value>)>,
    /// Threads with a unit of work opened by `begin_writes` and not yet committed (each
    /// thread stands for one PHP process with its own database connection).
    open_units: HashSet<std::thread::ThreadId>,
    /// Units committed by `commit_writes`.
    committed_units: u32,
    /// Values handed to `prime_contact_links` (a hint this site does not need).
    primed: usize,
    /// The next commits roll back and answer false (deadlocks, as MariaDB ends a transaction).
    ending_commits: u32,
    /// The next commit rolls back and fails (a lost connection).
    lose_next_commit: bool,
    /// Units rolled back by `commit_writes`.
    rolled_back_units: u32,
    /// The users as they were when the last unit began: a failed commit restores them (so
    /// `end_next_commits` is for tests with one draining thread).
    before_unit: BTreeMap<UserId, StoredUser>,
}

pub struct MemorySite {
    state: Mutex<State>,
    roles: Vec<Role>,
    default_role: String,
    locks: Mutex<HashSet<String>>,
    released: Condvar,
}

fn role(slug: &str, name: &str, caps: &[&str]) -> Role {
    Role {
        slug: slug.into(),
        name: name.into(),
        capabilities: caps.iter().map(|c| c.to_string()).collect(),
    }
}

impl Default for MemorySite {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySite {
    /// WordPress's stock roles plus WooCommerce's customer and shop manager.
    pub fn new() -> Self {
        MemorySite {
            state: Mutex::new(State {
                next_id: 1,
                ..State::default()
            }),
            roles: vec![
                role(
                    "administrator",
                    "Administrator",
                    &["read", "manage_options", "edit_users", "activate_plugins"],
                ),
                role(
                    "editor",
                    "Editor",
                    &["read", "edit_posts", "edit_others_posts", "unfiltered_html"],
                ),
                role("author", "Author", &["read", "edit_posts", "upload_files"]),
                role("contributor", "Contributor", &["read", "edit_posts"]),
                role("subscriber", "Subscriber", &["read"]),
                role("customer", "Customer", &["read"]),
                role(
                    "shop_manager",
                    "Shop manager",
                    &["read", "edit_users", "list_users", "manage_woocommerce"],
                ),
            ],
            default_role: "subscriber".into(),
            locks: Mutex::new(HashSet::new()),
            released: Condvar::new(),
        }
    }

    /// Adds a user directly, as if created in WordPress.
    pub fn insert_user(
        &self,
        login: &str,
        email: &str,
        role: &str,
        meta: &[(&str, Value)],
    ) -> UserId {
        let mut state = self.state.lock().unwrap();
        let id = state.next_id;
        state.next_id += 1;
        state.users.insert(
            id,
            StoredUser {
                login: login.into(),
                email: email.into(),
                password: "original-password".into(),
                roles: vec![role.into()],
                meta: meta
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
                ..StoredUser::default()
            },
        );
        id
    }

    pub fn stored(&self, id: UserId) -> Option<StoredUser> {
        self.state.lock().unwrap().users.get(&id).cloned()
    }

    pub fn users(&self) -> Vec<(UserId, StoredUser)> {
        self.state
            .lock()
            .unwrap()
            .users
            .iter()
            .map(|(id, u)| (*id, u.clone()))
            .collect()
    }

    pub fn user_count(&self) -> usize {
        self.state.lock().unwrap().users.len()
    }

    pub fn notifications(&self) -> Vec<UserId> {
        self.state.lock().unwrap().notifications.clone()
    }

    /// Values the drain primed its contact links with.
    pub fn primed(&self) -> usize {
        self.state.lock().unwrap().primed
    }

    /// Units of work committed (one per apply the drain ran).
    pub fn committed_units(&self) -> u32 {
        self.state.lock().unwrap().committed_units
    }

    /// Makes the next `n` `commit_writes` roll the unit's writes back and answer false, as
    /// MariaDB ends a transaction with a deadlock.
    pub fn end_next_commits(&self, n: u32) {
        self.state.lock().unwrap().ending_commits = n;
    }

    /// Makes the next `commit_writes` roll the unit's writes back and fail, as when the
    /// connection (and the contact's lock with it) is lost.
    pub fn lose_next_commit(&self) {
        self.state.lock().unwrap().lose_next_commit = true;
    }

    /// Units rolled back by `commit_writes`.
    pub fn rolled_back_units(&self) -> u32 {
        self.state.lock().unwrap().rolled_back_units
    }

    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.state.lock().unwrap().logs.clone()
    }

    pub fn actions(&self, hook: &str) -> Vec<Vec<Value>> {
        let state = self.state.lock().unwrap();
        state
            .actions
            .iter()
            .filter(|(h, _)| h == hook)
            .map(|(_, a)| a.clone())
            .collect()
    }

    fn capabilities(&self, user: &StoredUser) -> Vec<String> {
        let mut caps: Vec<String> = self
            .roles
            .iter()
            .filter(|r| user.roles.contains(&r.slug))
            .flat_map(|r| r.capabilities.clone())
            .collect();
        caps.extend(user.extra_capabilities.clone());
        caps
    }

    /// Grants a capability directly to a user (not through a role).
    pub fn grant(&self, id: UserId, capability: &str) {
        if let Some(user) = self.state.lock().unwrap().users.get_mut(&id) {
            user.extra_capabilities.push(capability.into());
        }
    }
}

impl Site for MemorySite {
    fn find_user_by_meta(&self, key: &str, value: &str) -> Result<Option<UserId>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .users
            .iter()
            .find(|(_, u)| match u.meta.get(key) {
                Some(Value::String(s)) => s == value,
                Some(Value::Number(n)) => n.to_string() == value,
                _ => false,
            })
            .map(|(id, _)| *id))
    }

    fn find_user_by_email(&self, email: &str) -> Result<Option<UserId>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .users
            .iter()
            .find(|(_, u)| u.email.eq_ignore_ascii_case(email))
            .map(|(id, _)| *id))
    }

    fn user(&self, id: UserId) -> Result<Option<User>> {
        let state = self.state.lock().unwrap();
        Ok(state.users.get(&id).map(|u| User {
            id,
            login: u.login.clone(),
            email: u.email.clone(),
            roles: u.roles.clone(),
            capabilities: self.capabilities(u),
            super_admin: false,
        }))
    }

    fn login_exists(&self, login: &str) -> Result<bool> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .users
            .values()
            .any(|u| u.login == login))
    }

    fn create_user(&self, user: &NewUser) -> Result<UserId> {
        // Like wp_insert_user: check, then insert, without holding anything in between.
        {
            let state = self.state.lock().unwrap();
            if state.users.values().any(|u| u.login == user.login) {
                return Err(Error::Site("Sorry, that username already exists!".into()));
            }
            if state
                .users
                .values()
                .any(|u| u.email.eq_ignore_ascii_case(&user.email))
            {
                return Err(Error::Site(
                    "Sorry, that email address is already used!".into(),
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(2));
        let mut state = self.state.lock().unwrap();
        let id = state.next_id;
        state.next_id += 1;
        state.users.insert(
            id,
            StoredUser {
                login: user.login.clone(),
                email: user.email.clone(),
                password: user.password.clone(),
                roles: vec![user.role.clone()],
                extra_capabilities: Vec::new(),
                core: user.core.clone(),
                meta: user.meta.clone(),
            },
        );
        Ok(id)
    }

    fn update_user(&self, id: UserId, core: &Map<String, Value>) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let user = state
            .users
            .get_mut(&id)
            .ok_or_else(|| Error::Site("Invalid user ID.".into()))?;
        for (key, value) in core {
            match key.as_str() {
                "user_email" => user.email = value.as_str().unwrap_or_default().into(),
                "user_pass" => user.password = value.as_str().unwrap_or_default().into(),
                _ => {
                    user.core.insert(key.clone(), value.clone());
                }
            }
        }
        Ok(())
    }

    fn user_meta(&self, id: UserId, key: &str) -> Result<Option<Value>> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .users
            .get(&id)
            .and_then(|u| u.meta.get(key).cloned()))
    }

    fn update_user_meta(&self, id: UserId, key: &str, value: &Value) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let user = state
            .users
            .get_mut(&id)
            .ok_or_else(|| Error::Site("Invalid user ID.".into()))?;
        user.meta.insert(key.into(), value.clone());
        Ok(())
    }

    fn delete_user_meta(&self, id: UserId, key: &str) -> Result<()> {
        if let Some(user) = self.state.lock().unwrap().users.get_mut(&id) {
            user.meta.remove(key);
        }
        Ok(())
    }

    fn roles(&self) -> Result<Vec<Role>> {
        Ok(self.roles.clone())
    }

    fn default_role(&self) -> Result<String> {
        Ok(self.default_role.clone())
    }

    fn set_role(&self, id: UserId, role: &str) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let user = state
            .users
            .get_mut(&id)
            .ok_or_else(|| Error::Site("Invalid user ID.".into()))?;
        user.roles = vec![role.into()];
        Ok(())
    }

    fn send_new_user_notification(&self, id: UserId) -> Result<()> {
        self.state.lock().unwrap().notifications.push(id);
        Ok(())
    }

    fn lock(&self, name: &str, timeout_secs: u32) -> Result<bool> {
        let deadline = Instant::now() + Duration::from_secs(timeout_secs.into());
        let mut locks = self.locks.lock().unwrap();
        while locks.contains(name) {
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            locks = self.released.wait_timeout(locks, deadline - now).unwrap().0;
        }
        locks.insert(name.to_string());
        Ok(true)
    }

    fn unlock(&self, name: &str) -> Result<()> {
        self.locks.lock().unwrap().remove(name);
        self.released.notify_all();
        Ok(())
    }

    fn prime_contact_links(&self, _key: &str, values: &[String]) -> Result<()> {
        self.state.lock().unwrap().primed += values.len();
        Ok(())
    }

    fn begin_writes(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let fresh = state.open_units.insert(std::thread::current().id());
        assert!(fresh, "a unit of work was opened inside another");
        state.before_unit = state.users.clone();
        Ok(())
    }

    fn commit_writes(&self) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let open = state.open_units.remove(&std::thread::current().id());
        assert!(open, "commit_writes without begin_writes");
        let lost = std::mem::take(&mut state.lose_next_commit);
        if lost || state.ending_commits > 0 {
            state.users = std::mem::take(&mut state.before_unit);
            state.rolled_back_units += 1;
            if lost {
                return Err(Error::Site(
                    "MySQL server has gone away; the apply's writes were rolled back".into(),
                ));
            }
            state.ending_commits -= 1;
            return Ok(false);
        }
        state.committed_units += 1;
        Ok(true)
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.state
            .lock()
            .unwrap()
            .logs
            .push((level, message.to_string()));
    }

    fn do_action(&self, hook: &str, args: &[Value]) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .actions
            .push((hook.to_string(), args.to_vec()));
        Ok(())
    }
}
