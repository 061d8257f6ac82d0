<?php
/**
 * The webhook endpoint: `/?wpf_action=...&access_key=...` (WP Fusion's URL contract).
 *
 * One call into the extension per webhook (wpf_bridge_handle_request), at one of two moments:
 * - accept_early(), when this plugin's file is loaded: by the must-use loader
 *   (WPF_Bridge_Loader) before the other plugins and the theme, or else with the plugins. The
 *   extension reads the request and settings once and answers there, with only the options
 *   and $wpdb loaded, every webhook it processes in the background (and every request it
 *   refuses); after the answer has left (fastcgi_finish_request), the one request that takes
 *   the drain lease lets WordPress finish loading and drains the queue on wp_loaded
 *   (WPF_Bridge_Worker); every other request ends. A webhook to be applied in the request
 *   (immediate processing: the setting, `async=false`, or a server that cannot end the answer
 *   early, e.g. mod_php; and `test`) comes back as a WpfBridge\PendingWebhook.
 * - maybe_handle(), on init, with everything an apply needs loaded: handles that pending
 *   webhook (its settings are not read again), or, when accept_early() could not ask (a
 *   missing extension, a schema the installer has yet to upgrade on plugins_loaded), makes
 *   the one call then.
 * Before that call nothing asks the extension anything: its version is PHP's own
 * phpversion('wpf_bridge'), and the settings (WPF_Bridge_Settings::for_extension()) are
 * completed from the rules the extension publishes as a constant; it validates them once.
 * It decides nothing about the webhook: authentication, parsing, processing, every outcome,
 * the answer and the log record (its action label included) belong to the extension.
 * Requests that stored their events leave no log row (their queue rows are the record) but
 * the record of the items their source's mapping did not read; the others leave the
 * extension's record.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Carries a webhook request to the extension and its response back.
 */
final class WPF_Bridge_Endpoint {

	/**
	 * The most body bytes read from php://input. Well above the extension's own limit (1 MiB by
	 * default), so an oversized body still reaches it and gets its clear "body_too_large" answer.
	 */
	private const BODY_READ_MAX = 16 * 1024 * 1024;

	/** Request headers never passed on: the extension has no use for the browser's cookies. */
	private const DROPPED_HEADERS = array( 'cookie' );

	/** The request as the extension takes it, read once (see request()). */
	private static ?array $request = null;

	/** The webhook the extension left for init (a WpfBridge\PendingWebhook), if it left one. */
	private static ?object $pending = null;

	/** Whether this request's webhook has been answered. */
	private static bool $answered = false;

	/**
	 * When the plugin file loads: hands the webhook to the extension, which answers it now
	 * (background processing, refusals) or leaves it for init (applied in the request).
	 */
	public static function accept_early(): void {
		if ( self::$answered || null !== self::$pending || ! self::is_webhook() ) {
			return;
		}
		// Without a usable extension, or before plugins_loaded has upgraded the tables, init answers.
		if ( ! WPF_Bridge_Extension::usable() || ! WPF_Bridge_Installer::is_current() ) {
			return;
		}
		$settings = WPF_Bridge_Settings::for_extension();
		self::respond(
			static fn( WPF_Bridge_Site $site, WPF_Bridge_Queue $queue ) => wpf_bridge_handle_request( self::request(), $settings, $site, $queue, self::can_answer_early(), false )
		);
	}

	/**
	 * Hooked on init: answers the webhooks accept_early() left, with all of WordPress loaded.
	 */
	public static function maybe_handle(): void {
		if ( self::$answered || ! self::is_webhook() ) {
			return;
		}
		$pending = self::$pending;
		if ( null !== $pending ) {
			// The extension was usable when it left this webhook: it is not asked again.
			self::respond( static fn( WPF_Bridge_Site $site, WPF_Bridge_Queue $queue ) => $pending->handle( $site, $queue ) );
			return;
		}
		$problem = WPF_Bridge_Extension::problem();
		if ( null !== $problem ) {
			self::answer_problem( $problem );
			exit;
		}
		$settings = WPF_Bridge_Settings::for_extension();
		self::respond(
			static fn( WPF_Bridge_Site $site, WPF_Bridge_Queue $queue ) => wpf_bridge_handle_request( self::request(), $settings, $site, $queue, self::can_answer_early() )
		);
	}

