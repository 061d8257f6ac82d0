//! The CRM clients (`src/crm/`) against fake-crm on loopback: what they send (paths, queries,
//! auth headers, JSON bodies), what they make of the answers, and every way a call can fail,
//! each asserted by its stable `Error::code()`.

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use fake_crm::{CrmApi, FakeCrm, RecordedRequest};
use serde_json::{json, Map, Value};
use wpf_bridge::crm::activecampaign::{self, ActiveCampaignClient};
use wpf_bridge::crm::mailerlite::MailerLiteClient;
use wpf_bridge::crm::mautic::MauticClient;
use wpf_bridge::crm::userengage::UserEngageClient;
use wpf_bridge::crm::{self, ApiAccess, Crm, CrmKind};
use wpf_bridge::error::Retry;
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
    assert_eq!(
        crm::client(&mautic_basic(&crm)).kind(),
        Some(CrmKind::Mautic)
    );
    assert_eq!(
        crm::client(&userengage(&crm)).kind(),
        Some(CrmKind::UserEngage)
    );
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

#[test]
fn preset_clients_exist_for_activecampaign_and_mailerlite_only() {
    let crm = FakeCrm::start();
    let access = ac_access(&crm);
    for (slug, kind) in [
        ("activecampaign", CrmKind::ActiveCampaign),
        ("MailerLite ", CrmKind::MailerLite),
    ] {
        let client = crm::preset_client(slug, &access, "return_password").unwrap();
        assert_eq!(client.kind(), Some(kind));
    }
    for slug in ["drip", "convertkit", "highlevel", "mautic", "made_up"] {
        let error = match crm::preset_client(slug, &access, "return_password") {
            Ok(_) => panic!("{slug} has no client"),
            Err(error) => error,
        };
        assert_eq!(error.code(), "invalid_setting");
        let text = error.to_string();
        assert!(text.contains("return_password"), "{text}");
        assert!(
            text.contains(slug) && text.contains("ActiveCampaign and MailerLite"),
            "{text}"
        );
    }
    // A site whose settings name one of them (no setting can yet) gets a client that fails
    // at first use, naming the missing address.
    let settings = Settings {
        crm: CrmKind::MailerLite,
        ..Settings::default()
    };
    let error = crm::client(&settings).load_contact("1").unwrap_err();
    assert_eq!(error.code(), "invalid_setting");
    assert!(crm.requests().is_empty());
}

// ---------------------------------------------------------------- ActiveCampaign

const AC_TOKEN: &str = "activecampaign-token";

fn ac_access(crm: &FakeCrm) -> ApiAccess {
    ApiAccess::new(
        Some(crm.activecampaign_url()),
        Secret::new(crm.credentials().activecampaign_token),
        TIMEOUT,
    )
}

/// Contact 5 with two custom fields (ids 1 and 2: the reference's example values), a field
/// for the password (id 3) and two tags.
fn ac_with_contact() -> (FakeCrm, ActiveCampaignClient) {
    let crm = FakeCrm::start();
    assert_eq!(crm.add_activecampaign_field("COUNTRY", "Country"), 1);
    assert_eq!(crm.add_activecampaign_field("INDUSTRY", "Industry"), 2);
    assert_eq!(
        crm.add_activecampaign_field("WP_PASSWORD", "WP password"),
        3
    );
    crm.add_activecampaign_contact(json!({
        "id": 5, "email": "jane@example.com", "firstName": "Jane", "lastName": "Doe",
        "phone": "", "tags": ["customer", "wp-member"],
        "fields": {"COUNTRY": "United States", "INDUSTRY": "Software"}
    }));
    let client = ActiveCampaignClient::new(&ac_access(&crm));
    (crm, client)
}

