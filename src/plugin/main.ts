// The plugin's program, loaded by src/kubectl-rolloutgroup.ts once the Node version is known to be supported.
import { Command } from 'commander';
import { addPluginCommands, runProgram } from './commands.ts';

const program = new Command('kubectl rolloutgroup').description('Inspect and drive Tandem RolloutGroups');
await runProgram(addPluginCommands(program), process.argv);
