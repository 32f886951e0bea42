/**
 * Secrets the tests hand to the CLI, and the check every spawned CLI's
 * output goes through (runCli, spawnCli): no secret may appear in stdout or
 * stderr, not even in an error about the secret itself (issue 14). Values of
 * the credential variables a test passes in the child's environment count
 * too, so a new test is covered without being listed here.
 */
import {FAKE_TOKEN} from '../fakes/cloudflare.js'

/** Fixed test secrets used across the suite (tokens and secret keys of the local fakes). */
export const TEST_SECRETS: readonly string[] = [
  FAKE_TOKEN,
  'test-secret-not-real', // test/helpers/route53.ts
  'dummySecretKeyThatMustNeverBePrinted', // test/e2e/template-upload.test.ts
  'not-the-secret-7f3a', // test/e2e/leases-s3.test.ts
]

const SECRET_ENV = ['CLOUDFLARE_API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']
/** Shorter values ("x", "S3RVER") are placeholders, not secrets, and occur in ordinary text. */
const MIN_LENGTH = 8

export function secretsFor(env: NodeJS.ProcessEnv | undefined): string[] {
  const fromEnv = SECRET_ENV.map((k) => env?.[k]?.trim() ?? '').filter((v) => v.length >= MIN_LENGTH)
  return [...TEST_SECRETS, ...fromEnv]
}

/** Throws when `output` contains one of the secrets (shown only by its first characters). */
export function assertNoSecret(output: string, env: NodeJS.ProcessEnv | undefined, what: string): void {
  for (const secret of secretsFor(env)) {
    if (output.includes(secret)) throw new Error(`a secret (${secret.slice(0, 4)}...) appeared in the output of ${what}`)
  }
}
