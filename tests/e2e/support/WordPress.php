<?php
// The e2e WordPress from the test process: PHP inside WordPress through tests/e2e/env/wp.sh
// (settings, users, roles) and SQL through tests/e2e/env/mysql.sh (counts and snapshots read
// straight from the tables, so they do not depend on WordPress's caches).
final class WordPress
{
    private const MARK = "\n@@wpf-e2e-result@@";

    /**
     * Runs $code inside WordPress with $args in scope as `$args`; the code's `return` value
     * comes back JSON-decoded.
     */
    public static function php(string $code, array $args = [], float $timeout = 60): mixed
    {
        $snippet = '$args = ' . var_export($args, true) . ";\n"
            . '$wpf_e2e_result = (function () use ($args) {' . "\n" . $code . "\n})();\n"
            . 'echo ' . var_export(self::MARK, true) . ' . json_encode($wpf_e2e_result, JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR);';
        [$exit, $out, $err] = Proc::run([Env::envScript('wp.sh'), $snippet], $timeout);
        $at = strrpos($out, self::MARK);
        if ($exit !== 0 || $at === false) {
            throw new RuntimeException("wp.sh failed (exit $exit):\n" . trim($err . "\n" . $out) . "\ncode:\n$code");
        }
        return json_decode(substr($out, $at + strlen(self::MARK)), true);
    }

    /** @return list<list<string|null>> rows of a query as the WordPress DB user (batch mode: tabs and newlines in values come back escaped as \t and \n). */
    public static function query(string $sql): array
    {
        [$exit, $out, $err] = Proc::run([Env::envScript('mysql.sh'), '-N', '-B', '-e', $sql], 30);
        if ($exit !== 0) {
            throw new RuntimeException("mysql.sh failed (exit $exit): $err\nquery: $sql");
        }
        $rows = [];
        foreach (explode("\n", rtrim($out, "\n")) as $line) {
            if ($line !== '') {
                $rows[] = array_map(static fn (string $v): ?string => $v === 'NULL' ? null : $v, explode("\t", $line));
            }
        }
        return $rows;
    }

    public static function table(string $name): string
    {
        return Env::get('WPF_E2E_DB_PREFIX') . $name;
    }

    public static function countUsers(): int
    {
        return (int) self::query('SELECT COUNT(*) FROM ' . self::table('users'))[0][0];
    }

    /** User ids whose meta $key is $value, from the DB. @return list<int> */
    public static function userIdsWithMeta(string $key, string $value): array
    {
        $rows = self::query(sprintf("SELECT user_id FROM %s WHERE meta_key = '%s' AND meta_value = '%s' ORDER BY user_id",
            self::table('usermeta'), addslashes($key), addslashes($value)));
        return array_map(static fn (array $row): int => (int) $row[0], $rows);
    }

    /**
     * Every row of the users and usermeta tables as sorted text lines: compare two snapshots to
     * prove a request changed nothing. session_tokens is left out: it changes whenever the
     * admin logs in, which is not a webhook's doing.
     *
     * @return list<string>
     */
    public static function usersSnapshot(): array
    {
        $lines = [];
        foreach (self::query('SELECT ID, user_login, user_pass, user_nicename, user_email, user_url, user_registered, user_activation_key, user_status, display_name FROM ' . self::table('users') . ' ORDER BY ID') as $row) {
            $lines[] = 'user ' . implode(' | ', $row);
        }
        foreach (self::query('SELECT umeta_id, user_id, meta_key, meta_value FROM ' . self::table('usermeta') . " WHERE meta_key <> 'session_tokens' ORDER BY umeta_id") as $row) {
            $lines[] = 'meta ' . implode(' | ', $row);
        }
        return $lines;
    }

    /** The stored plugin settings (option wpf_bridge_settings). */
    public static function settings(): array
    {
        return self::php('return get_option("wpf_bridge_settings");');
    }

    /**
     * Stores the plugin settings: the stored ones with $changes applied, through the plugin's
     * own WPF_Bridge_Settings::save(), after the extension (loaded in the CLI too) accepted them.
     */
    public static function configure(array $changes): array
    {
        return self::php(<<<'PHP'
            $settings = array_merge( WPF_Bridge_Settings::stored(), $args );
            wpf_bridge_validate_settings( WPF_Bridge_Settings::for_extension( WPF_Bridge_Settings::with_constants( $settings ) ) );
            WPF_Bridge_Settings::save( $settings );
            return WPF_Bridge_Settings::stored();
            PHP, $changes);
    }

    /** The access key in force. */
    public static function accessKey(): string
    {
        $key = (string) (self::settings()['access_key'] ?? '');
        if ($key === '') {
            throw new RuntimeException('the plugin has no access key: was it activated (WPF_E2E_PLUGIN_ACTIVE)?');
        }
        return $key;
    }

