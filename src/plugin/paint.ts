import { styleText } from 'node:util';

/** What a piece of output means; the terminal colour follows from it. */
export type Tone = 'ok' | 'bad' | 'wait' | 'busy' | 'dim' | 'bold';
export type Paint = (tone: Tone, text: string) => string;

const STYLE: Record<Tone, Parameters<typeof styleText>[0]> = { ok: 'green', bad: 'red', wait: 'yellow', busy: 'cyan', dim: 'gray', bold: 'bold' };

/** No colour: for pipes, files and tests. */
export const plain: Paint = (_tone, text) => text;

/**
 * Colour only for a person at a terminal: the stream is a TTY (or FORCE_COLOR asks for colour), and
 * neither NO_COLOR (https://no-color.org: any non-empty value) nor --no-color says otherwise.
 */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag = true): boolean {
  if (!flag || (env['NO_COLOR'] ?? '') !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}

export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag = true): Paint {
  // validateStream: false — the decision is colourWanted's, so NO_COLOR and --no-color behave the same everywhere.
  return colourWanted(stream, env, flag) ? (tone, text) => styleText(STYLE[tone], text, { validateStream: false }) : plain;
}

/** The tone of a group phase or member state, as the tree and the list show it. */
export function toneOf(word: string | undefined): Tone {
  switch (word) {
    case 'Healthy':
    case 'Promoted':
    case 'Stable':
      return 'ok';
    case 'Degraded':
    case 'Failed':
    case 'Missing':
    case 'RolledBack':
      return 'bad';
    case 'Paused':
    case 'Ready':
      return 'wait';
    case 'Progressing':
    case 'Promoting':
    case 'Deploying':
      return 'busy';
    default:
      return 'dim';
  }
}
