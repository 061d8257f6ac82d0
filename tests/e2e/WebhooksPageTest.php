<?php
// The webhooks page (Tools > WPF Bridge Webhooks, issue 10 test (f)) in headless Chromium,
// with events made by real background webhooks (answered `queued`, applied after the answer)
// for contacts in the fake Mautic: two applied (done),
// three failed at once (the contact has no email: contact_without_email, never retried), one
// retrying (the CRM answered 500 when it was loaded). Then: filter by state and by contact,
// Retry a failed event once its contact is fixed in the CRM (it ends done), Discard one,
// Retry all failed and Discard all failed, checking the queue table after each; a POST without
// a valid nonce changes nothing; a subscriber gets no access; Site Health reports failed and
// long-waiting events. Order inside the class matters: the browser logs in once.
final class WebhooksPageTest extends E2eTestCase
{
    use SharesBrowser;

    /** @var array<string, int> contact id => event id */
    private static array $events = [];

    public static function setUpBeforeClass(): void
    {
        WordPress::configure(WordPress::fakeCrmSettings('mautic', ['processing' => 'background', 'return_password' => false, 'retry_delays' => [30, 120, 600, 3600, 21600, 86400], 'keep_done_days' => 30]));
        WordPress::deleteAllUsersButAdmin();
        WordPress::query('TRUNCATE TABLE ' . WordPress::table('wpf_bridge_queue'));
        FakeCrm::reset();
        self::startBrowser();
    }

    public static function tearDownAfterClass(): void
    {
        self::quitBrowser();
    }

    /**
     * A Mautic contact-id `add` (a campaign's "Send a webhook") in background processing: the
     * answer says queued with the event's id; the request applies it after its answer. Waits
     * until the event is settled; returns its id.
     */
    private function addContact(int $contact): int
    {
        $response = (new Http())->postForm(self::webhookUrl('add', ['contact_id' => (string) $contact]), []);
        $this->assertSame(200, $response->status, $response->describe());
        $queued = $response->json()['queued'] ?? [];
        $this->assertCount(1, $queued, $response->describe());
        $this->assertSame((string) $contact, $queued[0]['contact_id'], $response->describe());
        $id = (int) $queued[0]['id'];
        $this->waitUntilSettled($id);
        return self::$events[(string) $contact] = $id;
    }

    /** Waits (30 s at most) until an event is neither pending nor claimed; returns its row. */
    private function waitUntilSettled(int $id): array
    {
        $deadline = microtime(true) + 30;
        while (true) {
            $row = self::events()[$id] ?? null;
            $this->assertNotNull($row, "event $id is not in the queue table");
            if (!in_array($row['state'], ['pending', 'claimed'], true)) {
                return $row;
            }
            $this->assertLessThan($deadline, microtime(true), "event $id is still {$row['state']} after 30 s");
            usleep(200000);
        }
    }

    /** @return array<int, array{id: string, contact_id: string, state: string, attempts: string, outcome: string, user_id: string, error_code: string}> by id */
    private static function events(): array
    {
        $rows = WordPress::query('SELECT id, contact_id, state, attempts, outcome, user_id, error_code FROM ' . WordPress::table('wpf_bridge_queue') . ' ORDER BY id');
        $out = [];
        foreach ($rows as $row) {
            $out[(int) $row[0]] = array_combine(['id', 'contact_id', 'state', 'attempts', 'outcome', 'user_id', 'error_code'], $row);
        }
        return $out;
    }

    /** The state of each event in the table, by contact id. */
    private static function statesByContact(): array
    {
        return array_column(self::events(), 'state', 'contact_id');
    }

    private static function page(array $args = []): string
    {
        return Env::url() . '/wp-admin/tools.php?' . http_build_query(['page' => 'wpf-bridge-webhooks'] + $args);
    }

