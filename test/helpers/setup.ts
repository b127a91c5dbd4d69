import '../../lib/local/polyfills.js';
