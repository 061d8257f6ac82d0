<?php
/**
 * The wpf_bridge PHP extension as the plugin sees it: is it loaded, which version is it, what
 * is wrong when it cannot be used (problem()), the command that installs it for this PHP
 * (install_command()), and whether the other PHP of this site (the command line for the web
 * server's, and the reverse) loads it when this one does not, or the reverse
 * (runtime_mismatch(), from what each records with record_runtime()).
 *
 * Every other class asks here before calling an extension function, so a site without the
 * extension never hits a fatal "call to undefined function".
 *
 * @package WPF_Bridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Presence and version of the extension.
 */
final class WPF_Bridge_Extension {

	/** Where to read how to install the extension (the plugin's readme.txt, Installation). */
	public const README_PATH = 'readme.txt';

	/**
	 * The PHP minors a Debian package of the extension is made for, with their Debian release
	 * (Cargo.toml's package variants; tests/check-plugin-zip.sh compares the two).
	 */
	public const PACKAGED_PHP = array(
		'8.2' => 'Debian 12',
		'8.4' => 'Debian 13',
	);

	/** The Debian revision of the packages (Cargo.toml's package.metadata.deb revision). */
	public const DEB_REVISION = '1';

	/** Option: what the command line and the web server's PHP last said about the extension. */
	public const RUNTIMES_OPTION = 'wpf_bridge_runtimes';

	/**
	 * Whether the extension's functions can be called.
	 */
	public static function loaded(): bool {
		return function_exists( 'wpf_bridge_handle_webhook' ) && function_exists( 'wpf_bridge_version' );
	}

	/**
	 * The loaded extension's version, or null when it is not loaded: the version its module
	 * entry declares (the one `php --ri wpf_bridge` shows, and wpf_bridge_version() returns),
	 * read by PHP itself, so a webhook's check costs no call into the extension.
	 */
	public static function version(): ?string {
		if ( ! self::loaded() ) {
			return null;
		}
		$version = phpversion( 'wpf_bridge' );
		return false === $version ? null : $version;
	}

	/**
	 * Whether the loaded extension is the one this plugin was written for.
	 */
	public static function version_matches(): bool {
		return self::version() === WPF_BRIDGE_PLUGIN_VERSION;
	}

	/**
	 * Whether webhooks can be processed: the extension is loaded and is this plugin's version.
	 */
	public static function usable(): bool {
		return null === self::problem();
	}

	/**
	 * Why the extension cannot be used here, as a webhook's answer says it (English, stable
	 * code), or null when it can: `extension_missing` or `extension_version_mismatch`.
	 *
	 * @return array{code: string, message: string}|null
	 */
	public static function problem(): ?array {
		if ( ! self::loaded() ) {
			return array(
				'code'    => 'extension_missing',
				'message' => 'The wpf_bridge PHP extension is not loaded on this site, so webhooks cannot be processed now. The site owner must install it (see the WPF Bridge plugin\'s readme.txt).',
			);
		}
		if ( ! self::version_matches() ) {
			return array(
				'code'    => 'extension_version_mismatch',
				'message' => sprintf(
					'The wpf_bridge PHP extension is version %1$s but the WPF Bridge plugin is version %2$s, so webhooks cannot be processed now. The site owner must install both from the same release.',
					(string) self::version(),
					WPF_BRIDGE_PLUGIN_VERSION
				),
			);
		}
		return null;
	}

	/**
	 * This PHP's minor version, e.g. 8.2.
	 */
	public static function php_minor(): string {
		return PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION;
	}

	/**
	 * The Debian package file of the extension for this PHP and this plugin's version, e.g.
	 * php8.2-wpf-bridge_0.1.0-1_amd64.deb, or null when no package is made for this PHP.
	 */
	public static function package_file(): ?string {
		if ( ! isset( self::PACKAGED_PHP[ self::php_minor() ] ) ) {
			return null;
		}
		return 'php' . self::php_minor() . '-wpf-bridge_' . WPF_BRIDGE_PLUGIN_VERSION . '-' . self::DEB_REVISION . '_amd64.deb';
	}

	/**
	 * What to run on this server to install the extension, in one sentence with the command
	 * (translated): the package for this PHP, or, for a PHP no package is made for, which PHP
	 * versions have one.
	 */
	public static function install_instruction(): string {
		$file = self::package_file();
		if ( null === $file ) {
			return sprintf(
				/* translators: 1: this PHP's version, e.g. 8.3, 2: the PHP versions with a package, e.g. "8.2 (Debian 12), 8.4 (Debian 13)" */
				__( 'This site runs PHP %1$s, for which no package of the extension is made (packages exist for PHP %2$s): run the site on one of those, or build the extension from source.', 'wpf-bridge' ),
				self::php_minor(),
				implode(
					', ',
					array_map(
						static fn ( string $php, string $debian ): string => $php . ' (' . $debian . ')',
						array_keys( self::PACKAGED_PHP ),
						self::PACKAGED_PHP
					)
				)
			);
		}
		return sprintf(
			/* translators: 1: PHP version, e.g. 8.2, 2: the command */
			__( 'This site runs PHP %1$s: download the extension\'s package of this release and install it on the server with: %2$s', 'wpf-bridge' ),
			self::php_minor(),
			'sudo apt install ./' . $file
		);
	}

