import '../../lib/local/polyfills.js';
import { inject } from 'vitest';

// Temporary files of this worker and of the processes it starts go under the run's directory (global-setup.ts).
process.env.TMPDIR = inject('testTmpDir');
