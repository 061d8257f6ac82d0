<?php
// One Chromium for a test class's admin-page tests: started in setUpBeforeClass (after the
// class's own setup, by startBrowser()), quit in tearDownAfterClass, asked for by browser().
trait SharesBrowser
{
    private static ?Browser $browser = null;

    private static function startBrowser(): void
    {
        self::$browser = Browser::start();
    }

    private static function quitBrowser(): void
    {
        self::$browser?->quit();
        self::$browser = null;
    }

    private function browser(): Browser
    {
        $this->assertNotNull(self::$browser, 'the browser did not start');
        return self::$browser;
    }
}
