//! The whole pipeline (authenticate, parse, apply, answer) against an in-memory Site and a
//! fake CRM server on 127.0.0.1 that records what we send.

mod support;

use std::time::Duration;

use fake_crm::FakeCrm;
use serde_json::{json, Map, Value};
use support::memory_site::MemorySite;
use wpf_bridge::pipeline::{handle, Answer as Response};
use wpf_bridge::settings::Settings;
use wpf_bridge::site::LogLevel;
use wpf_bridge::webhook::Request;

const KEY: &str = "test-access-key-0123456789";

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn settings_map(crm: &str, fake: &FakeCrm, extra: Value) -> Map<String, Value> {
    let mut map = json!({
        "access_key": KEY,
        "crm": crm,
        "mautic_url": fake.mautic_url(),
        "mautic_username": "mautic-user",
        "mautic_password": "mautic-password",
        "userengage_url": fake.userengage_url(),
        "userengage_api_key": "userengage-key",
        "return_password": true,
        "return_password_field": "wp_password",
        "crm_timeout": 1,
    })
    .as_object()
    .cloned()
    .unwrap();
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        map.insert(k, v);
    }
    map
}

fn settings(crm: &str, fake: &FakeCrm, extra: Value) -> Settings {
    Settings::from_map(&settings_map(crm, fake, extra)).expect("valid settings")
}

fn request(query: &str, body: &[u8]) -> Request {
    let mut params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(k.to_string(), Value::String(v.to_string()));
    }
    Request {
        method: "POST".into(),
        query: params,
        post: Map::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_vec(),
    }
}

fn run(site: &MemorySite, settings: &Settings, request: &Request) -> Response {
    handle(request, settings, site)
}

/// Sends one webhook with the right access key; `query` holds the other parameters.
fn send(site: &MemorySite, settings: &Settings, query: &str, body: &[u8]) -> Response {
    run(
        site,
        settings,
        &request(&format!("{query}&access_key={KEY}"), body),
    )
}

fn mautic_contact(id: u64, email: &str, first: &str, tags: &[&str]) -> Value {
    json!({
        "id": id,
        "fields": {
            "core": {"firstname": {"alias": "firstname", "value": first}, "email": {"alias": "email", "value": email}},
            "all": {"id": id, "firstname": first, "lastname": "Tester", "email": email}
        },
        "tags": tags.iter().map(|t| json!({"id": 1, "tag": t})).collect::<Vec<_>>(),
    })
}

fn result(response: &Response, index: usize) -> &Value {
    &response.body["results"][index]
}

#[test]
fn mautic_update_from_the_payload_makes_no_api_call() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let id = site.insert_user(
        "john",
        "john@doe.name",
        "subscriber",
        &[("mautic_contact_id", json!("52"))],
    );
    let s = settings("mautic", &fake, json!({}));
    let response = send(
        &site,
        &s,
        "wpf_action=update",
        &fixture("mautic/01_contact_updated_single.wire.json"),
    );

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(result(&response, 0)["outcome"], "updated");
    assert_eq!(result(&response, 0)["user_id"], json!(id));
    let user = site.stored(id).unwrap();
    assert_eq!(user.core["first_name"], "John");
    assert_eq!(user.core["last_name"], "Doe");
    assert!(user.meta["mautic_tags"].is_array());
    assert!(
        fake.requests().is_empty(),
        "no CRM API call expected: {:?}",
        fake.requests()
    );
    assert_eq!(site.actions("wpf_tags_modified").len(), 1);
}

#[test]
fn update_finds_an_unlinked_user_by_email_and_links_it() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let id = site.insert_user("johnny", "JOHN@doe.name", "subscriber", &[]);
    let s = settings("mautic", &fake, json!({}));
    let response = send(
        &site,
        &s,
        "wpf_action=update",
        &fixture("mautic/01_contact_updated_single.wire.json"),
    );
    assert_eq!(result(&response, 0)["outcome"], "linked");
    assert_eq!(site.stored(id).unwrap().meta["mautic_contact_id"], "52");
}

