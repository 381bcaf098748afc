#!/usr/bin/env node
/** `credreg`: the admin CLI of the credential register. See `credreg --help`. */
import { main } from '../lib/cli/index.js'

const code = await main(process.argv.slice(2))
// Into a pipe stdout is written asynchronously: exiting at once would cut a long output
// (`credreg nodes` of 10,000 hosts) short. The callback runs once everything before it is written.
process.stdout.write('', () => process.exit(code))