	/**
	 * After the answer: the request that stored events and takes the drain lease without
	 * waiting lets WordPress finish loading and drains on wp_loaded (which ends it); every
	 * other request ends now. Where the answer could not end early, the CRM is still
	 * waiting: it is not kept waiting for a drain.
	 *
	 * A request that applied its events itself (immediate processing) drains one pass only:
	 * lingering between rounds, it would take the events of the next immediate webhook while
	 * that request applies them, and that answer would say `queued` instead of their results.
	 *
	 * @param bool $stored  Whether the webhook's events were stored.
	 * @param bool $applied Whether they were applied in this request (immediate processing).
	 */
	private static function drain_or_end( bool $stored, bool $applied = false ): void {
		if ( $stored && self::can_answer_early() && WPF_Bridge_Worker::try_lease() ) {
			if ( $applied ) {
				WPF_Bridge_Worker::one_pass();
			}
			add_action( 'wp_loaded', array( 'WPF_Bridge_Worker', 'drain_after_answer' ), PHP_INT_MAX );
			return;
		}
		exit;
	}

	/**
	 * Defines the constants that tell WP Fusion (if also active) and other sync plugins not to
	 * push our writes back to the CRM: echo loops are one of the known webhook pains.
	 */
	public static function mark_doing_webhook(): void {
		if ( ! defined( 'WPF_BRIDGE_DOING_WEBHOOK' ) ) {
			define( 'WPF_BRIDGE_DOING_WEBHOOK', true );
		}
		if ( ! defined( 'WPF_DOING_WEBHOOK' ) ) {
			define( 'WPF_DOING_WEBHOOK', true );
		}
	}

	/**
	 * Whether the request carries wpf_action (in the query string or the form body).
	 */
	private static function is_webhook(): bool {
		// phpcs:ignore WordPress.Security.NonceVerification -- webhooks authenticate with the access key, checked by the extension.
		return isset( $_GET['wpf_action'] ) || isset( $_POST['wpf_action'] );
	}

	/**
	 * Whether this server can end the answer before the work after it (php-fpm, LiteSpeed).
	 */
	private static function can_answer_early(): bool {
		return function_exists( 'fastcgi_finish_request' ) || function_exists( 'litespeed_finish_request' );
	}

	/**
	 * Makes the one call into the extension (`$handle`, given the Site and Queue adapters),
	 * then sends its answer, lets the CRM go, writes the log record if there is one and drains
	 * or ends (drain_or_end()). A webhook the extension left for init is kept for
	 * maybe_handle(), and nothing is sent.
	 *
	 * @param callable $handle Calls the extension: returns its answer array or a WpfBridge\PendingWebhook.
	 */
	private static function respond( callable $handle ): void {
		$started = hrtime( true );
		self::mark_doing_webhook();
		// The adapters implement the extension's interfaces: made only when it can be used
		// (respond() is called only then).
		$site        = null;
		$retry_after = null;
		$applied     = false;
		$stored      = false;
		// Anything echoed by hooks that run during the webhook would corrupt the JSON answer.
		$buffers = ob_get_level();
		ob_start();
		try {
			$site   = new WPF_Bridge_Site();
			$result = $handle( $site, new WPF_Bridge_Queue() );
			if ( $result instanceof \WpfBridge\PendingWebhook ) {
				self::$pending = $result;
			} else {
				list( $status, $body, $log, $retry_after, $applied, $stored ) = self::answer_from( $result );
			}
		} catch ( \Throwable $e ) {
			// Exception messages from the extension and WordPress never hold secrets.
			$status = 500;
			$body   = array(
				'success' => false,
				'code'    => 'internal_error',
				'message' => 'The webhook could not be processed because of an internal error. The site owner can see the cause in the WPF Bridge log.',
			);
			$log    = array(
				'outcome' => 'internal_error',
				'details' => array( 'error: ' . get_class( $e ) . ': ' . $e->getMessage() ),
			);
		}
		// Also drops buffers a hook opened and left open.
		while ( ob_get_level() > $buffers ) {
			ob_end_clean();
		}
		if ( ! isset( $status ) ) {
			return; // Left for init.
		}

		self::$answered = true;
		self::send( $status, $body, $retry_after );
		if ( null !== $log ) {
			self::write_log( $status, $log, $site, $started );
		}
		self::drain_or_end( $stored, $applied );
	}

