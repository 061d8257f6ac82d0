//! User policy: who may be changed, which role a webhook may give, how usernames and
//! passwords for new users are made. Pure decisions; `update` and `add` carry them out.

use crate::error::{Error, Result};
use crate::password;
use crate::settings::{Settings, UsernameFormat};
use crate::site::{Role, Site, User};

/// Capabilities that administer the site or its users. A role holding any of them is never
/// given by a webhook unless the site owner lists it in `allowed_roles`; a user holding any of
/// them is never changed by a webhook (role, email, password).
pub const ADMIN_CAPABILITIES: &[&str] = &[
    "manage_options",
    "manage_network",
    "manage_network_options",
    "manage_network_users",
    "manage_network_plugins",
    "manage_network_themes",
    "manage_sites",
    "create_users",
    "edit_users",
    "promote_users",
    "delete_users",
    "remove_users",
    "activate_plugins",
    "install_plugins",
    "edit_plugins",
    "update_plugins",
    "delete_plugins",
    "upload_plugins",
    "install_themes",
    "edit_themes",
    "update_themes",
    "delete_themes",
    "upload_themes",
    "switch_themes",
    "edit_theme_options",
    "edit_files",
    "update_core",
    "unfiltered_html",
    "unfiltered_upload",
    "import",
    "export",
    // Reading every user's email and role: WordPress gives it to administrators only, and it
    // is the first step of targeting other accounts.
    "list_users",
    // WordPress's legacy user levels: code that still checks `level_8` and above (the old
    // administrator and editor levels) treats such a user as an administrator.
    "level_8",
    "level_9",
    "level_10",
];

/// The one role never given by a webhook, whatever the settings say.
pub const ADMINISTRATOR: &str = "administrator";

/// Length of generated passwords.
pub const GENERATED_PASSWORD_LENGTH: usize = 20;

/// WordPress's limit for `user_login`.
const MAX_LOGIN_CHARS: usize = 60;

/// Whether a role grants any administrative capability.
pub fn is_privileged(role: &Role) -> bool {
    role.slug == ADMINISTRATOR
        || role
            .capabilities
            .iter()
            .any(|cap| ADMIN_CAPABILITIES.contains(&cap.as_str()))
}

/// Whether a user is out of a webhook's reach for role, email and password changes: an
/// administrator, a holder of any administrative capability, or a network's super admin.
pub fn is_protected(user: &User) -> bool {
    user.super_admin
        || user.roles.iter().any(|role| role == ADMINISTRATOR)
        || user
            .capabilities
            .iter()
            .any(|cap| ADMIN_CAPABILITIES.contains(&cap.as_str()))
}

/// The verdict on a requested role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleDecision {
    /// The role's slug.
    Grant(String),
    /// Refused, with a stable reason code.
    Refuse(&'static str),
}

/// Decides whether a webhook may give `requested` (a slug or a display name).
///
/// It must exist; `administrator` is always refused; a privileged role must be listed in
/// `allowed_roles`; and when `allowed_roles` is not empty, only the roles it lists are given.
pub fn decide_role(requested: &str, roles: &[Role], allowed: &[String]) -> RoleDecision {
    let requested = requested.trim();
    let role = roles
        .iter()
        .find(|role| role.slug.eq_ignore_ascii_case(requested))
        .or_else(|| {
            roles
                .iter()
                .find(|role| role.name.eq_ignore_ascii_case(requested))
        });
    let Some(role) = role else {
        return RoleDecision::Refuse("unknown_role");
    };
    if role.slug == ADMINISTRATOR {
        return RoleDecision::Refuse("administrator_role");
    }
    let listed = allowed.iter().any(|slug| slug == &role.slug);
    if is_privileged(role) && !listed {
        return RoleDecision::Refuse("privileged_role");
    }
    if !allowed.is_empty() && !listed {
        return RoleDecision::Refuse("role_not_allowed");
    }
    RoleDecision::Grant(role.slug.clone())
}

/// The role new users get when none (or a refused one) was requested: the `default_role`
/// setting, else the site's default. It must exist and must not be privileged.
pub fn default_role(settings: &Settings, site: &dyn Site, roles: &[Role]) -> Result<String> {
    let (slug, key) = match &settings.default_role {
        Some(slug) => (slug.clone(), "default_role"),
        None => (site.default_role()?, "WordPress's default_role option"),
    };
    match roles.iter().find(|role| role.slug == slug) {
        None => Err(Error::setting(key, format!("names the role \"{slug}\", which does not exist"))),
        Some(role) if is_privileged(role) => Err(Error::setting(
            key,
            format!("names the role \"{slug}\", which can administer the site; webhooks never create such users"),
        )),
        Some(_) => Ok(slug),
    }
}