#[test]
fn update_without_a_matching_user_is_200_with_a_reason_and_changes_nothing() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let response = send(
        &site,
        &s,
        "wpf_action=update",
        &fixture("mautic/01_contact_updated_single.wire.json"),
    );
    assert_eq!(response.status, 200);
    assert_eq!(result(&response, 0)["outcome"], "ignored");
    assert_eq!(result(&response, 0)["reason"], "no_matching_user");
    assert_eq!(site.user_count(), 0);
}

#[test]
fn mautic_batch_of_three_creates_three_users_and_returns_three_passwords() {
    let fake = FakeCrm::start();
    for id in [101, 102, 103] {
        fake.add_mautic_contact(mautic_contact(
            id,
            &format!("contact{}@email.com", id - 100),
            "X",
            &[],
        ));
    }
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let response = send(
        &site,
        &s,
        "wpf_action=add",
        &fixture("mautic/02_contact_identified_batch_of_3.wire.json"),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(site.user_count(), 3);
    let patches: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 3, "one password return per new user");
    assert!(
        fake.requests().iter().all(|r| r.method != "GET"),
        "payload carries the contacts: no GET"
    );
    for (_, user) in site.users() {
        let returned = patches
            .iter()
            .find(|p| {
                p.path.ends_with(&format!(
                    "/api/contacts/{}/edit",
                    user.meta["mautic_contact_id"].as_str().unwrap()
                ))
            })
            .expect("a PATCH for each user");
        let body: Value = serde_json::from_slice(&returned.body).unwrap();
        assert_eq!(
            body["wp_password"], user.password,
            "the CRM gets the password the user has"
        );
    }
}

#[test]
fn add_by_contact_id_loads_the_crm_gives_the_role_notifies_and_returns_the_password() {
    let fake = FakeCrm::start();
    fake.add_mautic_contact(mautic_contact(
        77,
        "ann@example.com",
        "Ann",
        &["vip", "trial"],
    ));
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let query = format!(
        "wpf_action=add&access_key={KEY}&contact_id=77&role=customer&send_notification=true"
    );
    let response = run(&site, &s, &request(&query, b""));

    assert_eq!(response.status, 200, "{}", response.body);
    let r = result(&response, 0);
    assert_eq!(r["outcome"], "created");
    assert_eq!(r["role"], "customer");
    assert_eq!(r["password_returned"], true);
    let id = r["user_id"].as_u64().unwrap();
    let user = site.stored(id).unwrap();
    assert_eq!(user.login, "ann@example.com");
    assert_eq!(user.roles, vec!["customer".to_string()]);
    assert_eq!(user.core["first_name"], "Ann");
    assert_eq!(user.meta["mautic_contact_id"], "77");
    assert_eq!(user.meta["mautic_tags"], json!(["vip", "trial"]));
    assert_eq!(user.password.len(), 20);
    assert_eq!(site.notifications(), vec![id]);

    let requests = fake.requests();
    let get = requests
        .iter()
        .find(|r| r.method == "GET")
        .expect("contact loaded from the API");
    assert_eq!(get.path, "/mautic/api/contacts/77");
    assert_eq!(
        get.header("authorization"),
        Some("Basic bWF1dGljLXVzZXI6bWF1dGljLXBhc3N3b3Jk")
    );
    let patch = requests
        .iter()
        .find(|r| r.method == "PATCH")
        .expect("password returned");
    assert_eq!(patch.path, "/mautic/api/contacts/77/edit");
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(body["wp_password"], json!(user.password));

    // Nothing secret in the answer or the log.
    let answer = response.body.to_string();
    assert!(!answer.contains(&user.password) && !answer.contains(KEY));
    assert!(site
        .logs()
        .iter()
        .map(|(_, line)| line)
        .chain(
            &response
                .log
                .expect("applied without a queue: a log record")
                .details
        )
        .all(|line| !line.contains(&user.password) && !line.contains(KEY)));

    // The same add again updates and creates nothing, and returns no password.
    let again = run(&site, &s, &request(&query, b""));
    assert_eq!(result(&again, 0)["outcome"], "updated");
    assert_eq!(site.user_count(), 1);
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count(),
        1
    );
    assert_eq!(site.stored(id).unwrap().password, user.password);
}