#[test]
fn activecampaign_loads_a_contact_its_fields_and_tags() {
    let (crm, client) = ac_with_contact();
    let contact = client.load_contact(" 5 ").unwrap();
    assert_eq!(contact.id, "5");
    assert_eq!(contact.email.as_deref(), Some("jane@example.com"));
    assert_eq!(contact.fields["firstName"], json!("Jane"));
    assert_eq!(contact.fields["lastName"], json!("Doe"));
    assert_eq!(contact.fields["COUNTRY"], json!("United States"));
    assert_eq!(contact.fields["INDUSTRY"], json!("Software"));
    assert!(!contact.fields.contains_key("WP_PASSWORD"));
    assert_eq!(contact.tags, vec!["customer", "wp-member"]);

    let requests = crm.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/activecampaign/api/3/contacts/5",
            "/activecampaign/api/3/contacts/5/fieldValues",
            "/activecampaign/api/3/fields",
            "/activecampaign/api/3/contacts/5/contactTags",
            "/activecampaign/api/3/tags/1",
            "/activecampaign/api/3/tags/2",
        ]
    );
    for request in &requests {
        assert_eq!(request.method, "GET");
        assert_eq!(request.header("api-token"), Some(AC_TOKEN));
        assert_eq!(request.header("authorization"), None);
        assert_eq!(request.header("accept"), Some("application/json"));
    }
    assert_eq!(requests[2].query_param("limit").as_deref(), Some("100"));
    assert_eq!(requests[2].query_param("offset").as_deref(), Some("0"));
}

#[test]
fn activecampaign_field_names_are_read_across_pages() {
    let crm = FakeCrm::start();
    for n in 1..=230 {
        crm.add_activecampaign_field(&format!("F{n}"), &format!("Field {n}"));
    }
    crm.add_activecampaign_contact(json!({"id": 9, "email": "p@example.com",
        "fields": {"F7": "seven", "F150": "one hundred fifty"}}));
    let contact = ActiveCampaignClient::new(&ac_access(&crm))
        .load_contact("9")
        .unwrap();
    assert_eq!(contact.fields["F7"], json!("seven"));
    assert_eq!(contact.fields["F150"], json!("one hundred fifty"));
    let offsets: Vec<String> = crm
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/fields"))
        .filter_map(|r| r.query_param("offset"))
        .collect();
    // The third page is not read: both names were found on the first two.
    assert_eq!(offsets, ["0", "100"]);
    assert!(contact.tags.is_empty());
}

#[test]
fn activecampaign_answers_match_the_reference_examples() {
    // The fake's records have every member the reference's examples show, so a client that
    // reads the fake reads ActiveCampaign.
    let (crm, client) = ac_with_contact();
    client.load_contact("5").unwrap();
    let keys = |value: &Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let answer = |path: &str| -> Value { serde_json::from_str(&raw_get(&crm, path)).unwrap() };
    let values = answer("/api/3/contacts/5/fieldValues");
    let documented = fixture("activecampaign/01_api_GET_contact_fieldValues_response.json");
    assert_eq!(
        keys(&values["fieldValues"][0]),
        keys(&documented["fieldValues"][0])
    );
    let tag = answer("/api/3/tags/1");
    assert_eq!(
        keys(&tag["tag"]),
        keys(&fixture("activecampaign/02_api_GET_tag_response.json")["tag"])
    );
    let tags = answer("/api/3/contacts/5/contactTags");
    assert_eq!(
        keys(&tags["contactTags"][0]),
        keys(&fixture("activecampaign/03_api_contactTag_record.json")["contactTag"])
    );
    // And the client reads the documented records themselves.
    let pairs = wpf_bridge::contact::activecampaign::field_values(&documented["fieldValues"]);
    assert_eq!(pairs[0], ("1".to_string(), json!("United States")));
}

