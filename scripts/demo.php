<?php
// The demo's steps inside WordPress (run by scripts/demo.sh through tests/e2e/env/wp.sh):
//   configure <crm>   store the plugin settings for the fake CRM, keep the access key
//   drained           wait (up to 30 s) until no webhook event is waiting, print every event
//   report            print the users the webhooks made, and check the returned password
$step = $argv[1] ?? '';
$crmUrl = getenv('WPF_E2E_CRM_URL');

if ($step === 'configure') {
    if (!get_role('customer')) {
        add_role('customer', 'Customer', ['read' => true]);
    }
    $settings = (array) get_option('wpf_bridge_settings', []);
    $settings = array_merge($settings, [
        'crm' => $argv[2],
        'mautic_url' => getenv('WPF_E2E_MAUTIC_URL'),
        'mautic_username' => getenv('WPF_E2E_MAUTIC_USER'),
        'mautic_password' => getenv('WPF_E2E_MAUTIC_PASSWORD'),
        'userengage_url' => getenv('WPF_E2E_USERENGAGE_URL'),
        'userengage_api_key' => getenv('WPF_E2E_USERENGAGE_KEY'),
        'return_password' => true,
        'return_password_field' => 'wp_password',
        'send_welcome_email' => false,
    ]);
    wpf_bridge_validate_settings($settings);
    update_option('wpf_bridge_settings', $settings);
    echo $settings['access_key'];
    exit(0);
}

if ($step === 'drained') {
    global $wpdb;
    $table = $wpdb->prefix . 'wpf_bridge_queue';
    $deadline = microtime(true) + 30;
    while ((int) $wpdb->get_var("SELECT COUNT(*) FROM $table WHERE state IN ('pending','retrying','claimed')") > 0 && microtime(true) < $deadline) {
        usleep(200000);
    }
    foreach ($wpdb->get_results("SELECT id, crm, contact_id, state, outcome, user_id, error_code FROM $table ORDER BY id", ARRAY_A) as $row) {
        printf("  event #%d %-10s contact %-4s %-8s %s\n", $row['id'], $row['crm'], $row['contact_id'], $row['state'],
            $row['error_code'] !== '' ? $row['error_code'] : $row['outcome'] . ($row['user_id'] ? " (user #{$row['user_id']})" : ''));
    }
    exit(0);
}

if ($step === 'report') {
    foreach (['mautic', 'userengage'] as $crm) {
        $users = get_users(['meta_key' => "{$crm}_contact_id", 'orderby' => 'ID']);
        foreach ($users as $user) {
            printf(
                "  user #%d %-28s role=%-10s %s contact %s, tags: %s\n",
                $user->ID,
                $user->user_login,
                implode(',', $user->roles),
                $crm,
                get_user_meta($user->ID, "{$crm}_contact_id", true),
                implode(', ', (array) get_user_meta($user->ID, "{$crm}_tags", true)) ?: '-'
            );
        }
    }
    // The password the CRM received for contact 201 must be the user's password.
    $contact = json_decode((string) file_get_contents("$crmUrl/_control/mautic/contacts/201"), true);
    $returned = $contact['fields']['all']['wp_password'] ?? ($contact['contact']['fields']['all']['wp_password'] ?? null);
    $user = get_user_by('email', 'grace@example.com');
    if ($returned && $user) {
        $works = wp_check_password($returned, $user->user_pass, $user->ID);
        printf(
            "\n  The generated password (%d characters) was returned to the fake Mautic field wp_password;\n  it %s for %s.\n",
            strlen($returned),
            $works ? 'logs in' : 'does NOT log in',
            $user->user_login
        );
        exit($works ? 0 : 1);
    }
    echo "\n  No password reached the fake CRM.\n";
    exit(1);
}

fwrite(STDERR, "usage: demo.php configure <crm> | drained | report\n");
exit(2);
