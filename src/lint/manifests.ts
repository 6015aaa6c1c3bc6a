import { parseAllDocuments } from 'yaml';

/** One YAML document of a manifest file. */
export interface ManifestDoc {
  readonly file: string;
  /** 1-based position in the file, for messages. */
  readonly index: number;
  readonly object: unknown;
}

export interface ParseProblem {
  readonly file: string;
  readonly message: string;
}

/** Splits a multi-document YAML text into its objects; syntax errors come back as values. */
export function parseManifests(file: string, text: string): { docs: ManifestDoc[]; problems: ParseProblem[] } {
  const docs: ManifestDoc[] = [];
  const problems: ParseProblem[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      problems.push({ file, message: `document ${i + 1}: YAML syntax error: ${doc.errors[0]!.message.split('\n')[0]}` });
      return;
    }
    const object: unknown = doc.toJS();
    if (object === null || object === undefined) return; // an empty document, e.g. after a trailing ---
    docs.push({ file, index: i + 1, object });
  });
  return { docs, problems };
}
