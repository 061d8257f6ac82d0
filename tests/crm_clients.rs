//! The CRM clients (`src/crm/`) against fake-crm on loopback: what they send (paths, queries,
//! auth headers, JSON bodies), what they make of the answers, and every way a call can fail,
//! each asserted by its stable `Error::code()`.

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use fake_crm::{CrmApi, FakeCrm, RecordedRequest};
use serde_json::{json, Map, Value};
use wpf_bridge::crm::mautic::MauticClient;
use wpf_bridge::crm::userengage::UserEngageClient;
use wpf_bridge::crm::{self, Crm, CrmKind};
use wpf_bridge::settings::{Secret, Settings};
use wpf_bridge::Error;

const TIMEOUT: Duration = Duration::from_millis(300);

fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/crm/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn only_request(crm: &FakeCrm) -> RecordedRequest {
    let mut requests = crm.requests();
    assert_eq!(requests.len(), 1, "expected one request, got {requests:#?}");
    requests.remove(0)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// An error's text must not contain any credential.
fn assert_no_secrets(error: &Error, secrets: &[&str]) {
    let text = format!("{error} {error:?}");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked into {text:?}");
    }
}

/// A loopback URL nothing listens on.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/mautic")
}

// ---------------------------------------------------------------- Mautic

fn mautic_basic(crm: &FakeCrm) -> Settings {
    let credentials = crm.credentials();
    Settings {
        crm: CrmKind::Mautic,
        mautic_url: Some(crm.mautic_url()),
        mautic_username: Some(credentials.mautic_username),
        mautic_password: Secret::new(credentials.mautic_password),
        crm_timeout: TIMEOUT,
        ..Settings::default()
    }
}

fn mautic_bearer(crm: &FakeCrm) -> Settings {
    Settings {
        mautic_token: Secret::new(crm.credentials().mautic_token),
        ..mautic_basic(crm)
    }
}

fn mautic_with_fixture() -> (FakeCrm, u64) {
    let crm = FakeCrm::start();
    let id = crm.add_mautic_contact(fixture("mautic/07_api_GET_contact_response.json"));
    (crm, id)
}

#[test]
fn mautic_loads_a_contact_with_basic_auth() {
    let (crm, id) = mautic_with_fixture();
    assert_eq!(id, 52);
    let contact = MauticClient::new(&mautic_basic(&crm))
        .load_contact("52")
        .unwrap();

    assert_eq!(contact.id, "52");
    assert_eq!(contact.email.as_deref(), Some("john@doe.name"));
    assert_eq!(contact.fields["firstname"], json!("John"));
    assert_eq!(contact.fields["attribution"], json!(32));
    assert_eq!(contact.fields["position"], Value::Null);
    assert_eq!(contact.tags, vec!["customer", "wp-member"]);

    let request = only_request(&crm);
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/mautic/api/contacts/52");
    let expected = base64::engine::general_purpose::STANDARD.encode("mautic-user:mautic-password");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert!(request
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("wpf-bridge/")));
}

#[test]
fn mautic_prefers_the_bearer_token_over_basic_auth() {
    let (crm, _) = mautic_with_fixture();
    let settings = mautic_bearer(&crm);
    assert!(settings.mautic_username.is_some());
    MauticClient::new(&settings).load_contact("52").unwrap();
    assert_eq!(
        only_request(&crm).header("authorization"),
        Some("Bearer mautic-token")
    );
}

#[test]
fn mautic_flattens_grouped_fields_when_all_is_missing() {
    let crm = FakeCrm::start();
    crm.add_mautic_contact(json!({
        "id": 8,
        "fields": {
            "core": {"email": {"alias": "email", "value": "grouped@example.com"},
                     "firstname": {"alias": "firstname", "value": "Greta"}},
            "personal": []
        },
        "tags": []
    }));
    let contact = MauticClient::new(&mautic_basic(&crm))
        .load_contact("8")
        .unwrap();
    assert_eq!(contact.email.as_deref(), Some("grouped@example.com"));
    assert_eq!(contact.fields["firstname"], json!("Greta"));
    assert!(contact.tags.is_empty());
}

#[test]
fn mautic_url_with_trailing_slash_is_not_doubled() {
    let (crm, _) = mautic_with_fixture();
    let settings = Settings {
        mautic_url: Some(format!("{}/", crm.mautic_url())),
        ..mautic_basic(&crm)
    };
    MauticClient::new(&settings).load_contact("52").unwrap();
    assert_eq!(only_request(&crm).path, "/mautic/api/contacts/52");
}

