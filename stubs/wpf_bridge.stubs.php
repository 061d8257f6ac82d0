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
         * the same answer array, the settings not read again. Once: a second call throws
         * `WpfBridge\ConfigurationException` (`invalid_argument`) and stores nothing.
         *
         * @param \WpfBridge\Site $site
         * @param \WpfBridge\Queue $queue
         * @return array
         */
        public function handle(\WpfBridge\Site $site, \WpfBridge\Queue $queue): array {}
    }

    /**
     * The `Queue` port (`crate::queue::port`): the durable queue's storage. It decides nothing
     * and guarantees: one durable write per `store()`; one waiting copy per delivery key (a key
     * held by a row waiting unclaimed answers that row's id); a row is due when pending or
     * retrying with `due_at <= now()`, or claimed with `lease_until <= now()`; `claim()` takes a
     * contact's oldest due rows atomically under the token for the lease (attempts + 1; a dead
     * claim counted for a row taken from an expired lease; the delivery key freed); `event_data()`,
     * `complete()`, `retry()` and `fail()` act only on rows still claimed under the caller's token;
     * nothing is deleted; `now()` is the one clock. Failures throw.
     */
    interface Queue {
        /**
         * Claims the oldest due rows of one contact, at most `$max_rows`, under `$token` for
         * `$lease_seconds`: rows of `id`, `attempts`, `dead_claims`, `head`.
         *
         * @param string $crm
         * @param string $contact_id
         * @param string $token
         * @param int $lease_seconds
         * @param int $max_rows
         * @return array
         */
        public function claim(string $crm, string $contact_id, string $token, int $lease_seconds, int $max_rows): array;

        /**
         * Marks rows claimed under `$token` done with the apply's result (`outcome`, `user_id`).
         *
         * @param string $token
         * @param array $ids
         * @param array $result
         * @return void
         */
        public function complete(string $token, array $ids, array $result): void;

        /**
         * How many rows are in `$state`.
         *
         * @param string $state
         * @return int
         */
        public function count(string $state): int;

        /**
         * Contacts (`crm`, `contact_id`) with a due row, the longest waiting first, at most `$limit`.
         *
         * @param int $limit
         * @return array
         */
        public function due_contacts(int $limit): array;

        /**
         * The data of one row claimed under `$token`; throws when it is not so claimed.
         *
         * @param string $token
         * @param int $id
         * @return string
         */
        public function event_data(string $token, int $id): string;

        /**
         * Marks rows claimed under `$token` failed with the error.
         *
         * @param string $token
         * @param array $ids
         * @param string $code
         * @param string $message
         * @return void
         */
        public function fail(string $token, array $ids, string $code, string $message): void;

        /**
         * Rows, newest first, optionally of one state and one contact, at most `$limit` (never
         * their data).
         *
         * @param string|null $state
         * @param string|null $contact_id
         * @param int $limit
         * @return array
         */
        public function list(?string $state = null, ?string $contact_id = null, int $limit): array;

        /**
         * The queue's clock, in Unix seconds.
         *
         * @return int
         */
        public function now(): int;

        /**
         * Releases rows claimed under `$token` to be tried again at `$at`, keeping the error.
         *
         * @param string $token
         * @param array $ids
         * @param int $at
         * @param string $code
         * @param string $message
         * @return void
         */
        public function retry(string $token, array $ids, int $at, string $code, string $message): void;

        /**
         * Stores rows (`crm`, `contact_id`, `data`, `head`, `delivery_key`) in one durable write,
         * due now; returns their ids in the same order.
         *
         * @param array $rows
         * @return array
         */
        public function store(array $rows): array;

        /**
         * `['events' => int, 'bytes' => int]` of the waiting rows, at most `$max_age` seconds old.
         *
         * @param int $max_age
         * @return array
         */
        public function waiting_load(int $max_age): array;

        /**
         * The waiting rows of each contact id of `$crm`, in the same order.
         *
         * @param string $crm
         * @param array $contact_ids
         * @return array
         */
        public function waiting_per_contact(string $crm, array $contact_ids): array;
    }

    /**
     * The `Site` port (`crate::site::Site`): everything the apply step needs from WordPress. User
     * ids are ints; `user()` returns `login`, `email`, `roles`, `capabilities`, `super_admin`, or
     * null; `create_user()` takes `login`, `email`, `password`, `role`, `core`, `meta`;
     * `roles()` lists `slug`, `name`, `capabilities`. A method that cannot do its work throws.
     */
    interface Site {
        /**
         * Opens one apply's unit of work (a database transaction): its writes are committed
         * together by `commit_writes`.
         *
         * @return void
         */
        public function begin_writes(): void;

        /**
         * Commits the unit: true when committed; false, after rolling it back, when the database
         * ended it early but the connection and its locks are intact (a deadlock, a lock wait
         * timeout: the apply is run again); throws, after rolling it back, on anything else (a
         * lost connection).
         *
         * @return bool
         */
        public function commit_writes(): bool;

        /**
         * Creates a user (`wp_insert_user`, its meta in the same call) and returns its id.
         *
         * @param array $user
         * @return int
         */
        public function create_user(array $user): int;

        /**
         * The default role of new users.
         *
         * @return string
         */
        public function default_role(): string;

        /**
         * Deletes one user meta key.
         *
         * @param int $id
         * @param string $key
         * @return void
         */
        public function delete_user_meta(int $id, string $key): void;

        /**
         * Fires a WordPress action hook with these arguments.
         *
         * @param string $hook
         * @param array $args
         * @return void
         */
        public function do_action(string $hook, array $args): void;

        /**
         * The user with this email (case-insensitive, as WordPress compares), or null.
         *
         * @param string $email
         * @return int|null
         */
        public function find_user_by_email(string $email): ?int;

        /**
         * The lowest user id whose meta `$key` equals `$value`, or null.
         *
         * @param string $key
         * @param string $value
         * @return int|null
         */
        public function find_user_by_meta(string $key, string $value): ?int;

        /**
         * Takes a named lock, waiting up to `$timeout` seconds; false when it could not be had.
         *
         * @param string $name
         * @param int $timeout
         * @return bool
         */
        public function lock(string $name, int $timeout): bool;

        /**
         * Writes a log line (`info`, `notice`, `error`); never given a secret.
         *
         * @param string $level
         * @param string $message
         * @return void
         */
        public function log(string $level, string $message): void;

        /**
         * Whether a user has this login.
         *
         * @param string $login
         * @return bool
         */
        public function login_exists(string $login): bool;

        /**
         * A hint before a drain's round: the users linked to these values of meta `$key` may be
         * looked up at once; each later `find_user_by_meta()` answer from it is checked against
         * the user's current meta.
         *
         * @param string $key
         * @param array $values
         * @return void
         */
        public function prime_contact_links(string $key, array $values): void;

        /**
         * Every registered role.
         *
         * @return array
         */
        public function roles(): array;

        /**
         * Sends WordPress's new-user email.
         *
         * @param int $id
         * @return void
         */
        public function send_new_user_notification(int $id): void;

        /**
         * Replaces the user's roles with this one.
         *
         * @param int $id
         * @param string $role
         * @return void
         */
        public function set_role(int $id, string $role): void;

        /**
         * Releases a named lock taken by `lock()`.
         *
         * @param string $name
         * @return void
         */
        public function unlock(string $name): void;

        /**
         * Updates core user fields (`wp_update_user`).
         *
         * @param int $id
         * @param array $core
         * @return void
         */
        public function update_user(int $id, array $core): void;

        /**
         * Writes one user meta value.
         *
         * @param int $id
         * @param string $key
         * @param mixed $value
         * @return void
         */
        public function update_user_meta(int $id, string $key, mixed $value): void;

        /**
         * The user, or null when it does not exist.
         *
         * @param int $id
         * @return array|null
         */
        public function user(int $id): ?array;

        /**
         * One user meta value, or null when absent.
         *
         * @param int $id
         * @param string $key
         * @return mixed
         */
        public function user_meta(int $id, string $key): mixed;
    }
}

