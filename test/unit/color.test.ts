import { describe, expect, it } from 'vitest';
import { colorFor, paint } from '../../src/cli/output.js';

/** Colour is decided per stream: piping either one gives plain text there, whatever the other is. */
describe('colorFor', () => {
  it('colours a terminal only', () => {
    expect(colorFor(true, {})).toBe(true);
    expect(colorFor(false, {})).toBe(false);
    expect(colorFor(undefined, {})).toBe(false);
  });

  it('honours NO_COLOR when it is non-empty', () => {
    expect(colorFor(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorFor(true, { NO_COLOR: '' })).toBe(true);
  });

  it('honours FORCE_COLOR, over NO_COLOR as Node does; 0 and false turn colour off', () => {
    expect(colorFor(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorFor(false, { FORCE_COLOR: 'true', NO_COLOR: '1' })).toBe(true);
    expect(colorFor(true, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorFor(true, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colorFor(true, { FORCE_COLOR: '' })).toBe(true);
  });

  it('paint writes escapes only when its stream may carry them', () => {
    expect(paint(false, 'red', 'x')).toBe('x');
    expect(paint(true, 'red', 'x')).toBe('\u001b[31mx\u001b[0m');
  });
});
