<?php

// Stubs for wpf_bridge

namespace WpfBridge {
    /**
     * A webhook `wpf_bridge_handle_request()` left for when the whole site is loaded, holding
     * the request and settings it read and validated; PHP cannot create one.
     */
    class PendingWebhook {
        public function __construct() {}

        /**
         * Handles the webhook now, as `wpf_bridge_handle_request()` would with the site loaded:
         * the same answer array, the settings not read again.
         *
         * @param object $site
         * @param object $queue
         * @return array
         */
        public function handle(object $site, object $queue): array {}
    }
}

namespace {
    /**
     * The capabilities that make a role administrative: a webhook never gives a role holding
     * one unless the site owner allows it, and never changes a user holding one.
     *
     * @return array
     */
    function wpf_bridge_admin_capabilities(): array {}

    /**
     * Checks that the configured CRM's API is reachable and accepts the credentials.
     * Returns `['ok' => bool, 'message' => string]`; a bad setting throws.
     *
     * @param array $settings
     * @return array
     */
    function wpf_bridge_crm_test_connection(array $settings): array {}

    /**
     * Applies the queue's due events, one contact at a time (lock, claim, coalesce, one apply,
     * settle), until none is due, `$max_contacts` contacts were taken or `$budget_seconds` are
     * spent. `$settings` is the settings array, or a callable returning it: then it is called
     * before each contact, so a change saved during a long drain applies to the next contact,
     * and its `null` stops the drain before the next contact (a worker asked to stop).
     * Returns the drain's report: `contacts`, `applies`, `done`, `retrying`, `failed`, `busy`.
     * Bad settings throw `WpfBridge\ConfigurationException`; a failing adapter or settings
     * callable stops the drain and throws (the events it held are claimed again after their
     * lease).
     *
     * @param mixed $settings
     * @param object $site
     * @param object $queue
     * @param int $max_contacts
     * @param int $budget_seconds
     * @return array
     */
    function wpf_bridge_drain(mixed $settings, object $site, object $queue, int $max_contacts, int $budget_seconds): array {}

    /**
     * A new access key: 192 bits from the OS random source, URL-safe characters only.
     *
     * @return string
     */
    function wpf_bridge_generate_access_key(): string {}

    /**
     * A password from a CSPRNG: letters and digits, plus WordPress's special characters when
     * `$special_chars`. Lengths outside 12..=128 throw `WpfBridge\ConfigurationException`.
     *
     * @param int $length
     * @param bool $special_chars
     * @return string
     */
    function wpf_bridge_generate_password(int $length = 20, bool $special_chars = false): string {}

    /**
     * The queued flow: authenticates and parses as `wpf_bridge_handle_webhook`, stores every
     * contact event in one write through the `$queue` adapter, then answers at once (`queued`
     * with the events' ids; the drain applies them later) or, in immediate processing, applies
     * them now through `$site`. `$can_answer_early` says whether the server can end the answer
     * before the apply (`fastcgi_finish_request`); without it every webhook is applied now.
     * Same `['status', 'body', 'log']` shape (and `retry_after`), `log` null when the events
     * were stored (their queue rows are the record); a refused request stores nothing (a queue
     * at its caps is 503 `queue_full` with `retry_after`), and a failing adapter is answered with
     * its error, not thrown.
     *
     * @param array $request
     * @param array $settings
     * @param object $site
     * @param object $queue
     * @param bool $can_answer_early
     * @return array
     */
    function wpf_bridge_handle_queued(array $request, array $settings, object $site, object $queue, bool $can_answer_early = true): array {}

    /**
     * The plugin's one call for a webhook request: the queued flow of `wpf_bridge_handle_queued`
     * (same arguments, same answer array, plus `processing`: `background` or `immediate` when
     * the events were stored), with the request and settings read and validated once.
     *
     * `$site_loaded` false says only the options and the database are loaded yet (the plugin's
     * must-use loader): a webhook to be applied in the request (immediate processing,
     * `test`; see `wpf_bridge_planned_processing`) is then not handled but returned as a
     * `WpfBridge\PendingWebhook`, whose `handle($site, $queue)` the plugin calls once the whole
     * site is loaded (`init`). Everything else (background processing, refusals, unreadable
     * request or settings) is answered at once.
     *
     * @param array $request
     * @param array $settings
     * @param object $site
     * @param object $queue
     * @param bool $can_answer_early
     * @param bool $site_loaded
     * @return mixed
     */
    function wpf_bridge_handle_request(array $request, array $settings, object $site, object $queue, bool $can_answer_early = true, bool $site_loaded = true): mixed {}

