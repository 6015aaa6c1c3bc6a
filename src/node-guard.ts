/**
 * Imported first by the executables, before anything that needs Node 24: under an older Node the
 * dependencies fail at import time with errors that do not say why (undici's `TypeError` under
 * Node 20), so the version is checked here and named in one line. No imports, old syntax only.
 */
export const MIN_NODE_MAJOR = 24;

export function nodeVersionProblem(program: string, version: string = process.versions.node, execPath: string = process.execPath): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `${program} needs Node.js ${MIN_NODE_MAJOR} or newer, but ${execPath} is Node.js ${version}. Install Node.js ${MIN_NODE_MAJOR} (or put it first on PATH) and run it again.`;
}

/** Exits with status 1 and the message above when this Node is too old. */
export function requireSupportedNode(program: string): void {
  const problem = nodeVersionProblem(program);
  if (!problem) return;
  process.stderr.write(`error: ${problem}\n`);
  process.exit(1);
}
