/**
 * Progress of a long wait (`--wait`) for a person watching: a spinner on
 * stderr, never under --json and never when stderr is not a terminal, so
 * logs and scripts stay clean.
 */
import {type Progress} from '../app/request.js'
import {stderrIsTerminal} from './output.js'

export function spinnerProgress(json: boolean): ((text: string) => Progress) | undefined {
  if (json || !stderrIsTerminal()) return undefined
  return (text) => {
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