    /**
     * Handles one webhook end to end: authenticates, parses, applies every event through the
     * `$site` adapter and returns `['status' => int, 'body' => array, 'log' => array]`: the
     * answer for the plugin to send and the record for its log (`action`, `crm`, `contact_ids`,
     * `user_ids`, `outcome`, `refused`, `details`), plus `retry_after` (seconds, for the
     * `Retry-After` header) when the error says when to try again. Bad requests and bad settings
     * are answered (4xx/5xx with a code), not thrown.
     *
     * @param array $request
     * @param array $settings
     * @param object $site
     * @return array
     */
    function wpf_bridge_handle_webhook(array $request, array $settings, object $site): array {}

    /**
     * argon2id hash in PHP's format and cost (m=65536, t=4, p=1): `password_verify()` accepts it.
     *
     * @param string $password
     * @return string
     */
    function wpf_bridge_hash_password(string $password): string {}

    /**
     * Loads a contact from the configured CRM: `['id', 'email', 'fields', 'tags']`.
     * Throws on any failure.
     *
     * @param array $settings
     * @param string $contact_id
     * @return array
     */
    function wpf_bridge_load_contact(array $settings, string $contact_id): array {}

    /**
     * Parses a CRM webhook request into its action, options and contact events.
     *
     * `$crm` is a CRM slug (`mautic`, `userengage`), a preset's slug (`activecampaign`,
     * `mailerlite`, `drip`, `convertkit`, `highlevel`: see `wpf_bridge_presets()`) or a mapping
     * array (validated first: a bad one throws `WpfBridge\ConfigurationException` naming the
     * field by its JSON Pointer, code `invalid_mapping`). `$request` holds `method`, `query`,
     * `post`, `headers` (names matched case-insensitively) and `body` (the raw body); any key
     * may be missing. Returns `['action', 'crm', 'options', 'events']`, each event with
     * `contact_id` a string; through a preset or mapping also `ignored` (the items not applied:
     * `item`, `code`, `message`) and `signed` (a mapping with a `signature.secret` verified the
     * body). Throws `WpfBridge\InvalidPayloadException` for bad input and
     * `WpfBridge\AuthenticationException` for a refused signature.
     *
     * @param mixed $crm
     * @param array $request
     * @return array
     */
    function wpf_bridge_parse_webhook(mixed $crm, array $request): array {}

    /**
     * `'background'` or `'immediate'`: how `wpf_bridge_handle_queued` will process this request,
     * known before it is authenticated (the URL's `async` flag, the `processing` setting, whether
     * the server can answer early; `test` is immediate; a request it will refuse is background,
     * refused at once). The plugin's must-use loader answers background webhooks before the rest
     * of WordPress loads and leaves the others for `init`. Unreadable settings are `background`
     * too: `wpf_bridge_handle_queued` refuses them.
     *
     * @param array $request
     * @param array $settings
     * @param bool $can_answer_early
     * @return string
     */
    function wpf_bridge_planned_processing(array $request, array $settings, bool $can_answer_early): string {}

    /**
     * The presets: slug => `name`, `mapping` (the mapping array `wpf_bridge_parse_webhook()`
     * accepts; add `signature.secret` to use a signed one), `contact_id_meta_key` and
     * `tags_meta_key` (WP Fusion's user meta), `signature_header` (null when the CRM signs
     * nothing), `complete` (false: the payload is an id, the rest comes from the CRM's API) and
     * `api_client` (whether the extension can load its contacts; none of the presets yet).
     *
     * @return array
     */
    function wpf_bridge_presets(): array {}

