/**
 * WPF Bridge's admin pages: the settings page's webhook URLs select themselves when focused
 * and their "Copy" buttons copy them; the mapping tester and the sources form show their custom
 * mapping field only while "Custom mapping" is chosen, and the sources form its API URL and key
 * only for a preset with an API client. The pages work without this script; the URL fields are
 * selectable by hand and every field is shown.
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

	// The sources form: the custom mapping field only for "Custom mapping", the API URL and key
	// only for a preset with an API client (its option's data-api-client).
	var sourcePreset = document.getElementById( 'wpf-bridge-source-preset' );
	if ( sourcePreset ) {
		var sourceMapping = document.getElementById( 'wpf-bridge-source-mapping-row' );
		var apiRows = document.querySelectorAll( '#wpf-bridge-source-form .wpf-bridge-source-api' );
		var showSourceRows = function () {
			var option = sourcePreset.options[ sourcePreset.selectedIndex ];
			if ( sourceMapping ) {
				sourceMapping.hidden = sourcePreset.value !== 'custom';
			}
			for ( var i = 0; i < apiRows.length; i++ ) {
				apiRows[ i ].hidden = ! option || option.getAttribute( 'data-api-client' ) !== '1';
			}
		};
		sourcePreset.addEventListener( 'change', showSourceRows );
		showSourceRows();
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