/// Chooses a free login for a new user: the CRM's `user_login` when mapped, else one made per
/// `username_format`; made unique with a random number on collision.
pub fn choose_login(
    site: &dyn Site,
    requested: Option<&str>,
    format: UsernameFormat,
    email: &str,
    first_name: Option<&str>,
    last_name: Option<&str>,
) -> Result<String> {
    let email_login = || {
        sanitize_login(if email.chars().count() <= MAX_LOGIN_CHARS {
            email
        } else {
            email.split('@').next().unwrap_or(email)
        })
    };
    let base = match requested
        .map(sanitize_login)
        .filter(|login| !login.is_empty())
    {
        Some(login) => login,
        None => match format {
            UsernameFormat::Email => email_login(),
            UsernameFormat::FirstLastName => name_part(&format!(
                "{}{}",
                first_name.unwrap_or(""),
                last_name.unwrap_or("")
            )),
            UsernameFormat::FirstNameNumber => {
                let first = name_part(first_name.unwrap_or(""));
                if first.is_empty() {
                    first
                } else {
                    format!("{first}{}", random_number(1, 99_999))
                }
            }
        },
    };
    let base = if base.is_empty() { email_login() } else { base };
    if !site.login_exists(&base)? {
        return Ok(base);
    }
    for _ in 0..20 {
        let suffix = random_number(1, 99_999).to_string();
        let stem: String = base.chars().take(MAX_LOGIN_CHARS - suffix.len()).collect();
        let candidate = format!("{stem}{suffix}");
        if !site.login_exists(&candidate)? {
            return Ok(candidate);
        }
    }
    Err(Error::Site(format!(
        "could not find a free username starting with \"{base}\""
    )))
}

/// The password for a new user: the CRM's when mapped, else a generated one.
/// Returns the password and whether it was generated.
pub fn choose_password(requested: Option<&str>) -> Result<(String, bool)> {
    match requested.filter(|p| !p.is_empty()) {
        Some(password) => Ok((password.to_string(), false)),
        None => Ok((password::generate(GENERATED_PASSWORD_LENGTH, false)?, true)),
    }
}

/// A random number in `low..=high` for username suffixes (not a secret).
fn random_number(low: u32, high: u32) -> u32 {
    use rand::RngExt;
    rand::rng().random_range(low..=high)
}

/// What WordPress's `sanitize_user` keeps (letters, digits, space, `_ . - @`), trimmed and
/// cut to WordPress's 60-character limit.
fn sanitize_login(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | '-' | '@'))
        .collect();
    let collapsed = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(MAX_LOGIN_CHARS).collect()
}

/// Lowercase ASCII letters and digits of a name, for `flname` / `fnamenum`.
fn name_part(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(MAX_LOGIN_CHARS - 5)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(slug: &str, name: &str, caps: &[&str]) -> Role {
        Role {
            slug: slug.into(),
            name: name.into(),
            capabilities: caps.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn roles() -> Vec<Role> {
        vec![
            role(
                "administrator",
                "Administrator",
                &["manage_options", "read"],
            ),
            role(
                "editor",
                "Editor",
                &["edit_posts", "unfiltered_html", "read"],
            ),
            role("subscriber", "Subscriber", &["read"]),
            role("customer", "Customer", &["read"]),
            role(
                "shop_manager",
                "Shop manager",
                &["read", "edit_users", "manage_woocommerce"],
            ),
        ]
    }

    #[test]
    fn roles_are_found_by_slug_or_display_name() {
        assert_eq!(
            decide_role("customer", &roles(), &[]),
            RoleDecision::Grant("customer".into())
        );
        assert_eq!(
            decide_role(" Customer ", &roles(), &[]),
            RoleDecision::Grant("customer".into())
        );
        assert_eq!(
            decide_role("ghost", &roles(), &[]),
            RoleDecision::Refuse("unknown_role")
        );
    }

    #[test]
    fn privileged_roles_need_listing_and_administrator_never_passes() {
        assert_eq!(
            decide_role("editor", &roles(), &[]),
            RoleDecision::Refuse("privileged_role")
        );
        assert_eq!(
            decide_role("shop_manager", &roles(), &[]),
            RoleDecision::Refuse("privileged_role")
        );
        let allowed = vec!["shop_manager".to_string(), "administrator".to_string()];
        assert_eq!(
            decide_role("Shop manager", &roles(), &allowed),
            RoleDecision::Grant("shop_manager".into())
        );
        assert_eq!(
            decide_role("administrator", &roles(), &allowed),
            RoleDecision::Refuse("administrator_role")
        );
    }

    #[test]
    fn a_non_empty_allow_list_limits_every_role() {
        let allowed = vec!["customer".to_string()];
        assert_eq!(
            decide_role("subscriber", &roles(), &allowed),
            RoleDecision::Refuse("role_not_allowed")
        );
        assert_eq!(
            decide_role("customer", &roles(), &allowed),
            RoleDecision::Grant("customer".into())
        );
    }

    #[test]
    fn users_with_admin_capabilities_are_protected() {
        let mut user = User {
            roles: vec!["subscriber".into()],
            capabilities: vec!["read".into()],
            ..User::default()
        };
        assert!(!is_protected(&user));
        user.capabilities.push("promote_users".into());
        assert!(is_protected(&user));
        for cap in ["level_10", "level_8", "list_users"] {
            let legacy = Role {
                slug: "legacy".into(),
                name: "Legacy".into(),
                capabilities: vec!["read".into(), cap.into()],
            };
            assert!(is_privileged(&legacy), "{cap}");
        }
        let admin = User {
            roles: vec!["administrator".into()],
            ..User::default()
        };
        assert!(is_protected(&admin));
        // A super admin on a subsite where they hold no role at all.
        let super_admin = User {
            super_admin: true,
            ..User::default()
        };
        assert!(is_protected(&super_admin));
    }

    #[test]
    fn logins_keep_only_what_wordpress_keeps() {
        assert_eq!(
            sanitize_login("  jo<script>hn  d@x.io "),
            "joscripthn d@x.io"
        );
        assert_eq!(name_part("Zoë O'Neil"), "zooneil");
        assert_eq!(sanitize_login(&"a".repeat(80)).len(), 60);
    }
}
