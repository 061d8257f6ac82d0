<?php
// Bootstrap of the extension's PHPUnit suite: the extension must be loaded (the suite tests
// the real .so, never a stand-in), and the shared helpers are made available.
if (!extension_loaded('wpf_bridge')) {
    fwrite(STDERR, "The wpf_bridge extension is not loaded. Run scripts/test-php.sh, which builds and loads it.\n");
    exit(1);
}
require __DIR__ . '/support/Fixtures.php';
require __DIR__ . '/support/FakeCrmProcess.php';
require __DIR__ . '/support/ArraySite.php';
require __DIR__ . '/support/ArrayQueue.php';
require __DIR__ . '/support/QueueConformance.php';