#[test]
fn a_password_mapped_from_the_crm_is_used_and_not_returned() {
    let fake = FakeCrm::start();
    let mut contact = mautic_contact(5, "p@example.com", "Pat", &[]);
    contact["fields"]["all"]["wp_pass"] = json!("chosen-in-crm-123");
    fake.add_mautic_contact(contact);
    let site = MemorySite::new();
    let s = settings(
        "mautic",
        &fake,
        json!({"field_map": {"email": "user_email", "wp_pass": "user_pass", "firstname": "first_name"}}),
    );
    let response = send(&site, &s, "wpf_action=add&contact_id=5", b"");
    let id = result(&response, 0)["user_id"].as_u64().unwrap();
    assert_eq!(site.stored(id).unwrap().password, "chosen-in-crm-123");
    assert!(fake.requests().iter().all(|r| r.method != "PATCH"));
}

#[test]
fn requested_roles_follow_the_policy() {
    let fake = FakeCrm::start();
    let cases: &[(&str, Value, &str, Option<&str>)] = &[
        (
            "administrator",
            json!({}),
            "subscriber",
            Some("administrator_role"),
        ),
        (
            "administrator",
            json!({"allowed_roles": ["administrator"]}),
            "subscriber",
            Some("administrator_role"),
        ),
        ("editor", json!({}), "subscriber", Some("privileged_role")),
        (
            "shop_manager",
            json!({}),
            "subscriber",
            Some("privileged_role"),
        ),
        (
            "editor",
            json!({"allowed_roles": ["editor"]}),
            "editor",
            None,
        ),
        ("ghost", json!({}), "subscriber", Some("unknown_role")),
        ("Customer", json!({}), "customer", None),
        (
            "author",
            json!({"allowed_roles": ["customer"]}),
            "subscriber",
            Some("role_not_allowed"),
        ),
        (
            "author",
            json!({"default_role": "customer", "allowed_roles": ["customer"]}),
            "customer",
            Some("role_not_allowed"),
        ),
    ];
    for (n, (requested, extra, expected, refused)) in cases.iter().enumerate() {
        let id = 1000 + n as u64;
        fake.add_mautic_contact(mautic_contact(id, &format!("r{n}@example.com"), "R", &[]));
        let site = MemorySite::new();
        let s = settings("mautic", &fake, extra.clone());
        let response = send(
            &site,
            &s,
            &format!("wpf_action=add&contact_id={id}&role={requested}"),
            b"",
        );
        assert_eq!(response.status, 200, "{requested}: {}", response.body);
        let r = result(&response, 0);
        assert_eq!(r["role"], *expected, "{requested} {extra}");
        assert_eq!(r["role_refused"].as_str(), *refused, "{requested} {extra}");
        let user = site.stored(r["user_id"].as_u64().unwrap()).unwrap();
        assert_eq!(user.roles, vec![expected.to_string()]);
    }
}

#[test]
fn a_privileged_default_role_is_a_configuration_error_and_creates_nothing() {
    let fake = FakeCrm::start();
    fake.add_mautic_contact(mautic_contact(9, "d@example.com", "D", &[]));
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({"default_role": "editor"}));
    let response = send(&site, &s, "wpf_action=add&contact_id=9", b"");
    assert_eq!(response.status, 500);
    assert_eq!(response.body["code"], "invalid_setting");
    assert_eq!(site.user_count(), 0);
    assert!(
        fake.requests().iter().all(|r| r.method != "PATCH"),
        "no password returned for a user never made"
    );
}

#[test]
fn users_who_can_administer_the_site_keep_role_email_and_password() {
    let fake = FakeCrm::start();
    fake.add_mautic_contact(mautic_contact(3, "new-address@example.com", "Boss", &["x"]));
    let site = MemorySite::new();
    let admin = site.insert_user(
        "boss",
        "boss@example.com",
        "administrator",
        &[("mautic_contact_id", json!("3"))],
    );
    let manager = site.insert_user(
        "mgr",
        "mgr@example.com",
        "subscriber",
        &[("mautic_contact_id", json!("4"))],
    );
    site.grant(manager, "promote_users");
    fake.add_mautic_contact(mautic_contact(4, "mgr-new@example.com", "Mgr", &[]));
    let s = settings("mautic", &fake, json!({}));
    for (contact, id) in [(3, admin), (4, manager)] {
        let response = send(
            &site,
            &s,
            &format!("wpf_action=update&contact_id={contact}&role=customer"),
            b"",
        );
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(result(&response, 0)["role_refused"], "protected_user");
        let user = site.stored(id).unwrap();
        assert_ne!(user.roles, vec!["customer".to_string()]);
        assert!(!user.email.starts_with("new-address") && !user.email.starts_with("mgr-new"));
        assert_eq!(user.password, "original-password");
    }
    // Names and tags still sync.
    assert_eq!(site.stored(admin).unwrap().core["first_name"], "Boss");
}