namespace {
    /**
     * wpf_bridge_rules() as JSON text: the plugin reads the rules from it without a call.
     */
    const WPF_BRIDGE_RULES_JSON = '{"crms":{"mautic":{"name":"Mautic","url_setting":"mautic_url","url_example":"https://mautic.example.com","contact_id_meta_key":"mautic_contact_id","tags_meta_key":"mautic_tags"},"userengage":{"name":"User.com","url_setting":"userengage_url","url_example":"https://YOURAPP.user.com/api/public/","contact_id_meta_key":"userengage_contact_id","tags_meta_key":"userengage_tags"}},"source_meta_keys":{"contact_id":"{slug}_contact_id","tags":"{slug}_tags"},"username_formats":{"email":"Email address","flname":"First and last name (firstlast)","fnamenum":"First name and a number (first123)"},"core_user_fields":["user_login","user_pass","user_email","first_name","last_name","display_name","nickname","user_url","description"],"protected_meta_keys":{"keys":["session_tokens","_application_passwords","_new_email","default_password_nag","primary_blog","source_domain"],"suffixes":["capabilities","user_level"],"prefixes":["wpf_bridge_","_two_factor","wfls_"]},"settings":{"access_key":"","crm":"mautic","mautic_url":"","mautic_username":"","mautic_password":"","mautic_token":"","userengage_url":"","userengage_api_key":"","webhook_secret":"","field_map":{},"return_password":false,"return_password_field":"","default_role":"","allowed_roles":[],"send_welcome_email":false,"username_format":"email","max_body_bytes":1048576,"crm_timeout":8,"max_events":100,"time_budget":20,"processing":"background","retry_delays":[30,120,600,3600,21600,86400],"claim_timeout":300,"keep_done_days":30,"max_waiting_events":100000,"max_waiting_bytes":536870912,"max_waiting_per_contact":1000,"sources":[]},"source_settings":{"mapping":"","name":"","access_key":"","webhook_secret":"","api_url":"","api_key":"","field_map":{},"return_password":false,"return_password_field":""},"ranges":{"max_body_bytes":{"min":1024,"max":67108864,"default":1048576,"unit":"bytes"},"crm_timeout":{"min":1,"max":60,"default":8,"unit":"seconds"},"max_events":{"min":1,"max":10000,"default":100,"unit":""},"time_budget":{"min":1,"max":300,"default":20,"unit":"seconds"},"claim_timeout":{"min":30,"max":86400,"default":300,"unit":"seconds"},"keep_done_days":{"min":1,"max":3650,"default":30,"unit":"days"},"max_waiting_events":{"min":1,"max":100000000,"default":100000,"unit":""},"max_waiting_bytes":{"min":1048576,"max":1099511627776,"default":536870912,"unit":"bytes"},"max_waiting_per_contact":{"min":1,"max":100000000,"default":1000,"unit":""}},"retry_delays":{"most":20,"min":1,"max":604800},"bidi_controls":[[1564,1564],[8206,8207],[8234,8238],[8294,8297]],"processing_modes":{"background":"Background: store the webhook, answer the CRM at once, apply it right after the answer (and retry it later if it fails). The CRM never waits for WordPress or for its own API.","immediate":"Immediate: store the webhook, apply it in the CRM\'s request and answer with the results. The CRM waits for the apply; a failure that a retry can fix is still retried by the site."},"queue":{"states":{"pending":"Pending","claimed":"In progress","retrying":"Retrying","done":"Done","failed":"Failed"},"retry_states":["retrying","failed"],"discard_states":["pending","retrying","failed"],"waiting_states":["pending","claimed","retrying"],"stale_after_seconds":900,"keep_done_at_most":100000,"prune_states":["done","failed"],"load_max_age_seconds":5,"cut_contact_id":{"code":"contact_id_too_long","message":"The contact id of this event was longer than the queue\'s column (255 bytes) and the database cut it, so it could never be applied. Contact ids over 64 bytes are now refused when the webhook arrives (contact_id_too_long). Discard the event; if the contact is real, have the CRM send it again with its real id."}},"worker":{"max_contacts":1000,"round_pause_seconds":1.0,"handover_token_seconds":60,"run_budget_seconds":60},"resident":{"bounds":{"max-contacts":10000,"max-memory":256,"max-seconds":3600,"idle-sleep":1},"round_seconds":10,"heartbeat_every_seconds":5,"heartbeat_stale_seconds":30,"restart_within_seconds":60},"refusals":{"bucket_seconds":60,"max_buckets":20000}}';

