// Loads the TypeScript server without a build step (tsx), wherever the CLI runs it from.
import { register } from 'tsx/esm/api';

register();
await import('./server.ts');