#[test]
fn update_gives_an_allowed_role_and_changes_the_email() {
    let fake = FakeCrm::start();
    fake.add_mautic_contact(mautic_contact(8, "changed@example.com", "Eve", &[]));
    let site = MemorySite::new();
    let id = site.insert_user(
        "eve",
        "eve@example.com",
        "subscriber",
        &[("mautic_contact_id", json!("8"))],
    );
    let s = settings("mautic", &fake, json!({}));
    let response = send(
        &site,
        &s,
        "wpf_action=update&contact_id=8&role=customer",
        b"",
    );
    assert_eq!(result(&response, 0)["role"], "customer");
    let user = site.stored(id).unwrap();
    assert_eq!(user.roles, vec!["customer".to_string()]);
    assert_eq!(user.email, "changed@example.com");
}

#[test]
fn a_deleted_contact_is_unlinked_and_its_user_kept() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let body = fixture("mautic/05_contact_deleted.json");
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    let deleted_id = parsed["mautic.lead_post_delete"][0]["id"]
        .to_string()
        .trim_matches('"')
        .to_string();
    let id = site.insert_user(
        "gone",
        "gone@example.com",
        "subscriber",
        &[("mautic_contact_id", json!(deleted_id))],
    );
    let s = settings("mautic", &fake, json!({}));
    let response = send(&site, &s, "wpf_action=update", &body);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(result(&response, 0)["outcome"], "unlinked");
    let user = site.stored(id).expect("the user is never deleted");
    assert!(!user.meta.contains_key("mautic_contact_id"));
}

#[test]
fn userengage_add_and_update_tags() {
    let fake = FakeCrm::start();
    fake.add_userengage_user(json!({
        "id": 7, "name": "John Doe", "email": "johndoe@example.org",
        "tags": [{"name": "Add User to WP", "id": 1}],
        "attributes": [{"name": "Plan", "name_std": "plan", "value": "gold", "id": 5}]
    }));
    let site = MemorySite::new();
    let s = settings(
        "userengage",
        &fake,
        json!({"return_password_field": "wp_password"}),
    );
    let body = fixture("userengage/01_api_call_body_confirmed_keys.json");
    let response = send(&site, &s, "wpf_action=add", &body);
    assert_eq!(response.status, 200, "{}", response.body);
    let id = result(&response, 0)["user_id"].as_u64().unwrap();
    let user = site.stored(id).unwrap();
    assert_eq!(user.email, "johndoe@example.org");
    assert_eq!(user.core["first_name"], "John");
    assert_eq!(user.core["last_name"], "Doe");
    assert_eq!(user.meta["userengage_contact_id"], "7");
    assert_eq!(user.meta["userengage_tags"], json!(["Add User to WP"]));
    let requests = fake.requests();
    let get = requests
        .iter()
        .find(|r| r.method == "GET")
        .expect("tags come from the API");
    assert_eq!(get.path, "/userengage/api/public/users/7/");
    assert_eq!(get.header("authorization"), Some("Token userengage-key"));
    let post = requests
        .iter()
        .find(|r| r.method == "POST")
        .expect("password returned");
    assert_eq!(
        post.path,
        "/userengage/api/public/users/7/set_multiple_attributes/"
    );
    let sent: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(sent["wp_password"], user.password);

    // update_tags with a payload that carries tags: no API call.
    let before = fake.requests().len();
    let tagged = fixture("userengage/02_api_call_body_extended_ASSUMED.json");
    let mut tagged: Value = serde_json::from_slice(&tagged).unwrap();
    tagged["user"]["id"] = json!(7);
    tagged["user"]["tags"] = json!([{"name": "gold", "id": 3}]);
    let response = send(
        &site,
        &s,
        "wpf_action=update_tags",
        tagged.to_string().as_bytes(),
    );
    assert_eq!(result(&response, 0)["outcome"], "updated");
    assert_eq!(
        site.stored(id).unwrap().meta["userengage_tags"],
        json!(["gold"])
    );
    assert_eq!(fake.requests().len(), before);
    assert_eq!(
        site.actions("wpf_tags_removed").last().unwrap()[1],
        json!(["Add User to WP"])
    );
}

