/**
 * `credreg admin token create|list|revoke`: the scoped tokens of the apps'
 * socket. Once the daemon has one, every request on the apps' socket needs a
 * token, and is held to its scope.
 */
import { Option, type Command } from 'commander'
import type { Declare } from '../program.js'
import { prefixList } from '../input.js'

/** Declares the `token` group under `admin`. */
export function addTokenCommands (admin: Command, command: Declare): Command {
  const token = admin.command('token').description('scoped tokens of the apps\' socket: who may read and write which keys')
  command('create', 'mint a token scoped to key prefixes, write it to --out FILE (mode 0600, never overwritten) and print its name and scope, never the token', async () => await import('../commands/admin/token-create.js'), token)
    .requiredOption('--name <name>', 'the token\'s name, unique: 1-64 characters of A-Z a-z 0-9 _ . -')
    .addOption(new Option('--read <prefixes>', 'key prefixes it may read (get, list, watch, history), comma-separated, e.g. svc/a/,shared/').argParser(prefixList))
    .addOption(new Option('--write <prefixes>', 'key prefixes it may write (put, patch, delete, changesets), comma-separated').argParser(prefixList))
    .option('--rotations', 'it may also stage, release and abort rotations (of keys it may write) and see every rotation')
    .requiredOption('--out <file>', 'the file to write the token to (created with mode 0600; an existing file is refused)')
    .addHelpText('after', '\nA key is within a prefix when it starts with it: svc/a/ covers svc/a/db, svc/a would cover svc/ab too.\n' +
      'A token may acknowledge a rotation whose every staged key it may read.\n\nExample:\n' +
      '  credreg admin token create --name billing --read svc/billing/,shared/ --write svc/billing/ --out billing.token\n' +
      '  CREDREG_TOKEN_FILE=billing.token credreg get svc/billing/db')
  command('list', 'list the tokens: name, read and write prefixes, rotations, created (never a token or its hash)', async () => await import('../commands/admin/token-list.js'), token)
  command('revoke', 'revoke the token NAME: the daemon refuses it from now on (401)', async () => await import('../commands/admin/token-revoke.js'), token)
    .argument('<name>', 'the token\'s name')
  return token
}
