<?php
// Bootstrap of the end-to-end suite: real HTTP against the environment of tests/e2e/env/
// (WordPress + the plugin + the extension in php-fpm, nginx, MariaDB, the fake CRM).
// This process is Debian's CLI PHP and does not need the extension: it only talks HTTP and
// runs tests/e2e/env/wp.sh and mysql.sh. Run through scripts/test-e2e.sh, or by hand with a
// running environment: phpunit -c tests/e2e/phpunit.xml
require __DIR__ . '/support/Env.php';
require __DIR__ . '/support/Proc.php';
require __DIR__ . '/support/Http.php';
require __DIR__ . '/support/FakeCrm.php';
require __DIR__ . '/support/WordPress.php';
require __DIR__ . '/support/Browser.php';
require __DIR__ . '/support/SharesBrowser.php';
require __DIR__ . '/support/Load.php';
require __DIR__ . '/support/Fpm.php';
require __DIR__ . '/support/QueueTable.php';
require __DIR__ . '/support/E2eTestCase.php';
require dirname(__DIR__) . '/php/support/Fixtures.php';

foreach (['curl' => 'php8.2-curl', 'posix' => 'php8.2-common', 'mysqli' => 'php8.2-mysql'] as $extension => $package) {
    if (!extension_loaded($extension)) {
        fwrite(STDERR, "The e2e suite needs PHP's $extension extension (Debian: $package).\n");
        exit(1);
    }
}
try {
    Env::load();
    if (Env::get('WPF_E2E_PLUGIN_ACTIVE') !== '1') {
        throw new RuntimeException('the plugin is not active in the e2e WordPress (WPF_E2E_PLUGIN_ACTIVE != 1): see up.sh\'s warnings');
    }
    if (Env::get('WPF_E2E_EXTENSION_NAME') === '') {
        throw new RuntimeException('the extension is not loaded in the e2e php-fpm: build it (cargo build --release -p wpf-bridge) and run up.sh again');
    }
    if (Env::get('WPF_E2E_CRM_RUNNING') !== '1') {
        throw new RuntimeException('the fake CRM is not running: cargo build --release -p fake-crm and run up.sh again');
    }
} catch (RuntimeException $e) {
    fwrite(STDERR, 'e2e: ' . $e->getMessage() . "\n");
    exit(1);
}
