/**
 * The local Route 53 endpoint follows the documented wire behaviour
 * (reference/route53-s3.md), checked with the REAL SDK: start positions,
 * order, inclusive next markers, atomic ordered batches, error bodies.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53'
import {FakeRoute53} from '../fakes/route53.js'

describe('local Route 53 endpoint', () => {
  const fake = new FakeRoute53()
  let client: Route53Client
  let zoneId: string
  before(async () => {
    zoneId = fake.createZone('example.com').id
    fake.createZone('example.org')
    const endpoint = await fake.start()
    client = new Route53Client({region: 'us-east-1', endpoint, maxAttempts: 1, credentials: {accessKeyId: 'AKIAFAKE', secretAccessKey: 'x'}})
  })
  after(async () => {
    client.destroy()
    await fake.stop()
  })

  it('treats ListHostedZonesByName dnsname as a start position', async () => {
    const res = await client.send(new ListHostedZonesByNameCommand({DNSName: 'example.net'}))
    assert.deepEqual(res.HostedZones?.map((z) => z.Name), ['example.org.'])
    assert.match(res.HostedZones![0]!.Id!, /^\/hostedzone\/Z/)
  })

  it('orders by reversed labels with the dot kept and pages with inclusive next markers', async () => {
    const create = (name: string, type = 'A', value = '192.0.2.1') => ({Action: 'CREATE' as const, ResourceRecordSet: {Name: name, Type: type as 'A', TTL: 60, ResourceRecords: [{Value: value}]}})
    const r = await client.send(
      new ChangeResourceRecordSetsCommand({HostedZoneId: zoneId, ChangeBatch: {Changes: [create('a.example.com'), create('a-b.example.com'), create('*.Example.com'), create('a.example.com', 'TXT', '"x"')]}}),
    )
    assert.equal(r.ChangeInfo?.Status, 'PENDING')
    const p1 = await client.send(new ListResourceRecordSetsCommand({HostedZoneId: zoneId, MaxItems: 3}))
    // `\052` (backslash, 92) sorts before lower-case letters; `-` (45) before `.` (46).
    assert.deepEqual(p1.ResourceRecordSets?.map((s) => `${s.Name} ${s.Type}`), ['example.com. NS', 'example.com. SOA', '\\052.example.com. A'])
    assert.equal(p1.IsTruncated, true)
    assert.equal(p1.NextRecordName, 'a-b.example.com.')
    const p2 = await client.send(new ListResourceRecordSetsCommand({HostedZoneId: zoneId, StartRecordName: p1.NextRecordName, StartRecordType: p1.NextRecordType as 'A'}))
    assert.deepEqual(p2.ResourceRecordSets?.map((s) => `${s.Name} ${s.Type}`), ['a-b.example.com. A', 'a.example.com. A', 'a.example.com. TXT'])
    assert.equal(p2.IsTruncated, false)
    assert.equal(p2.NextRecordName, undefined)
    const change = await client.send(new GetChangeCommand({Id: r.ChangeInfo!.Id!}))
    assert.match(change.ChangeInfo!.Status!, /PENDING|INSYNC/)
  })

  it('evaluates a batch in order, all or nothing, with exact-match DELETE', async () => {
    const a = {Name: 'a.example.com', Type: 'A' as const, TTL: 60, ResourceRecords: [{Value: '192.0.2.1'}]}
    // DELETE then CREATE of the same set is the replace (compare-and-swap).
    await client.send(new ChangeResourceRecordSetsCommand({HostedZoneId: zoneId, ChangeBatch: {Changes: [{Action: 'DELETE', ResourceRecordSet: a}, {Action: 'CREATE', ResourceRecordSet: {...a, ResourceRecords: [{Value: '192.0.2.2'}]}}]}}))
    const stale = client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {Changes: [{Action: 'CREATE', ResourceRecordSet: {...a, Name: 'new.example.com'}}, {Action: 'DELETE', ResourceRecordSet: a}, {Action: 'CREATE', ResourceRecordSet: {...a, Name: 'a-b.example.com'}}]},
      }),
    )
    await assert.rejects(stale, (e: any) => {
      assert.equal(e.name, 'InvalidChangeBatch')
      assert.equal(e.$metadata.httpStatusCode, 400)
      assert.equal(
        e.message,
        "[Tried to delete resource record set [name='a.example.com.', type='A'] but the values provided do not match the current values, Tried to create resource record set [name='a-b.example.com.', type='A'] but it already exists]",
      )
      return true
    })
    assert.ok(!fake.records(zoneId).some((r) => r.name === 'new.example.com'), 'nothing of a failed batch is applied')
    await assert.rejects(
      client.send(new ChangeResourceRecordSetsCommand({HostedZoneId: zoneId, ChangeBatch: {Changes: [{Action: 'CREATE', ResourceRecordSet: {Name: 't.example.com', Type: 'TXT', TTL: 60, ResourceRecords: [{Value: 'unquoted'}]}}]}})),
      /InvalidCharacterString/,
    )
    await assert.rejects(client.send(new ListResourceRecordSetsCommand({HostedZoneId: 'ZNOPE'})), (e: any) => e.name === 'NoSuchHostedZone' && e.$metadata.httpStatusCode === 404)
  })

  it('refuses a batch past 1,000 values or 32,000 characters (DELETE and CREATE both count, UPSERT twice), changing nothing', async () => {
    const set = (name: string, n: number, len = 7) => ({
      Name: name,
      Type: 'TXT' as const,
      TTL: 60,
      ResourceRecords: Array.from({length: n}, (_, i) => ({Value: `"${String(i).padStart(len - 2, '0')}"`})),
    })
    const send = (changes: {Action: 'CREATE' | 'DELETE' | 'UPSERT'; ResourceRecordSet: ReturnType<typeof set>}[]) =>
      client.send(new ChangeResourceRecordSetsCommand({HostedZoneId: zoneId, ChangeBatch: {Changes: changes}}))
    const refused = (text: string) => (e: any) => e.name === 'InvalidChangeBatch' && e.$metadata.httpStatusCode === 400 && e.message === `[${text}]`
    const before = fake.records(zoneId)
    // 400 + 400 + 201 = 1,001 values in three sets.
    await assert.rejects(send([{Action: 'CREATE', ResourceRecordSet: set('l1.example.com', 400)}, {Action: 'CREATE', ResourceRecordSet: set('l2.example.com', 400)}, {Action: 'CREATE', ResourceRecordSet: set('l3.example.com', 201)}]), refused('Number of records limit of 1000 exceeded.'))
    // 300 values counted twice by UPSERT, plus 401 = 1,001.
    await assert.rejects(send([{Action: 'UPSERT', ResourceRecordSet: set('l1.example.com', 300)}, {Action: 'CREATE', ResourceRecordSet: set('l2.example.com', 400)}, {Action: 'CREATE', ResourceRecordSet: set('l3.example.com', 1)}]), refused('Number of records limit of 1000 exceeded.'))
    // 2 x 200 values of 81 characters = 32,400 characters.
    await assert.rejects(send([{Action: 'CREATE', ResourceRecordSet: set('l1.example.com', 200, 81)}, {Action: 'CREATE', ResourceRecordSet: set('l2.example.com', 200, 81)}]), refused('RDATA character limit of 32000 exceeded.'))
    assert.deepEqual(fake.records(zoneId), before)
    // Exactly at the limits: 1,000 values (a DELETE of 400 and CREATEs of 400 + 200).
    await send([{Action: 'CREATE', ResourceRecordSet: set('l1.example.com', 400)}])
    await send([{Action: 'DELETE', ResourceRecordSet: set('l1.example.com', 400)}, {Action: 'CREATE', ResourceRecordSet: set('l1.example.com', 400, 8)}, {Action: 'CREATE', ResourceRecordSet: set('l2.example.com', 200)}])
    assert.equal(fake.batchSizes.at(-1)!.records, 1000)
    await send([{Action: 'DELETE', ResourceRecordSet: set('l1.example.com', 400, 8)}, {Action: 'DELETE', ResourceRecordSet: set('l2.example.com', 200)}])
    assert.deepEqual(fake.records(zoneId), before)
  })

  it('answers Throttling (400) beyond the account rate', async () => {
    fake.options.rate = 5
    fake.options.burst = 5
    const results = await Promise.allSettled(Array.from({length: 12}, () => client.send(new ListResourceRecordSetsCommand({HostedZoneId: zoneId}))))
    const throttled = results.filter((r) => r.status === 'rejected' && (r.reason as any).name === 'Throttling' && (r.reason as any).$metadata.httpStatusCode === 400)
    assert.ok(throttled.length >= 6, `${throttled.length} throttled`)
    fake.options.rate = 0
  })
})
