<?php
// Logging in through the real wp-login.php with every kind of password hash WordPress can hold
// (phpass, plain md5, bcrypt, WordPress 6.8's $wp$2y$, argon2i, argon2id), with the plugin's
// "argon2id passwords" setting on and off, on whichever WordPress the environment runs
// (scripts/test.sh runs the suite on 6.1 and on 6.8). Each login must set the logged-in cookie
// and open the user's own profile page; a wrong password must not; and the stored hash must
// end up as that WordPress and setting upgrade it: argon2id with the setting on, core's own
// hash with it off.
final class LoginMatrixTest extends E2eTestCase
{
    /** The hash kinds, each made from the user's password inside WordPress (PHP 8.2's password_hash, core's phpass). */
    private const KINDS = [
        'phpass' => '(new PasswordHash(8, true))->HashPassword($p)',
        'md5' => 'md5($p)',
        'bcrypt' => 'password_hash($p, PASSWORD_BCRYPT)',
        'wp_bcrypt' => '"\$wp" . password_hash(base64_encode(hash_hmac("sha384", $p, "wp-sha384", true)), PASSWORD_BCRYPT)',
        'argon2i' => 'password_hash($p, PASSWORD_ARGON2I)',
        'argon2id' => 'password_hash($p, PASSWORD_ARGON2ID)',
    ];

    /** What each kind's stored hash looks like, so the setup is what the test claims. */
    private const PATTERNS = [
        'phpass' => '/^\$P\$/',
        'md5' => '/^[0-9a-f]{32}$/',
        'bcrypt' => '/^\$2y\$/',
        'wp_bcrypt' => '/^\$wp\$2y\$/',
        'argon2i' => '/^\$argon2i\$/',
        'argon2id' => '/^\$argon2id\$/',
    ];

    public static function tearDownAfterClass(): void
    {
        WordPress::configure(['argon2_passwords' => false]);
        self::deleteMatrixUsers();
    }

    public static function settingStates(): array
    {
        return ['argon2id passwords on' => [true], 'argon2id passwords off' => [false]];
    }

    /** @dataProvider settingStates */
    public function test_every_kind_of_hash_logs_in_and_is_upgraded_as_expected(bool $argon2): void
    {
        WordPress::configure(['argon2_passwords' => $argon2]);
        $users = self::createMatrixUsers();

        foreach ($users as $kind => $user) {
            $wrong = $this->logIn($user['login'], $user['password'] . 'x');
            $this->assertSame(200, $wrong['response']->status, "$kind: a wrong password must show the login form again");
            $this->assertStringContainsString('login_error', $wrong['response']->body, "$kind: a wrong password must show an error");
            $this->assertSame([], preg_grep('/^wordpress_logged_in_/', array_keys($wrong['client']->cookies())), "$kind: a wrong password set a logged-in cookie");
            $this->assertSame($user['hash'], self::storedHash($user['id']), "$kind: a wrong password changed the stored hash");

            $this->assertLogsIn($kind, $user);
            $after = self::storedHash($user['id']);
            $this->assertMatchesRegularExpression(self::expectedAfterLogin($kind, $argon2), $after,
                "$kind: unexpected hash after a successful login (" . self::describeSetting($argon2) . ')');
            // The upgraded hash (or the kept one) must log in too.
            $this->assertLogsIn("$kind, second login", $user);
        }
    }

    /** Users whose hashes became argon2id while the setting was on are not locked out when it goes off. */
    public function test_turning_the_setting_off_locks_nobody_out(): void
    {
        WordPress::configure(['argon2_passwords' => true]);
        $users = self::createMatrixUsers();
        foreach ($users as $kind => $user) {
            $this->assertLogsIn("$kind, setting on", $user);
            $this->assertMatchesRegularExpression(self::PATTERNS['argon2id'], self::storedHash($user['id']), "$kind: not upgraded to argon2id with the setting on");
        }

        WordPress::configure(['argon2_passwords' => false]);
        foreach ($users as $kind => $user) {
            $this->assertLogsIn("$kind, setting off again", $user);
        }
    }

