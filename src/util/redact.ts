/**
 * Secrets (database passwords, S3 keys) are registered here when they are created and are
 * replaced by `***` in everything the suite writes: logs copied to reports, results, errors.
 */
const secrets = new Set<string>();

export function registerSecret(value: string): string {
  if (value.length >= 6) secrets.add(value);
  return value;
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