	/**
	 * Records whether this PHP (the command line, or the web server's) loads the extension,
	 * so that the other one can say when they differ. Writes the option only when that changes.
	 */
	public static function record_runtime(): void {
		$kind = 'cli' === PHP_SAPI ? 'cli' : 'web';
		$now  = array(
			'sapi'    => PHP_SAPI,
			'php'     => self::php_minor(),
			'version' => self::version(),
		);
		$all = get_option( self::RUNTIMES_OPTION );
		$all = is_array( $all ) ? $all : array();
		if ( ( $all[ $kind ] ?? null ) !== $now ) {
			$all[ $kind ] = $now;
			update_option( self::RUNTIMES_OPTION, $all, true );
		}
	}

	/**
	 * When this PHP and the site's other one (the web server's for the command line, and the
	 * reverse) differ in loading the extension, as the other last recorded: a sentence saying
	 * which loads it and the command that enables it for the other (translated). Else null.
	 */
	public static function runtime_mismatch(): ?string {
		$all   = get_option( self::RUNTIMES_OPTION );
		$other = is_array( $all ) ? ( $all[ 'cli' === PHP_SAPI ? 'web' : 'cli' ] ?? null ) : null;
		if ( ! is_array( $other ) || ! isset( $other['sapi'], $other['php'] ) ) {
			return null;
		}
		$other_loaded = null !== ( $other['version'] ?? null );
		if ( self::loaded() === $other_loaded ) {
			return null;
		}
		$here  = self::describe_runtime( PHP_SAPI, self::php_minor() );
		$there = self::describe_runtime( (string) $other['sapi'], (string) $other['php'] );
		if ( self::loaded() ) {
			return sprintf(
				/* translators: 1: a PHP such as "the web server's PHP 8.2 (fpm-fcgi)", 2: another one, 3: the command */
				__( 'The wpf_bridge extension is loaded by %1$s but not by %2$s. Enable it there: %3$s', 'wpf-bridge' ),
				$here,
				$there,
				self::enable_command( (string) $other['sapi'], (string) $other['php'] )
			);
		}
		return sprintf(
			/* translators: 1: a PHP such as "the command line's PHP 8.2 (cli)", 2: another one, 3: the command */
			__( 'The wpf_bridge extension is loaded by %1$s but not by %2$s. Enable it there: %3$s', 'wpf-bridge' ),
			$there,
			$here,
			self::enable_command( PHP_SAPI, self::php_minor() )
		);
	}

	/**
	 * "the command line's PHP 8.2 (cli)" or "the web server's PHP 8.2 (fpm-fcgi)".
	 */
	private static function describe_runtime( string $sapi, string $php ): string {
		return sprintf(
			'cli' === $sapi
				/* translators: 1: PHP version, 2: PHP's SAPI name */
				? __( 'the command line\'s PHP %1$s (%2$s)', 'wpf-bridge' )
				/* translators: 1: PHP version, 2: PHP's SAPI name */
				: __( 'the web server\'s PHP %1$s (%2$s)', 'wpf-bridge' ),
			$php,
			$sapi
		);
	}

	/**
	 * Debian's command that enables the module for one SAPI of one PHP (and restarts php-fpm).
	 */
	private static function enable_command( string $sapi, string $php ): string {
		$dirs = array(
			'cli'            => 'cli',
			'fpm-fcgi'       => 'fpm',
			'apache2handler' => 'apache2',
			'cgi-fcgi'       => 'cgi',
		);
		$dir  = $dirs[ $sapi ] ?? 'ALL';
		$cmd  = 'sudo phpenmod -v ' . $php . ' -s ' . $dir . ' wpf_bridge';
		if ( 'fpm' === $dir ) {
			$cmd .= ' && sudo systemctl restart php' . $php . '-fpm';
		} elseif ( 'apache2' === $dir ) {
			$cmd .= ' && sudo systemctl restart apache2';
		}
		return $cmd;
	}

	/**
	 * The extension's rules (wpf_bridge_rules()): CRMs, username formats, core user fields,
	 * every setting with its default, the queue's and the workers' rules. Null when the
	 * extension is not loaded or is too old to have them. Read once per request from the
	 * module's constant WPF_BRIDGE_RULES_JSON (the same array, as JSON), which costs no call
	 * into the extension: a webhook's queue adapter reads the waiting states inside the one
	 * call wpf_bridge_handle_request.
	 */
	public static function rules(): ?array {
		static $rules = false;
		if ( false === $rules ) {
			$rules = null;
			if ( self::loaded() && defined( 'WPF_BRIDGE_RULES_JSON' ) ) {
				$decoded = json_decode( (string) constant( 'WPF_BRIDGE_RULES_JSON' ), true );
				$rules   = is_array( $decoded ) ? $decoded : null;
			} elseif ( self::loaded() && function_exists( 'wpf_bridge_rules' ) ) {
				try {
					$rules = wpf_bridge_rules();
				} catch ( \Throwable $e ) {
					$rules = null;
				}
			}
		}
		return $rules;
	}

	/**
	 * One of the extension's rules, wpf_bridge_rules()[$group][$key] (e.g. `worker`,
	 * `max_contacts`), for code that cannot run without the extension anyway.
	 *
	 * @throws RuntimeException When the extension is not loaded.
	 */
	public static function rule( string $group, string $key ): mixed {
		$rules = self::rules();
		if ( ! isset( $rules[ $group ][ $key ] ) ) {
			throw new RuntimeException( 'The wpf_bridge extension is not loaded' );
		}
		return $rules[ $group ][ $key ];
	}

	/**
	 * URL of the installation instructions shipped with the plugin.
	 */
	public static function readme_url(): string {
		return plugins_url( self::README_PATH, WPF_BRIDGE_PLUGIN_FILE );
	}
}
