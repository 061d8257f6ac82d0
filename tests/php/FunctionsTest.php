<?php
// The small functions of the PHP API, called from a real PHP with the real extension loaded:
// version, keys, signatures, passwords, settings validation and the exception classes.
use PHPUnit\Framework\TestCase;

final class FunctionsTest extends TestCase
{
    public function testVersionMatchesTheCrateAndPhpInfoShowsIt(): void
    {
        $cargo = file_get_contents(dirname(__DIR__, 2) . '/Cargo.toml');
        preg_match('/^version = "([^"]+)"/m', $cargo, $m);
        $this->assertSame($m[1], wpf_bridge_version());
        $this->assertSame(wpf_bridge_version(), phpversion('wpf_bridge'));
        ob_start();
        (new ReflectionExtension('wpf_bridge'))->info();
        $info = ob_get_clean();
        $this->assertStringContainsString('built for PHP', $info);
        $this->assertStringContainsString(PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION, $info);
    }

    public function testAccessKeysCompareExactlyAndAnEmptyExpectedKeyNeverMatches(): void
    {
        $this->assertTrue(wpf_bridge_verify_access_key('abc123XYZ', 'abc123XYZ'));
        $this->assertFalse(wpf_bridge_verify_access_key('abc123XYz', 'abc123XYZ'));
        $this->assertFalse(wpf_bridge_verify_access_key('abc123XY', 'abc123XYZ'));
        $this->assertFalse(wpf_bridge_verify_access_key('abc123XYZ0', 'abc123XYZ'));
        $this->assertFalse(wpf_bridge_verify_access_key('', ''));
        $this->assertFalse(wpf_bridge_verify_access_key('anything', ''));
        // WP Fusion's loose != made "0e1" equal "0e2"; we compare bytes.
        $this->assertFalse(wpf_bridge_verify_access_key('0e1', '0e2'));
    }

    public function testMauticSignatureVectors(): void
    {
        $lines = file(Fixtures::path('mautic/signatures.txt'), FILE_IGNORE_NEW_LINES);
        $secret = 'any_secret_will_do';
        $checked = 0;
        foreach ($lines as $line) {
            if (preg_match('/^(\S+\.wire\.json) bytes=(\d+) Webhook-Signature: (\S+)$/', $line, $m)) {
                $body = Fixtures::read('mautic/' . $m[1]);
                $this->assertSame((int) $m[2], strlen($body));
                $this->assertTrue(wpf_bridge_verify_signature('mautic', $body, $m[3], $secret));
                $this->assertFalse(wpf_bridge_verify_signature('mautic', $body . ' ', $m[3], $secret));
                $this->assertFalse(wpf_bridge_verify_signature('mautic', $body, $m[3], 'other'));
                // Re-encoding the parsed JSON changes the bytes: the signature covers the raw body.
                $this->assertFalse(wpf_bridge_verify_signature('mautic', json_encode(json_decode($body), JSON_PRETTY_PRINT), $m[3], $secret));
                $checked++;
            }
        }
        $this->assertSame(2, $checked);
        $short = '{"mautic.lead_post_save_update":[{"contact":{"id":52,"fields":{"core":{"email":{"value":"john@doe.name"},"timezone1":{"value":"Europe\/Prague"}}}},"timestamp":"2017-06-19T09:32:24+00:00"}]}';
        $this->assertTrue(wpf_bridge_verify_signature('mautic', $short, 'ROe/5C4mI80KJqjXc0K0i5dEwZO2C3gUl67dgya5sJw=', $secret));
        $this->assertFalse(wpf_bridge_verify_signature('mautic', $short, 'not base64!', $secret));
        $this->assertFalse(wpf_bridge_verify_signature('mautic', $short, '', $secret));
        $this->assertFalse(wpf_bridge_verify_signature('mautic', $short, 'ROe/5C4mI80KJqjXc0K0i5dEwZO2C3gUl67dgya5sJw=', ''));
    }

    public function testSignatureForAnUnknownCrmThrows(): void
    {
        $this->expectException(WpfBridge\InvalidPayloadException::class);
        $this->expectExceptionCode(1001);
        wpf_bridge_verify_signature('hubspot', '{}', 'x', 'y');
    }

    public function testGeneratedAccessKeysAreLongUrlSafeAndUnique(): void
    {
        $keys = [];
        for ($i = 0; $i < 200; $i++) {
            $key = wpf_bridge_generate_access_key();
            $this->assertMatchesRegularExpression('/^[A-Za-z0-9_-]+$/', $key);
            // 160 bits need at least 27 base64url characters.
            $this->assertGreaterThanOrEqual(27, strlen($key));
            $this->assertSame($key, rawurlencode($key));
            $keys[$key] = true;
        }
        $this->assertCount(200, $keys);
    }

