#!/usr/bin/env node
// `tandem`: the controller and the plugin's commands. The Node version is checked before the rest loads.
import { requireSupportedNode } from './node-guard.ts';

requireSupportedNode('tandem');
await import('./cli-main.ts');
