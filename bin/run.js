#!/usr/bin/env node
// Start-up path: oclif reads oclif.manifest.json (built by `npm run build`) and
// imports only the invoked command. Keep this file free of heavy imports.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
