<?php
/**
 * The webhook endpoint: `/?wpf_action=...&access_key=...` (WP Fusion's URL contract).
 *
 * On init, when wpf_action is in the query string or the form body, it builds the request
 * array, hands it with the settings and a Site adapter to wpf_bridge_handle_webhook(), sends
 * the status and JSON body the extension decided, writes the log record the extension gave
 * (plus the lines the Site adapter collected and the time taken), and exits.
 * It decides nothing about the webhook itself: authentication, parsing, every outcome, the
 * answer and the log record belong to the extension.
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

	/**
	 * Hooked on init: answers the request if it is a webhook, otherwise returns untouched.
	 */
	public static function maybe_handle(): void {
		// phpcs:ignore WordPress.Security.NonceVerification -- webhooks authenticate with the access key, checked by the extension.
		if ( ! isset( $_GET['wpf_action'] ) && ! isset( $_POST['wpf_action'] ) ) {
			return;
		}
		self::handle();
	}

	/**
	 * Answers the webhook and ends the request.
	 */
	private static function handle(): never {
		$started = hrtime( true );

		// Tells WP Fusion (if also active) and other sync plugins not to push our writes back to
		// the CRM while this request runs: echo loops are one of the known webhook pains.
		if ( ! defined( 'WPF_BRIDGE_DOING_WEBHOOK' ) ) {
			define( 'WPF_BRIDGE_DOING_WEBHOOK', true );
		}
		if ( ! defined( 'WPF_DOING_WEBHOOK' ) ) {
			define( 'WPF_DOING_WEBHOOK', true );
		}

		$settings = WPF_Bridge_Settings::effective();
		$site     = new WPF_Bridge_Site();

		if ( ! WPF_Bridge_Extension::loaded() ) {
			$status = 503;
			$body   = array(
				'success' => false,
				'code'    => 'extension_missing',
				'message' => 'The wpf_bridge PHP extension is not loaded on this site, so webhooks cannot be processed. The site owner must install it (see the WPF Bridge plugin README).',
			);
			$log    = array(
				'action'  => self::requested_action(),
				'outcome' => 'extension_missing',
				'details' => array( 'error: ' . $body['message'] ),
			);
		} else {
			// Anything echoed by hooks that run during the webhook would corrupt the JSON answer.
			$buffers = ob_get_level();
			ob_start();
			try {
				$result = wpf_bridge_handle_webhook( self::request(), WPF_Bridge_Settings::for_extension( $settings ), $site );
				list( $status, $body, $log ) = self::answer_from( $result );
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

		self::send( $status, $body );

		self::write_log( $status, $log, $site, $started );
		exit;
	}

	/**
	 * The request as the extension takes it. WordPress slashes $_GET, $_POST and $_SERVER
	 * (wp_magic_quotes), so they are unslashed here.
	 */
	private static function request(): array {
		$body = file_get_contents( 'php://input', false, null, 0, self::BODY_READ_MAX );
		return array(
			'method'  => strtoupper( sanitize_text_field( wp_unslash( $_SERVER['REQUEST_METHOD'] ?? 'GET' ) ) ),
			'query'   => wp_unslash( $_GET ),  // phpcs:ignore WordPress.Security -- raw on purpose: the extension parses and validates.
			'post'    => wp_unslash( $_POST ), // phpcs:ignore WordPress.Security -- raw on purpose: the extension parses and validates.
			'headers' => self::headers(),
			'body'    => false === $body ? '' : $body,
		);
	}

	/**
	 * Request headers: getallheaders() where the SAPI has it (php-fpm, Apache), otherwise the
	 * HTTP_* entries of $_SERVER plus CONTENT_TYPE and CONTENT_LENGTH.
	 */
	private static function headers(): array {
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
				$headers[ $name ] = wp_unslash( $value );
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
	 * Status, body and log record from the extension's answer; a malformed one becomes a 500.
	 *
	 * @param mixed $result What wpf_bridge_handle_webhook() returned.
	 * @return array{0: int, 1: array, 2: array}
	 */
	private static function answer_from( $result ): array {
		$status = is_array( $result ) && isset( $result['status'] ) ? (int) $result['status'] : 0;
		$body   = is_array( $result ) && isset( $result['body'] ) && is_array( $result['body'] ) ? $result['body'] : null;
		$log    = is_array( $result ) && isset( $result['log'] ) && is_array( $result['log'] ) ? $result['log'] : null;
		if ( $status < 200 || $status > 599 || null === $body || null === $log ) {
			throw new UnexpectedValueException( 'wpf_bridge_handle_webhook() returned no valid status, body and log record' );
		}
		return array( $status, $body, $log );
	}

	/**
	 * Sends the answer, then lets the CRM go before the log is written (php-fpm).
	 */
	private static function send( int $status, array $body ): void {
		if ( ! headers_sent() ) {
			status_header( $status );
			nocache_headers();
			header( 'Content-Type: application/json; charset=utf-8' );
			header( 'X-Content-Type-Options: nosniff' );
		}
		echo wp_json_encode( $body ); // phpcs:ignore WordPress.Security.EscapeOutput -- JSON response.

		if ( function_exists( 'fastcgi_finish_request' ) ) {
			fastcgi_finish_request();
		}
	}

	/**
	 * Writes the extension's log record, with the lines the Site adapter collected while the
	 * webhook ran, the status sent and the time taken. No secrets: the record holds none.
	 *
	 * @param int             $status  HTTP status sent.
	 * @param array           $log     The record (action, crm, contact_ids, user_ids, outcome, refused, details).
	 * @param WPF_Bridge_Site $site    The adapter holding the collected log lines.
	 * @param int             $started hrtime() at the start.
	 */
	private static function write_log( int $status, array $log, WPF_Bridge_Site $site, int $started ): void {
		$lines = array();
		foreach ( $site->log_lines() as list( $level, $message ) ) {
			$lines[] = $level . ': ' . $message;
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
