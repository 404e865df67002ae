import { describe, expect, it } from 'vitest';
import { table } from '../../src/cli/output.js';

describe('table', () => {
  const rows = [
    ['alice', 'active', 'x'],
    ['bob', 'expired', 'a state named active'],
  ];

  it('colours cells after measuring them: columns line up with and without colour', () => {
    const plain = table(['USER', 'STATE', 'NOTE'], rows);
    const coloured = table(['USER', 'STATE', 'NOTE'], rows, 48, (text, row, column) =>
      row >= 0 && column === 1 ? `\u001b[31m${text}\u001b[0m` : text,
    );
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(plain);
    expect(plain.split('\n')[2]).toBe('bob    expired  a state named active');
  });

  it('styles only the cell asked for, never the same text elsewhere on the line', () => {
    const coloured = table(['USER', 'STATE', 'NOTE'], rows, 48, (text, row, column) =>
      row === 1 && column === 1 ? `<${text}>` : text,
    );
    expect(coloured.split('\n')[2]).toBe('bob    <expired>  a state named active');
    expect(coloured.split('\n')[1]).toBe('alice  active   x');
  });
});