    /** The events the page lists: id => [state, contact]. */
    private function listed(): array
    {
        $browser = $this->browser();
        $out = [];
        foreach ($browser->findAll('#wpf-bridge-events tr.wpf-bridge-event') as $row) {
            $out[(int) $browser->attribute($row, 'data-id')] = [
                $browser->attribute($row, 'data-state'),
                $browser->text($browser->findIn($row, '.column-contact')),
            ];
        }
        return $out;
    }

    /** Clicks a button that posts a form, and waits for the page after the redirect. */
    private function clickAndWait(string $css, string $notice): string
    {
        $browser = $this->browser();
        // Marks this page, so the notice is looked for on the next one only (a notice of the
        // page before could be found, then go stale when the new page replaces it).
        $browser->execute('document.body.dataset.wpfE2eOld = "1";');
        $browser->click($browser->find($css));
        $deadline = microtime(true) + 30;
        while ($browser->execute('return document.body && document.body.dataset.wpfE2eOld === "1";') && microtime(true) < $deadline) {
            usleep(100000);
        }
        $element = $browser->waitFor('#wpf-bridge-notice-' . $notice . ', .wpf-bridge-notice', 30);
        $browser->waitForLoad();
        $this->assertSame('wpf-bridge-notice-' . $notice, $browser->attribute($element, 'id'), 'notice: ' . $browser->text($element));
        return $browser->text($element);
    }

    /** Clicks a link or button that loads a new page (no notice), and waits for it. */
    private function clickAndLoad(string $css): void
    {
        $browser = $this->browser();
        $browser->execute('document.body.dataset.wpfE2eOld = "1";');
        $browser->click($browser->find($css));
        $deadline = microtime(true) + 30;
        while ($browser->execute('return !document.body || document.body.dataset.wpfE2eOld === "1" || document.readyState !== "complete";')) {
            $this->assertLessThan($deadline, microtime(true), "no new page after clicking $css");
            usleep(100000);
        }
        $browser->waitFor('#wpf-bridge-webhooks');
    }

    private function screenshot(string $name): void
    {
        $path = $this->browser()->screenshot(Env::screenshotDir() . "/$name.png");
        $bytes = (string) file_get_contents($path);
        $this->assertStringStartsWith("\x89PNG\r\n\x1a\n", $bytes, "$path is not a PNG");
        $this->assertGreaterThan(10 * 1024, strlen($bytes), "$path is suspiciously small for a page");
        fwrite(STDERR, "\nscreenshot: $path\n");
    }

    public function test_real_webhooks_leave_done_failed_and_retrying_events(): void
    {
        foreach ([8101 => 'done8101@example.com', 8102 => 'done8102@example.com', 8103 => '', 8104 => '', 8105 => '', 8106 => 'retry8106@example.com'] as $id => $email) {
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($id, $email, "First$id", 'Queue', ["tag-$id"]));
        }
        foreach ([8101, 8102, 8103, 8104, 8105] as $contact) {
            $this->addContact($contact);
        }
        // The CRM is down when contact 8106 is loaded: its event waits for a retry.
        FakeCrm::control('POST', 'fail', ['status' => 500, 'count' => 1]);
        $this->addContact(8106);

