/** Progress lines for anything slow: `[  12.3s] stack: postgres ready`. */
const t0 = Date.now();

export type Progress = (message: string) => void;

export function progress(scope: string): Progress {
  return (message) => {
    if (process.env.MLOPS_CHAOS_QUIET === '1') return;
    const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${s}s] ${scope}: ${message}\n`);
  };
}