    /** Settings pointing at the fake CRM (Mautic with basic auth, User.com with its key) and the suite's usual options; $overrides win. */
    public static function fakeCrmSettings(string $crm, array $overrides = []): array
    {
        return $overrides + [
            'crm' => $crm,
            'mautic_url' => Env::get('WPF_E2E_MAUTIC_URL'),
            'mautic_username' => Env::get('WPF_E2E_MAUTIC_USER'),
            'mautic_password' => Env::get('WPF_E2E_MAUTIC_PASSWORD'),
            'mautic_token' => '',
            'userengage_url' => Env::get('WPF_E2E_USERENGAGE_URL'),
            'userengage_api_key' => Env::get('WPF_E2E_USERENGAGE_KEY'),
            // What the suite's classes share; each passes only what it changes.
            'webhook_secret' => '',
            'return_password' => true,
            'return_password_field' => 'wp_password',
            'field_map' => [],
            'allowed_roles' => ['customer'],
            'default_role' => '',
            'send_welcome_email' => false,
            'username_format' => 'email',
            // The suites that check what one webhook does read its per-event results from the
            // answer: immediate processing (stored, applied in the request, answered). The
            // queue's background flow has its own tests, which pass 'processing' => 'background'.
            'processing' => 'immediate',
        ];
    }

    /** Registers a role (idempotent). */
    public static function addRole(string $slug, string $name, array $caps = ['read' => true]): void
    {
        self::php('if ( ! get_role( $args[0] ) ) { add_role( $args[0], $args[1], $args[2] ); } return (bool) get_role( $args[0] );', [$slug, $name, $caps]);
    }

    /** Deletes every user but the admin, so a test class starts from a known set of users. */
    public static function deleteAllUsersButAdmin(): void
    {
        self::php(<<<'PHP'
            require_once ABSPATH . 'wp-admin/includes/user.php';
            $admin = get_user_by( 'login', getenv( 'WPF_E2E_ADMIN_USER' ) ?: 'admin' );
            foreach ( get_users( array( 'fields' => 'ID' ) ) as $id ) {
                if ( ! $admin || (int) $id !== (int) $admin->ID ) {
                    wp_delete_user( (int) $id );
                }
            }
            return true;
            PHP);
    }

    /** Creates a user with meta; returns its id. */
    public static function createUser(string $login, string $email, array $core = [], array $meta = []): int
    {
        return (int) self::php(<<<'PHP'
            $id = wp_insert_user( array_merge( $args['core'], array(
                'user_login' => $args['login'],
                'user_email' => $args['email'],
                'user_pass'  => wp_generate_password( 24 ),
                'role'       => 'subscriber',
            ) ) );
            if ( is_wp_error( $id ) ) {
                throw new RuntimeException( $id->get_error_message() );
            }
            foreach ( $args['meta'] as $key => $value ) {
                update_user_meta( $id, $key, $value );
            }
            return $id;
            PHP, ['login' => $login, 'email' => $email, 'core' => $core, 'meta' => $meta]);
    }

    /**
     * A user as the tests check it: login, email, names, roles and the meta values, read from
     * a fresh WordPress process (no cache from the request that wrote them). Null when absent.
     */
    public static function user(int $id): ?array
    {
        return self::php(<<<'PHP'
            $user = get_userdata( $args[0] );
            if ( ! $user ) {
                return null;
            }
            $meta = array();
            foreach ( get_user_meta( $user->ID ) as $key => $values ) {
                $meta[ $key ] = maybe_unserialize( $values[0] );
            }
            return array(
                'id'         => $user->ID,
                'login'      => $user->user_login,
                'email'      => $user->user_email,
                'first_name' => $user->first_name,
                'last_name'  => $user->last_name,
                'roles'      => array_values( $user->roles ),
                'meta'       => $meta,
            );
            PHP, [$id]);
    }

    /** The newest entries of the webhook log table, newest first. */
    public static function logRows(int $limit = 100): array
    {
        $rows = self::query(sprintf('SELECT id, action, crm, contact_ids, user_ids, status, outcome, details, refused, hits, source FROM %s ORDER BY id DESC LIMIT %d',
            self::table('wpf_bridge_log'), $limit));
        return array_map(static fn (array $r): array => array_combine(['id', 'action', 'crm', 'contact_ids', 'user_ids', 'status', 'outcome', 'details', 'refused', 'hits', 'source'], $r), $rows);
    }

    public static function lastLogId(): int
    {
        return (int) (self::query('SELECT COALESCE(MAX(id), 0) FROM ' . self::table('wpf_bridge_log'))[0][0]);
    }

    /** Mail files captured so far (sorted = sending order). @return list<string> */
    public static function mailFiles(): array
    {
        $files = glob(Env::get('WPF_E2E_MAIL_DIR') . '/*.json') ?: [];
        sort($files);
        return $files;
    }

    /** Mails captured since $before (a mailFiles() result), decoded. @return list<array> */
    public static function mailsSince(array $before): array
    {
        $mails = [];
        foreach (array_diff(self::mailFiles(), $before) as $file) {
            $mails[] = json_decode((string) file_get_contents($file), true) + ['file' => $file];
        }
        return $mails;
    }
}
