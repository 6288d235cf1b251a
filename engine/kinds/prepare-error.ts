/** A config that is valid by its schema but cannot be prepared here (missing env var, unreadable file). */
export class PrepareError extends Error {
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PrepareError';
    this.field = field;
  }
}
