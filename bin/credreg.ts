#!/usr/bin/env node
/** `credreg`: the admin CLI of the credential register. See `credreg --help`. */
import { main } from '../lib/cli/index.js'

process.exit(await main(process.argv.slice(2)))