#[test]
fn crm_failures_answer_so_the_crm_retries_and_create_nothing() {
    let cases: &[(u16, u16, &str)] = &[
        (401, 502, "crm_auth_failed"),
        (429, 502, "crm_rate_limited"),
        (500, 502, "crm_unavailable"),
        (503, 502, "crm_unavailable"),
    ];
    for (crm_status, status, code) in cases {
        let fake = FakeCrm::start();
        fake.add_mautic_contact(mautic_contact(11, "e@example.com", "E", &[]));
        fake.fail_next(*crm_status, 1);
        let site = MemorySite::new();
        let s = settings("mautic", &fake, json!({}));
        let response = send(&site, &s, "wpf_action=add&contact_id=11", b"");
        assert_eq!(
            response.status, *status,
            "CRM {crm_status}: {}",
            response.body
        );
        assert_eq!(response.body["code"], *code);
        assert_eq!(site.user_count(), 0);
        assert!(!response.body.to_string().contains("mautic-password"));
    }
}

#[test]
fn a_crm_timeout_is_a_retryable_failure() {
    let fake = FakeCrm::start();
    fake.add_mautic_contact(mautic_contact(12, "t@example.com", "T", &[]));
    fake.delay_next(Duration::from_millis(2500), 1);
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let response = send(&site, &s, "wpf_action=add&contact_id=12", b"");
    assert_eq!(response.status, 502, "{}", response.body);
    assert_eq!(response.body["code"], "crm_unavailable");
    assert_eq!(site.user_count(), 0);
}

#[test]
fn a_contact_the_crm_does_not_know_is_ignored_with_200() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let response = send(&site, &s, "wpf_action=add&contact_id=404", b"");
    assert_eq!(response.status, 200);
    assert_eq!(result(&response, 0)["reason"], "contact_not_found_in_crm");
    assert_eq!(site.user_count(), 0);
}

#[test]
fn a_failed_password_return_creates_no_user() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let wire = fixture("mautic/01_contact_updated_single.wire.json");
    fake.add_mautic_contact(mautic_contact(52, "john@doe.name", "John", &[]));
    // The payload carries the contact, so the only API call is the password PATCH: fail it.
    fake.fail_next(500, 1);
    let response = send(&site, &s, "wpf_action=add", &wire);
    assert_eq!(response.status, 502, "{}", response.body);
    assert_eq!(site.user_count(), 0);
    // The CRM's retry succeeds and creates the user once.
    let response = send(&site, &s, "wpf_action=add", &wire);
    assert_eq!(
        result(&response, 0)["outcome"],
        "created",
        "{}",
        response.body
    );
    assert_eq!(site.user_count(), 1);
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count(),
        2
    );
}