#[test]
fn mautic_finds_a_contact_by_email_with_a_strict_search() {
    let (crm, _) = mautic_with_fixture();
    let client = MauticClient::new(&mautic_basic(&crm));

    assert_eq!(
        client
            .find_contact_id(" John@Doe.name ")
            .unwrap()
            .as_deref(),
        Some("52")
    );
    let request = only_request(&crm);
    assert_eq!(request.path, "/mautic/api/contacts");
    assert_eq!(
        request.query_param("search").as_deref(),
        Some("email:\"+John@Doe.name\"")
    );
    assert_eq!(request.query_param("minimal").as_deref(), Some("true"));

    // No match: Mautic answers `"contacts": []`.
    assert_eq!(client.find_contact_id("nobody@example.com").unwrap(), None);
}

#[test]
fn mautic_search_survives_a_plus_in_the_email() {
    // PHP decodes a raw `+` in a query as a space; ours must arrive as `+`.
    let crm = FakeCrm::start();
    crm.add_mautic_contact(json!({"id": 3, "fields": {"all": {"email": "ann+shop@example.com"}}}));
    let client = MauticClient::new(&mautic_basic(&crm));
    assert_eq!(
        client
            .find_contact_id("ann+shop@example.com")
            .unwrap()
            .as_deref(),
        Some("3")
    );
}

#[test]
fn mautic_does_not_search_for_impossible_emails() {
    let crm = FakeCrm::start();
    let client = MauticClient::new(&mautic_basic(&crm));
    for email in ["", "not-an-email", "a\"b@example.com", "a b@example.com"] {
        assert_eq!(client.find_contact_id(email).unwrap(), None, "{email:?}");
    }
    assert!(crm.requests().is_empty());
}

#[test]
fn mautic_updates_fields_with_a_json_patch() {
    let crm = FakeCrm::start();
    let mut fields = object(fixture("mautic/08_api_PATCH_contact_edit_request.json"));
    fields.remove("_comment");
    let id = crm.add_mautic_contact(json!({
        "id": 52,
        "fields": {"all": {"email": "john@doe.name", "firstname": "Jon"}},
        "tags": [{"id": 1, "tag": "trial"}]
    }));

    MauticClient::new(&mautic_bearer(&crm))
        .update_contact("52", &fields)
        .unwrap();

    let request = only_request(&crm);
    assert_eq!(request.method, "PATCH");
    assert_eq!(request.path, "/mautic/api/contacts/52/edit");
    assert_eq!(request.header("content-type"), Some("application/json"));
    // The caller's overwriteWithBlank (false in the fixture) wins over our default.
    assert_eq!(request.body_json(), Some(Value::Object(fields.clone())));

    let stored = crm.contact_fields(CrmApi::Mautic, id).unwrap();
    assert_eq!(stored["firstname"], json!("John"));
    assert_eq!(
        stored["wp_password_link"],
        json!("https://example.com/wp-login.php?action=rp&key=...")
    );
    assert_eq!(
        crm.contact_tags(CrmApi::Mautic, id).unwrap(),
        vec!["wp-member"]
    );
}

#[test]
fn mautic_update_writes_blank_values_unless_told_otherwise() {
    let crm = FakeCrm::start();
    let id = crm.add_mautic_contact(json!({"id": 4, "fields": {"all": {"city": "Prague"}}}));
    let fields = object(json!({"city": ""}));
    MauticClient::new(&mautic_basic(&crm))
        .update_contact("4", &fields)
        .unwrap();
    assert_eq!(
        only_request(&crm).body_json(),
        Some(json!({"city": "", "overwriteWithBlank": true}))
    );
    assert_eq!(
        crm.contact_fields(CrmApi::Mautic, id).unwrap()["city"],
        json!("")
    );
}

#[test]
fn mautic_update_with_no_fields_sends_nothing() {
    let (crm, _) = mautic_with_fixture();
    MauticClient::new(&mautic_basic(&crm))
        .update_contact("52", &Map::new())
        .unwrap();
    assert!(crm.requests().is_empty());
}

