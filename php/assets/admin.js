/**
 * WPF Bridge's admin pages: the settings page's webhook URLs select themselves when focused
 * and their "Copy" buttons copy them. The pages work without this script; the URL fields are
 * selectable by hand.
 */
( function () {
	'use strict';

	document.addEventListener( 'focusin', function ( event ) {
		var input = event.target;
		if ( input && input.classList && input.classList.contains( 'wpf-bridge-url' ) ) {
			input.select();
		}
	} );

	document.addEventListener( 'click', function ( event ) {
		var button = event.target.closest ? event.target.closest( '.wpf-bridge-copy' ) : null;
		if ( ! button ) {
			return;
		}
		var input = document.getElementById( button.getAttribute( 'data-target' ) );
		if ( ! input ) {
			return;
		}
		var label = button.textContent;
		var done = function () {
			button.textContent = '\u2713';
			window.setTimeout( function () {
				button.textContent = label;
			}, 1500 );
		};
		input.select();
		if ( navigator.clipboard && window.isSecureContext ) {
			navigator.clipboard.writeText( input.value ).then( done, function () {} );
		} else if ( document.execCommand && document.execCommand( 'copy' ) ) {
			done();
		}
	} );
}() );
