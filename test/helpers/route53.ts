/**
 * Helpers for Route 53 tests: a started local endpoint and the environment
 * that points the REAL SDK in the built CLI at it (never at AWS or IMDS).
 */
import {FakeRoute53, type FakeOptions} from '../fakes/route53.js'
import {cleanEnv} from './cli.js'

export interface Endpoint {
  fake: FakeRoute53
  url: string
  zoneId: string
  env: (extra?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv
  stop: () => Promise<void>
}

export async function startEndpoint(options: FakeOptions = {}, zone = 'example.com'): Promise<Endpoint> {
  const fake = new FakeRoute53(options)
  const zoneId = fake.createZone(zone).id
  const url = await fake.start()
  return {
    fake,
    url,
    zoneId,
    env: (extra = {}) =>
      cleanEnv({
        AWS_ENDPOINT_URL_ROUTE_53: url,
        AWS_ACCESS_KEY_ID: 'AKIATESTDNSSD',
        AWS_SECRET_ACCESS_KEY: 'test-secret-not-real',
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: '/nonexistent/dnssd-test/config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/dnssd-test/credentials',
        ...extra,
      }),
    stop: () => fake.stop(),
  }
}

/** Number of API request attempts the CLI reported with --verbose. */
export const callsIn = (stderr: string): number => (stderr.match(/: call /g) ?? []).length

export function nonApex(ep: Endpoint): {name: string; type: string; value: string}[] {
  return ep.fake.records(ep.zoneId).filter((r) => r.type !== 'SOA' && r.type !== 'NS')
}
