<?php
/**
 * The webhook endpoint: `/?wpf_action=...&access_key=...` (WP Fusion's URL contract).
 *
 * Two moments, one flow (wpf_bridge_handle_queued):
 * - accept_early(), when this plugin's file is loaded: by the must-use loader
 *   (WPF_Bridge_Loader) before the other plugins and the theme, or else with the plugins. A
 *   webhook the extension plans to process in the background (wpf_bridge_planned_processing)
 *   is stored and answered there with only the options and $wpdb; after the answer has left
 *   (fastcgi_finish_request), the one request that takes the drain lease lets WordPress finish
 *   loading and drains the queue on wp_loaded (WPF_Bridge_Worker); every other request ends.
 * - maybe_handle(), on init, for the rest: immediate processing (the setting, `async=false`,
 *   or a server that cannot end the answer early, e.g. mod_php), `test`, a missing extension,
 *   a schema the installer has yet to upgrade on plugins_loaded. Everything an apply needs is
 *   loaded by then.
 * It decides nothing about the webhook: authentication, parsing, processing, every outcome,
 * the answer and the log record belong to the extension. Requests that stored their events
 * leave no log row (their queue rows are the record); the others leave the extension's record.
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

	/** How the extension will process this request, once asked (planned()). */
	private static ?string $planned = null;

	/** Whether this request's webhook has been answered. */
	private static bool $answered = false;

	/**
	 * When the plugin file loads: answers a background webhook now, before the rest of
	 * WordPress loads; leaves every other request alone.
	 */
	public static function accept_early(): void {
		if ( self::$answered || ! self::is_webhook() ) {
			return;
		}
		// Without a usable extension, or before plugins_loaded has upgraded the tables, init answers.
		if ( ! WPF_Bridge_Extension::usable() || ! WPF_Bridge_Installer::is_current() ) {
			return;
		}
		$settings = WPF_Bridge_Settings::for_extension();
		if ( 'background' !== self::planned( $settings ) ) {
			return;
		}
		self::drain_or_end( self::answer( $settings ) );
	}

	/**
	 * Hooked on init: answers the webhooks accept_early() left, with all of WordPress loaded.
	 */
	public static function maybe_handle(): void {
		if ( self::$answered || ! self::is_webhook() ) {
			return;
		}
		$settings = WPF_Bridge_Settings::for_extension();
		$applied  = WPF_Bridge_Extension::loaded() && 'immediate' === self::planned( $settings );
		self::drain_or_end( self::answer( $settings ), $applied );
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
	 * How the extension will process this request ('background' or 'immediate'), asked once
	 * per request: accept_early() asks first, and maybe_handle() reuses the answer.
	 *
	 * @param array $settings The settings as the extension takes them.
	 */
	private static function planned( array $settings ): string {
		if ( null === self::$planned ) {
			self::$planned = wpf_bridge_planned_processing( self::request(), $settings, self::can_answer_early() );
		}
		return self::$planned;
	}

	/**
	 * Whether this server can end the answer before the work after it (php-fpm, LiteSpeed).
	 */
	private static function can_answer_early(): bool {
		return function_exists( 'fastcgi_finish_request' ) || function_exists( 'litespeed_finish_request' );
	}

	/**
	 * Hands the webhook to the extension, sends its answer, lets the CRM go, writes the log
	 * record if there is one. Returns whether events were stored (the answer has no log record).
	 *
	 * @param array $settings The settings as the extension takes them.
	 */
	private static function answer( array $settings ): bool {
		$started         = hrtime( true );
		self::$answered  = true;
		self::mark_doing_webhook();
		// The adapters implement the extension's interfaces: made only when it can be used.
		$site        = null;
		$retry_after = null;

		$problem = WPF_Bridge_Extension::problem();
		if ( null !== $problem ) {
			// 503: the CRM sends it again later; nothing was stored.
			$status = 503;
			$body   = array(
				'success' => false,
				'code'    => $problem['code'],
				'message' => $problem['message'],
			);
			$log    = array(
				'action'  => self::requested_action(),
				'outcome' => $problem['code'],
				'details' => array( 'error: ' . $body['message'] ),
			);
		} else {
			// Anything echoed by hooks that run during the webhook would corrupt the JSON answer.
			$buffers = ob_get_level();
			ob_start();
			try {
				$site   = new WPF_Bridge_Site();
				$result = wpf_bridge_handle_queued( self::request(), $settings, $site, new WPF_Bridge_Queue(), self::can_answer_early() );
				list( $status, $body, $log, $retry_after ) = self::answer_from( $result );
			} catch ( \Throwable $e ) {
				// Exception messages from the extension and WordPress never hold secrets.
				$status = 500;
				$body   = array(
					'success' => false,
					'code'    => 'internal_error',
					'message' => 'The webhook could not be processed because of an internal error. The site owner can see the cause in the WPF Bridge log.',
				);
				$log    = array(
					'action'  => self::requested_action(),
					'outcome' => 'internal_error',
					'details' => array( 'error: ' . get_class( $e ) . ': ' . $e->getMessage() ),
				);
			}
			// Also drops buffers a hook opened and left open.
			while ( ob_get_level() > $buffers ) {
				ob_end_clean();
			}
		}

		self::send( $status, $body, $retry_after );
		if ( null !== $log ) {
			self::write_log( $status, $log, $site, $started );
		}
		return null === $log;
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
	 * Status, body, log record (null when the events were stored) and Retry-After seconds (null
	 * when the answer has none) from the extension's answer; a malformed one becomes a 500.
	 *
	 * @param mixed $result What wpf_bridge_handle_queued() returned.
	 * @return array{0: int, 1: array, 2: ?array, 3: ?int}
	 */
	private static function answer_from( $result ): array {
		$status = is_array( $result ) && isset( $result['status'] ) ? (int) $result['status'] : 0;
		$body   = is_array( $result ) && isset( $result['body'] ) && is_array( $result['body'] ) ? $result['body'] : null;
		$log    = is_array( $result ) && array_key_exists( 'log', $result ) ? $result['log'] : false;
		if ( $status < 200 || $status > 599 || null === $body || ! ( null === $log || is_array( $log ) ) ) {
			throw new UnexpectedValueException( 'wpf_bridge_handle_queued() returned no valid status, body and log record' );
		}
		$retry_after = is_array( $result ) && isset( $result['retry_after'] ) && is_int( $result['retry_after'] ) && $result['retry_after'] >= 0 ? $result['retry_after'] : null;
		return array( $status, $body, $log, $retry_after );
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

	/**
	 * The wpf_action the caller asked for, reduced to a harmless label for the log.
	 */
	private static function requested_action(): string {
		// phpcs:ignore WordPress.Security.NonceVerification -- read for the log label only.
		$action = $_POST['wpf_action'] ?? $_GET['wpf_action'] ?? '';
		return is_string( $action ) ? substr( sanitize_key( wp_unslash( $action ) ), 0, 32 ) : '';
	}
}