    public function testGeneratedPasswords(): void
    {
        $this->assertSame(20, strlen(wpf_bridge_generate_password()));
        foreach ([12, 20, 64, 128] as $length) {
            $plain = wpf_bridge_generate_password($length);
            $this->assertSame($length, strlen($plain));
            $this->assertMatchesRegularExpression('/^[A-Za-z0-9]+$/', $plain);
        }
        $seenSpecial = false;
        for ($i = 0; $i < 50; $i++) {
            $special = wpf_bridge_generate_password(40, true);
            $this->assertMatchesRegularExpression('/^[A-Za-z0-9!@#$%^&*()]{40}$/', $special);
            $seenSpecial = $seenSpecial || preg_match('/[!@#$%^&*()]/', $special);
        }
        $this->assertTrue($seenSpecial);
        $this->assertNotSame(wpf_bridge_generate_password(), wpf_bridge_generate_password());
    }

    /** @dataProvider badLengths */
    #[\PHPUnit\Framework\Attributes\DataProvider('badLengths')]
    public function testPasswordLengthsOutsideTheRangeThrow(int $length): void
    {
        try {
            wpf_bridge_generate_password($length);
            $this->fail("length $length accepted");
        } catch (WpfBridge\ConfigurationException $e) {
            $this->assertSame('invalid_argument', $e->errorCode);
            $this->assertSame(1202, $e->getCode());
            $this->assertStringContainsString('12', $e->getMessage());
        }
    }

    public static function badLengths(): array
    {
        return [[-1], [0], [11], [129], [PHP_INT_MAX]];
    }

    public function testPasswordArgumentsAreStrictlyTyped(): void
    {
        $this->expectException(TypeError::class);
        wpf_bridge_generate_password('twenty');
    }

    public function testOurArgon2idHashesWorkWithPhpAndNeedNoRehash(): void
    {
        $hash = wpf_bridge_hash_password('correct horse');
        $this->assertStringStartsWith('$argon2id$v=19$m=65536,t=4,p=1$', $hash);
        $this->assertTrue(password_verify('correct horse', $hash));
        $this->assertFalse(password_verify('wrong horse', $hash));
        $this->assertFalse(password_needs_rehash($hash, PASSWORD_ARGON2ID));
        $this->assertSame('argon2id', password_get_info($hash)['algoName']);
        $this->assertNotSame($hash, wpf_bridge_hash_password('correct horse'), 'salted');
        $this->assertTrue(wpf_bridge_verify_password('correct horse', $hash));
        $this->assertFalse(wpf_bridge_verify_password('correct horsE', $hash));
    }

    public function testWeVerifyPhpsArgon2HashesAndRejectOtherFormats(): void
    {
        $this->assertTrue(wpf_bridge_verify_password('pw', password_hash('pw', PASSWORD_ARGON2ID)));
        $this->assertTrue(wpf_bridge_verify_password('pw', password_hash('pw', PASSWORD_ARGON2I)));
        $this->assertTrue(wpf_bridge_verify_password('pw', password_hash('pw', PASSWORD_ARGON2ID, ['memory_cost' => 1024, 'time_cost' => 2])));
        $this->assertFalse(wpf_bridge_verify_password('nope', password_hash('pw', PASSWORD_ARGON2I)));
        $this->assertFalse(wpf_bridge_verify_password('pw', password_hash('pw', PASSWORD_BCRYPT)));
        $this->assertFalse(wpf_bridge_verify_password('pw', md5('pw')));
        $this->assertFalse(wpf_bridge_verify_password('pw', ''));
        $this->assertFalse(wpf_bridge_verify_password('pw', '$argon2id$garbage'));
        $this->assertFalse(wpf_bridge_verify_password('pw', "\xff\xfe\x00"));
        // Passwords are bytes, as in PHP: NUL and non-UTF-8 bytes are hashed as they are.
        $odd = "a\0b\xffc";
        $ours = wpf_bridge_hash_password($odd);
        $this->assertTrue(password_verify($odd, $ours));
        $this->assertFalse(password_verify("a\0b\u{FFFD}c", $ours));
        $this->assertTrue(wpf_bridge_verify_password($odd, password_hash($odd, PASSWORD_ARGON2ID)));
        $this->assertFalse(wpf_bridge_verify_password("a\0b\u{FFFD}c", password_hash($odd, PASSWORD_ARGON2ID)));
    }