#[test]
fn mautic_unknown_contacts_are_not_found() {
    let (crm, _) = mautic_with_fixture();
    let client = MauticClient::new(&mautic_basic(&crm));
    let error = client.load_contact("999").unwrap_err();
    assert_eq!(error.code(), "crm_contact_not_found");
    assert_eq!(
        error,
        Error::CrmContactNotFound {
            crm: "Mautic",
            contact_id: "999".to_string()
        }
    );
    let fields = object(json!({"firstname": "X"}));
    assert_eq!(
        client.update_contact("999", &fields).unwrap_err().code(),
        "crm_contact_not_found"
    );
}

#[test]
fn mautic_ids_that_are_not_numbers_never_reach_a_url() {
    let (crm, _) = mautic_with_fixture();
    let client = MauticClient::new(&mautic_basic(&crm));
    let fields = object(json!({"firstname": "X"}));
    for id in ["", "abc", "52/edit", "../52", "52?x=1", "52%2F1", "5 2"] {
        assert_eq!(
            client.load_contact(id).unwrap_err().code(),
            "crm_contact_not_found",
            "{id:?}"
        );
        assert_eq!(
            client.update_contact(id, &fields).unwrap_err().code(),
            "crm_contact_not_found",
            "{id:?}"
        );
    }
    assert!(crm.requests().is_empty());
}

#[test]
fn mautic_test_connection_lists_one_contact() {
    let (crm, _) = mautic_with_fixture();
    MauticClient::new(&mautic_basic(&crm))
        .test_connection()
        .unwrap();
    let request = only_request(&crm);
    assert_eq!(request.path, "/mautic/api/contacts");
    assert_eq!(request.query_param("limit").as_deref(), Some("1"));
    // An empty Mautic works too.
    let empty = FakeCrm::start();
    MauticClient::new(&mautic_basic(&empty))
        .test_connection()
        .unwrap();
}

#[test]
fn mautic_wrong_credentials_are_crm_auth() {
    let (crm, _) = mautic_with_fixture();
    let wrong_password = Settings {
        mautic_password: Secret::new("wrong-password"),
        ..mautic_basic(&crm)
    };
    let error = MauticClient::new(&wrong_password)
        .test_connection()
        .unwrap_err();
    assert_eq!(error.code(), "crm_auth_failed");
    assert_eq!(
        error,
        Error::CrmAuth {
            crm: "Mautic",
            status: 401
        }
    );
    assert_no_secrets(&error, &["wrong-password", "mautic-user:"]);

    let wrong_token = Settings {
        mautic_token: Secret::new("wrong-token"),
        ..mautic_basic(&crm)
    };
    let error = MauticClient::new(&wrong_token)
        .load_contact("52")
        .unwrap_err();
    assert_eq!(error.code(), "crm_auth_failed");
    assert_no_secrets(&error, &["wrong-token"]);

    crm.fail_next(403, 1);
    let error = MauticClient::new(&mautic_basic(&crm))
        .load_contact("52")
        .unwrap_err();
    assert_eq!(
        error,
        Error::CrmAuth {
            crm: "Mautic",
            status: 403
        }
    );
}

#[test]
fn mautic_rate_limit_server_errors_and_rejections() {
    let (crm, _) = mautic_with_fixture();
    let client = MauticClient::new(&mautic_basic(&crm));

    crm.fail_next(429, 1);
    assert_eq!(
        client.load_contact("52").unwrap_err(),
        Error::CrmRateLimited {
            crm: "Mautic",
            retry_after: Some(60)
        }
    );

    for status in [500, 502, 503] {
        crm.fail_next(status, 1);
        let error = client.find_contact_id("john@doe.name").unwrap_err();
        assert_eq!(error.code(), "crm_unavailable", "{status}");
        assert!(
            error.to_string().contains(&format!("HTTP {status}")),
            "{error}"
        );
    }

    crm.fail_next(400, 1);
    let error = client.load_contact("52").unwrap_err();
    assert_eq!(
        error,
        Error::CrmRejected {
            crm: "Mautic",
            status: 400,
            detail: "Scripted failure".to_string()
        }
    );

    // A real validation error from the (fake) Mautic, with its message.
    let fields = object(json!({"email": "not-an-email"}));
    let error = client.update_contact("52", &fields).unwrap_err();
    assert_eq!(error.code(), "crm_rejected");
    assert!(
        error
            .to_string()
            .contains("email: A valid email is required"),
        "{error}"
    );

    // The client recovers once the CRM does.
    assert_eq!(client.load_contact("52").unwrap().id, "52");
}

