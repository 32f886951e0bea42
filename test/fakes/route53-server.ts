/**
 * Launch the local Route 53 endpoint by hand:
 *   node --import tsx test/fakes/route53-server.ts example.com [--rate 5] [--fault-rate 0.15]
 * Prints `AWS_ENDPOINT_URL_ROUTE_53=... ZONE_ID=...` and serves until killed.
 */
import {parseArgs} from 'node:util'
import {FakeRoute53} from './route53.js'

const {values, positionals} = parseArgs({
  allowPositionals: true,
  options: {rate: {type: 'string', default: '5'}, 'fault-rate': {type: 'string', default: '0'}, 'zone-id': {type: 'string'}},
})
const fake = new FakeRoute53({rate: Number(values.rate), faultRate: Number(values['fault-rate'])})
const ids = (positionals.length > 0 ? positionals : ['example.com']).map((z, i) =>
  fake.createZone(z, {id: i === 0 ? values['zone-id'] : undefined}).id,
)
const url = await fake.start()
process.stdout.write(`AWS_ENDPOINT_URL_ROUTE_53=${url} ZONE_ID=${ids.join(',')}\n`)
const stop = (): void => void fake.stop().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