    public function testSettingsValidationNamesTheWrongKey(): void
    {
        $valid = ['access_key' => 'abcdefgh12345678', 'crm' => 'mautic', 'mautic_url' => 'https://m.example.com'];
        $normalised = wpf_bridge_validate_settings($valid);
        $this->assertSame('mautic', $normalised['crm']);
        $this->assertSame('email', $normalised['username_format']);
        $this->assertSame([], $normalised['allowed_roles']);
        foreach ([
            'crm' => ['crm' => 'hubspot'],
            'access_key' => ['access_key' => 'short'],
            'mautic_url' => ['mautic_url' => 'javascript:alert(1)'],
            'return_password_field' => ['return_password' => true],
            'username_format' => ['username_format' => 'x'],
            'field_map' => ['field_map' => 'firstname'],
        ] as $key => $bad) {
            try {
                wpf_bridge_validate_settings($bad + $valid);
                $this->fail("$key accepted");
            } catch (WpfBridge\ConfigurationException $e) {
                $this->assertSame('invalid_setting', $e->errorCode);
                $this->assertStringContainsString("\"$key\"", $e->getMessage());
            }
        }
    }

    public function testAdminCapabilitiesListTheOnesThatAdministerTheSite(): void
    {
        $caps = wpf_bridge_admin_capabilities();
        foreach (['manage_options', 'edit_users', 'create_users', 'promote_users', 'delete_users', 'activate_plugins', 'install_plugins', 'edit_plugins', 'unfiltered_html'] as $cap) {
            $this->assertContains($cap, $caps);
        }
        $this->assertNotContains('read', $caps);
        $this->assertNotContains('edit_posts', $caps);
    }

    public function testRulesGiveThePluginEverythingItMustNotCopy(): void
    {
        $rules = wpf_bridge_rules();
        $this->assertSame(['crms', 'source_meta_keys', 'username_formats', 'core_user_fields', 'protected_meta_keys', 'settings', 'source_settings', 'ranges', 'retry_delays', 'bidi_controls', 'processing_modes', 'queue', 'worker', 'resident', 'refusals'], array_keys($rules));
        $this->assertContains('capabilities', $rules['protected_meta_keys']['suffixes']);
        $this->assertContains('session_tokens', $rules['protected_meta_keys']['keys']);
        $this->assertSame(['mautic', 'userengage'], array_keys($rules['crms']));
        $this->assertSame('User.com', $rules['crms']['userengage']['name']);
        $this->assertSame('userengage_contact_id', $rules['crms']['userengage']['contact_id_meta_key']);
        $this->assertSame(['contact_id' => '{slug}_contact_id', 'tags' => '{slug}_tags'], $rules['source_meta_keys']);
        $this->assertSame(['mapping' => '', 'name' => '', 'access_key' => '', 'webhook_secret' => '', 'api_url' => '', 'api_key' => '', 'field_map' => [], 'return_password' => false, 'return_password_field' => ''], $rules['source_settings']);
        $this->assertStringEndsWith('/api/public/', $rules['crms']['userengage']['url_example']);
        $this->assertSame(['email', 'flname', 'fnamenum'], array_keys($rules['username_formats']));
        $this->assertContains('first_name', $rules['core_user_fields']);
        $this->assertNotContains('role', $rules['core_user_fields']);
        // Every default is valid once an access key is set, and the validator returns the same keys.
        $defaults = ['access_key' => 'rules-test-key-0001'] + $rules['settings'];
        $this->assertSame(1048576, $defaults['max_body_bytes']);
        $this->assertSame(8, $defaults['crm_timeout']);
        $this->assertSame(array_keys($rules['settings']), array_keys(wpf_bridge_validate_settings($defaults)));
    }

    public function testTheRulesConstantIsTheRulesAsJson(): void
    {
        // The plugin reads the rules from this constant, without a call into the extension.
        $this->assertSame(wpf_bridge_rules(), json_decode(WPF_BRIDGE_RULES_JSON, true));
    }

    public function testRulesGiveTheWorkersTheirBoundsAndAges(): void
    {
        $rules = wpf_bridge_rules();
        $this->assertSame(['max_contacts' => 1000, 'round_pause_seconds' => 1.0, 'handover_token_seconds' => 60, 'run_budget_seconds' => 60], $rules['worker']);
        $this->assertSame(['max-contacts' => 10000, 'max-memory' => 256, 'max-seconds' => 3600, 'idle-sleep' => 1], $rules['resident']['bounds']);
        $this->assertSame(10, $rules['resident']['round_seconds']);
        $this->assertSame(5, $rules['resident']['heartbeat_every_seconds']);
        $this->assertSame(30, $rules['resident']['heartbeat_stale_seconds']);
        $this->assertSame(60, $rules['resident']['restart_within_seconds']);
        $this->assertSame(['bucket_seconds' => 60, 'max_buckets' => 20000], $rules['refusals']);
    }