    /** The pattern of the stored hash after a successful login. */
    private static function expectedAfterLogin(string $kind, bool $argon2): string
    {
        if ($argon2) {
            return self::PATTERNS['argon2id'];
        }
        if (version_compare(Env::get('WPF_E2E_WP_VERSION'), '6.8-alpha', '>=')) {
            return self::PATTERNS['wp_bcrypt']; // 6.8 rehashes every other kind to its own bcrypt at login.
        }
        return self::PATTERNS[$kind === 'md5' ? 'phpass' : $kind]; // 6.1 only rehashes md5.
    }

    private static function describeSetting(bool $argon2): string
    {
        return 'WordPress ' . Env::get('WPF_E2E_WP_VERSION') . ', argon2id passwords ' . ($argon2 ? 'on' : 'off');
    }

    /** One successful login: 302 to the profile, a logged-in cookie, and the user's own profile page. */
    private function assertLogsIn(string $what, array $user): void
    {
        $right = $this->logIn($user['login'], $user['password']);
        $response = $right['response'];
        $this->assertSame(302, $response->status, "$what: wp-login.php refused the right password: " . substr(trim(strip_tags($response->body)), 0, 400));
        $this->assertStringEndsWith('/wp-admin/profile.php', (string) $response->header('location'), $what);
        $this->assertNotEmpty(preg_grep('/^wordpress_logged_in_/', array_keys($right['client']->cookies())), "$what: no logged-in cookie");
        $profile = $right['client']->get(Env::url() . '/wp-admin/profile.php');
        $this->assertSame(200, $profile->status, "$what: the profile page did not open with the new cookies");
        $this->assertMatchesRegularExpression('/id="email"[^>]*value="' . preg_quote($user['email'], '/') . '"/', $profile->body, "$what: the profile page is not the user's own");
    }

    /**
     * Fresh users, one per kind, each with its own random password and its hash written
     * straight into the users table (as a site migrated from elsewhere holds it).
     *
     * @return array<string, array{id: int, login: string, email: string, password: string, hash: string}>
     */
    private static function createMatrixUsers(): array
    {
        self::deleteMatrixUsers();
        $users = WordPress::php(<<<'PHP'
            require_once ABSPATH . WPINC . '/class-phpass.php';
            global $wpdb;
            $users = array();
            foreach ( $args as $kind => $expression ) {
                $p     = 'Pw-' . $kind . '-' . bin2hex( random_bytes( 6 ) );
                $login = 'matrix_' . $kind;
                $email = $login . '@example.com';
                $id    = wp_insert_user( array( 'user_login' => $login, 'user_email' => $email, 'user_pass' => wp_generate_password( 24 ), 'role' => 'subscriber' ) );
                if ( is_wp_error( $id ) ) {
                    throw new RuntimeException( $id->get_error_message() );
                }
                $hash = eval( 'return ' . $expression . ';' );
                $wpdb->update( $wpdb->users, array( 'user_pass' => $hash ), array( 'ID' => $id ) );
                clean_user_cache( $id );
                $users[ $kind ] = array( 'id' => $id, 'login' => $login, 'email' => $email, 'password' => $p, 'hash' => $hash );
            }
            return $users;
            PHP, self::KINDS);
        foreach ($users as $kind => $user) {
            $stored = self::storedHash($user['id']);
            self::assertSame($user['hash'], $stored, "$kind: the hash was not stored as made");
            self::assertMatchesRegularExpression(self::PATTERNS[$kind], $stored, "$kind: not the kind of hash the test means");
        }
        return $users;
    }

    private static function deleteMatrixUsers(): void
    {
        WordPress::php(<<<'PHP'
            require_once ABSPATH . 'wp-admin/includes/user.php';
            foreach ( get_users( array( 'search' => 'matrix_*', 'search_columns' => array( 'user_login' ), 'fields' => 'ID' ) ) as $id ) {
                wp_delete_user( (int) $id );
            }
            return true;
            PHP);
    }

    private static function storedHash(int $id): string
    {
        return (string) WordPress::query(sprintf('SELECT user_pass FROM %s WHERE ID = %d', WordPress::table('users'), $id))[0][0];
    }
}
