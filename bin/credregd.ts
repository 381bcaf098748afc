#!/usr/bin/env node
/** `credregd`: the credreg daemon of a host. See `credregd --help`. */
import { main } from '../lib/daemon/main.js'

process.exit(await main(process.argv.slice(2), process.env))
