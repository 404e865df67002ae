import { describe, expect, it } from 'vitest';
import { didYouMean, unknownName } from '../../src/model/suggest.js';

describe('did you mean', () => {
  it('suggests a close name: a swap, a missing or extra letter, another case', () => {
    const known = ['bastion', 'prod-db', 'vpn', 'platform-team'];
    expect(didYouMean('bastoin', known)).toBe('bastion');
    expect(didYouMean('prod-d', known)).toBe('prod-db');
    expect(didYouMean('Prod-DB', known)).toBe('prod-db');
    expect(didYouMean('platfrom-team', known)).toBe('platform-team');
    expect(didYouMean('vpm', known)).toBe('vpn');
  });
  it('suggests nothing for a name that is not a typo of any', () => {
    expect(didYouMean('zzzzzzz', ['bastion', 'vpn'])).toBeUndefined();
    expect(didYouMean('ab', ['xy'])).toBeUndefined();
    expect(didYouMean('a', [])).toBeUndefined();
  });
  it('lists what is known, sorted', () => {
    expect(unknownName('target', 'bastoin', ['vpn', 'bastion'])).toBe(
      'unknown target "bastoin" (did you mean "bastion"?); known: bastion, vpn',
    );
    expect(unknownName('target', 'x', [])).toBe('unknown target "x"; there are none');
  });
});
