/**
 * Progress of a long wait (`--wait`) for a person watching: a spinner on
 * stderr, never under --json and never when stderr is not a terminal, so
 * logs and scripts stay clean.
 */
import {type Progress} from '../app/request.js'
import {stderrIsTerminal} from './output.js'

/** Progress that shows nothing: stderr is not a terminal. */
const QUIET: Progress = {update() {}, done() {}}

export function spinnerProgress(json: boolean): ((text: string) => Progress) | undefined {
  if (json) return undefined
  // Asked when there is progress to show, not for every command: on a
  // terminal, the answer makes process.stderr (node's tty and stream
  // modules, a large share of the start-up of `dnssd list`).
  let terminal: boolean | undefined
  return (text) => {
    terminal ??= stderrIsTerminal()
    if (!terminal) return QUIET
    let spinner: {text: string; success: (t: string) => void; error: (t: string) => void} | undefined
    let latest = text
    // yocto-spinner loads only when a spinner is shown.
    const ready = import('yocto-spinner').then(({default: create}) => {
      spinner = create({text: latest, stream: process.stderr}).start()
    })
    return {
      update(t) {
        latest = t
        if (spinner) spinner.text = t
      },
      done(ok, t) {
        void ready.then(() => (ok ? spinner?.success(t) : spinner?.error(t)))
      },
    }
  }
}