#[test]
fn retry_after_from_the_crm_is_kept_in_seconds() {
    let (crm, _) = mautic_with_fixture();
    let client = MauticClient::new(&mautic_basic(&crm));

    crm.fail_next_retry_after(503, "120", 1);
    assert_eq!(
        client.load_contact("52").unwrap_err(),
        Error::CrmUnavailable {
            crm: "Mautic",
            detail: "HTTP 503: Scripted failure".to_string(),
            retry_after: Some(120)
        }
    );

    // The HTTP-date form, counted from now.
    let in_five_minutes = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(300));
    crm.fail_next_retry_after(429, &in_five_minutes, 1);
    match client.find_contact_id("john@doe.name").unwrap_err() {
        Error::CrmRateLimited {
            crm: "Mautic",
            retry_after: Some(seconds),
        } => assert!((290..=300).contains(&seconds), "{seconds}"),
        other => panic!("{other:?}"),
    }

    // A day at most, whatever the CRM asks; nothing when it says nothing usable.
    crm.fail_next_retry_after(503, "31536000", 1);
    let error = client.load_contact("52").unwrap_err();
    assert!(
        matches!(
            error,
            Error::CrmUnavailable {
                retry_after: Some(86_400),
                ..
            }
        ),
        "{error:?}"
    );
    crm.fail_next_retry_after(429, "soon", 1);
    let error = client.load_contact("52").unwrap_err();
    assert!(
        matches!(
            error,
            Error::CrmRateLimited {
                retry_after: None,
                ..
            }
        ),
        "{error:?}"
    );
    crm.fail_next(502, 1);
    let error = client.load_contact("52").unwrap_err();
    assert!(
        matches!(
            error,
            Error::CrmUnavailable {
                retry_after: None,
                ..
            }
        ),
        "{error:?}"
    );

    // User.com's outages carry it the same way.
    let (crm, _) = userengage_with_fixture();
    crm.fail_next_retry_after(503, "30", 1);
    let error = UserEngageClient::new(&userengage(&crm))
        .load_contact("19678376")
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::CrmUnavailable {
                crm: "User.com",
                retry_after: Some(30),
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn mautic_rejections_never_echo_the_values_we_sent() {
    let (crm, _) = mautic_with_fixture();
    crm.respond_next(
        422,
        r#"{"errors":[{"message":"wp_password: G3nerated-Secret! is too long","code":422}]}"#,
        1,
    );
    let fields = object(json!({"wp_password": "G3nerated-Secret!"}));
    let error = MauticClient::new(&mautic_basic(&crm))
        .update_contact("52", &fields)
        .unwrap_err();
    assert_eq!(error.code(), "crm_rejected");
    assert!(
        error.to_string().contains("wp_password: *** is too long"),
        "{error}"
    );
    assert_no_secrets(&error, &["G3nerated-Secret!"]);
}

#[test]
fn mautic_timeout_is_crm_unavailable_within_the_setting() {
    let (crm, _) = mautic_with_fixture();
    crm.delay_next(Duration::from_secs(2), 1);
    let started = Instant::now();
    let error = MauticClient::new(&mautic_basic(&crm))
        .load_contact("52")
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.code(), "crm_unavailable");
    assert!(error.to_string().contains("timeout"), "{error}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
}

#[test]
fn mautic_connection_refused_is_crm_unavailable_without_the_url() {
    let url = refused_url();
    let settings = Settings {
        mautic_url: Some(url.clone()),
        mautic_username: Some("user".to_string()),
        mautic_password: Secret::new("pass-word"),
        crm_timeout: TIMEOUT,
        ..Settings::default()
    };
    let error = MauticClient::new(&settings).load_contact("1").unwrap_err();
    assert_eq!(error.code(), "crm_unavailable");
    assert_no_secrets(&error, &[&url, "pass-word"]);
}

#[test]
fn mautic_answers_that_are_not_json_are_bad_responses() {
    let (crm, _) = mautic_with_fixture();
    let client = MauticClient::new(&mautic_basic(&crm));

    crm.respond_next(200, "{\"contact\": {", 1);
    assert_eq!(
        client.load_contact("52").unwrap_err().code(),
        "crm_bad_response"
    );

    crm.respond_next(200, "<!DOCTYPE html><html>Mautic login</html>", 1);
    let error = client.load_contact("52").unwrap_err();
    assert_eq!(error.code(), "crm_bad_response");
    assert!(error.to_string().contains("mautic_url"), "{error}");

    crm.respond_next(200, "[1, 2]", 1);
    assert_eq!(
        client.load_contact("52").unwrap_err().code(),
        "crm_bad_response"
    );

    crm.respond_next(200, "{\"total\": 1}", 1);
    assert_eq!(
        client.find_contact_id("john@doe.name").unwrap_err().code(),
        "crm_bad_response"
    );

    let huge = format!(
        "{{\"contact\": {{\"pad\": \"{}\"}}}}",
        "x".repeat(5 * 1024 * 1024)
    );
    crm.respond_next(200, &huge, 1);
    let error = client.load_contact("52").unwrap_err();
    assert_eq!(error.code(), "crm_bad_response");
    assert!(error.to_string().contains("4 MiB"), "{error}");
}

#[test]
fn mautic_url_that_is_not_the_api_is_an_invalid_setting() {
    let (crm, _) = mautic_with_fixture();
    let settings = Settings {
        mautic_url: Some(format!("{}/not-mautic", crm.base_url())),
        ..mautic_basic(&crm)
    };
    let error = MauticClient::new(&settings).test_connection().unwrap_err();
    assert_eq!(error.code(), "invalid_setting");
    assert!(error.to_string().contains("mautic_url"), "{error}");
}

#[test]
fn mautic_missing_settings_fail_at_first_use_naming_the_key() {
    let crm = FakeCrm::start();
    let cases = [
        (
            Settings {
                mautic_url: None,
                ..mautic_basic(&crm)
            },
            "mautic_url",
        ),
        (
            Settings {
                mautic_url: Some("mautic.example.com".to_string()),
                ..mautic_basic(&crm)
            },
            "mautic_url",
        ),
        (
            Settings {
                mautic_username: None,
                ..mautic_basic(&crm)
            },
            "mautic_username",
        ),
        (
            Settings {
                mautic_password: Secret::default(),
                ..mautic_basic(&crm)
            },
            "mautic_password",
        ),
        (
            Settings {
                mautic_token: Secret::new("token with spaces"),
                ..mautic_basic(&crm)
            },
            "mautic_token",
        ),
    ];
    for (settings, key) in cases {
        // Building never fails; every call reports the setting.
        let client = MauticClient::new(&settings);
        let error = client.load_contact("52").unwrap_err();
        assert_eq!(error.code(), "invalid_setting", "{key}");
        match &error {
            Error::InvalidSetting { key: named, .. } => assert_eq!(named, key),
            other => panic!("{other:?}"),
        }
        assert_no_secrets(&error, &["mautic-password", "token with spaces"]);
        assert_eq!(client.test_connection().unwrap_err(), error);
    }
    let missing = MauticClient::new(&Settings::default())
        .load_contact("1")
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("mautic_url") && missing.contains("not set"),
        "{missing}"
    );
    assert!(crm.requests().is_empty());
}

