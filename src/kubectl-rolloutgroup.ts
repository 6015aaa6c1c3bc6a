#!/usr/bin/env node
// `kubectl rolloutgroup ...`: kubectl runs an executable named kubectl-rolloutgroup found on PATH.
// The Node version is checked before the commands (and their dependencies) load.
import { requireSupportedNode } from './node-guard.ts';

requireSupportedNode('kubectl-rolloutgroup');
await import('./plugin/main.ts');
