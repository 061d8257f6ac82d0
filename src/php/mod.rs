//! TODO php