        $events = self::events();
        $this->assertSame(
            ['8101' => 'done', '8102' => 'done', '8103' => 'failed', '8104' => 'failed', '8105' => 'failed', '8106' => 'retrying'],
            self::statesByContact()
        );
        $this->assertSame('contact_without_email', $events[self::$events['8103']]['error_code']);
        $this->assertSame('crm_unavailable', $events[self::$events['8106']]['error_code']);
        $this->assertSame('created', $events[self::$events['8101']]['outcome']);
        $this->assertSame(WordPress::userIdsWithMeta('mautic_contact_id', '8101'), [(int) $events[self::$events['8101']]['user_id']]);
    }

    /** @depends test_real_webhooks_leave_done_failed_and_retrying_events */
    public function test_the_admin_sees_every_event_with_its_state_and_never_its_data(): void
    {
        $browser = $this->browser();
        $browser->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword());

        $browser->get(self::page());
        $browser->waitFor('#wpf-bridge-events');
        $browser->waitForLoad();
        $this->screenshot('10-webhooks');
        $e = self::$events;
        // Newest first.
        $this->assertSame([
            $e['8106'] => ['retrying', '8106'],
            $e['8105'] => ['failed', '8105'],
            $e['8104'] => ['failed', '8104'],
            $e['8103'] => ['failed', '8103'],
            $e['8102'] => ['done', '8102'],
            $e['8101'] => ['done', '8101'],
        ], $this->listed());

        // Retrying: the next attempt's time; failed: code and sentence; done: outcome and user.
        $retrying = $browser->find('#wpf-bridge-event-' . $e['8106']);
        $this->assertMatchesRegularExpression('/Next attempt: .+\(in \d+ (sec|secs|second|seconds)\)/', $browser->text($retrying));
        $this->assertStringContainsString('crm_unavailable', $browser->text($retrying));
        $failed = $browser->find('#wpf-bridge-event-' . $e['8103']);
        $this->assertSame('contact_without_email', $browser->text($browser->findIn($failed, '.wpf-bridge-error-code')));
        $this->assertNotSame('', $browser->text($browser->findIn($failed, '.wpf-bridge-error-message')));
        $done = $browser->find('#wpf-bridge-event-' . $e['8101']);
        $this->assertSame('created', $browser->text($browser->findIn($done, '.wpf-bridge-outcome')));
        $user = WordPress::userIdsWithMeta('mautic_contact_id', '8101')[0];
        $this->assertStringEndsWith('user-edit.php?user_id=' . $user, (string) $browser->attribute($browser->findIn($done, 'a.wpf-bridge-user'), 'href'));
        // Retry and Discard where the rules allow them: never on a done event.
        $this->assertSame([], $browser->findAll('#wpf-bridge-retry-' . $e['8101'] . ', #wpf-bridge-discard-' . $e['8101']));
        $this->assertCount(2, $browser->findAll('#wpf-bridge-retry-' . $e['8106'] . ', #wpf-bridge-discard-' . $e['8106']));
        $this->assertSame('3', $browser->attribute($browser->find('#wpf-bridge-view-failed'), 'data-count'));

        // No inline style or event handler: those are in assets/admin.css and admin.js.
        $html = (string) $browser->execute('return document.getElementById("wpf-bridge-webhooks").outerHTML;');
        $this->assertDoesNotMatchRegularExpression('/\s(style|on[a-z]+)=/i', $html);

        // What the events carried (names, emails, tags) is never on the page.
        $source = $browser->source();
        foreach (['done8101@example.com', 'First8101', 'tag-8101', WordPress::accessKey()] as $secret) {
            $this->assertStringNotContainsString($secret, $source);
        }
    }

    /** @depends test_the_admin_sees_every_event_with_its_state_and_never_its_data */
    public function test_filters_by_state_and_by_contact(): void
    {
        $browser = $this->browser();
        $e = self::$events;
        $browser->click($browser->find('#wpf-bridge-view-failed'));
        $browser->waitFor('#wpf-bridge-view-failed.current');
        $this->assertSame([$e['8105'], $e['8104'], $e['8103']], array_keys($this->listed()));
        $this->assertSame(['failed'], array_values(array_unique(array_column($this->listed(), 0))));

        // The contact filter keeps the state: failed events of 8102 (none), then every state.
        $browser->type($browser->find('#wpf-bridge-filter-contact'), '8102');
        $browser->click($browser->find('#wpf-bridge-filter-submit'));
        $browser->waitFor('#wpf-bridge-filter-clear');
        $this->assertSame([], $this->listed());
        $this->assertCount(1, $browser->findAll('#wpf-bridge-events .wpf-bridge-events-empty'));
        $browser->click($browser->find('#wpf-bridge-view-all'));
        $browser->waitFor('#wpf-bridge-view-all.current');
        $this->assertSame([$e['8102'] => ['done', '8102']], $this->listed());
        $this->assertSame('8102', $browser->property($browser->find('#wpf-bridge-filter-contact'), 'value'));

        // Filters the page does not understand are ignored, with a notice, never an error.
        $browser->get(self::page(['state' => "failed'--", 'contact' => "81\x0101"]));
        $browser->waitFor('#wpf-bridge-notice-invalid-filter');
        $this->assertCount(6, $this->listed());
        $browser->get(self::page(['state' => 'done', 'contact' => '<script>alert(1)</script>']));
        $browser->waitFor('#wpf-bridge-events');
        $this->assertSame([], $this->listed());
        $this->assertSame('<script>alert(1)</script>', $browser->property($browser->find('#wpf-bridge-filter-contact'), 'value'));
        $this->assertStringNotContainsString('<script>alert(1)</script>', $browser->source());
    }

    /** @depends test_the_admin_sees_every_event_with_its_state_and_never_its_data */
    public function test_retry_of_a_failed_event_applies_it_once_its_contact_is_fixed(): void
    {
        $browser = $this->browser();
        $id = self::$events['8103'];
        // The contact gets an email in the CRM; the failed event does not know until retried.
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(8103, 'fixed8103@example.com', 'First8103', 'Queue', ['tag-8103']));
        $browser->get(self::page(['state' => 'failed']));
        $browser->waitFor('#wpf-bridge-retry-' . $id);
        $notice = $this->clickAndWait('#wpf-bridge-retry-' . $id, 'retried');
        $this->assertStringContainsString("#$id", $notice);
        // Back on the same view after the redirect.
        $this->assertStringContainsString('state=failed', $browser->currentUrl());

        // The page applies retried events at once (its notice says what the drain did; a cron
        // tick holding the contact at that moment would apply it instead, within seconds).
        $this->assertStringContainsString('Applied now:', $notice);
        $row = $this->waitUntilSettled($id);
        $this->assertSame(['done', 'created', '1'], [$row['state'], $row['outcome'], $row['attempts']], 'attempts count again from zero');
        $users = WordPress::userIdsWithMeta('mautic_contact_id', '8103');
        $this->assertSame([(int) $row['user_id']], $users);
        $this->assertSame('fixed8103@example.com', WordPress::user($users[0])['email']);
        // The others did not move.
        $this->assertSame(['8104' => 'failed', '8105' => 'failed', '8106' => 'retrying'], array_intersect_key(self::statesByContact(), ['8104' => 1, '8105' => 1, '8106' => 1]));
    }

    /** @depends test_the_admin_sees_every_event_with_its_state_and_never_its_data */
    public function test_discard_of_one_event_deletes_it_and_nothing_else(): void
    {
        $browser = $this->browser();
        $id = self::$events['8106'];
        $before = self::events();
        $browser->get(self::page());
        $browser->waitFor('#wpf-bridge-discard-' . $id);
        $this->assertStringContainsString("#$id", $this->clickAndWait('#wpf-bridge-discard-' . $id, 'discarded'));
        $after = self::events();
        unset($before[$id]);
        $this->assertSame($before, $after);
        $this->assertArrayNotHasKey($id, $this->listed());
    }

    /** @depends test_the_admin_sees_every_event_with_its_state_and_never_its_data */
    public function test_a_post_without_a_valid_nonce_changes_nothing(): void
    {
        $a = self::$events['8104'];
        $b = self::$events['8105'];
        $admin = $this->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword())['client'];
        $html = $admin->get(self::page(['state' => 'failed']))->body;
        $this->assertMatchesRegularExpression('/id="wpf-bridge-discard-' . $a . '"/', $html);
        // The nonce of event A's Discard form.
        $this->assertSame(1, preg_match('/name="_wpf_bridge_nonce" value="([0-9a-f]+)">\s*<input type="hidden" name="event_id" value="' . $a . '">\s*<input[^>]*>\s*<input[^>]*>\s*<input[^>]*>\s*<button[^>]*id="wpf-bridge-discard-' . $a . '"/', $html, $m), 'no Discard form for event A');
        $nonceA = $m[1];
        $before = self::events();
        foreach ([
            'no nonce' => ['wpf_bridge_action' => 'discard_event', 'event_id' => (string) $b],
            'a made-up nonce' => ['wpf_bridge_action' => 'discard_event', 'event_id' => (string) $b, '_wpf_bridge_nonce' => 'deadbeef00'],
            "event A's nonce for event B" => ['wpf_bridge_action' => 'discard_event', 'event_id' => (string) $b, '_wpf_bridge_nonce' => $nonceA],
            "event A's Discard nonce for a Retry" => ['wpf_bridge_action' => 'retry_event', 'event_id' => (string) $a, '_wpf_bridge_nonce' => $nonceA],
            "event A's nonce for every failed event" => ['wpf_bridge_action' => 'discard_all_failed', '_wpf_bridge_nonce' => $nonceA],
        ] as $what => $fields) {
            $response = $admin->postForm(self::page(), $fields);
            $this->assertSame(403, $response->status, "$what: " . $response->describe());
            $this->assertSame($before, self::events(), "$what changed the queue");
        }
        // The same request with the right nonce works: the refusals above were the nonce's.
        $response = $admin->postForm(self::page(), ['wpf_bridge_action' => 'discard_event', 'event_id' => (string) $a, '_wpf_bridge_nonce' => $nonceA]);
        $this->assertSame(302, $response->status, $response->describe());
        $this->assertArrayNotHasKey($a, self::events());
        $this->assertArrayHasKey($b, self::events());
    }

    /** @depends test_the_admin_sees_every_event_with_its_state_and_never_its_data */
    public function test_a_subscriber_gets_no_access(): void
    {
        $password = 'subscriber-pass-' . bin2hex(random_bytes(6));
        $id = WordPress::createUser('queue-subscriber', 'queue-subscriber@example.com');
        WordPress::php('wp_set_password( $args[1], $args[0] ); return true;', [$id, $password]);
        $login = $this->logIn('queue-subscriber', $password);
        $this->assertSame(302, $login['response']->status, 'the subscriber could not log in');
        $client = $login['client'];
        $before = self::events();
        foreach ([self::page(), self::page(['state' => 'failed']), Env::url() . '/wp-admin/tools.php?page=wpf-bridge-log'] as $url) {
            $page = $client->get($url);
            $this->assertSame(403, $page->status, $url . ' ' . $page->describe());
            $this->assertStringNotContainsString('wpf-bridge-events', $page->body);
        }
        foreach (['retry_all_failed', 'discard_all_failed'] as $action) {
            $response = $client->postForm(self::page(), ['wpf_bridge_action' => $action, '_wpf_bridge_nonce' => 'x']);
            $this->assertSame(403, $response->status, $response->describe());
        }
        $this->assertSame($before, self::events(), 'a subscriber changed the queue');
    }

    /** @depends test_the_admin_sees_every_event_with_its_state_and_never_its_data */
    public function test_site_health_is_critical_while_an_event_failed_or_waits_too_long(): void
    {
        $this->assertContains('failed', self::statesByContact(), 'the class should still have a failed event here');
        $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
        $this->assertSame('critical', $health['status'], json_encode($health));
        $this->assertMatchesRegularExpression('/\d+ webhook events? failed/', $health['description']);
        $this->assertStringContainsString('page=wpf-bridge-webhooks', $health['actions']);
    }

    /** @depends test_site_health_is_critical_while_an_event_failed_or_waits_too_long */
    public function test_retry_all_failed_and_discard_all_failed(): void
    {
        $browser = $this->browser();
        // Two more failed events (contacts without email), one of them fixed in the CRM.
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(8107, '', 'First8107', 'Queue', []));
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(8108, '', 'First8108', 'Queue', []));
        $this->addContact(8107);
        $this->addContact(8108);
        FakeCrm::addMauticContact(FakeCrm::mauticContactRecord(8107, 'fixed8107@example.com', 'First8107', 'Queue', []));
        $failed = array_keys(array_filter(self::events(), static fn (array $row): bool => $row['state'] === 'failed'));
        $this->assertGreaterThanOrEqual(2, count($failed));

        $browser->get(self::page());
        $browser->waitFor('#wpf-bridge-retry-all-failed');
        $this->assertStringContainsString(count($failed) . ' failed events sent back to the queue', $this->clickAndWait('#wpf-bridge-retry-all-failed', 'retried'));
        // The fixed contact is applied; the others failed again.
        foreach ($failed as $id) {
            $this->waitUntilSettled($id);
        }
        $this->assertSame('done', self::events()[self::$events['8107']]['state']);
        $this->assertSame('failed', self::events()[self::$events['8108']]['state']);
        $this->screenshot('11-webhooks-after-retry-all');

        $browser->get(self::page());
        $before = self::events();
        $text = $this->clickAndWait('#wpf-bridge-discard-all-failed', 'discarded');
        $left = self::events();
        $gone = array_keys(array_diff_key($before, $left));
        sort($gone);
        $expected = array_keys(array_filter($before, static fn (array $row): bool => $row['state'] === 'failed'));
        $this->assertSame($expected, $gone, 'exactly the failed events are discarded');
        $this->assertStringContainsString(count($expected) . ' failed event', $text);
        $this->assertSame(['done'], array_values(array_unique(array_column($left, 'state'))));
        $this->assertSame([], $browser->findAll('#wpf-bridge-discard-all-failed'), 'no bulk buttons without failed events');
        $this->screenshot('12-webhooks-after-discard-all');

        // Nothing failed and nothing waiting: Site Health is good again. Then an event that has
        // waited 16 minutes (a retry far away) makes it critical.
        $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
        $this->assertSame('good', $health['status'], json_encode($health));
        $id = $this->addContact(8108);
        WordPress::query('UPDATE ' . WordPress::table('wpf_bridge_queue') . " SET state = 'retrying', due_at = UNIX_TIMESTAMP() + 86400, accepted_at = UNIX_TIMESTAMP() - 960 WHERE id = $id");
        $health = WordPress::php('return WPF_Bridge_Site_Health::run();');
        $this->assertSame('critical', $health['status'], json_encode($health));
        $this->assertStringContainsString('1 webhook event waits to be applied', $health['description']);
        $this->assertMatchesRegularExpression('/accepted 16 min(s|utes)? ago, more than 15 min/', $health['description'], 'WordPress 6.1 says "mins", 6.8 "minutes"');
        WordPress::query('UPDATE ' . WordPress::table('wpf_bridge_queue') . " SET accepted_at = UNIX_TIMESTAMP() - 840 WHERE id = $id");
        $this->assertSame('good', WordPress::php('return WPF_Bridge_Site_Health::run();')['status'], 'an event waiting 14 minutes is not a problem');
        WordPress::php('WPF_Bridge_Queue_Admin::discard( $args ); return true;', [$id]);
    }

    /**
     * The events list is WordPress's list table: "Rows per page" in Screen Options (kept per
     * user), page links, the Event column sorting both ways, and Retry and Discard on the
     * checked events with one nonce; an event no action may touch has no checkbox.
     *
     * @depends test_retry_all_failed_and_discard_all_failed
     */
    public function test_the_events_list_pages_sorts_and_acts_on_the_checked_events(): void
    {
        $browser = $this->browser();
        foreach ([8111, 8112, 8113] as $contact) {
            FakeCrm::addMauticContact(FakeCrm::mauticContactRecord($contact, '', "First$contact", 'Queue', []));
            $this->addContact($contact);
        }
        $oldest = array_keys(self::events());
        $this->assertGreaterThanOrEqual(6, count($oldest));
        $newest = array_reverse($oldest);
        $failed = [self::$events['8111'], self::$events['8112'], self::$events['8113']];
        $this->assertSame(['failed', 'failed', 'failed'], array_map(static fn (int $id): string => self::events()[$id]['state'], $failed));

        // Screen Options: two rows per page, stored for this user.
        $browser->get(self::page());
        $browser->click($browser->waitFor('#show-settings-link'));
        $deadline = microtime(true) + 15;
        // Open and done sliding: the panel animates open, and its field cannot be typed into
        // while it does.
        while (!$browser->execute('var b = document.getElementById("screen-options-apply"); var i = document.querySelector("input[name=\'wp_screen_options[value]\']"); return !!b && !!i && b.offsetParent !== null && b.getBoundingClientRect().height > 0 && i.getBoundingClientRect().height > 0 && !(window.jQuery && jQuery("#screen-meta, #screen-options-wrap").is(":animated"));')) {
            $this->assertLessThan($deadline, microtime(true), 'the Screen Options panel did not open');
            usleep(100000);
        }
        $input = $browser->find('input[name="wp_screen_options[value]"]');
        $browser->clear($input);
        $browser->type($input, '2');
        $this->clickAndLoad('#screen-options-apply');
        $this->assertSame('2', WordPress::php('return get_user_meta( get_user_by( "login", $args[0] )->ID, "wpf_bridge_webhooks_per_page", true );', [Env::get('WPF_E2E_ADMIN_USER')]));
        $this->assertSame(array_slice($newest, 0, 2), array_keys($this->listed()));
        $this->assertSame((string) count($oldest), $browser->attribute($browser->find('#wpf-bridge-events'), 'data-total'));

        // The next page: the next two, newest first.
        $this->clickAndLoad('#wpf-bridge-events .tablenav.top a.next-page');
        $this->assertStringContainsString('paged=2', $browser->currentUrl());
        $this->assertSame(array_slice($newest, 2, 2), array_keys($this->listed()));

        // The Event column's header sorts oldest first (from the first page), then back.
        $this->clickAndLoad('#wpf-bridge-events thead th.column-event a');
        $this->assertStringContainsString('order=asc', $browser->currentUrl());
        $this->assertSame(array_slice($oldest, 0, 2), array_keys($this->listed()));
        $this->clickAndLoad('#wpf-bridge-events .tablenav.top a.next-page');
        $this->assertSame(array_slice($oldest, 2, 2), array_keys($this->listed()));
        $this->clickAndLoad('#wpf-bridge-events .tablenav.top a.last-page');
        $last = (int) ceil(count($oldest) / 2);
        $this->assertSame(array_slice($oldest, 2 * ($last - 1), 2), array_keys($this->listed()), 'the last page, oldest first');
        $this->clickAndLoad('#wpf-bridge-events thead th.column-event a');
        $this->assertStringContainsString('order=desc', $browser->currentUrl());
        $this->assertSame(array_slice($newest, 0, 2), array_keys($this->listed()));

        // A done event has no checkbox; a failed one has.
        $browser->get(self::page(['state' => 'failed', 'orderby' => 'id', 'order' => 'asc']));
        $browser->waitFor('#wpf-bridge-events');
        $this->assertSame(array_slice($failed, 0, 2), array_keys($this->listed()));
        $done = array_values(array_diff($oldest, $failed));
        $browser->get(self::page(['state' => 'done']));
        $browser->waitFor('#wpf-bridge-events');
        $this->assertSame([], $browser->findAll('#wpf-bridge-events input[name="events[]"]'));
        $this->assertContains(array_keys($this->listed())[0], $done);

        // A bulk POST without the bulk nonce changes nothing.
        $admin = $this->logIn(Env::get('WPF_E2E_ADMIN_USER'), Env::adminPassword())['client'];
        $before = self::events();
        $response = $admin->postForm(self::page(), ['wpf_bridge_action' => 'bulk_events', 'wpf_bridge_bulk' => 'discard', 'events' => $failed, '_wpf_bridge_nonce' => 'deadbeef00']);
        $this->assertSame(403, $response->status, $response->describe());
        $this->assertSame($before, self::events());

        // Retry on two checked failed events (oldest first, page 1): both go back to the queue,
        // are applied at once and fail again (their contacts still have no email).
        $browser->get(self::page(['state' => 'failed', 'orderby' => 'id', 'order' => 'asc']));
        $browser->waitFor('#wpf-bridge-events');
        foreach (array_slice($failed, 0, 2) as $id) {
            $browser->click($browser->find('#wpf-bridge-select-' . $id));
        }
        $browser->execute('document.getElementById("wpf-bridge-bulk-action").value = "retry";');
        $this->assertStringContainsString('2 of 2 checked events sent back to the queue', $this->clickAndWait('#wpf-bridge-bulk-apply', 'retried'));
        $this->assertStringContainsString('order=asc', $browser->currentUrl(), 'the sort is kept after the action');
        foreach ($failed as $id) {
            $this->waitUntilSettled($id);
        }
        $after = self::events();
        $this->assertSame(['failed', 'failed', 'failed'], array_map(static fn (int $id): string => $after[$id]['state'], $failed));
        $this->assertSame('1', $after[$failed[0]]['attempts'], 'a retried event counts its attempts from zero');

        // Discard on two checked events: exactly those are deleted.
        $browser->waitFor('#wpf-bridge-select-' . $failed[0]);
        foreach (array_slice($failed, 0, 2) as $id) {
            $browser->click($browser->find('#wpf-bridge-select-' . $id));
        }
        $browser->execute('document.getElementById("wpf-bridge-bulk-action").value = "discard";');
        $before = self::events();
        $this->assertStringContainsString('2 of 2 checked events discarded', $this->clickAndWait('#wpf-bridge-bulk-apply', 'discarded'));
        unset($before[$failed[0]], $before[$failed[1]]);
        $this->assertSame($before, self::events());
        $this->assertSame([$failed[2]], array_keys($this->listed()));

        // Apply with nothing checked: a notice, nothing changes.
        $browser->execute('document.getElementById("wpf-bridge-bulk-action").value = "discard";');
        $this->clickAndWait('#wpf-bridge-bulk-apply', 'nothing-selected');
        $this->assertSame($before, self::events());

        // The requests that stored nothing are a list table too: three `test` calls, two a page.
        for ($i = 0; $i < 3; $i++) {
            $this->assertSame(200, (new Http())->get(self::webhookUrl('test'))->status);
        }
        $logged = array_map(static fn (array $row): int => (int) $row[0], WordPress::query('SELECT id FROM ' . WordPress::table('wpf_bridge_log') . ' WHERE refused = 0 ORDER BY id'));
        $this->assertGreaterThanOrEqual(3, count($logged));
        $requests = function () use ($browser): array {
            return array_map(static fn (string $row): int => (int) $browser->attribute($row, 'data-id'), $browser->findAll('#wpf-bridge-requests tr.wpf-bridge-request'));
        };
        $browser->get(self::page(['state' => 'unstored']));
        $browser->waitFor('#wpf-bridge-requests');
        $this->assertSame(array_slice(array_reverse($logged), 0, 2), $requests());
        $this->clickAndLoad('#wpf-bridge-requests thead th.column-time a');
        $this->assertSame(array_slice($logged, 0, 2), $requests(), 'oldest first');
        $this->clickAndLoad('#wpf-bridge-requests .tablenav.top a.next-page');
        $this->assertSame(array_slice($logged, 2, 2), $requests(), 'oldest first, page 2');

        WordPress::php('delete_user_meta( get_user_by( "login", $args[0] )->ID, "wpf_bridge_webhooks_per_page" ); return true;', [Env::get('WPF_E2E_ADMIN_USER')]);
        WordPress::php('WPF_Bridge_Queue_Admin::discard( $args ); return true;', [[$failed[2]]]);
    }
}
