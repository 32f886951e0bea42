/**
 * `list` lays out plain-ASCII tables itself (src/cli/render.ts renderTable)
 * and leaves the rest to cli-table3; for random ASCII tables both give the
 * same text. Random: the seed is printed and taken from LIST_TABLE_SEED.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import Table from 'cli-table3'
import {renderTable} from '../../src/cli/render.js'

const CHARS = {top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  '}

function viaCliTable3(head: string[], rows: string[][]): string {
  const table = new Table({head, style: {head: [], border: [], compact: true}, chars: CHARS})
  table.push(...rows)
  return table.toString()
}

describe('list table', () => {
  const seed = Number(process.env.LIST_TABLE_SEED ?? Date.now() % 2 ** 31)
  it(`random ASCII tables match cli-table3 (LIST_TABLE_SEED=${seed})`, async () => {
    console.log(`LIST_TABLE_SEED=${seed}`)
    let state = seed
    const rand = (n: number): number => ((state = (state * 1103515245 + 12345) & 0x7fffffff) % n)
    const word = (): string => {
      const pick = rand(4)
      const alphabet = pick === 0 ? ' ' : pick === 1 ? 'abc.-_:=()' : ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~'
      return Array.from({length: rand(pick === 0 ? 3 : 24)}, () => alphabet[rand(alphabet.length)]).join('')
    }
    for (let t = 0; t < 300; t++) {
      const columns = 1 + rand(8)
      const head = Array.from({length: columns}, word)
      const rows = Array.from({length: rand(6)}, () => Array.from({length: columns}, word))
      assert.equal(await renderTable(head, rows), viaCliTable3(head, rows), JSON.stringify({head, rows}))
    }
  })

  it('leaves non-ASCII and multi-line cells to cli-table3', async () => {
    for (const cell of ['caf\u00e9=1', '\u65e5\u672c', 'a\nb', 'tab\there']) {
      const head = ['SERVICE', 'TXT']
      const rows = [['_web._tcp', cell]]
      assert.equal(await renderTable(head, rows), viaCliTable3(head, rows))
    }
  })
})