#[test]
fn authentication_failures_are_403_and_change_nothing() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let body = fixture("mautic/02_contact_identified_batch_of_3.wire.json");
    for query in [
        "wpf_action=add",
        "wpf_action=add&access_key=wrong",
        "wpf_action=add&access_key=",
    ] {
        let response = run(&site, &s, &request(query, &body));
        assert_eq!(response.status, 403, "{query}");
        assert_eq!(response.body["code"], "invalid_access_key");
    }
    // The key may come in a header instead.
    let mut by_header = request("wpf_action=test", b"");
    by_header
        .headers
        .push(("x-wpf-access-key".into(), KEY.into()));
    assert_eq!(run(&site, &s, &by_header).status, 200);

    // A configured webhook secret is enforced for Mautic.
    let signed = settings(
        "mautic",
        &fake,
        json!({"webhook_secret": "any_secret_will_do"}),
    );
    let wire = fixture("mautic/01_contact_updated_single.wire.json");
    let unsigned = send(&site, &signed, "wpf_action=add", &wire);
    assert_eq!(
        (unsigned.status, unsigned.body["code"].as_str()),
        (403, Some("missing_signature"))
    );
    let mut bad = request(&format!("wpf_action=add&access_key={KEY}"), &wire);
    bad.headers
        .push(("webhook-signature".into(), "AAAA".into()));
    assert_eq!(run(&site, &signed, &bad).body["code"], "invalid_signature");
    let mut good = request(&format!("wpf_action=update&access_key={KEY}"), &wire);
    good.headers.push((
        "webhook-signature".into(),
        "y4ZrCpKFV3kAo5mFfyifze1e8wqdbw2dgd+bNRD96UE=".into(),
    ));
    assert_eq!(run(&site, &signed, &good).status, 200);
    assert_eq!(site.user_count(), 0);
    assert!(fake.requests().is_empty());

    // A call with no payload (a campaign webhook: URL parameters, or a form post) carries no
    // data to trust: the key suffices and the contact comes from the CRM's API.
    fake.add_mautic_contact(mautic_contact(31, "camp@example.com", "Camp", &[]));
    let campaign = send(&site, &signed, "wpf_action=add&contact_id=31", b"");
    assert_eq!(
        result(&campaign, 0)["outcome"],
        "created",
        "{}",
        campaign.body
    );
    assert!(fake.requests().iter().any(|r| r.method == "GET"));
    let test = send(&site, &signed, "wpf_action=test", b" ");
    assert_eq!(test.status, 200);
    // But a JSON body beside the parameters must still be signed.
    let smuggled = send(&site, &signed, "wpf_action=add&contact_id=31", b"{}");
    assert_eq!(smuggled.body["code"], "missing_signature");
}

#[test]
fn the_test_action_answers_success() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let s = settings("userengage", &fake, json!({}));
    let response = send(&site, &s, "wpf_action=test", b"");
    assert_eq!(response.status, 200);
    assert_eq!(response.body["success"], true);
}

#[test]
fn bad_settings_name_the_key() {
    let fake = FakeCrm::start();
    let cases: &[(Value, &str)] = &[
        (json!({"crm": "hubspot"}), "crm"),
        (json!({"access_key": "short"}), "access_key"),
        (json!({"access_key": ""}), "access_key"),
        (json!({"mautic_url": "ftp://x"}), "mautic_url"),
        (json!({"userengage_url": "not a url"}), "userengage_url"),
        (
            json!({"return_password_field": ""}),
            "return_password_field",
        ),
        (json!({"username_format": "random"}), "username_format"),
        (json!({"field_map": {"email": 5}}), "field_map.email"),
        (
            json!({"field_map": {"email": "bad key!"}}),
            "field_map.email",
        ),
        (json!({"allowed_roles": 5}), "allowed_roles"),
        (json!({"send_welcome_email": "maybe"}), "send_welcome_email"),
        (json!({"crm_timeout": 0}), "crm_timeout"),
    ];
    for (extra, key) in cases {
        let error = Settings::from_map(&settings_map("mautic", &fake, extra.clone()))
            .expect_err(&extra.to_string());
        assert_eq!(error.code(), "invalid_setting");
        assert!(
            error.to_string().contains(&format!("\"{key}\"")),
            "{error} should name {key}"
        );
    }
}

#[test]
fn missing_crm_credentials_fail_only_when_the_api_is_needed() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    site.insert_user(
        "john",
        "john@doe.name",
        "subscriber",
        &[("mautic_contact_id", json!("52"))],
    );
    let mut map = settings_map("mautic", &fake, json!({}));
    map.remove("mautic_url");
    let s = Settings::from_map(&map).unwrap();
    let ok = send(
        &site,
        &s,
        "wpf_action=update",
        &fixture("mautic/01_contact_updated_single.wire.json"),
    );
    assert_eq!(
        ok.status, 200,
        "the payload carries everything: {}",
        ok.body
    );
    let needs_api = send(&site, &s, "wpf_action=add&contact_id=99", b"");
    assert_eq!(needs_api.status, 500);
    assert_eq!(needs_api.body["code"], "invalid_setting");
}

