/**
 * WPF Bridge's admin pages: the settings page's webhook URLs select themselves when focused
 * and their "Copy" buttons copy them; the mapping tester shows its custom mapping field only
 * while "Custom mapping" is chosen. The pages work without this script; the URL fields are
 * selectable by hand and the mapping field is always shown.
 */
( function () {
	'use strict';

	document.addEventListener( 'focusin', function ( event ) {
		var input = event.target;
		if ( input && input.classList && input.classList.contains( 'wpf-bridge-url' ) ) {
			input.select();
		}
	} );

	var preset = document.getElementById( 'wpf-bridge-tester-preset' );
	var mappingRow = document.getElementById( 'wpf-bridge-tester-mapping-row' );
	if ( preset && mappingRow ) {
		var showMapping = function () {
			mappingRow.hidden = preset.value !== 'custom';
		};
		preset.addEventListener( 'change', showMapping );
		showMapping();
	}

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