// ---------------------------------------------------------------- User.com

fn userengage(crm: &FakeCrm) -> Settings {
    Settings {
        crm: CrmKind::UserEngage,
        userengage_url: Some(crm.userengage_url()),
        userengage_api_key: Secret::new(crm.credentials().userengage_key),
        crm_timeout: TIMEOUT,
        ..Settings::default()
    }
}

fn userengage_with_fixture() -> (FakeCrm, u64) {
    let crm = FakeCrm::start();
    let id = crm.add_userengage_user(fixture(
        "userengage/03_rest_GET_users_search_by_email_response.json",
    ));
    (crm, id)
}

#[test]
fn userengage_loads_a_user_with_token_auth() {
    let (crm, id) = userengage_with_fixture();
    assert_eq!(id, 19678376);
    let contact = UserEngageClient::new(&userengage(&crm))
        .load_contact("19678376")
        .unwrap();

    assert_eq!(contact.id, "19678376");
    assert_eq!(contact.email.as_deref(), Some("example@email.com"));
    assert_eq!(contact.fields["first_name"], json!("Jane"));
    assert_eq!(contact.fields["last_name"], json!("Doe"));
    assert_eq!(contact.fields["status"], json!("visitor"));
    assert_eq!(contact.fields["example_attr"], json!(true));
    assert_eq!(contact.fields["my_string_attr"], json!("attribute value"));
    assert!(!contact.fields.contains_key("attributes"));
    assert_eq!(contact.tags, vec!["tag"]);

    let request = only_request(&crm);
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/userengage/api/public/users/19678376/");
    assert_eq!(
        request.header("authorization"),
        Some("Token userengage-key")
    );
    assert_eq!(request.header("accept"), Some("*/*; version=2"));
}

