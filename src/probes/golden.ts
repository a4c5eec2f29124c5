/** A judge of a JSON answer: `pick` finds the value in the body, `wrong` says what is wrong with it (nothing: right). */
export function judgeJson(pick: (body: unknown) => unknown, wrong: (got: unknown) => string | undefined) {
  return (res: { body: string }): { correct: boolean; note?: string } => {
    let got: unknown;
    try {
      got = pick(JSON.parse(res.body));
    } catch {
      return { correct: false, note: `unparseable body: ${res.body.slice(0, 100)}` };
    }
    const note = wrong(got);
    return note === undefined ? { correct: true } : { correct: false, note };
  };
}

/** A 200 is right only if it carries the golden outputs (`pick` finds them in the body). */
export function golden(expected: number[], pick: (body: unknown) => unknown) {
  return judgeJson(pick, (got) =>
    Array.isArray(got) && got.length === expected.length && got.every((v, i) => Number(v) === expected[i])
      ? undefined
      : `predicted ${String(JSON.stringify(got)).slice(0, 200)}, golden ${JSON.stringify(expected).slice(0, 200)}`,
  );
}

export const v1Predictions = (b: unknown): unknown => (b as { predictions?: unknown }).predictions;
export const v2Outputs = (b: unknown): unknown => (b as { outputs?: { data?: unknown }[] }).outputs?.[0]?.data;
