/**
 * The orchestrator stack's default name, on its own so that the operator CLI can name the stack it looks for
 * without loading the CDK app (`stack.ts`).
 */
export const DEFAULT_STACK_NAME = 'MigrationOrchestrator';