#[test]
fn userengage_url_without_trailing_slash_gets_one() {
    let (crm, _) = userengage_with_fixture();
    let settings = Settings {
        userengage_url: Some(crm.userengage_url().trim_end_matches('/').to_string()),
        ..userengage(&crm)
    };
    UserEngageClient::new(&settings)
        .load_contact("19678376")
        .unwrap();
    assert_eq!(
        only_request(&crm).path,
        "/userengage/api/public/users/19678376/"
    );
}

#[test]
fn userengage_finds_a_user_by_email() {
    let (crm, _) = userengage_with_fixture();
    let client = UserEngageClient::new(&userengage(&crm));
    assert_eq!(
        client
            .find_contact_id("example@email.com")
            .unwrap()
            .as_deref(),
        Some("19678376")
    );
    let request = only_request(&crm);
    assert_eq!(request.path, "/userengage/api/public/users/search/");
    assert_eq!(request.query, "email=example%40email.com");

    assert_eq!(client.find_contact_id("nobody@example.com").unwrap(), None);
    assert_eq!(client.find_contact_id("no email").unwrap(), None);
    assert_eq!(crm.requests().len(), 2);
}

#[test]
fn userengage_updates_attributes() {
    let (crm, id) = userengage_with_fixture();
    let writes = fixture("userengage/04_rest_write_requests.json");
    let (_, body) = object(writes)
        .into_iter()
        .find(|(k, _)| k.contains("set_multiple_attributes"))
        .expect("the fixture has a set_multiple_attributes body");
    let mut fields = object(body);
    fields.insert("example_attr".to_string(), json!(false));

    UserEngageClient::new(&userengage(&crm))
        .update_contact("19678376", &fields)
        .unwrap();

    let request = only_request(&crm);
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        "/userengage/api/public/users/19678376/set_multiple_attributes/"
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("authorization"),
        Some("Token userengage-key")
    );
    assert_eq!(request.body_json(), Some(Value::Object(fields)));

    let stored = crm.contact_fields(CrmApi::UserEngage, id).unwrap();
    assert_eq!(stored["example_attr"], json!(false));
    assert_eq!(
        stored["wp_generated_password_link"],
        json!("https://example.com/wp-login.php?action=rp&key=...")
    );
}

#[test]
fn userengage_unknown_users_and_bad_ids_are_not_found() {
    let (crm, _) = userengage_with_fixture();
    let client = UserEngageClient::new(&userengage(&crm));
    assert_eq!(
        client.load_contact("1").unwrap_err(),
        Error::CrmContactNotFound {
            crm: "User.com",
            contact_id: "1".to_string()
        }
    );
    let fields = object(json!({"a": 1}));
    assert_eq!(
        client.update_contact("1", &fields).unwrap_err().code(),
        "crm_contact_not_found"
    );
    let requests = crm.requests().len();
    for id in ["x7NM5xw2eFxl", "1/../2", ""] {
        assert_eq!(
            client.load_contact(id).unwrap_err().code(),
            "crm_contact_not_found"
        );
    }
    assert_eq!(crm.requests().len(), requests);
    client.update_contact("19678376", &Map::new()).unwrap();
    assert_eq!(crm.requests().len(), requests);
}

#[test]
fn userengage_test_connection_checks_url_and_key() {
    let (crm, _) = userengage_with_fixture();
    UserEngageClient::new(&userengage(&crm))
        .test_connection()
        .unwrap();
    assert_eq!(
        only_request(&crm).path,
        "/userengage/api/public/users/search/"
    );

    let wrong_key = Settings {
        userengage_api_key: Secret::new("wrong-key"),
        ..userengage(&crm)
    };
    let error = UserEngageClient::new(&wrong_key)
        .test_connection()
        .unwrap_err();
    assert_eq!(
        error,
        Error::CrmAuth {
            crm: "User.com",
            status: 401
        }
    );
    assert_no_secrets(&error, &["wrong-key"]);

    let not_the_api = Settings {
        userengage_url: Some(crm.base_url()),
        ..userengage(&crm)
    };
    let error = UserEngageClient::new(&not_the_api)
        .test_connection()
        .unwrap_err();
    assert_eq!(error.code(), "invalid_setting");
    assert!(error.to_string().contains("/api/public/"), "{error}");
}