	/**
	 * Answers 503 when the extension cannot be used (missing, or of another version): the CRM
	 * sends the webhook again later; nothing is stored. The record has no action label: the
	 * label is the extension's to make.
	 *
	 * @param array{code: string, message: string} $problem WPF_Bridge_Extension::problem().
	 */
	private static function answer_problem( array $problem ): void {
		$started        = hrtime( true );
		self::$answered = true;
		self::mark_doing_webhook();
		self::send(
			503,
			array(
				'success' => false,
				'code'    => $problem['code'],
				'message' => $problem['message'],
			)
		);
		$log = array(
			'outcome' => $problem['code'],
			'details' => array( 'error: ' . $problem['message'] ),
		);
		// No Site adapter: it implements the extension's interface WpfBridge\Site, which a
		// missing extension does not declare (and nothing ran that could collect log lines).
		self::write_log( 503, $log, null, $started );
	}

	/**
	 * The request as the extension takes it, read once. WordPress slashes $_GET, $_POST and
	 * $_SERVER in wp_magic_quotes(), which runs after plugins_loaded, just before the
	 * sanitize_comment_cookies action: read before that (the early accept) they are raw, read
	 * after it (on init) they are unslashed here.
	 */
	private static function request(): array {
		if ( null === self::$request ) {
			$slashed       = did_action( 'sanitize_comment_cookies' ) > 0;
			$raw           = static fn( $value ) => $slashed ? wp_unslash( $value ) : $value;
			$body          = file_get_contents( 'php://input', false, null, 0, self::BODY_READ_MAX );
			self::$request = array(
				'method'  => strtoupper( sanitize_text_field( $raw( $_SERVER['REQUEST_METHOD'] ?? 'GET' ) ) ),
				'query'   => $raw( $_GET ),  // phpcs:ignore WordPress.Security -- raw on purpose: the extension parses and validates.
				'post'    => $raw( $_POST ), // phpcs:ignore WordPress.Security -- raw on purpose: the extension parses and validates.
				'headers' => self::headers( $raw ),
				'body'    => false === $body ? '' : $body,
			);
		}
		return self::$request;
	}

	/**
	 * Request headers: getallheaders() where the SAPI has it (php-fpm, Apache), otherwise the
	 * HTTP_* entries of $_SERVER plus CONTENT_TYPE and CONTENT_LENGTH.
	 *
	 * @param callable $raw Undoes wp_magic_quotes() on a $_SERVER value when it has run.
	 */
	private static function headers( callable $raw ): array {
		$headers = array();
		if ( function_exists( 'getallheaders' ) ) {
			$all = getallheaders();
			foreach ( is_array( $all ) ? $all : array() as $name => $value ) {
				$headers[ (string) $name ] = (string) $value;
			}
		}
		if ( ! $headers ) {
			foreach ( $_SERVER as $key => $value ) {
				if ( ! is_string( $value ) ) {
					continue;
				}
				if ( str_starts_with( $key, 'HTTP_' ) ) {
					$name = substr( $key, 5 );
				} elseif ( 'CONTENT_TYPE' === $key || 'CONTENT_LENGTH' === $key ) {
					$name = $key;
				} else {
					continue;
				}
				$name             = str_replace( ' ', '-', ucwords( strtolower( str_replace( '_', ' ', $name ) ) ) );
				$headers[ $name ] = $raw( $value );
			}
		}
		foreach ( array_keys( $headers ) as $name ) {
			if ( in_array( strtolower( $name ), self::DROPPED_HEADERS, true ) ) {
				unset( $headers[ $name ] );
			}
		}
		return $headers;
	}