#[test]
fn sixteen_concurrent_adds_for_one_new_contact_make_one_user() {
    let fake = FakeCrm::start();
    fake.add_mautic_contact(mautic_contact(500, "race@example.com", "Race", &["a"]));
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({}));
    let query = format!("wpf_action=add&access_key={KEY}&contact_id=500");
    let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let r = run(&site, &s, &request(&query, b""));
                    (
                        r.status,
                        r.body["results"][0]["outcome"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|(status, _)| *status == 200),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|(_, o)| o == "created").count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(site.user_count(), 1);
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count(),
        1
    );
    assert!(site
        .logs()
        .iter()
        .all(|(level, _)| *level != LogLevel::Error));
}

/// A Mautic update for contact `id` with this first name and CRM timestamp.
fn versioned_update(id: u64, email: &str, first: &str, timestamp: &str) -> Vec<u8> {
    json!({"mautic.lead_post_save_update": [{
        "contact": {"id": id, "fields": {"core": {
            "email": {"alias": "email", "value": email},
            "firstname": {"alias": "firstname", "value": first}
        }}, "tags": []},
        "timestamp": timestamp
    }]})
    .to_string()
    .into_bytes()
}

#[test]
fn racing_versions_of_one_contact_end_at_the_newest() {
    // Issue 8, finding 8: each version under the contact's lock, older ones ignored as stale.
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let id = site.insert_user(
        "racer",
        "racer@example.com",
        "subscriber",
        &[("mautic_contact_id", json!("61"))],
    );
    let s = settings("mautic", &fake, json!({}));
    // The newest version goes first, then the older ones race.
    let mut versions: Vec<u32> = vec![16];
    versions.extend((1..16).rev());
    std::thread::scope(|scope| {
        for version in versions {
            let body = versioned_update(
                61,
                "racer@example.com",
                &format!("v{version}"),
                &format!("2030-01-01T00:00:{version:02}+00:00"),
            );
            let (site, s) = (&site, &s);
            scope.spawn(move || {
                let response = send(site, s, "wpf_action=update", &body);
                assert_eq!(response.status, 200, "{}", response.body);
            });
            if version == 16 {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    let user = site.stored(id).unwrap();
    assert_eq!(user.core["first_name"], "v16");
    assert_eq!(
        user.meta["wpf_bridge_mautic_event_time"],
        "2030-01-01T00:00:16+00:00"
    );
}

#[test]
fn a_replayed_older_event_changes_nothing() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let id = site.insert_user(
        "replayed",
        "replayed@example.com",
        "subscriber",
        &[("mautic_contact_id", json!("62"))],
    );
    let s = settings("mautic", &fake, json!({}));
    let old = versioned_update(62, "replayed@example.com", "Old", "2030-01-01T10:00:00Z");
    let new = versioned_update(
        62,
        "replayed@example.com",
        "New",
        "2030-01-01T11:00:00+01:00",
    );
    let newer = versioned_update(62, "replayed@example.com", "Newer", "2030-01-01T10:00:01Z");
    assert_eq!(send(&site, &s, "wpf_action=update", &old).status, 200);
    assert_eq!(send(&site, &s, "wpf_action=update", &newer).status, 200);
    // 11:00+01:00 is 10:00Z, older than 10:00:01Z: offsets are compared as instants.
    let offset = send(&site, &s, "wpf_action=update", &new);
    assert_eq!(result(&offset, 0)["outcome"], "ignored", "{}", offset.body);
    let replay = send(&site, &s, "wpf_action=update", &old);
    assert_eq!(result(&replay, 0)["outcome"], "ignored", "{}", replay.body);
    assert_eq!(result(&replay, 0)["reason"], "stale_event");
    assert_eq!(result(&replay, 0)["user_id"], json!(id));
    assert_eq!(site.stored(id).unwrap().core["first_name"], "Newer");
}

#[test]
fn too_many_events_are_413_and_nothing_is_applied() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    let s = settings("mautic", &fake, json!({"max_events": 2}));
    let response = send(
        &site,
        &s,
        "wpf_action=add",
        &fixture("mautic/02_contact_identified_batch_of_3.wire.json"),
    );
    assert_eq!(response.status, 413, "{}", response.body);
    assert_eq!(response.body["code"], "too_many_events");
    assert_eq!(site.user_count(), 0);
    assert!(fake.requests().is_empty());
}

#[test]
fn a_spent_time_budget_answers_503_with_what_was_done_and_what_is_pending() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    for id in 71..=74 {
        site.insert_user(
            &format!("budget{id}"),
            &format!("budget{id}@example.com"),
            "subscriber",
            &[("mautic_contact_id", json!(id.to_string()))],
        );
        fake.add_mautic_contact(mautic_contact(
            id,
            &format!("budget{id}@example.com"),
            "After",
            &[],
        ));
    }
    fake.delay_next(Duration::from_millis(700), 4);
    let s = settings("mautic", &fake, json!({"time_budget": 1}));
    let items: Vec<Value> = (71..=74).map(|id| json!({"contact": {"id": id}})).collect();
    let body = json!({"mautic.lead_post_save_update": items}).to_string();
    let response = send(&site, &s, "wpf_action=update", body.as_bytes());
    assert_eq!(response.status, 503, "{}", response.body);
    assert_eq!(response.body["code"], "time_budget_exceeded");
    let done = response.body["results"].as_array().unwrap().len();
    let pending = response.body["pending"].as_array().unwrap().len();
    assert!((1..4).contains(&done), "{}", response.body);
    assert_eq!(done + pending, 4, "{}", response.body);
}

#[test]
fn the_email_parameter_never_reaches_a_user() {
    let fake = FakeCrm::start();
    fake.add_mautic_contact(mautic_contact(81, "", "NoEmail", &[]));
    let site = MemorySite::new();
    let victim = site.insert_user("victim", "victim@example.com", "subscriber", &[]);
    let s = settings("mautic", &fake, json!({}));
    let update = send(
        &site,
        &s,
        "wpf_action=update&contact_id=81&email=victim@example.com",
        b"",
    );
    assert_eq!(result(&update, 0)["outcome"], "ignored", "{}", update.body);
    let add = send(
        &site,
        &s,
        "wpf_action=add&contact_id=81&email=victim@example.com",
        b"",
    );
    assert_eq!(add.status, 422, "{}", add.body);
    assert_eq!(add.body["code"], "contact_without_email");
    assert!(!site
        .stored(victim)
        .unwrap()
        .meta
        .contains_key("mautic_contact_id"));
    assert_eq!(site.user_count(), 1);
}

#[test]
fn protected_meta_keys_and_over_long_values_are_never_written() {
    let fake = FakeCrm::start();
    let site = MemorySite::new();
    for key in [
        "wp_capabilities",
        "wp_user_level",
        "session_tokens",
        "_application_passwords",
    ] {
        let map = settings_map("mautic", &fake, json!({"field_map": {"roles": key}}));
        let error = Settings::from_map(&map).unwrap_err();
        assert_eq!(error.code(), "invalid_setting", "{key}");
        assert!(error.to_string().contains("field_map.roles"), "{error}");
    }
    let id = site.insert_user(
        "longname",
        "longname@example.com",
        "subscriber",
        &[("mautic_contact_id", json!("82"))],
    );
    let s = settings(
        "mautic",
        &fake,
        json!({"field_map": {"website": "user_url", "display": "display_name"}}),
    );
    let body = json!({"mautic.lead_post_save_update": [{"contact": {"id": 82, "fields": {"core": {
        "email": {"alias": "email", "value": "longname@example.com"},
        "website": {"alias": "website", "value": format!("https://example.com/{}", "p".repeat(100))},
        "display": {"alias": "display", "value": "D".repeat(251)}
    }}, "tags": []}}]})
    .to_string();
    let response = send(&site, &s, "wpf_action=update", body.as_bytes());
    assert_eq!(response.status, 200, "{}", response.body);
    let notes = result(&response, 0)["notes"].to_string();
    assert!(
        notes.contains("user_url") && notes.contains("display_name"),
        "{notes}"
    );
    let user = site.stored(id).unwrap();
    assert!(!user.core.contains_key("user_url") && !user.core.contains_key("display_name"));
}
