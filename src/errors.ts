// The one catalogue of streamwatch error codes. Every code has a message
// template and says whether retrying can help. docs/ERRORS.md lists them all
// (a test keeps the two in step).

export const errorCatalogue = {
  SW_ERR_USAGE: { message: 'bad command-line usage', retriable: false },
  SW_ERR_INPUT_NOT_FOUND: { message: 'input file cannot be read', retriable: false },
  SW_ERR_INPUT_HEADER: { message: 'input header lacks a required column', retriable: false },
  SW_ERR_OUTPUT: { message: 'output cannot be written', retriable: false },
  SW_ERR_BROKER_UNREACHABLE: { message: 'no Kafka broker answered', retriable: true },
  SW_ERR_BROKER_START: { message: 'the embedded broker could not start', retriable: false },
  SW_ERR_KAFKA: { message: 'a Kafka request failed', retriable: true },
  SW_ERR_STATE: { message: 'saved state cannot be read', retriable: false },
  SW_ERR_DATABASE: { message: 'the database cannot be reached or refused a statement', retriable: true },
  SW_ERR_DATABASE_BUSY: { message: 'the embedded database is in use by another process', retriable: true },
  SW_ERR_DASHBOARD_LISTEN: { message: 'the dashboard cannot listen on its address', retriable: false },
  SW_ERR_DASHBOARD_TOKEN: { message: 'the dashboard is exposed beyond loopback without a token', retriable: false },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export class StreamwatchError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'StreamwatchError';
    this.code = code;
    this.retriable = errorCatalogue[code].retriable;
  }
}

/** A mistake in how a command was called: exit status 2. */
export class UsageError extends StreamwatchError {
  constructor(detail: string) {
    super('SW_ERR_USAGE', detail);
    this.name = 'UsageError';
  }
}