	/**
	 * Status, body, log record (null when the events were stored and the source's mapping read
	 * every item), Retry-After seconds (null when the answer has none), whether the events were
	 * applied in this request (immediate processing) and whether they were stored (the answer
	 * has a processing) from the extension's answer; a malformed one becomes a 500.
	 *
	 * @param mixed $result What wpf_bridge_handle_request() or PendingWebhook::handle() returned.
	 * @return array{0: int, 1: array, 2: ?array, 3: ?int, 4: bool, 5: bool}
	 */
	private static function answer_from( $result ): array {
		$status = is_array( $result ) && isset( $result['status'] ) ? (int) $result['status'] : 0;
		$body   = is_array( $result ) && isset( $result['body'] ) && is_array( $result['body'] ) ? $result['body'] : null;
		$log    = is_array( $result ) && array_key_exists( 'log', $result ) ? $result['log'] : false;
		if ( $status < 200 || $status > 599 || null === $body || ! ( null === $log || is_array( $log ) ) ) {
			throw new UnexpectedValueException( 'wpf_bridge_handle_request() returned no valid status, body and log record' );
		}
		$retry_after = isset( $result['retry_after'] ) && is_int( $result['retry_after'] ) && $result['retry_after'] >= 0 ? $result['retry_after'] : null;
		$applied     = 'immediate' === ( $result['processing'] ?? null );
		$stored      = null !== ( $result['processing'] ?? null );
		return array( $status, $body, $log, $retry_after, $applied, $stored );
	}

	/**
	 * Sends the answer (with Retry-After when the extension gave one: a full queue, a busy
	 * contact), then lets the CRM go before anything else is done (php-fpm, LiteSpeed).
	 */
	private static function send( int $status, array $body, ?int $retry_after = null ): void {
		if ( ! headers_sent() ) {
			status_header( $status );
			nocache_headers();
			if ( null !== $retry_after ) {
				header( 'Retry-After: ' . $retry_after );
			}
			header( 'Content-Type: application/json; charset=utf-8' );
			header( 'X-Content-Type-Options: nosniff' );
		}
		echo wp_json_encode( $body ); // phpcs:ignore WordPress.Security.EscapeOutput -- JSON response.

		if ( function_exists( 'fastcgi_finish_request' ) ) {
			fastcgi_finish_request();
		} elseif ( function_exists( 'litespeed_finish_request' ) ) {
			litespeed_finish_request();
		}
	}

	/**
	 * Writes the extension's log record, with the lines the Site adapter collected while the
	 * webhook ran, the status sent and the time taken. No secrets: the record holds none.
	 *
	 * @param int             $status  HTTP status sent.
	 * @param array           $log     The record (action, crm, contact_ids, user_ids, outcome, refused, details).
	 * @param WPF_Bridge_Site|null $site The adapter holding the collected log lines (null when the extension could not be used).
	 * @param int             $started hrtime() at the start.
	 */
	private static function write_log( int $status, array $log, ?WPF_Bridge_Site $site, int $started ): void {
		$lines = array();
		foreach ( ( null === $site ? array() : $site->log_lines() ) as list( $level, $message ) ) {
			$lines[] = $level . ': ' . $message;
		}
		if ( ! empty( $log['refused'] ) ) {
			// Refused before authentication: counted, not written (anyone can send these).
			WPF_Bridge_Refusals::record( $log, $status );
			return;
		}
		$log['details']     = array_merge( $lines, (array) ( $log['details'] ?? array() ) );
		$log['status']      = $status;
		$log['duration_ms'] = intdiv( hrtime( true ) - $started, 1000000 );
		WPF_Bridge_Log::write( $log );
	}
}
