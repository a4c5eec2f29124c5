import { test, expect } from '@playwright/test';
import { golden, judgeJson, v1Predictions } from '../../src/probes/golden.ts';

test.describe('answer judges', () => {
  const version = judgeJson((b) => (b as { version?: unknown }).version, (got) => (got === '1' ? undefined : `version ${JSON.stringify(got)}`));

  test('judgeJson: right, wrong with its note, and a body that is not JSON', () => {
    expect(version({ body: '{"version":"1"}' })).toEqual({ correct: true });
    expect(version({ body: '{"version":"2"}' })).toEqual({ correct: false, note: 'version "2"' });
    expect(version({ body: '<html>503</html>' })).toEqual({ correct: false, note: 'unparseable body: <html>503</html>' });
  });

  test('golden: the outputs must match in length and value', () => {
    const judge = golden([1, 0], v1Predictions);
    expect(judge({ body: '{"predictions":[1,0]}' }).correct).toBe(true);
    expect(judge({ body: '{"predictions":["1","0"]}' }).correct).toBe(true);
    expect(judge({ body: '{"predictions":[1]}' })).toEqual({ correct: false, note: 'predicted [1], golden [1,0]' });
    // A 200 without the outputs at all: judged wrong, not a crash of the judge.
    expect(judge({ body: '{}' })).toEqual({ correct: false, note: 'predicted undefined, golden [1,0]' });
  });
});