    /**
     * Whether the queue has room for one more webhook under the caps of `$settings`
     * (`max_waiting_events`, `max_waiting_bytes`), given `$events` waiting events of `$bytes`
     * bytes: `null` when it has, else the `queue_full` sentence a webhook gets (Site Health turns
     * critical with it). Bad settings throw `WpfBridge\ConfigurationException`.
     *
     * @param array $settings
     * @param int $events
     * @param int $bytes
     * @return string|null
     */
    function wpf_bridge_queue_room(array $settings, int $events, int $bytes): ?string {}

    /**
     * The rules the plugin needs to show and store settings, so it keeps no copy of its own:
     * `crms` (slug => `name`, `url_setting`, `url_example`, `contact_id_meta_key`,
     * `tags_meta_key`), `username_formats` (value => label), `core_user_fields` (the fields
     * `wp_insert_user` takes; any other mapped name is a user meta key), `protected_meta_keys`
     * (`keys`, `suffixes`, `prefixes` a field map may never name, besides each CRM's link and
     * tag keys), `settings` (every key the extension reads => its default; optional text is
     * `''`), `processing_modes` (value => what the mode does) and `queue`: `states` (name =>
     * label), `retry_states` and `discard_states` (what an administrator's Retry and Discard may
     * touch), `waiting_states`, `stale_after_seconds` (a waiting event older than this is a Site
     * Health problem), `keep_done_at_most` (the cap on done events), `prune_states` (the states
     * retention deletes by age), `load_max_age_seconds` (how old the queue's waiting totals may
     * be) and `cut_contact_id` (`code`, `message`: what the schema upgrade fails rows whose
     * contact id the database cut with).
     *
     * @return array
     */
    function wpf_bridge_rules(): array {}

    /**
     * Validates a settings array and returns it normalised; throws
     * `WpfBridge\ConfigurationException` naming the first wrong key.
     *
     * @param array $settings
     * @return array
     */
    function wpf_bridge_validate_settings(array $settings): array {}

    /**
     * Compares an access key in constant time. An empty expected key never matches.
     *
     * @param string $given
     * @param string $expected
     * @return bool
     */
    function wpf_bridge_verify_access_key(string $given, string $expected): bool {}

    /**
     * Verifies a password against a PHP argon2id or argon2i hash; any other format is false.
     *
     * @param string $password
     * @param string $hash
     * @return bool
     */
    function wpf_bridge_verify_password(string $password, string $hash): bool {}

    /**
     * Verifies a CRM's webhook signature over the raw body, in constant time: Mautic's
     * `Webhook-Signature` (base64 HMAC-SHA256), or a preset's signature over the body alone
     * (MailerLite's `Signature`: hex HMAC-SHA256). False for a CRM or preset that signs nothing
     * and for an empty secret. Throws for an unknown slug.
     *
     * @param string $crm
     * @param string $raw_body
     * @param string $signature
     * @param string $secret
     * @return bool
     */
    function wpf_bridge_verify_signature(string $crm, string $raw_body, string $signature, string $secret): bool {}

    /**
     * Returns the extension's version, e.g. "0.1.0".
     *
     * @return string
     */
    function wpf_bridge_version(): string {}
}

namespace WpfBridge {
    /**
     * Base class of every exception wpf-bridge throws. getCode() is the stable integer code, $errorCode the stable string code (e.g. "invalid_json").
     */
    class Exception extends \Exception {
        /** @var string */
        public $errorCode = '';
    }

    /**
     * The request or its payload is unusable: bad JSON, a missing or unknown action, no contact id, a body over the size limit, an unknown CRM.
     */
    class InvalidPayloadException extends \WpfBridge\Exception {
    }

    /**
     * A wrong or missing access key or webhook signature.
     */
    class AuthenticationException extends \WpfBridge\Exception {
    }

    /**
     * A setting or an argument is wrong; the message names it.
     */
    class ConfigurationException extends \WpfBridge\Exception {
    }

    /**
     * The CRM's API failed, refused our credentials or does not know the contact.
     */
    class CrmException extends \WpfBridge\Exception {
    }

    /**
     * WordPress (the site adapter) failed.
     */
    class SiteException extends \WpfBridge\Exception {
    }
}
