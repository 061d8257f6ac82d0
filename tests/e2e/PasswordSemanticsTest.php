<?php
// Issue 19: with the "argon2id passwords" setting on, every password WordPress core accepts
// keeps working exactly as it does with the setting off, on the WordPress the environment runs
// (scripts/test.sh runs the suite on 6.1 and on 6.8). Each test is written from the behaviour a
// test of WordPress core's own (tests/phpunit/tests/auth.php, groups auth and pluggable) checks;
// the docblocks name them. Everything runs in the real WordPress: PHP through wp.sh, logins
// through the real wp-login.php, the settings page in a real browser.
//
// The pre-4.4 users table (user_pass varchar(64)) is made for real with ALTER TABLE and
// restored after each test (tearDown), in MariaDB's strict and non-strict SQL modes.
final class PasswordSemanticsTest extends E2eTestCase
{
    private const LOGIN = 'pwsem_user';
    private const EMAIL = 'pwsem_user@example.com';
    /** The width WordPress 4.4 and later give user_pass. */
    private const WIDE = 255;
    /** The width before WordPress 4.4 (a site kept on DO_NOT_UPGRADE_GLOBAL_TABLES still has it). */
    private const OLD = 64;
    /** A mu-plugin that puts WordPress's own database session in strict mode (WordPress removes it by default). */
    private const STRICT_MU_PLUGIN = 'wpf-e2e-strict-sql.php';

