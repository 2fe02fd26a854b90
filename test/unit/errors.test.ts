import { describe, expect, it } from 'vitest';
import { AutomationError } from '../../src/automations/types';
import { ANSWER_CODES, AppError, toHttpAnswer, toStepFailure } from '../../src/errors';
import { FetchTimeoutError } from '../../src/http-retry';
import { TokenCheckError, TokenEndpointError } from '../../src/kv-token-cache/errors';
import { LogtoApiError } from '../../src/logto-client/errors';
import { GovernorBusyError } from '../../src/logto-client/governor';

describe('one error model (src/errors)', () => {
  it('answers callers with a status and a code, never the message', () => {
    const cases: [unknown, number, Record<string, string>][] = [
      [
        new LogtoApiError('entity.not_found', 404, 'GET', '/users/x', 'secret-ish detail'),
        502,
        { error: 'logto_error', logtoCode: 'entity.not_found' },
      ],
      [
        new TokenEndpointError('invalid_client', 401, 'client secret-ish detail'),
        503,
        { error: 'token_unavailable', oauthError: 'invalid_client' },
      ],
      [
        new TokenCheckError('audience', 'aud was secret-ish'),
        503,
        { error: 'token_unavailable', check: 'audience' },
      ],
      [new GovernorBusyError(1200), 503, { error: 'governor_wait' }],
      [new FetchTimeoutError(400), 504, { error: 'timeout' }],
      [new AutomationError('role_not_found', 'no role named "secret-ish"'), 500, { error: 'role_not_found' }],
      [new Error('secret-ish'), 500, { error: 'internal_error' }],
    ];
    for (const [error, status, body] of cases) {
      const answer = toHttpAnswer(error);
      // Every code a caller can see is in the documented table, with the same status (AutomationError is internal).
      if (!(error instanceof AutomationError))
        expect(ANSWER_CODES[answer.body.error as keyof typeof ANSWER_CODES]).toBe(answer.status);
      expect(answer).toEqual({ status, body });
      expect(JSON.stringify(answer)).not.toContain('secret-ish');
    }
  });

  it('records a run failure with the code, whether retrying helps, and the waits', () => {
    expect(
      toStepFailure(new LogtoApiError('entity.not_found', 404, 'GET', '/users/x', 'gone')),
    ).toMatchObject({
      code: 'entity.not_found',
      status: 404,
      retryable: false,
    });
    for (const status of [0, 408, 429, 500, 503])
      expect(toStepFailure(new LogtoApiError('x', status, 'GET', '/', 'm')).retryable).toBe(true);
    expect(toStepFailure(new LogtoApiError('x', 429, 'GET', '/', 'm', 5000))).toMatchObject({
      retryAfterMs: 5000,
    });
    expect(toStepFailure(new TokenEndpointError('invalid_client', 401, 'm'))).toMatchObject({
      code: 'invalid_client',
      status: 401,
      retryable: false,
    });
    expect(toStepFailure(new TokenEndpointError('server_error', 503, 'm')).retryable).toBe(true);
    expect(toStepFailure(new TokenCheckError('jwks_unavailable', 'm'))).toMatchObject({
      code: 'token_jwks_unavailable',
      retryable: true,
    });
    expect(toStepFailure(new TokenCheckError('signature', 'm')).retryable).toBe(false);
    expect(toStepFailure(new GovernorBusyError(700))).toMatchObject({
      code: 'governor_wait',
      wait: true,
      retryAfterMs: 700,
      retryable: true,
    });
    expect(toStepFailure(new AutomationError('later', 'm', { retryable: true }))).toMatchObject({
      code: 'later',
      retryable: true,
    });
    expect(toStepFailure(new TypeError('fetch failed'))).toMatchObject({
      code: 'network_error',
      retryable: true,
    });
    expect(toStepFailure(new Error('x'.repeat(1000))).message).toHaveLength(300);
    const error = new AppError('custom', 'm', { cause: new Error('root') });
    expect(error.cause).toBeInstanceOf(Error);
  });
});