#[test]
fn userengage_failures_map_to_codes() {
    let (crm, _) = userengage_with_fixture();
    let client = UserEngageClient::new(&userengage(&crm));

    crm.fail_next(429, 1);
    assert_eq!(
        client.load_contact("19678376").unwrap_err(),
        Error::CrmRateLimited {
            crm: "User.com",
            retry_after: Some(60)
        }
    );
    crm.fail_next(500, 1);
    assert_eq!(
        client
            .find_contact_id("example@email.com")
            .unwrap_err()
            .code(),
        "crm_unavailable"
    );
    crm.respond_next(
        400,
        r#"{"wp_password": ["Ensure this field has no more than 255 characters."]}"#,
        1,
    );
    let fields = object(json!({"wp_password": "x"}));
    let error = client.update_contact("19678376", &fields).unwrap_err();
    assert_eq!(error.code(), "crm_rejected");
    assert!(
        error.to_string().contains("wp_password: Ensure this field"),
        "{error}"
    );
    crm.respond_next(200, "not json", 1);
    assert_eq!(
        client.load_contact("19678376").unwrap_err().code(),
        "crm_bad_response"
    );
    crm.delay_next(Duration::from_secs(2), 1);
    let started = Instant::now();
    assert_eq!(
        client.load_contact("19678376").unwrap_err().code(),
        "crm_unavailable"
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(client.load_contact("19678376").unwrap().id, "19678376");
}

#[test]
fn userengage_connection_refused_and_missing_settings() {
    let url = refused_url();
    let settings = Settings {
        userengage_url: Some(url.clone()),
        userengage_api_key: Secret::new("k-e-y-123"),
        crm_timeout: TIMEOUT,
        ..Settings::default()
    };
    let error = UserEngageClient::new(&settings)
        .load_contact("1")
        .unwrap_err();
    assert_eq!(error.code(), "crm_unavailable");
    assert_no_secrets(&error, &[&url, "k-e-y-123"]);

    let crm = FakeCrm::start();
    for (settings, key) in [
        (
            Settings {
                userengage_url: None,
                ..userengage(&crm)
            },
            "userengage_url",
        ),
        (
            Settings {
                userengage_api_key: Secret::default(),
                ..userengage(&crm)
            },
            "userengage_api_key",
        ),
    ] {
        let error = UserEngageClient::new(&settings)
            .find_contact_id("ann@b.co")
            .unwrap_err();
        match &error {
            Error::InvalidSetting { key: named, .. } => assert_eq!(named, key),
            other => panic!("{other:?}"),
        }
    }
    assert!(crm.requests().is_empty());
}

// ---------------------------------------------------------------- both

#[test]
fn client_factory_picks_the_crm_from_the_settings() {
    let crm = FakeCrm::start();
    assert_eq!(crm::client(&mautic_basic(&crm)).kind(), CrmKind::Mautic);
    assert_eq!(crm::client(&userengage(&crm)).kind(), CrmKind::UserEngage);
    // Building a client touches nothing.
    assert!(crm.requests().is_empty());
}

/// One base-URL rule: the settings refuse exactly the addresses the clients would refuse, with
/// the same sentence (settings are read once, a client is built later from them).
#[test]
fn settings_and_clients_apply_one_base_url_rule() {
    for (key, url) in [
        ("mautic_url", "https://m.example.com/"),
        ("mautic_url", "http://10.0.0.5:8080/mautic"),
        ("mautic_url", "m.example.com"),
        ("mautic_url", "ftp://m.example.com"),
        ("mautic_url", "https:///api"),
        ("mautic_url", "https://m.example.com/?page=1"),
        ("mautic_url", "https://m.example.com/#api"),
        ("userengage_url", "https://app.user.com/api/public/"),
        ("userengage_url", "https://:443/api"),
        ("userengage_url", "https://app.user.com/api public/"),
    ] {
        let mut map = Map::new();
        map.insert("crm".into(), json!(key.trim_end_matches("_url")));
        map.insert("access_key".into(), json!("a1b2c3d4"));
        map.insert(key.into(), json!(url));
        let from_settings = Settings::from_map(&map)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let from_client = crm::http::base_url(key, Some(url))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(from_settings, from_client, "{key} = {url}");
    }
}
