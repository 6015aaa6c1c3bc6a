#!/usr/bin/env node
// `kubectl rolloutgroup ...`: kubectl runs an executable named kubectl-rolloutgroup found on PATH.
import { Command } from 'commander';
import { addPluginCommands, runProgram } from './plugin/commands.ts';

const program = new Command('kubectl rolloutgroup').description('Inspect and drive Tandem RolloutGroups');
await runProgram(addPluginCommands(program), process.argv);
