<?php
/**
 * The webhook endpoint: `/?wpf_action=...&access_key=...` (WP Fusion's URL contract).
 *
 * On init, when wpf_action is in the query string or the form body, it builds the request
 * array, hands it with the settings and a Site adapter to wpf_bridge_handle_webhook(), sends
 * the status and JSON body the extension decided, writes one log entry, and exits.
 * It decides nothing about the webhook itself: authentication, parsing and every outcome
 * belong to the extension.
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
		$details  = array();

		if ( ! WPF_Bridge_Extension::loaded() ) {
			$status = 503;
			$body   = array(
				'success' => false,
				'code'    => 'extension_missing',
				'message' => 'The wpf_bridge PHP extension is not loaded on this site, so webhooks cannot be processed. The site owner must install it (see the WPF Bridge plugin README).',
			);
		} else {
			// Anything echoed by hooks that run during the webhook would corrupt the JSON answer.
			$buffers = ob_get_level();
			ob_start();
			try {
				$result = wpf_bridge_handle_webhook( self::request(), WPF_Bridge_Settings::for_extension( $settings ), $site );
				list( $status, $body ) = self::response_from( $result );
			} catch ( \Throwable $e ) {
				// Exception messages from the extension and WordPress never hold secrets.
				$details[] = 'error: ' . get_class( $e ) . ': ' . $e->getMessage();
				$status    = 500;
				$body      = array(
					'success' => false,
					'code'    => 'internal_error',
					'message' => 'The webhook could not be processed because of an internal error. The site owner can see the cause in the WPF Bridge log.',
				);
			}
			// Also drops buffers a hook opened and left open.
			while ( ob_get_level() > $buffers ) {
				ob_end_clean();
			}
		}

		self::send( $status, $body );

		self::write_log( $status, $body, $settings, $site, $details, $started );
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
	 * Status and body from the extension's result; a malformed result becomes a 500.
	 *
	 * @param mixed $result What wpf_bridge_handle_webhook() returned.
	 * @return array{0: int, 1: array}
	 */
	private static function response_from( $result ): array {
		$status = is_array( $result ) && isset( $result['status'] ) ? (int) $result['status'] : 0;
		$body   = is_array( $result ) && isset( $result['body'] ) && is_array( $result['body'] ) ? $result['body'] : null;
		if ( $status < 200 || $status > 599 || null === $body ) {
			throw new UnexpectedValueException( 'wpf_bridge_handle_webhook() returned no valid status and body' );
		}
		return array( $status, $body );
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
	 * Writes the log entry: ids, outcomes, reasons and the extension's log lines, no secrets.
	 *
	 * @param int               $status   HTTP status sent.
	 * @param array             $body     JSON body sent.
	 * @param array             $settings Effective settings (only the CRM slug is read).
	 * @param WPF_Bridge_Site   $site     The adapter holding the collected log lines.
	 * @param array<int,string> $details  Lines from the endpoint itself.
	 * @param int               $started  hrtime() at the start.
	 */
	private static function write_log( int $status, array $body, array $settings, WPF_Bridge_Site $site, array $details, int $started ): void {
		$contact_ids = array();
		$user_ids    = array();
		$outcomes    = array();

		foreach ( $site->log_lines() as list( $level, $message ) ) {
			$details[] = $level . ': ' . $message;
		}

		$results = isset( $body['results'] ) && is_array( $body['results'] ) ? $body['results'] : array();
		foreach ( $results as $result ) {
			if ( ! is_array( $result ) ) {
				continue;
			}
			$contact = isset( $result['contact_id'] ) && is_scalar( $result['contact_id'] ) ? (string) $result['contact_id'] : '';
			$outcome = isset( $result['outcome'] ) && is_scalar( $result['outcome'] ) ? (string) $result['outcome'] : '';
			if ( '' !== $contact ) {
				$contact_ids[] = $contact;
			}
			if ( isset( $result['user_id'] ) && is_scalar( $result['user_id'] ) ) {
				$user_ids[] = (int) $result['user_id'];
			}
			if ( '' !== $outcome ) {
				$outcomes[] = $outcome;
			}
			// Reasons and notes are already in the extension's log line for this result.
		}

		if ( empty( $body['success'] ) ) {
			$outcome = isset( $body['code'] ) && is_scalar( $body['code'] ) ? (string) $body['code'] : 'error';
			$message = isset( $body['message'] ) && is_scalar( $body['message'] ) ? (string) $body['message'] : '';
			// The extension usually logged the same sentence already; keep it once.
			$logged = array_filter( $details, static fn( string $line ): bool => '' !== $message && str_contains( $line, $message ) );
			if ( '' !== $message && ! $logged ) {
				$details[] = 'error: ' . $message;
			}
		} else {
			$outcome = $outcomes ? implode( ',', array_unique( $outcomes ) ) : 'ok';
		}

		$action = isset( $body['action'] ) && is_scalar( $body['action'] ) ? (string) $body['action'] : self::requested_action();
		$crm    = isset( $body['crm'] ) && is_scalar( $body['crm'] ) ? (string) $body['crm'] : (string) ( $settings['crm'] ?? '' );

		WPF_Bridge_Log::write(
			array(
				'action'      => $action,
				'crm'         => $crm,
				'contact_ids' => $contact_ids,
				'user_ids'    => $user_ids,
				'status'      => $status,
				'outcome'     => $outcome,
				'duration_ms' => intdiv( hrtime( true ) - $started, 1000000 ),
				'details'     => $details,
			)
		);
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
