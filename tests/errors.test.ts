import { describe, expect, it } from 'vitest';
import { CaoError, ERROR_CODES, httpStatusOf, isCaoError, messageOf } from '../src/util/errors.js';

describe('CaoError: the one error type', () => {
  it('carries its typed code and message; a detail (a screen) is appended for people', () => {
    const e = new CaoError('startup_failed', 'Codex did not become ready within 5 s', 'line 1\nline 2');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('startup_failed');
    expect(e.detail).toBe('line 1\nline 2');
    expect(e.message).toBe('Codex did not become ready within 5 s\n--- screen ---\nline 1\nline 2');
    expect(isCaoError(e)).toBe(true);
    expect(isCaoError(e, 'startup_failed')).toBe(true);
    expect(isCaoError(e, 'timeout')).toBe(false);
    expect(isCaoError(new Error('x'))).toBe(false);
  });

  it('maps each code to the HTTP status the dashboard API answers with', () => {
    expect(httpStatusOf('not_found')).toBe(404);
    expect(httpStatusOf('receiver_not_found')).toBe(404);
    expect(httpStatusOf('ended')).toBe(410);
    expect(httpStatusOf('not_waiting')).toBe(409);
    expect(httpStatusOf('not_here')).toBe(409);
    expect(httpStatusOf('forbidden')).toBe(403);
    expect(httpStatusOf('body_too_large')).toBe(413);
    expect(httpStatusOf('unsupported_media_type')).toBe(415);
    expect(httpStatusOf('internal')).toBe(500);
    expect(httpStatusOf('bad_request')).toBe(400);
    expect(httpStatusOf('unknown_host')).toBe(404);
    expect(httpStatusOf('host_name_taken')).toBe(409);
    for (const c of ['host_dead', 'host_full', 'no_host_with_room', 'lease_lost'] as const) expect(httpStatusOf(c)).toBe(503);
    for (const c of ERROR_CODES) expect([400, 403, 404, 409, 410, 413, 415, 500, 503]).toContain(httpStatusOf(c));
  });

  it('messageOf reads any thrown value', () => {
    expect(messageOf(new CaoError('timeout', 'timed out after 5 ms'))).toBe('timed out after 5 ms');
    expect(messageOf(new TypeError(''))).toBe('TypeError');
    expect(messageOf('plain')).toBe('plain');
  });
});
