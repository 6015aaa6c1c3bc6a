/** A failed call to the API server, with the HTTP status and Kubernetes reason when there is one. */
export class KubeError extends Error {
  override readonly name = 'KubeError';
  readonly code: number | undefined;
  readonly reason: string | undefined;
  constructor(message: string, code: number | undefined, reason: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.reason = reason;
  }
}

/** An object from the API server that does not have the shape Tandem needs. */
export class ObjectShapeError extends Error {
  override readonly name = 'ObjectShapeError';
}

export const isConflict = (e: unknown): boolean => e instanceof KubeError && e.code === 409;

export const isAlreadyExists = (e: unknown): boolean => e instanceof KubeError && e.code === 409 && e.reason === 'AlreadyExists';

export const isNotFound = (e: unknown): boolean => e instanceof KubeError && e.code === 404;
