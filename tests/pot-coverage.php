<?php
/**
 * Prints each string of a translation call (the plugin's text domain's functions, first
 * argument a single-quoted literal) in the given PHP files that the .pot lacks, one a line.
 * Found with PHP's own tokenizer, independently of xgettext which made the .pot.
 * Prints "no translation call found" when there is none (the check must see some).
 *
 *   php tests/pot-coverage.php languages/wpf-bridge.pot file.php...
 */

$pot = file_get_contents( $argv[1] );
$ids = array();
// msgid "..." and its continuation lines "...".
preg_match_all( '/^msgid ((?:".*"\n)+)/m', $pot, $m );
foreach ( $m[1] as $lines ) {
	preg_match_all( '/^"(.*)"$/m', $lines, $parts );
	$ids[ stripcslashes( implode( '', $parts[1] ) ) ] = true;
}

$functions = array( '__', '_e', '_x', '_n', '_nx', '_n_noop', 'esc_html__', 'esc_html_e', 'esc_attr__', 'esc_attr_e', 'esc_html_x', 'esc_attr_x' );
$count     = 0;
foreach ( array_slice( $argv, 2 ) as $file ) {
	$tokens = array_values(
		array_filter(
			token_get_all( file_get_contents( $file ) ),
			static fn( $t ) => ! is_array( $t ) || ! in_array( $t[0], array( T_WHITESPACE, T_COMMENT, T_DOC_COMMENT ), true )
		)
	);
	for ( $i = 0; $i + 2 < count( $tokens ); $i++ ) {
		$name = $tokens[ $i ];
		$arg  = $tokens[ $i + 2 ];
		if ( is_array( $name ) && T_STRING === $name[0] && in_array( $name[1], $functions, true )
			&& '(' === $tokens[ $i + 1 ] && is_array( $arg ) && T_CONSTANT_ENCAPSED_STRING === $arg[0] && "'" === $arg[1][0] ) {
			$text = strtr( substr( $arg[1], 1, -1 ), array( "\\'" => "'", '\\\\' => '\\' ) );
			++$count;
			if ( ! isset( $ids[ $text ] ) ) {
				echo basename( $file ), ': ', $text, "\n";
			}
		}
	}
}
if ( 0 === $count ) {
	echo "no translation call found\n";
}