/// A GET to the fake's ActiveCampaign API with the right token, the body as text.
fn raw_get(crm: &FakeCrm, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", crm.port())).unwrap();
    write!(
        stream,
        "GET /activecampaign{path} HTTP/1.1\r\nHost: x\r\nApi-Token: {AC_TOKEN}\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_once("\r\n\r\n").unwrap().1.to_string()
}

#[test]
fn activecampaign_writes_a_custom_field_by_perstag_or_title() {
    let (crm, client) = ac_with_contact();
    client
        .update_contact("5", &object(json!({"wp_password": "S3cret pw"})))
        .unwrap();
    let write = crm.requests().pop().unwrap();
    assert_eq!(write.method, "POST");
    assert_eq!(write.path, "/activecampaign/api/3/fieldValues");
    assert_eq!(write.header("content-type"), Some("application/json"));
    assert_eq!(
        write.body_json().unwrap(),
        json!({"fieldValue": {"contact": "5", "field": "3", "value": "S3cret pw"}})
    );
    // The request has the documented example's shape.
    let documented = fixture("activecampaign/04_api_POST_fieldValues_request.json");
    let keys = |v: &Value| {
        let mut k: Vec<String> = v["fieldValue"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&write.body_json().unwrap()), keys(&documented));
    let fields = crm.contact_fields(CrmApi::ActiveCampaign, 5).unwrap();
    assert_eq!(fields["WP_PASSWORD"], json!("S3cret pw"));

    // By title, and numbers are sent as text.
    client
        .update_contact("5", &object(json!({"Industry": 42})))
        .unwrap();
    let fields = crm.contact_fields(CrmApi::ActiveCampaign, 5).unwrap();
    assert_eq!(fields["INDUSTRY"], json!("42"));

    crm.clear_requests();
    client.update_contact("5", &Map::new()).unwrap();
    assert!(crm.requests().is_empty());
}

#[test]
fn activecampaign_refuses_fields_it_cannot_write_before_writing_any() {
    let (crm, client) = ac_with_contact();
    crm.clear_requests();
    let error = client
        .update_contact(
            "5",
            &object(json!({"WP_PASSWORD": "pw-1234", "NO_SUCH": "x"})),
        )
        .unwrap_err();
    assert_eq!(error.code(), "invalid_argument");
    assert!(error.to_string().contains("NO_SUCH"), "{error}");
    assert_no_secrets(&error, &["pw-1234"]);
    assert!(crm.requests().iter().all(|r| r.method == "GET"));

    let error = client
        .update_contact("5", &object(json!({"email": "x@y.z"})))
        .unwrap_err();
    assert_eq!(error.code(), "invalid_argument");
    assert!(error.to_string().contains("standard"), "{error}");
    assert!(crm.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn activecampaign_finds_contacts_by_email() {
    let (crm, client) = ac_with_contact();
    crm.clear_requests();
    assert_eq!(
        client
            .find_contact_id(" Jane@Example.com ")
            .unwrap()
            .as_deref(),
        Some("5")
    );
    let request = only_request(&crm);
    assert_eq!(request.path, "/activecampaign/api/3/contacts");
    assert_eq!(
        request.query_param("email").as_deref(),
        Some("Jane@Example.com")
    );
    assert_eq!(client.find_contact_id("nobody@example.com").unwrap(), None);
    assert_eq!(client.find_contact_id("not an email").unwrap(), None);

    crm.clear_requests();
    client.test_connection().unwrap();
    let probe = only_request(&crm);
    assert_eq!(probe.path, "/activecampaign/api/3/contacts");
    assert_eq!(probe.query_param("limit").as_deref(), Some("1"));
}

#[test]
fn activecampaign_unknown_contacts_and_bad_ids_are_not_found() {
    let (crm, client) = ac_with_contact();
    crm.clear_requests();
    for id in ["77", "5/../1", "abc", ""] {
        let error = client.load_contact(id).unwrap_err();
        assert_eq!(error.code(), "crm_contact_not_found", "{id:?}");
    }
    assert_eq!(
        crm.requests().len(),
        1,
        "only the numeric id reached the API"
    );
    let error = client
        .update_contact("77", &object(json!({"WP_PASSWORD": "pw"})))
        .unwrap_err();
    assert_eq!(error.code(), "crm_contact_not_found");
}

#[test]
fn activecampaign_failures_map_to_codes_without_secrets() {
    let (crm, client) = ac_with_contact();

    let wrong = ActiveCampaignClient::new(&ApiAccess::new(
        Some(crm.activecampaign_url()),
        Secret::new("wrong-token-123"),
        TIMEOUT,
    ));
    let error = wrong.test_connection().unwrap_err();
    assert_eq!(
        error,
        Error::CrmAuth {
            crm: "ActiveCampaign",
            status: 403
        }
    );
    assert_no_secrets(&error, &["wrong-token-123", AC_TOKEN]);

    crm.fail_next(429, 1);
    assert_eq!(
        client.load_contact("5").unwrap_err(),
        Error::CrmRateLimited {
            crm: "ActiveCampaign",
            retry_after: Some(60)
        }
    );
    // A failure part way through a load fails the load: no contact with half its tags.
    for status in [500, 503] {
        crm.clear_requests();
        crm.respond_next(
            200,
            r#"{"contact": {"id": "5", "email": "jane@example.com"}}"#,
            1,
        );
        crm.fail_next(status, 1);
        let error = client.load_contact("5").unwrap_err();
        assert_eq!(error.code(), "crm_unavailable", "{status}");
        assert!(
            error.to_string().contains(&format!("HTTP {status}")),
            "{error}"
        );
    }
    // A rejection's message never echoes the value we sent: the field list is answered,
    // then the write is refused.
    crm.respond_next(
        200,
        r#"{"fields": [{"id": "3", "title": "WP password", "perstag": "WP_PASSWORD"}],
            "meta": {"total": "1"}}"#,
        1,
    );
    crm.respond_next(
        422,
        r#"{"message": "Value S3cret-Pass-99 is not allowed for this field"}"#,
        1,
    );
    crm.clear_requests();
    let error = client
        .update_contact("5", &object(json!({"WP_PASSWORD": "S3cret-Pass-99"})))
        .unwrap_err();
    assert_eq!(crm.requests().pop().unwrap().method, "POST");
    assert_eq!(error.code(), "crm_rejected");
    assert!(
        error.to_string().contains("Value *** is not allowed"),
        "{error}"
    );
    assert_no_secrets(&error, &["S3cret-Pass-99"]);
    // A write for an unknown contact is the reference's JSON:API 404 ("Contact not found").
    let error = client
        .update_contact("77", &object(json!({"WP_PASSWORD": "x"})))
        .unwrap_err();
    assert_eq!(error.code(), "crm_contact_not_found");

    // Answers that are not the API's JSON.
    crm.respond_next(200, "<!DOCTYPE html><html>Login</html>", 1);
    let error = client.load_contact("5").unwrap_err();
    assert_eq!(error.code(), "crm_bad_response");
    assert!(error.to_string().contains("activecampaign_url"), "{error}");
    crm.respond_next(200, r#"{"contacts": []}"#, 1);
    assert_eq!(
        client.load_contact("5").unwrap_err().code(),
        "crm_bad_response"
    );
    let huge = format!(
        "{{\"contact\": {{\"pad\": \"{}\"}}}}",
        "x".repeat(5 * 1024 * 1024)
    );
    crm.respond_next(200, &huge, 1);
    let error = client.load_contact("5").unwrap_err();
    assert_eq!(error.code(), "crm_bad_response");
    assert!(error.to_string().contains("4 MiB"), "{error}");

    // A timeout is unavailable, within the timeout.
    crm.delay_next(Duration::from_secs(2), 1);
    let started = Instant::now();
    assert_eq!(
        client.load_contact("5").unwrap_err().code(),
        "crm_unavailable"
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
    // And the client recovers.
    assert_eq!(client.load_contact("5").unwrap().tags.len(), 2);
}

#[test]
fn activecampaign_contacts_with_too_many_tags_are_refused() {
    let crm = FakeCrm::start();
    let tags: Vec<String> = (0..=activecampaign::MAX_TAGS)
        .map(|n| format!("t{n}"))
        .collect();
    crm.add_activecampaign_contact(json!({"id": 3, "email": "t@example.com", "tags": tags}));
    let error = ActiveCampaignClient::new(&ac_access(&crm))
        .load_contact("3")
        .unwrap_err();
    assert_eq!(error.code(), "crm_bad_response");
    assert!(error.to_string().contains("at most"), "{error}");
    assert!(crm.requests().iter().all(|r| !r.path.contains("/tags/")));
}

#[test]
fn activecampaign_missing_access_fails_at_first_use_naming_the_key() {
    let crm = FakeCrm::start();
    let refused = refused_url();
    for (access, key) in [
        (
            ApiAccess::new(None, Secret::new(AC_TOKEN), TIMEOUT),
            "activecampaign_url",
        ),
        (
            ApiAccess::new(Some(crm.activecampaign_url()), Secret::default(), TIMEOUT),
            "activecampaign_api_key",
        ),
        (
            ApiAccess::new(
                Some("acme.api-us1.com".into()),
                Secret::new(AC_TOKEN),
                TIMEOUT,
            ),
            "activecampaign_url",
        ),
    ] {
        match ActiveCampaignClient::new(&access)
            .load_contact("1")
            .unwrap_err()
        {
            Error::InvalidSetting { key: named, .. } => assert_eq!(named, key),
            other => panic!("{other:?}"),
        }
    }
    let error = ActiveCampaignClient::new(&ApiAccess::new(
        Some(refused.clone()),
        Secret::new("k-e-y-987"),
        TIMEOUT,
    ))
    .load_contact("1")
    .unwrap_err();
    assert_eq!(error.code(), "crm_unavailable");
    assert_no_secrets(&error, &[&refused, "k-e-y-987"]);
    // An address that is not the API (the fake's HTML 404).
    let error = ActiveCampaignClient::new(&ApiAccess::new(
        Some(format!("{}/not-ac", crm.base_url())),
        Secret::new(AC_TOKEN),
        TIMEOUT,
    ))
    .test_connection()
    .unwrap_err();
    assert_eq!(error.code(), "invalid_setting");
    assert!(error.to_string().contains("activecampaign_url"), "{error}");
    assert!(crm.requests().len() == 1);
}

// ---------------------------------------------------------------- MailerLite

const ML_TOKEN: &str = "mailerlite-token";

fn ml_access(crm: &FakeCrm) -> ApiAccess {
    ApiAccess::new(
        Some(crm.mailerlite_url()),
        Secret::new(crm.credentials().mailerlite_token),
        TIMEOUT,
    )
}

/// The documented subscriber, in two groups.
fn ml_with_subscriber() -> (FakeCrm, MailerLiteClient, u64) {
    let crm = FakeCrm::start();
    let mut subscriber = fixture("mailerlite/05_api_subscriber.json");
    subscriber["groups"] = json!([
        {"id": "71", "name": "Customers", "active_count": 1},
        {"id": "72", "name": "Newsletter"}
    ]);
    let id = crm.add_mailerlite_subscriber(subscriber);
    let client = MailerLiteClient::new(&ml_access(&crm));
    (crm, client, id)
}

#[test]
fn mailerlite_loads_a_subscriber_with_groups_as_tags() {
    let (crm, client, id) = ml_with_subscriber();
    assert_eq!(id, 31_986_843_064_993_537);
    let contact = client.load_contact("31986843064993537").unwrap();
    assert_eq!(contact.id, "31986843064993537");
    assert_eq!(contact.email.as_deref(), Some("dummy@example.com"));
    assert_eq!(contact.fields["name"], json!("Dummy"));
    assert_eq!(contact.fields["last_name"], json!("Testerson"));
    assert_eq!(contact.fields["email"], json!("dummy@example.com"));
    assert_eq!(contact.fields["city"], Value::Null);
    assert_eq!(contact.tags, vec!["Customers", "Newsletter"]);

    let request = only_request(&crm);
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        "/mailerlite/api/subscribers/31986843064993537"
    );
    assert_eq!(
        request.header("authorization"),
        Some("Bearer mailerlite-token")
    );
    assert_eq!(request.header("accept"), Some("application/json"));
}

#[test]
fn mailerlite_writes_fields_with_put_and_finds_by_email() {
    let (crm, client, id) = ml_with_subscriber();
    client
        .update_contact(
            &id.to_string(),
            &object(json!({"wp_password": "S3cret pw"})),
        )
        .unwrap();
    let write = only_request(&crm);
    assert_eq!(write.method, "PUT");
    assert_eq!(write.path, format!("/mailerlite/api/subscribers/{id}"));
    assert_eq!(
        write.body_json().unwrap(),
        json!({"fields": {"wp_password": "S3cret pw"}})
    );
    let fields = crm.contact_fields(CrmApi::MailerLite, id).unwrap();
    assert_eq!(fields["wp_password"], json!("S3cret pw"));
    assert_eq!(fields["name"], json!("Dummy"), "other fields are kept");

    crm.clear_requests();
    assert_eq!(
        client
            .find_contact_id("Dummy@Example.com")
            .unwrap()
            .as_deref(),
        Some("31986843064993537")
    );
    assert_eq!(
        only_request(&crm).path,
        "/mailerlite/api/subscribers/Dummy%40Example.com"
    );
    assert_eq!(client.find_contact_id("nobody@example.com").unwrap(), None);
    crm.add_mailerlite_subscriber(json!({"id": "5", "email": "ann+shop@example.com"}));
    assert_eq!(
        client
            .find_contact_id("ann+shop@example.com")
            .unwrap()
            .as_deref(),
        Some("5")
    );
    // An answer for another email (a proxy, a fuzzy match) is no match.
    crm.respond_next(
        200,
        r#"{"data": {"id": "9", "email": "other@example.com"}}"#,
        1,
    );
    assert_eq!(client.find_contact_id("ann@example.com").unwrap(), None);
    client.test_connection().unwrap();
    assert_eq!(
        crm.requests()
            .pop()
            .unwrap()
            .query_param("limit")
            .as_deref(),
        Some("1")
    );
}

#[test]
fn mailerlite_failures_map_to_codes_without_secrets() {
    let (crm, client, id) = ml_with_subscriber();
    let id = id.to_string();

    let wrong = MailerLiteClient::new(&ApiAccess::new(
        Some(crm.mailerlite_url()),
        Secret::new("wrong-token-456"),
        TIMEOUT,
    ));
    let error = wrong.load_contact(&id).unwrap_err();
    assert_eq!(
        error,
        Error::CrmAuth {
            crm: "MailerLite",
            status: 401
        }
    );
    assert_no_secrets(&error, &["wrong-token-456", ML_TOKEN]);

    for bad in ["1", "abc", "1/../2", ""] {
        assert_eq!(
            client.load_contact(bad).unwrap_err().code(),
            "crm_contact_not_found",
            "{bad:?}"
        );
    }
    assert_eq!(
        client
            .update_contact("1", &object(json!({"x": "y"})))
            .unwrap_err()
            .code(),
        "crm_contact_not_found"
    );

    crm.fail_next(429, 1);
    assert_eq!(
        client.load_contact(&id).unwrap_err(),
        Error::CrmRateLimited {
            crm: "MailerLite",
            retry_after: Some(60)
        }
    );
    crm.fail_next_retry_after(503, "30", 1);
    assert_eq!(
        client.load_contact(&id).unwrap_err(),
        Error::CrmUnavailable {
            crm: "MailerLite",
            detail: "HTTP 503: Scripted failure".to_string(),
            retry_after: Some(30)
        }
    );
    // The fake's own validation error, with MailerLite's message.
    let error = client
        .update_contact(
            &id,
            &object(json!({"wp_password": {"nested": "N0t-Allowed-77"}})),
        )
        .unwrap_err();
    assert_eq!(error.code(), "crm_rejected");
    assert!(
        error.to_string().contains("The given data was invalid"),
        "{error}"
    );
    assert_no_secrets(&error, &["N0t-Allowed-77"]);
    crm.respond_next(
        422,
        r#"{"message": "The value G3nerated-Secret! is too long.", "errors": {}}"#,
        1,
    );
    let error = client
        .update_contact(&id, &object(json!({"wp_password": "G3nerated-Secret!"})))
        .unwrap_err();
    assert!(
        error.to_string().contains("The value *** is too long"),
        "{error}"
    );
    assert_no_secrets(&error, &["G3nerated-Secret!"]);

    crm.respond_next(200, "<!DOCTYPE html><html>MailerLite</html>", 1);
    let error = client.load_contact(&id).unwrap_err();
    assert_eq!(error.code(), "crm_bad_response");
    assert!(error.to_string().contains("mailerlite_url"), "{error}");
    crm.respond_next(200, r#"{"data": []}"#, 1);
    assert_eq!(
        client.load_contact(&id).unwrap_err().code(),
        "crm_bad_response"
    );
    let huge = format!(
        "{{\"data\": {{\"pad\": \"{}\"}}}}",
        "x".repeat(5 * 1024 * 1024)
    );
    crm.respond_next(200, &huge, 1);
    assert!(client
        .load_contact(&id)
        .unwrap_err()
        .to_string()
        .contains("4 MiB"));

    crm.delay_next(Duration::from_secs(2), 1);
    let started = Instant::now();
    assert_eq!(
        client.load_contact(&id).unwrap_err().code(),
        "crm_unavailable"
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(client.load_contact(&id).unwrap().id, id);
}

#[test]
fn mailerlite_missing_token_and_unreachable_address() {
    let crm = FakeCrm::start();
    match MailerLiteClient::new(&ApiAccess::new(None, Secret::default(), TIMEOUT))
        .load_contact("1")
        .unwrap_err()
    {
        Error::InvalidSetting { key, .. } => assert_eq!(key, "mailerlite_api_token"),
        other => panic!("{other:?}"),
    }
    let refused = refused_url();
    let error = MailerLiteClient::new(&ApiAccess::new(
        Some(refused.clone()),
        Secret::new("t-o-k-e-n-1"),
        TIMEOUT,
    ))
    .find_contact_id("a@b.co")
    .unwrap_err();
    assert_eq!(error.code(), "crm_unavailable");
    assert_no_secrets(&error, &[&refused, "t-o-k-e-n-1"]);
    assert!(crm.requests().is_empty());
}

#[test]
fn preset_client_failures_have_the_retry_classes_the_queue_needs() {
    // Every CRM failure is worth a later retry (a site owner can fix credentials, the CRM can
    // come back); the CRM's Retry-After sets when, and only 429 and 5xx carry one.
    let (ac, ac_client) = ac_with_contact();
    let (ml, ml_client, id) = ml_with_subscriber();
    let id = id.to_string();
    let later = |after: Option<u64>| Retry::Later {
        after: after.map(Duration::from_secs),
    };
    let cases: [(&FakeCrm, &dyn Crm, &str); 2] =
        [(&ac, &ac_client, "5"), (&ml, &ml_client, id.as_str())];
    for (crm, client, id) in cases {
        let kind = client.kind();
        let failure = |status: u16, retry_after: Option<&str>| {
            match retry_after {
                Some(value) => crm.fail_next_retry_after(status, value, 1),
                None => crm.fail_next(status, 1),
            }
            let error = client.load_contact(id).unwrap_err();
            (error.code(), error.retry())
        };
        assert_eq!(
            failure(429, None),
            ("crm_rate_limited", later(Some(60))),
            "{kind:?}"
        );
        assert_eq!(failure(502, Some("7")), ("crm_unavailable", later(Some(7))));
        assert_eq!(failure(500, None), ("crm_unavailable", later(None)));
        assert_eq!(failure(401, Some("7")), ("crm_auth_failed", later(None)));
        assert_eq!(failure(403, None), ("crm_auth_failed", later(None)));
        assert_eq!(failure(400, None), ("crm_rejected", later(None)));
        crm.delay_next(Duration::from_secs(2), 1);
        assert_eq!(
            client.load_contact(id).unwrap_err().retry(),
            later(None),
            "a timeout"
        );
        let missing = client.load_contact("404").unwrap_err();
        assert_eq!(
            (missing.code(), missing.retry()),
            ("crm_contact_not_found", later(None))
        );
    }
}