    public function testRulesGiveTheRangesTheValidationEnforces(): void
    {
        $rules = wpf_bridge_rules();
        $settings = ['access_key' => 'rules-test-key-0001', 'crm' => 'mautic'];
        $this->assertContains('claim_timeout', array_keys($rules['ranges']));
        foreach ($rules['ranges'] as $key => $range) {
            $this->assertSame(['min', 'max', 'default', 'unit'], array_keys($range), $key);
            $this->assertSame($rules['settings'][$key], $range['default'], "$key's default");
            foreach ([$range['min'], $range['max']] as $ok) {
                $this->assertSame($ok, wpf_bridge_validate_settings($settings + [$key => $ok])[$key], "$key = $ok");
            }
            foreach ([$range['min'] - 1, $range['max'] + 1] as $bad) {
                try {
                    wpf_bridge_validate_settings($settings + [$key => $bad]);
                    $this->fail("$key = $bad was accepted");
                } catch (WpfBridge\ConfigurationException $e) {
                    $this->assertStringContainsString('"' . $key . '"', $e->getMessage());
                }
            }
        }
        $delays = $rules['retry_delays'];
        $this->assertSame(count(array_fill(0, $delays['most'], 1)), count(wpf_bridge_validate_settings($settings + ['retry_delays' => array_fill(0, $delays['most'], $delays['max'])])['retry_delays']));
        foreach ([array_fill(0, $delays['most'] + 1, 1), [$delays['max'] + 1], [$delays['min'] - 1]] as $bad) {
            try {
                wpf_bridge_validate_settings($settings + ['retry_delays' => $bad]);
                $this->fail('retry_delays ' . json_encode($bad) . ' was accepted');
            } catch (WpfBridge\ConfigurationException $e) {
                $this->assertStringContainsString('"retry_delays"', $e->getMessage());
            }
        }
        // The bidirectional controls: the right-to-left override and the isolates among them.
        $covered = static fn (int $cp): bool => (bool) array_filter($rules['bidi_controls'], static fn (array $pair): bool => $pair[0] <= $cp && $cp <= $pair[1]);
        foreach ([0x061C, 0x200E, 0x200F, 0x202A, 0x202E, 0x2066, 0x2069] as $cp) {
            $this->assertTrue($covered($cp), sprintf('U+%04X', $cp));
        }
        foreach ([0x0041, 0x200D, 0x2029, 0x206A] as $cp) {
            $this->assertFalse($covered($cp), sprintf('U+%04X', $cp));
        }
    }

    public function testRulesNameTheQueueStatesAndWhatAnAdministratorMayDoWithThem(): void
    {
        $rules = wpf_bridge_rules();
        $queue = $rules['queue'];
        $this->assertEqualsCanonicalizing(['pending', 'claimed', 'retrying', 'done', 'failed'], array_keys($queue['states']));
        foreach ($queue['states'] as $label) {
            $this->assertIsString($label);
            $this->assertNotSame('', $label);
        }
        // Retry and Discard never touch an event a worker holds; Retry never re-applies a done one.
        $this->assertSame(['retrying', 'failed'], $queue['retry_states']);
        $this->assertSame(['pending', 'retrying', 'failed'], $queue['discard_states']);
        $this->assertSame(['pending', 'claimed', 'retrying'], $queue['waiting_states']);
        $this->assertSame(900, $queue['stale_after_seconds']);
        $this->assertSame(100000, $queue['keep_done_at_most']);
        $this->assertSame(['background', 'immediate'], array_keys($rules['processing_modes']));
        // Retention: 30 days by default, validated with an error naming the key.
        $this->assertSame(30, $rules['settings']['keep_done_days']);
        $settings = ['access_key' => 'rules-test-key-0001', 'crm' => 'mautic'];
        $this->assertSame(7, wpf_bridge_validate_settings($settings + ['keep_done_days' => '7'])['keep_done_days']);
        foreach ([0, 3651, 'a month', -3] as $bad) {
            try {
                wpf_bridge_validate_settings($settings + ['keep_done_days' => $bad]);
                $this->fail('keep_done_days ' . json_encode($bad) . ' was accepted');
            } catch (WpfBridge\ConfigurationException $e) {
                $this->assertStringContainsString('"keep_done_days"', $e->getMessage());
            }
        }
    }

    public function testExceptionClassesFormAHierarchyPhpCodeCanUseAndExtend(): void
    {
        foreach (['InvalidPayload', 'Authentication', 'Configuration', 'Crm', 'Site'] as $kind) {
            $class = "WpfBridge\\{$kind}Exception";
            $this->assertTrue(is_subclass_of($class, WpfBridge\Exception::class), $class);
        }
        $this->assertTrue(is_subclass_of(WpfBridge\Exception::class, Exception::class));
        $e = new WpfBridge\CrmException('down', 7);
        $this->assertSame(['down', 7, ''], [$e->getMessage(), $e->getCode(), $e->errorCode]);
        $custom = new class ('mine') extends WpfBridge\ConfigurationException {};
        $this->assertInstanceOf(WpfBridge\Exception::class, $custom);
        $this->assertSame('mine', $custom->getMessage());
    }
}