    /**
     * The capabilities that make a role administrative: a webhook never gives a role holding
     * one unless the site owner allows it, and never changes a user holding one.
     *
     * @return array
     */
    function wpf_bridge_admin_capabilities(): array {}

    /**
     * Checks that a CRM's API is reachable and accepts the credentials: the first source's, or
     * with `$source` (a further source's slug: its preset's, or its own mapping's) that
     * source's. Returns `['ok' => bool, 'message' => string]`; a bad setting, or a source the
     * settings do not have, throws.
     *
     * @param array $settings
     * @param string|null $source
     * @return array
     */
    function wpf_bridge_crm_test_connection(array $settings, ?string $source = null): array {}

    /**
     * Applies the queue's due events, one contact at a time (lock, claim, coalesce, one apply,
     * settle), until none is due, `$max_contacts` contacts were taken or `$budget_seconds` are
     * spent. `$settings` is the settings array, or a callable returning it: then it is called
     * before each contact, so a change saved during a long drain applies to the next contact,
     * and its `null` stops the drain before the next contact (a worker asked to stop).
     * Returns the drain's report: `contacts`, `applies`, `done`, `retrying`, `failed`, `busy`, and
     * `adapter_calls` (calls from the extension into PHP: adapter methods and the settings callable).
     * Bad settings throw `WpfBridge\ConfigurationException`; a failing adapter or settings
     * callable stops the drain and throws (the events it held are claimed again after their
     * lease).
     *
     * @param mixed $settings
     * @param \WpfBridge\Site $site
     * @param \WpfBridge\Queue $queue
     * @param int $max_contacts
     * @param int $budget_seconds
     * @return array
     */
    function wpf_bridge_drain(mixed $settings, \WpfBridge\Site $site, \WpfBridge\Queue $queue, int $max_contacts, int $budget_seconds): array {}

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
     * @param \WpfBridge\Site $site
     * @param \WpfBridge\Queue $queue
     * @param bool $can_answer_early
     * @return array
     */
    function wpf_bridge_handle_queued(array $request, array $settings, \WpfBridge\Site $site, \WpfBridge\Queue $queue, bool $can_answer_early = true): array {}

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
     * @param \WpfBridge\Site $site
     * @param \WpfBridge\Queue $queue
     * @param bool $can_answer_early
     * @param bool $site_loaded
     * @return mixed
     */
    function wpf_bridge_handle_request(array $request, array $settings, \WpfBridge\Site $site, \WpfBridge\Queue $queue, bool $can_answer_early = true, bool $site_loaded = true): mixed {}

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
     * @param \WpfBridge\Site $site
     * @return array
     */
    function wpf_bridge_handle_webhook(array $request, array $settings, \WpfBridge\Site $site): array {}

    /**
     * argon2id hash in PHP's format and cost (m=65536, t=4, p=1): `password_verify()` accepts it.
     *
     * @param string $password
     * @return string
     */
    function wpf_bridge_hash_password(string $password): string {}

    /**
     * Loads a contact from the first source's CRM, or with `$source` from that further source's:
     * `['id', 'email', 'fields', 'tags']`. Throws on any failure.
     *
     * @param array $settings
     * @param string $contact_id
     * @param string|null $source
     * @return array
     */
    function wpf_bridge_load_contact(array $settings, string $contact_id, ?string $source = null): array {}

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
     * `api_client` (whether the extension can load its contacts: ActiveCampaign and MailerLite).
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
     * contact id the database cut with); `worker` (how a drain is bounded: `max_contacts`,
     * `round_pause_seconds` between a draining request's rounds, `handover_token_seconds`, and
     * the command line's `run_budget_seconds`), `resident` (`run --loop`: its default `bounds` by
     * option name, `round_seconds`, `heartbeat_every_seconds`, `heartbeat_stale_seconds`,
     * `restart_within_seconds`) and `refusals` (the refusal counters: `bucket_seconds`,
     * `max_buckets`).
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