    private static int $userId = 0;

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(['argon2_passwords' => false]);
        self::deleteTestUsers();
        self::$userId = WordPress::createUser(self::LOGIN, self::EMAIL);
    }

    public static function tearDownAfterClass(): void
    {
        self::widenColumn();
        self::removeStrictMode();
        WordPress::configure(['argon2_passwords' => false]);
        self::deleteTestUsers();
    }

    protected function tearDown(): void
    {
        // Whatever a test did to the schema, the next one (and the next class) starts from 4.4's.
        self::widenColumn();
        self::removeStrictMode();
        WordPress::configure(['argon2_passwords' => false]);
        self::deleteTestUsers('pwsem_old_');
    }

    /**
     * Every case of core's tests that sets a password and logs in, or hashes and checks one, run
     * with the setting off and then on: the outcomes must be the same, and with the setting on
     * every hash written is argon2id (or core's '*' where core writes it).
     *
     * Core: test_password_trimming, test_wp_hash_password_trimming (whitespace trimmed as core
     * trims for bcrypt and phpass), test_setting_password_beyond_bcrypt_length_limit_is_rejected,
     * test_valid_password_at_phpass_length_limit_is_accepted, test_too_long_password_*
     * (4,096 bytes and the '*'), test_*_bcrypt_length_limit_*, test_long_truncated_password_is_rejected,
     * test_empty_password_is_rejected_by_*, test_wp_check_password_does_not_support_empty_*
     * (data_empty_values: '0', '', "\0", '*', '*0', '*1'); null bytes inside a password, and the
     * empty password hashed and checked.
     */
    public function test_every_password_core_accepts_works_the_same_with_the_setting_on(): void
    {
        WordPress::configure(['argon2_passwords' => false]);
        $off = self::runPasswordCases();
        WordPress::configure(['argon2_passwords' => true]);
        $on = self::runPasswordCases();
        $core = self::coreHashPattern();

        foreach ($off['set'] as $name => $baseline) {
            $result = $on['set'][$name];
            $this->assertSame($baseline['attempts'], $result['attempts'], "$name: logging in answers differently with the setting on (" . self::describe() . ')');
            if ($baseline['stored'] === '*') {
                $this->assertSame('*', $result['stored'], "$name: core stores '*' with the setting off");
            } else {
                $this->assertMatchesRegularExpression($core, $baseline['stored'], "$name: with the setting off core's own hash");
                $this->assertMatchesRegularExpression('/^argon2id /', $result['stored'], "$name: not hashed with argon2id with the setting on");
            }
        }
        $this->assertSame($off['check'], $on['check'], 'wp_check_password(wp_hash_password()) answers differently with the setting on (' . self::describe() . ')');

        // What core's tests assert, whatever the setting.
        foreach ([$off, $on] as $state => $results) {
            $what = $state === 0 ? 'setting off' : 'setting on';
            foreach (self::TRIMMING as $name => $password) {
                $this->assertSame(['as set' => 'ok'], $results['set']["trimming: $name"]['attempts'], "trimming: $name ($what)");
            }
            foreach (self::WHITESPACE as $name => $pair) {
                $this->assertTrue($results['check']["whitespace: $name"], "wp_hash_password() trims: $name ($what)");
            }
            $this->assertSame('*', $results['set']['4097 bytes']['stored'], "4097 bytes ($what)");
            $this->assertSame(['as set' => 'incorrect_password', 'the asterisk' => 'incorrect_password'], $results['set']['4097 bytes']['attempts'], "4097 bytes ($what)");
            $this->assertSame(['as set' => 'ok', 'one byte more' => 'incorrect_password'], $results['set']['4096 bytes']['attempts'], "4096 bytes ($what)");
            $this->assertSame(['as set' => 'ok', 'first 72 bytes' => 'incorrect_password', 'aaaaaaaa' => 'incorrect_password'], $results['set']['73 bytes']['attempts'], "73 bytes ($what)");
            $this->assertSame(['as set' => 'ok', 'before the null byte' => 'incorrect_password'], $results['set']['a null byte inside']['attempts'], "null byte ($what)");
            foreach ($results['set']['empty values']['attempts'] as $label => $outcome) {
                $this->assertNotSame('ok', $outcome, "the empty value $label logged in ($what)");
            }
            foreach ($results['check'] as $name => $valid) {
                if (str_starts_with($name, 'empty hash: ')) {
                    $this->assertFalse($valid, "$name ($what)");
                }
            }
            $this->assertTrue($results['check']['the empty password'], "wp_check_password('', wp_hash_password('')) ($what)");
        }
    }

    /** Core: test_password_trimming, through the real login form: a password set with spaces logs in typed with or without them. */
    public function test_a_password_with_spaces_logs_in_through_wp_login(): void
    {
        WordPress::configure(['argon2_passwords' => true]);
        WordPress::php('wp_set_password( $args[0], $args[1] ); return true;', [' pass with space ', self::$userId]);
        $stored = self::storedHash(self::$userId);
        $this->assertMatchesRegularExpression('/^\$argon2id\$/', $stored, 'the setting is not in force');
        // The length the plugin requires of user_pass is the length of the hashes it writes.
        $this->assertSame(WordPress::php('return WPF_Bridge_Passwords::ARGON2ID_HASH_LENGTH;'), strlen($stored), 'ARGON2ID_HASH_LENGTH');

        foreach ([' pass with space ', 'pass with space'] as $typed) {
            $response = $this->logIn(self::LOGIN, $typed)['response'];
            $this->assertSame(302, $response->status, "typed as '$typed': wp-login.php refused it (" . self::describe() . ')');
        }
        $this->assertSame(200, $this->logIn(self::LOGIN, 'pass with space x')['response']->status, 'a wrong password logged in');
    }

    /**
     * Core: test_phpass_password_is_rehashed_after_successful_user_password_authentication,
     * test_md5_password_is_rehashed_after_successful_user_password_authentication and
     * check_password_needs_rehashing: an old hash needs a rehash, the login rehashes it (to
     * argon2id with the setting on), the new hash needs none and logs in again; a password with
     * whitespace too. wp_password_needs_rehash() exists from 6.8 on.
     */
    public function test_old_hashes_are_rehashed_at_login_and_then_need_no_rehash(): void
    {
        WordPress::configure(['argon2_passwords' => true]);
        $result = WordPress::php(<<<'PHP'
            require_once ABSPATH . WPINC . '/class-phpass.php';
            global $wpdb;
            list( $id, $login ) = $args;
            $needs = function_exists( 'wp_password_needs_rehash' );
            $out   = array();
            $kinds = array(
                'phpass'                => array( 'password', ( new PasswordHash( 8, true ) )->HashPassword( 'password' ) ),
                'md5'                   => array( 'password', md5( 'password' ) ),
                'phpass, with spaces'   => array( ' pw with spaces ', ( new PasswordHash( 8, true ) )->HashPassword( 'pw with spaces' ) ),
            );
            foreach ( $kinds as $kind => list( $password, $hash ) ) {
                $wpdb->update( $wpdb->users, array( 'user_pass' => $hash ), array( 'ID' => $id ) );
                clean_user_cache( $id );
                $row = array( 'needs before' => $needs ? wp_password_needs_rehash( $hash, $id ) : null );
                $user = wp_authenticate( $login, $password );
                $row['first']  = is_wp_error( $user ) ? $user->get_error_code() : 'ok';
                $after         = get_userdata( $id )->user_pass;
                $row['after']  = substr( $after, 0, 10 );
                $row['needs after'] = $needs ? wp_password_needs_rehash( $after, $id ) : null;
                $user = wp_authenticate( $login, $password );
                $row['second'] = is_wp_error( $user ) ? $user->get_error_code() : 'ok';
                $out[ $kind ] = $row;
            }
            return $out;
            PHP, [self::$userId, self::LOGIN]);
        $has = version_compare(Env::get('WPF_E2E_WP_VERSION'), '6.8-alpha', '>=');
        foreach ($result as $kind => $row) {
            $this->assertSame('ok', $row['first'], "$kind: first login");
            $this->assertStringStartsWith('$argon2id$', $row['after'], "$kind: not rehashed to argon2id");
            $this->assertSame('ok', $row['second'], "$kind: second login");
            $this->assertSame($has ? true : null, $row['needs before'], "$kind: wp_password_needs_rehash() before");
            $this->assertSame($has ? false : null, $row['needs after'], "$kind: wp_password_needs_rehash() after");
        }
    }

    /**
     * Core: test_application_password_authentication, test_authenticate_application_password_by_username,
     * test_application_password_is_hashed_with_fast_hash (6.8): an application password made with
     * the setting on authenticates an API request, the account password does not, and using it
     * changes neither its stored hash nor the account password's.
     */
    public function test_application_passwords_are_untouched(): void
    {
        WordPress::configure(['argon2_passwords' => true]);
        WordPress::php('wp_set_password( "account password", $args[0] ); return true;', [self::$userId]);
        $result = WordPress::php(<<<'PHP'
            list( $id, $login ) = $args;
            add_filter( 'application_password_is_api_request', '__return_true' );
            add_filter( 'wp_is_application_passwords_available', '__return_true' );
            update_site_option( 'using_application_passwords', 1 );
            list( $password, $item ) = WP_Application_Passwords::create_new_application_password( $id, array( 'name' => 'pwsem' ) );
            $stored_app  = WP_Application_Passwords::get_user_application_password( $id, $item['uuid'] )['password'];
            $user_pass   = get_userdata( $id )->user_pass;
            $by_app      = wp_authenticate_application_password( null, $login, $password );
            $by_account  = wp_authenticate_application_password( null, $login, 'account password' );
            clean_user_cache( $id );
            return array(
                'app hash'            => substr( $stored_app, 0, 10 ),
                'app login'           => is_wp_error( $by_app ) ? $by_app->get_error_code() : ( $by_app instanceof WP_User ? $by_app->ID : null ),
                'account login'       => is_wp_error( $by_account ) ? $by_account->get_error_code() : $by_account,
                'app hash unchanged'  => WP_Application_Passwords::get_user_application_password( $id, $item['uuid'] )['password'] === $stored_app,
                'user_pass unchanged' => get_userdata( $id )->user_pass === $user_pass,
            );
            PHP, [self::$userId, self::LOGIN]);
        $this->assertSame(self::$userId, $result['app login'], 'the application password did not authenticate: ' . json_encode($result));
        $this->assertSame('incorrect_password', $result['account login'], 'the account password was taken as an application password');
        $this->assertTrue($result['app hash unchanged'], 'using the application password rewrote its hash');
        $this->assertTrue($result['user_pass unchanged'], 'using the application password changed the account password');
        if (version_compare(Env::get('WPF_E2E_WP_VERSION'), '6.8-alpha', '>=')) {
            $this->assertStringStartsWith('$generic$', $result['app hash'], '6.8 hashes application passwords with wp_fast_hash()');
        }
    }

    public static function sqlModes(): array
    {
        return ['non-strict SQL mode (WordPress\'s default)' => [false], 'strict SQL mode' => [true]];
    }

    /**
     * Core: test_user_password_against_old_users_table_schema (data_passwords: 'a', 'password',
     * 4096 bytes) and test_user_activation_key_against_old_users_table_schema, on a real pre-4.4
     * users table with the setting on: users are created, log in, change their password, reset
     * it, and no hash the column would cut is ever written (6.8: nor is any rehash asked for).
     *
     * @dataProvider sqlModes
     */
    public function test_a_pre_4_4_users_table_keeps_every_password_working(bool $strict): void
    {
        WordPress::configure(['argon2_passwords' => true]);
        self::narrowColumn();
        if ($strict) {
            self::useStrictMode();
        }
        $result = WordPress::php(<<<'PHP'
            global $wpdb;
            $mode = $wpdb->get_var( 'SELECT @@SESSION.sql_mode' );
            $out  = array( 'sql_mode' => $mode, 'users' => array() );
            $read = static fn( $id ) => (string) $wpdb->get_var( $wpdb->prepare( "SELECT user_pass FROM $wpdb->users WHERE ID = %d", $id ) );
            $auth = static function ( $login, $password ) {
                $user = wp_authenticate( $login, $password );
                return is_wp_error( $user ) ? $user->get_error_code() : 'ok';
            };
            foreach ( array( 'a' => 'a', 'password' => 'password', '4096 bytes' => str_repeat( 'a', 4096 ) ) as $name => $password ) {
                $login = 'pwsem_old_' . substr( md5( $name ), 0, 8 );
                $id    = wp_insert_user( array( 'user_login' => $login, 'user_email' => $login . '@example.com', 'user_pass' => $password ) );
                if ( is_wp_error( $id ) ) {
                    $out['users'][ $name ] = array( 'created' => $id->get_error_code() . ': ' . $id->get_error_message() );
                    continue;
                }
                // wp_insert_user() returns an id even when $wpdb refused the row (6.1 does not check).
                $user = get_user_by( 'login', $login );
                if ( ! $user || (int) $user->ID !== (int) $id ) {
                    $out['users'][ $name ] = array( 'created' => "no row for $login, though wp_insert_user() returned $id (" . $wpdb->last_error . ')' );
                    continue;
                }
                $row = array( 'created' => 'ok', 'hash length' => strlen( $read( $id ) ), 'login' => $auth( $login, $password ) );
                $row['needs rehash'] = function_exists( 'wp_password_needs_rehash' ) ? wp_password_needs_rehash( $read( $id ), $id ) : null;

                wp_set_password( 'new ' . $name, $id );
                $row['changed length'] = strlen( $read( $id ) );
                $row['new password']   = $auth( $login, 'new ' . $name );
                $row['old password']   = $auth( $login, $password );

                $user  = get_userdata( $id );
                $key   = get_password_reset_key( $user );
                $check = is_wp_error( $key ) ? $key : check_password_reset_key( $key, $login );
                $row['reset key'] = is_wp_error( $check ) ? $check->get_error_code() : ( $check->ID === $id ? 'ok' : 'other user' );
                reset_password( $user, ' reset ' . $name . ' ' );
                $row['reset length']   = strlen( $read( $id ) );
                $row['reset password'] = $auth( $login, 'reset ' . $name );
                $out['users'][ $name ] = $row;
            }
            return $out;
            PHP, [], 120);
        $this->assertSame($strict, str_contains((string) $result['sql_mode'], 'STRICT_ALL_TABLES'), 'SQL mode: ' . $result['sql_mode']);
        $has = version_compare(Env::get('WPF_E2E_WP_VERSION'), '6.8-alpha', '>=');
        foreach ($result['users'] as $name => $row) {
            $what = "$name (" . self::describe() . ", user_pass varchar(64), sql_mode '{$result['sql_mode']}')";
            $this->assertSame('ok', $row['created'], "$what: the user was not created");
            foreach (['hash length', 'changed length', 'reset length'] as $length) {
                $this->assertLessThanOrEqual(self::OLD, $row[$length], "$what: $length: a hash longer than the column");
            }
            $this->assertSame('ok', $row['login'], "$what: the new user cannot log in");
            $this->assertSame($has ? false : null, $row['needs rehash'], "$what: wp_password_needs_rehash() asks for a hash the column cannot hold");
            $this->assertSame('ok', $row['new password'], "$what: the changed password does not log in");
            $this->assertSame('incorrect_password', $row['old password'], "$what: the old password still logs in");
            $this->assertSame('ok', $row['reset key'], "$what: the password reset key");
            $this->assertSame('ok', $row['reset password'], "$what: the password set by reset_password() does not log in");
        }
    }

    /**
     * The same table through the real login form: an old phpass hash logs in, is not replaced by
     * a hash the column cuts, and logs in again (6.8 rehashes at every login what
     * wp_password_needs_rehash() asks for).
     *
     * @dataProvider sqlModes
     */
    public function test_a_pre_4_4_users_table_never_gets_a_cut_hash_at_login(bool $strict): void
    {
        WordPress::configure(['argon2_passwords' => true]);
        self::narrowColumn();
        if ($strict) {
            self::useStrictMode();
        }
        $hash = WordPress::php(<<<'PHP'
            require_once ABSPATH . WPINC . '/class-phpass.php';
            global $wpdb;
            $hash = ( new PasswordHash( 8, true ) )->HashPassword( 'old site password' );
            $wpdb->update( $wpdb->users, array( 'user_pass' => $hash ), array( 'ID' => $args[0] ) );
            clean_user_cache( $args[0] );
            return $hash;
            PHP, [self::$userId]);
        foreach (['first', 'second', 'third'] as $attempt) {
            $response = $this->logIn(self::LOGIN, 'old site password')['response'];
            $this->assertSame(302, $response->status, "$attempt login refused (" . self::describe() . ', user_pass varchar(64)' . ($strict ? ', strict SQL' : '') . ')');
            $stored = self::storedHash(self::$userId);
            $this->assertLessThanOrEqual(self::OLD, strlen($stored), "$attempt login wrote a hash longer than the column");
            $this->assertDoesNotMatchRegularExpression('/^\$argon2/', $stored, "$attempt login: an argon2 hash cut to the column");
        }
        $this->assertSame(200, $this->logIn(self::LOGIN, 'old site password x')['response']->status, 'a wrong password logged in');
        if (version_compare(Env::get('WPF_E2E_WP_VERSION'), '6.8-alpha', '>=')) {
            // 6.8 rehashes at every login whatever this asks for: it must not ask for argon2id.
            $this->assertFalse(WordPress::php('return wp_password_needs_rehash( $args[0] );', [self::storedHash(self::$userId)]), 'every login would try to rehash to a hash the column cannot hold');
        }
        $this->assertNotSame('', $hash);
    }

    /**
     * Where user_pass cannot hold an argon2id hash, the settings page refuses the setting and says
     * why and how to widen the column; Site Health says so when it is on anyway (stored before
     * the column was narrowed, or by other means). With the column widened the same save works.
     */
    public function test_the_setting_is_refused_and_reported_where_the_column_is_too_narrow(): void
    {
        self::narrowColumn();

        $browser = Browser::start();
        try {
            $browser->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword());
            $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
            $box = $browser->waitFor('#wpf-bridge-argon2-passwords');
            $this->assertFalse((bool) $browser->property($box, 'checked'), 'the setting is off to begin with');
            $browser->click($box);
            $browser->click($browser->find('#wpf-bridge-save'));
            $notice = $browser->waitFor('#wpf-bridge-notice-invalid-settings', 30);
            $browser->waitForLoad();
            $browser->screenshot(Env::screenshotDir() . '/20-argon2-refused-on-a-pre-4.4-users-table.png');
            $text = $browser->text($notice);
            $this->assertStringContainsString('user_pass', $text, 'the refusal does not name the column');
            $this->assertStringContainsString('varchar(255)', $text, 'the refusal does not say how to widen the column');
            $this->assertFalse((bool) (WordPress::settings()['argon2_passwords'] ?? false), 'the refused setting was stored');

            WordPress::configure(['argon2_passwords' => true]);
            $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
            $this->assertNotSame('good', $health['status'], 'Site Health: ' . json_encode($health));
            $this->assertStringContainsString('user_pass', $health['description'], 'Site Health does not name the column');

            self::widenColumn();
            $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
            $this->assertStringNotContainsString('user_pass', $health['description'], 'Site Health still reports the widened column');

            WordPress::configure(['argon2_passwords' => false]);
            $browser->get(Env::url() . '/wp-admin/options-general.php?page=wpf-bridge');
            $browser->click($browser->waitFor('#wpf-bridge-argon2-passwords'));
            $browser->click($browser->find('#wpf-bridge-save'));
            $browser->waitFor('#wpf-bridge-notice-saved', 30);
            $this->assertTrue((bool) (WordPress::settings()['argon2_passwords'] ?? false), 'with the column widened the setting was not saved');
        } finally {
            $browser->quit();
        }
    }

    /** core's data_passwords_for_trimming */
    private const TRIMMING = [
        'no spaces' => 'a password with no trailing or leading spaces',
        'trailing space' => 'a password with trailing spaces ',
        'leading space' => ' a password with leading spaces',
        'leading and trailing' => ' a password with trailing and leading spaces ',
        'multiple leading spaces' => '    a password with multiple leading spaces',
        'multiple trailing spaces' => 'a password with multiple trailing spaces    ',
    ];

    /** core's data_passwords_with_whitespace */
    private const WHITESPACE = [
        'leading whitespace' => [' pass with leading whitespace', 'pass with leading whitespace'],
        'trailing whitespace' => ['pass with trailing whitespace ', 'pass with trailing whitespace'],
        'both whitespace' => [' pass with whitespace ', 'pass with whitespace'],
        'new line' => ["pass with new line \n", 'pass with new line'],
        'vertical tab' => ["pass with vertical tab o_O\x0B", 'pass with vertical tab o_O'],
    ];

    /** core's data_empty_values */
    private const EMPTY_VALUES = ['0', '', "\0", '*', '*0', '*1'];

    /**
     * Runs every case in WordPress: wp_set_password() then wp_authenticate() with each attempt,
     * and wp_check_password() of hashes from wp_hash_password(). Passwords travel base64-encoded
     * (null bytes, whitespace).
     *
     * @return array{set: array<string, array{stored: string, attempts: array<string, string>}>, check: array<string, bool>}
     */
    private static function runPasswordCases(): array
    {
        $set = [];
        foreach (self::TRIMMING as $name => $password) {
            $set["trimming: $name"] = [$password, ['as set' => $password]];
        }
        $a = static fn (int $n): string => str_repeat('a', $n);
        $set['73 bytes'] = [$a(73), ['as set' => $a(73), 'first 72 bytes' => $a(72), 'aaaaaaaa' => $a(8)]];
        $set['4096 bytes'] = [$a(4096), ['as set' => $a(4096), 'one byte more' => $a(4097)]];
        $set['4097 bytes'] = [$a(4097), ['as set' => $a(4097), 'the asterisk' => '*']];
        $set['4096 bytes and a trailing space'] = [$a(4096) . ' ', ['as set' => $a(4096) . ' ', 'trimmed' => $a(4096)]];
        $set['4095 bytes and surrounding spaces'] = [' ' . $a(4095) . ' ', ['as set' => ' ' . $a(4095) . ' ']];
        $set['a null byte inside'] = ["pass\0word", ['as set' => "pass\0word", 'before the null byte' => 'pass']];
        $set['a null byte at the end'] = ["password\0", ['as set' => "password\0", 'without it' => 'password']];
        $set['latin-1 bytes'] = ["p\xe4ss w\xf6rd", ['as set' => "p\xe4ss w\xf6rd", 'as UTF-8' => 'päss wörd']];
        $empty = [];
        foreach (self::EMPTY_VALUES as $value) {
            $empty[json_encode($value)] = $value;
        }
        $set['empty values'] = ['password', $empty];

        $check = [];
        foreach (self::WHITESPACE as $name => [$with, $expected]) {
            $check["whitespace: $name"] = [$expected, $with, null];
        }
        foreach (self::EMPTY_VALUES as $value) {
            $check['empty hash: ' . json_encode($value)] = ['password', null, $value];
            $check['empty password and hash: ' . json_encode($value)] = [$value, null, $value];
        }
        $check['the empty password'] = ['', '', null];
        $check['whitespace only'] = ['', '   ', null];
        $check['a null byte inside'] = ["pass\0word", "pass\0word", null];

        $encode = static fn (?string $s): ?string => $s === null ? null : base64_encode($s);
        $args = ['id' => self::$userId, 'login' => self::LOGIN, 'set' => [], 'check' => []];
        foreach ($set as $name => [$password, $attempts]) {
            $args['set'][$name] = ['password' => $encode($password), 'attempts' => array_map($encode, $attempts)];
        }
        foreach ($check as $name => [$password, $hashed, $hash]) {
            $args['check'][$name] = array_map($encode, [$password, $hashed, $hash]);
        }

        return WordPress::php(<<<'PHP'
            global $wpdb;
            $kind = static function ( string $hash ): string {
                foreach ( array( 'argon2id' => '/^\$argon2id\$/', 'wp_bcrypt' => '/^\$wp\$2y\$/', 'phpass' => '/^\$P\$/' ) as $name => $pattern ) {
                    if ( preg_match( $pattern, $hash ) ) {
                        return $name . ' ' . substr( $hash, 0, 12 );
                    }
                }
                return $hash === '*' ? '*' : 'other ' . substr( $hash, 0, 12 );
            };
            $out = array( 'set' => array(), 'check' => array() );
            foreach ( $args['set'] as $name => $case ) {
                wp_set_password( base64_decode( $case['password'] ), $args['id'] );
                $stored   = (string) $wpdb->get_var( $wpdb->prepare( "SELECT user_pass FROM $wpdb->users WHERE ID = %d", $args['id'] ) );
                $attempts = array();
                foreach ( $case['attempts'] as $label => $password ) {
                    $user = wp_authenticate( $args['login'], base64_decode( $password ) );
                    $attempts[ $label ] = is_wp_error( $user ) ? $user->get_error_code() : ( (int) $user->ID === (int) $args['id'] ? 'ok' : 'another user' );
                }
                $out['set'][ $name ] = array( 'stored' => $stored === '*' ? '*' : $kind( $stored ), 'attempts' => $attempts );
            }
            foreach ( $args['check'] as $name => list( $password, $hashed, $hash ) ) {
                $hash = null !== $hash ? base64_decode( $hash ) : wp_hash_password( base64_decode( $hashed ) );
                $out['check'][ $name ] = wp_check_password( base64_decode( $password ), $hash );
            }
            return $out;
            PHP, $args, 300);
    }

    /** The hash core writes with the setting off: phpass before 6.8, its `$wp$2y$` bcrypt from 6.8. */
    private static function coreHashPattern(): string
    {
        return version_compare(Env::get('WPF_E2E_WP_VERSION'), '6.8-alpha', '>=') ? '/^wp_bcrypt /' : '/^phpass /';
    }

    private static function describe(): string
    {
        return 'WordPress ' . Env::get('WPF_E2E_WP_VERSION');
    }

    /** Makes user_pass varchar(64), as before WordPress 4.4; fails first if a stored hash would not fit. */
    private static function narrowColumn(): void
    {
        $users = WordPress::table('users');
        $long = WordPress::query("SELECT user_login, LENGTH(user_pass) FROM $users WHERE LENGTH(user_pass) > " . self::OLD);
        if ($long !== []) {
            // Only this class's user can hold one (earlier tests); anything else is a setup problem.
            foreach ($long as [$login]) {
                self::assertSame(self::LOGIN, $login, 'a user with a hash longer than 64 characters: ' . json_encode($long));
            }
            WordPress::query("UPDATE $users SET user_pass = '' WHERE user_login = '" . self::LOGIN . "'");
        }
        WordPress::query("ALTER TABLE $users MODIFY user_pass varchar(" . self::OLD . ") NOT NULL DEFAULT ''");
    }

    /** user_pass as WordPress 4.4 and later create it. */
    private static function widenColumn(): void
    {
        WordPress::query('ALTER TABLE ' . WordPress::table('users') . ' MODIFY user_pass varchar(' . self::WIDE . ") NOT NULL DEFAULT ''");
    }

    private static function strictMuPlugin(): string
    {
        return Env::get('WPF_E2E_WP_DIR') . '/wp-content/mu-plugins/' . self::STRICT_MU_PLUGIN;
    }

    /** Every WordPress request (and wp.sh) from now on runs its queries in strict SQL mode. */
    private static function useStrictMode(): void
    {
        file_put_contents(self::strictMuPlugin(), <<<'PHP'
            <?php
            // Test only (PasswordSemanticsTest): WordPress's database session in strict SQL mode.
            $GLOBALS['wpdb']->query( "SET SESSION sql_mode = 'STRICT_ALL_TABLES'" );
            PHP);
    }

    private static function removeStrictMode(): void
    {
        if (is_file(self::strictMuPlugin())) {
            unlink(self::strictMuPlugin());
        }
    }

    /** Deletes the users whose login starts with $prefix (all of this class's by default). */
    private static function deleteTestUsers(string $prefix = 'pwsem_'): void
    {
        WordPress::php(<<<'PHP'
            require_once ABSPATH . 'wp-admin/includes/user.php';
            foreach ( get_users( array( 'search' => $args[0] . '*', 'search_columns' => array( 'user_login' ), 'fields' => 'ID' ) ) as $id ) {
                wp_delete_user( (int) $id );
            }
            return true;
            PHP, [$prefix]);
    }

    private static function storedHash(int $id): string
    {
        return (string) WordPress::query(sprintf('SELECT user_pass FROM %s WHERE ID = %d', WordPress::table('users'), $id))[0][0];
    }
}
