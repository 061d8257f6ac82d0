<?php
/**
 * The queue's command line: `status`, `run`, `retry`, `discard`.
 *
 * One implementation, two doors: `php wp-content/plugins/wpf-bridge/bin/worker.php COMMAND`
 * (system cron; plain PHP, no WP-CLI needed) and, where WP-CLI is installed,
 * `wp wpf-bridge queue COMMAND`. Both parse their arguments into the same shape and call
 * run(). The work is the worker's (WPF_Bridge_Worker) and the queue adapter's; this class
 * parses, checks and prints. Exit status: 0 done, 1 the command failed (extension missing,
 * database error), 2 bad arguments.
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The queue commands.
 */
final class WPF_Bridge_CLI {

	/**
	 * Usage text (bin/worker.php and `wp help wpf-bridge queue`), with the defaults the
	 * extension gives the bounds (wpf_bridge_rules()['worker'] and ['resident']['bounds']);
	 * without the extension they read "default: the extension's".
	 */
	public static function usage(): string {
		$rules    = WPF_Bridge_Extension::rules();
		$default  = static fn ( $value ): string => null === $value ? "the extension's" : (string) (int) $value;
		$worker   = (array) ( $rules['worker'] ?? array() );
		$resident = (array) ( $rules['resident']['bounds'] ?? array() );
		return sprintf(
			<<<'TXT'
usage: worker.php [COMMAND] [OPTIONS]          (or: wp wpf-bridge queue COMMAND [OPTIONS])
  run                  apply due events now (the default command)
      --budget=S         stop starting new contacts after S seconds (default %1$s)
      --max-contacts=N   take at most N contacts (default %2$s; with --loop %3$s)
      --loop             the resident worker: drain continuously (web requests then only
                         accept), until --max-contacts, --max-memory=MiB (%4$s),
                         --max-seconds=S (%5$s) or SIGTERM; --idle-sleep=S (%6$s) when idle
  status               events per state and the longest wait
  retry ID... | --all-failed
                       queue failed or retrying events again, due now, then run
  discard ID... | --all-failed
                       delete failed, pending or retrying events (never one being applied)
  help                 this text
worker.php only: --path=WP_ROOT (default: found above this file), --url=SITE_URL (a network's site)
TXT,
			$default( $worker['run_budget_seconds'] ?? null ),
			$default( $worker['max_contacts'] ?? null ),
			$default( $resident['max-contacts'] ?? null ),
			$default( $resident['max-memory'] ?? null ),
			$default( $resident['max-seconds'] ?? null ),
			$default( $resident['idle-sleep'] ?? null )
		);
	}

	/** The resident worker's bounds, by option name. */
	private const LOOP_BOUNDS = array( 'max-contacts', 'max-memory', 'max-seconds', 'idle-sleep' );

	/** Exit statuses. */
	public const OK       = 0;
	public const FAILED   = 1;
	public const BAD_ARGS = 2;

	/**
	 * Runs one command.
	 *
	 * @param string[]              $args  Positional arguments: the command, then event ids.
	 * @param array<string, string> $assoc Options without their dashes (`budget` => '30', `all-failed` => '').
	 * @param callable(string): void $out  Prints a line of the result.
	 * @param callable(string): void $err  Prints a line of an error.
	 * @return int Exit status.
	 */
	public static function run( array $args, array $assoc, callable $out, callable $err ): int {
		$command = (string) ( array_shift( $args ) ?? 'run' );
		if ( 'help' === $command || isset( $assoc['help'] ) ) {
			$out( self::usage() );
			return self::OK;
		}
		$known   = array(
			'run'     => array( 'budget', 'max-contacts', 'loop', 'max-memory', 'max-seconds', 'idle-sleep' ),
			'status'  => array(),
			'retry'   => array( 'all-failed', 'budget', 'max-contacts' ),
			'discard' => array( 'all-failed' ),
		);
		if ( ! isset( $known[ $command ] ) ) {
			$err( "unknown command '{$command}'" );
			$err( self::usage() );
			return self::BAD_ARGS;
		}
		$unknown = array_diff( array_keys( $assoc ), $known[ $command ] );
		if ( array() !== $unknown ) {
			$err( "unknown option --{$unknown[ array_key_first( $unknown ) ]} for {$command}" );
			return self::BAD_ARGS;
		}
		try {
			if ( isset( $assoc['loop'] ) ) {
				self::loop_bounds( $assoc );
			}
			// Not given: the extension's defaults, which the worker applies (WPF_Bridge_Worker::drain()).
			$budget = self::positive( $assoc, 'budget' );
			$max    = self::positive( $assoc, 'max-contacts' );
			$ids    = in_array( $command, array( 'retry', 'discard' ), true ) ? self::ids( $args, isset( $assoc['all-failed'] ) ) : null;
		} catch ( InvalidArgumentException $e ) {
			$err( $e->getMessage() );
			return self::BAD_ARGS;
		}
		if ( null === $ids && array() !== $args ) {
			$err( "{$command} takes no event ids" );
			return self::BAD_ARGS;
		}

		try {
			switch ( $command ) {
				case 'status':
					self::status( $out );
					break;
				case 'run':
					if ( isset( $assoc['loop'] ) ) {
						WPF_Bridge_Resident_Worker::run( self::loop_bounds( $assoc ), $out );
						break;
					}
					self::print_report( WPF_Bridge_Worker::drain( $budget, $max ), $out );
					break;
				case 'retry':
					$count = WPF_Bridge_Queue_Admin::requeue( $ids ?: null );
					$out( "queued again: {$count}" );
					self::print_report( WPF_Bridge_Worker::drain( $budget, $max ), $out );
					break;
				case 'discard':
					$count = WPF_Bridge_Queue_Admin::discard( $ids ?: null );
					$out( "discarded: {$count}" );
					break;
			}
		} catch ( \Throwable $e ) {
			// Adapter and extension messages never hold a secret.
			$err( 'error: ' . $e->getMessage() );
			return self::FAILED;
		}
		return self::OK;
	}

	/**
	 * WP-CLI: registers `wp wpf-bridge queue`.
	 */
	public static function register_wp_cli(): void {
		WP_CLI::add_command(
			'wpf-bridge queue',
			static function ( array $args, array $assoc ): void {
				$status = self::run(
					$args,
					array_map( 'strval', $assoc ),
					static function ( string $line ): void {
						WP_CLI::line( $line );
					},
					static function ( string $line ): void {
						WP_CLI::warning( $line );
					}
				);
				if ( self::OK !== $status ) {
					WP_CLI::halt( $status );
				}
			},
			array(
				'shortdesc' => 'The WPF Bridge webhook queue: status, run, retry, discard.',
				'longdesc'  => self::usage(),
			)
		);
	}

	/**
	 * `status`: events per state and the longest wait, from the database's clock.
	 *
	 * @param callable(string): void $out Prints a line.
	 */
	private static function status( callable $out ): void {
		$summary = WPF_Bridge_Queue_Admin::summary();
		foreach ( (array) $summary['counts'] as $state => $count ) {
			$out( "{$state}: " . (int) $count );
		}
		$oldest = $summary['oldest_waiting_at'] ?? null;
		$out( 'longest wait: ' . ( null === $oldest ? 'none' : max( 0, (int) $summary['now'] - (int) $oldest ) . ' s' ) );
		$beat = WPF_Bridge_Resident_Worker::heartbeat();
		$out(
			'resident worker: ' . ( null === $beat ? 'none' : sprintf(
				'%s (pid %d on %s, %d contacts, last heartbeat %d s ago%s)',
				WPF_Bridge_Resident_Worker::alive() ? 'running' : 'not running',
				(int) $beat['pid'],
				(string) $beat['host'],
				(int) $beat['contacts'],
				max( 0, time() - (int) $beat['beat'] ),
				isset( $beat['reason'] ) ? ', ended: ' . $beat['reason'] : ''
			) )
		);
	}

	/**
	 * Prints a drain report as `key: value` lines.
	 *
	 * @param array                 $report The drain's report.
	 * @param callable(string): void $out   Prints a line.
	 */
	private static function print_report( array $report, callable $out ): void {
		foreach ( array( 'contacts', 'applies', 'done', 'retrying', 'failed', 'busy' ) as $key ) {
			$out( "{$key}: " . (int) ( $report[ $key ] ?? 0 ) );
		}
	}

	/**
	 * The resident worker's bounds given as options (the others are the extension's defaults,
	 * which WPF_Bridge_Resident_Worker::run() applies).
	 *
	 * @return array<string, int>
	 * @throws InvalidArgumentException When one is not a positive whole number.
	 */
	private static function loop_bounds( array $assoc ): array {
		$bounds = array();
		foreach ( self::LOOP_BOUNDS as $name ) {
			$value = self::positive( $assoc, $name );
			if ( null !== $value ) {
				$bounds[ $name ] = $value;
			}
		}
		return $bounds;
	}

	/**
	 * A positive integer option, or null when it is not given.
	 *
	 * @throws InvalidArgumentException When it is not one.
	 */
	private static function positive( array $assoc, string $name ): ?int {
		if ( ! isset( $assoc[ $name ] ) ) {
			return null;
		}
		$value = (string) $assoc[ $name ];
		if ( 1 !== preg_match( '/^[1-9][0-9]{0,8}$/', $value ) ) {
			throw new InvalidArgumentException( "--{$name} must be a positive whole number" );
		}
		return (int) $value;
	}

	/**
	 * The event ids of `retry` / `discard`: either ids, or --all-failed (an empty list).
	 *
	 * @param string[] $args       Positional arguments after the command.
	 * @param bool     $all_failed Whether --all-failed was given.
	 * @return int[]
	 * @throws InvalidArgumentException On a bad id, or neither or both forms.
	 */
	private static function ids( array $args, bool $all_failed ): array {
		if ( $all_failed === ( array() !== $args ) ) {
			throw new InvalidArgumentException( 'give event ids or --all-failed (not both)' );
		}
		$ids = array();
		foreach ( $args as $arg ) {
			if ( 1 !== preg_match( '/^[1-9][0-9]{0,18}$/', (string) $arg ) ) {
				throw new InvalidArgumentException( "not an event id: '" . substr( (string) $arg, 0, 40 ) . "'" );
			}
			$ids[] = (int) $arg;
		}
		return $ids;
	}
}
