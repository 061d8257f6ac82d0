<?php
// Webhooks on a subdirectory multisite network (an environment started with
// WPF_E2E_MULTISITE=1: the main site at / and a second site at /site2/, the plugin
// network-activated; tests/e2e/phpunit-multisite.xml).
//
// Each site has its own settings, access key and log. Users and their meta are the network's,
// so a contact's link (`mautic_contact_id`) and tags (`mautic_tags`) are per network, as in
// WP Fusion without its multisite_prefix_keys option; roles are per site. Super admins are
// protected like administrators on every site, even one where they hold no role.
final class MultisiteTest extends E2eTestCase
{
    private const MEMBER_CONTACT = 700;
    private const MEMBER_EMAIL = 'site2.member@example.com';
    private const SUPER_CONTACT = 710;
    private const SUPER_LOGIN = 'netadmin';
    private const SUPER_EMAIL = 'netadmin@example.com';

    private static int $site2;

    public static function setUpBeforeClass(): void
    {
        if (Env::get('WPF_E2E_MULTISITE') !== '1') {
            throw new RuntimeException('MultisiteTest needs a multisite environment: WPF_E2E_MULTISITE=1 scripts/test-e2e.sh');
        }
        self::$site2 = (int) WordPress::php('$site = get_site_by_path( get_network()->domain, get_network()->path . "site2/" ); return $site ? (int) $site->blog_id : 0;');
        self::assertGreaterThan(1, self::$site2, 'no /site2/ on the network');
        foreach ([1, self::$site2] as $blog) {
            self::onSite($blog, 'if ( ! get_role( "customer" ) ) { add_role( "customer", "Customer", array( "read" => true ) ); } return true;');
            self::configureSite($blog, WordPress::fakeCrmSettings('mautic'));
        }
        self::deleteNetworkUsersButAdmin();
        FakeCrm::reset();
    }

    public function test_the_network_and_its_sites_are_what_the_tests_assume(): void
    {
        $this->assertTrue(WordPress::php('return is_multisite() && ! is_subdomain_install();'));
        $this->assertNotSame(self::siteKey(1), self::siteKey(self::$site2), 'each site has its own access key');
        $ping = self::postJson(self::siteUrl(self::$site2, 'test'), '');
        $this->assertSame(200, $ping->status, $ping->describe());
        // nginx's subdirectory rewrites: site2's front page and its login form are served.
        $http = new Http();
        $front = $http->request('GET', Env::url() . '/site2/');
        $this->assertSame(200, $front->status, $front->describe());
        $this->assertStringContainsString('wpf-bridge e2e site2', $front->body, 'the front page is not site2\'s');
        $login = $http->request('GET', Env::url() . '/site2/wp-login.php');
        $this->assertSame(200, $login->status, $login->describe());
        $this->assertStringContainsString('/site2/wp-login.php', $login->body, 'the login form does not post to site2');
    }

