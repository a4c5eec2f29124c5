/** A 200 is right only if it carries the golden outputs (`pick` finds them in the body). */
export function golden(expected: number[], pick: (body: unknown) => unknown) {
  return (res: { body: string }): { correct: boolean; note?: string } => {
    let got: unknown;
    try {
      got = pick(JSON.parse(res.body));
    } catch {
      return { correct: false, note: `unparseable body: ${res.body.slice(0, 100)}` };
    }
    const ok = Array.isArray(got) && got.length === expected.length && got.every((v, i) => Number(v) === expected[i]);
    return ok ? { correct: true } : { correct: false, note: `predicted ${JSON.stringify(got).slice(0, 200)}, golden ${JSON.stringify(expected).slice(0, 200)}` };
  };
}

export const v1Predictions = (b: unknown): unknown => (b as { predictions?: unknown }).predictions;
export const v2Outputs = (b: unknown): unknown => (b as { outputs?: { data?: unknown }[] }).outputs?.[0]?.data;