    /** @return int the new user's id */
    public function test_add_on_a_subsite_creates_a_network_user_who_is_a_member_of_that_site_only(): int
    {
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::MEMBER_CONTACT, self::MEMBER_EMAIL, 'Sita', 'Two', ['site2-tag']));
        $mainQueue = self::lastQueuedId(1);
        $site2Queue = self::lastQueuedId(self::$site2);

        $response = self::postJson(self::siteUrl(self::$site2, 'add', ['contact_id' => (string) self::MEMBER_CONTACT, 'role' => 'customer']), '');

        $results = $this->assertWebhookSucceeded($response, 'add', 'mautic');
        $this->assertSame('created', $results[0]['outcome'], $response->describe());
        $this->assertSame('customer', $results[0]['role'] ?? null, $response->describe());
        $id = (int) $results[0]['user_id'];

        $facts = self::userFacts($id);
        $this->assertSame(self::MEMBER_EMAIL, $facts['email'], 'the user is in the network\'s users table');
        $this->assertSame(['customer'], $facts['roles'][self::$site2], 'the requested role on site2');
        $this->assertTrue($facts['member'][self::$site2], 'a member of site2');
        $this->assertFalse($facts['member'][1], 'not a member of the main site');
        $this->assertSame(self::$site2, $facts['primary_blog'], 'site2 is the user\'s primary site');
        $this->assertSame((string) self::MEMBER_CONTACT, $facts['meta']['mautic_contact_id'] ?? null, 'the link is network user meta, unprefixed');
        $this->assertSameTags(['site2-tag'], $facts['meta']['mautic_tags'] ?? null);
        $this->assertSame([$id], WordPress::userIdsWithMeta('mautic_contact_id', (string) self::MEMBER_CONTACT));

        $this->assertSame($mainQueue, self::lastQueuedId(1), 'the main site\'s queue must not have the subsite\'s webhook');
        $this->assertGreaterThan($site2Queue, self::lastQueuedId(self::$site2), 'site2\'s own queue has the webhook');
        return $id;
    }

    /** @depends test_add_on_a_subsite_creates_a_network_user_who_is_a_member_of_that_site_only */
    public function test_update_on_the_subsite_finds_its_user(int $id): void
    {
        FakeCrm::reset();
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::MEMBER_CONTACT, self::MEMBER_EMAIL, 'Sita', 'Renamed', ['gold']));
        $users = WordPress::countUsers();

        $response = self::postJson(self::siteUrl(self::$site2, 'update', ['contact_id' => (string) self::MEMBER_CONTACT]), '');

        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        $this->assertSame($id, (int) $results[0]['user_id'], $response->describe());
        $this->assertSame($users, WordPress::countUsers());
        $facts = self::userFacts($id);
        $this->assertSame('Renamed', $facts['meta']['last_name'] ?? null);
        $this->assertSameTags(['gold'], $facts['meta']['mautic_tags'] ?? null);
        $this->assertSame(['customer'], $facts['roles'][self::$site2]);
    }

    /** @depends test_add_on_a_subsite_creates_a_network_user_who_is_a_member_of_that_site_only */
    public function test_the_contact_link_is_the_networks_but_roles_stay_per_site(int $id): void
    {
        FakeCrm::reset();
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::MEMBER_CONTACT, self::MEMBER_EMAIL, 'Sita', 'Main', ['gold', 'main']));

        // The main site finds the same user through the network-wide link; with no role asked,
        // the user does not become a member of the main site.
        $response = self::postJson(self::siteUrl(1, 'update', ['contact_id' => (string) self::MEMBER_CONTACT]), '');
        $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
        $this->assertSame('updated', $results[0]['outcome'], $response->describe());
        $this->assertSame($id, (int) $results[0]['user_id'], $response->describe());
        $facts = self::userFacts($id);
        $this->assertSame('Main', $facts['meta']['last_name'] ?? null);
        $this->assertSameTags(['gold', 'main'], $facts['meta']['mautic_tags'] ?? null, 'tags are the network\'s');
        $this->assertFalse($facts['member'][1]);
        $this->assertSame(['customer'], $facts['roles'][self::$site2], 'site2\'s role is untouched');
    }

    public function test_a_background_add_on_a_subsite_is_queued_and_applied_on_that_site(): void
    {
        // The network's one must-use loader answers for site2, from site2's queue, then the
        // request that took site2's drain lease applies it after the answer.
        $contact = self::MEMBER_CONTACT + 50;
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($contact, "queued-$contact@example.com", 'Queued', 'Two', []));
        $this->assertFileExists(Env::get('WPF_E2E_WP_DIR') . '/wp-content/mu-plugins/wpf-bridge-loader.php');
        $mainQueue = self::lastQueuedId(1);
        $response = self::postJson(self::siteUrl(self::$site2, 'add', ['contact_id' => (string) $contact, 'async' => 'true']), '');
        $this->assertSame(200, $response->status, $response->describe());
        $queued = $response->json()['queued'] ?? [];
        $this->assertSame((string) $contact, $queued[0]['contact_id'] ?? null, $response->describe());
        $id = (int) $queued[0]['id'];
        $deadline = microtime(true) + 15;
        do {
            $state = self::onSite(self::$site2, 'global $wpdb; return $wpdb->get_var( $wpdb->prepare( "SELECT state FROM {$wpdb->prefix}wpf_bridge_queue WHERE id = %d", $args[0] ) );', [$id]);
        } while ($state !== 'done' && microtime(true) < $deadline && usleep(200000) === null);
        $this->assertSame('done', $state, 'site2\'s event was not applied');
        $users = WordPress::userIdsWithMeta('mautic_contact_id', (string) $contact);
        $this->assertCount(1, $users);
        $facts = self::userFacts($users[0]);
        $this->assertTrue($facts['member'][self::$site2], 'a member of site2');
        $this->assertFalse($facts['member'][1], 'not a member of the main site');
        $this->assertSame($mainQueue, self::lastQueuedId(1), 'the main site\'s queue is untouched');
    }

    public function test_one_sites_access_key_does_not_open_another_site(): void
    {
        $before = WordPress::usersSnapshot();
        $this->assertWebhookError(
            self::postJson(self::siteUrl(self::$site2, 'add', ['contact_id' => '799', 'role' => 'customer'], self::siteKey(1)), ''),
            403, 'invalid_access_key');
        $this->assertWebhookError(
            self::postJson(self::siteUrl(1, 'add', ['contact_id' => '799', 'role' => 'customer'], self::siteKey(self::$site2)), ''),
            403, 'invalid_access_key');
        $this->assertUsersUnchanged($before, WordPress::usersSnapshot(), 'a key of the wrong site');
    }

    /**
     * A super admin holds no role on site2 and only "subscriber" on the main site: only being
     * a super admin makes them untouchable, and a webhook to either site must not change their
     * email or role (nor make them a member of site2).
     */
    public function test_super_admins_are_never_changed_by_a_webhook_on_any_site(): void
    {
        $id = WordPress::createUser(self::SUPER_LOGIN, self::SUPER_EMAIL, [], ['mautic_contact_id' => (string) self::SUPER_CONTACT]);
        WordPress::php('grant_super_admin( $args[0] ); return is_super_admin( $args[0] );', [$id]);
        $this->assertTrue(WordPress::php('return is_super_admin( $args[0] );', [$id]));
        $before = self::userFacts($id);
        $this->assertSame(['subscriber'], $before['roles'][1]);
        $this->assertFalse($before['member'][self::$site2]);

        FakeCrm::reset();
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(self::SUPER_CONTACT, 'taken-over@example.com', 'Net', 'Changed', ['t']));
        foreach ([self::$site2, 1] as $blog) {
            $response = self::postJson(self::siteUrl($blog, 'update', ['contact_id' => (string) self::SUPER_CONTACT, 'role' => 'customer']), '');
            $results = $this->assertWebhookSucceeded($response, 'update', 'mautic');
            $this->assertSame($id, (int) $results[0]['user_id'], $response->describe());
            $this->assertSame('protected_user', $results[0]['role_refused'] ?? null, "site $blog: " . $response->describe());

            $after = self::userFacts($id);
            $this->assertSame(self::SUPER_EMAIL, $after['email'], "site $blog: a webhook changed a super admin's email");
            $this->assertSame($before['roles'], $after['roles'], "site $blog: a webhook changed a super admin's roles");
            $this->assertSame($before['member'], $after['member'], "site $blog: a webhook changed a super admin's sites");
            $this->assertSame($before['pass'], $after['pass'], "site $blog: a webhook changed a super admin's password");
            $this->assertTrue($after['super_admin']);
        }
    }

    // ---- helpers ------------------------------------------------------------------

    /** A webhook URL on one site of the network: /?wpf_action=... or /site2/?wpf_action=... */
    private static function siteUrl(int $blog, string $action, array $params = [], ?string $key = null): string
    {
        $path = (string) WordPress::php('return get_site( $args[0] )->path;', [$blog]);
        $query = ['wpf_action' => $action, 'access_key' => $key ?? self::siteKey($blog)] + $params;
        return Env::url() . rtrim($path, '/') . '/?' . http_build_query($query);
    }

    private static function siteKey(int $blog): string
    {
        $key = (string) self::onSite($blog, 'return WPF_Bridge_Settings::stored()["access_key"];');
        self::assertNotSame('', $key, "site $blog has no access key: was the plugin network-activated?");
        return $key;
    }

    /** Runs $code inside WordPress switched to $blog. */
    private static function onSite(int $blog, string $code, array $args = []): mixed
    {
        return WordPress::php('switch_to_blog( $args["blog"] ); try { $args = $args["args"]; ' . $code . "\n} finally { restore_current_blog(); }",
            ['blog' => $blog, 'args' => $args]);
    }

    private static function configureSite(int $blog, array $changes): void
    {
        self::onSite($blog, <<<'PHP'
            $settings = array_merge( WPF_Bridge_Settings::stored(), $args );
            wpf_bridge_validate_settings( WPF_Bridge_Settings::for_extension( WPF_Bridge_Settings::with_constants( $settings ) ) );
            WPF_Bridge_Settings::save( $settings );
            return true;
            PHP, $changes);
    }

    /** The newest event id in a site's queue table (a stored webhook's record). */
    private static function lastQueuedId(int $blog): int
    {
        return (int) self::onSite($blog, 'global $wpdb; return (int) $wpdb->get_var( "SELECT COALESCE(MAX(id), 0) FROM {$wpdb->prefix}wpf_bridge_queue" );');
    }

    /** What a webhook could change about a user, read from the database in a fresh process. */
    private static function userFacts(int $id): array
    {
        return WordPress::php(<<<'PHP'
            global $wpdb;
            $id    = $args['id'];
            $facts = array( 'member' => array(), 'roles' => array() );
            foreach ( $args['blogs'] as $blog ) {
                $facts['member'][ $blog ] = is_user_member_of_blog( $id, $blog );
                switch_to_blog( $blog );
                $facts['roles'][ $blog ] = array_values( ( new WP_User( $id ) )->roles );
                restore_current_blog();
            }
            $row                  = $wpdb->get_row( $wpdb->prepare( "SELECT user_email, user_pass FROM {$wpdb->users} WHERE ID = %d", $id ) );
            $facts['email']       = $row->user_email;
            $facts['pass']        = $row->user_pass;
            $facts['super_admin'] = is_super_admin( $id );
            $facts['primary_blog'] = (int) get_user_meta( $id, 'primary_blog', true );
            $facts['meta']        = array();
            foreach ( get_user_meta( $id ) as $key => $values ) {
                $facts['meta'][ $key ] = maybe_unserialize( $values[0] );
            }
            return $facts;
            PHP, ['id' => $id, 'blogs' => [1, self::$site2]]);
    }

    /** Removes every network user but the admin (wp_delete_user only removes from one site). */
    private static function deleteNetworkUsersButAdmin(): void
    {
        WordPress::php(<<<'PHP'
            require_once ABSPATH . 'wp-admin/includes/user.php';
            require_once ABSPATH . 'wp-admin/includes/ms.php';
            global $wpdb;
            $admin = get_user_by( 'login', getenv( 'WPF_E2E_ADMIN_USER' ) ?: 'admin' );
            foreach ( $wpdb->get_col( "SELECT ID FROM {$wpdb->users}" ) as $id ) {
                if ( (int) $id !== (int) $admin->ID ) {
                    revoke_super_admin( (int) $id );
                    wpmu_delete_user( (int) $id );
                }
            }
            return true;
            PHP);
    }
}
