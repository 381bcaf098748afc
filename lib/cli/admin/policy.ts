/**
 * `credreg admin keygen|init|grant|revoke|rotate-key|retire-key|policy show`:
 * the policy (which hosts may write and read what, and the read scopes' keys).
 * A change is signed here, with the admin key file that never leaves this
 * machine, and carried to the log by the daemon's admin socket.
 */
import { Argument, Option, type Command } from 'commander'
import type { Declare } from '../program.js'
import { hostName, keyId, prefix, prefixList, publicKey } from '../policy-input.js'
/** Declares the policy's commands under `admin`: keys, the policy's versions, read-scope key rotation. */
export function addPolicyAdminCommands (admin: Command, command: Declare): void {
  const adminKey = (): Option => new Option('--admin-key <file>', 'the admin key file (credreg admin keygen): signs the new policy version here; it is never sent').makeOptionMandatory()
  command('keygen', 'write a new Ed25519 admin key (PEM, mode 0600, never overwrites) and print its public key; with --scope, a new 32-byte data key of that read scope, and print its key id', async () => await import('../commands/admin-keygen.js'), admin)
    .requiredOption('--out <path>', 'the key file to create')
    .addOption(new Option('--scope <prefix>', 'make a data key for the read scope of keys starting with PREFIX (\'\' for the namespace\'s) instead').argParser(prefix))
    .addHelpText('after', '\nExamples:\n  credreg admin keygen --out admin.key\n  credreg admin keygen --scope shared/ --out shared-2.key')

  command('init', 'start the policy (version 1): signed by the admin key; the daemon\'s host may write and read everything and decide rotations; records no granted host signed are refused from then on', async () => await import('../commands/admin-init.js'), admin)
    .addOption(adminKey())
    .addOption(new Option('--name <name>', 'the name to grant the daemon\'s host under (default: its node id, which its records must carry)').argParser(hostName))
    .addHelpText('after', '\nRefused (exit 3, VERSION_CONFLICT) when a policy is in force already.\n\nExample:\n  credreg admin init --admin-key admin.key')

  command('grant', 'add HOST to the policy, or replace its grant: the prefixes it may write and read, and whether it decides rotations', async () => await import('../commands/admin-grant.js'), admin)
    .addArgument(new Argument('<host>', 'the host\'s node id').argParser(hostName))
    .addOption(new Option('--key <public-key>', 'its public key, as credreg whoami prints it on that host (required for a new host; default: the one granted)').argParser(publicKey))
    .addOption(new Option('--write <prefixes>', 'comma-separated prefixes of the keys it may write, * for every key (default: none)').argParser(prefixList))
    .addOption(new Option('--read <prefixes>', 'comma-separated prefixes of the keys it may read, * for every key (default: none)').argParser(prefixList))
    .option('--rotations', 'it may stage, release and abort rotations')
    .addOption(adminKey())
    .addHelpText('after', '\nThe grant is replaced whole: flags left out grant nothing. A change is signed as the next version\n' +
      'of the policy in force; when another admin\'s version landed first, it is applied again to that one.\n\n' +
      'Example:\n  credreg admin grant b --key Xk3…(43 characters) --write svc/b/ --read svc/b/ --admin-key admin.key')

  command('revoke', 'remove HOST from the policy: every replica refuses its records from this version on', async () => await import('../commands/admin-revoke.js'), admin)
    .addArgument(new Argument('<host>', 'the host\'s node id').argParser(hostName))
    .addOption(adminKey())

  command('rotate-key', 'make KID the current key of a read scope (new values are sealed under it; older key ids still open theirs); with --reseal, write the scope\'s live values again under it', async () => await import('../commands/admin-rotate-key.js'), admin)
    .addOption(new Option('--scope <prefix>', 'the read scope (\'\' for the namespace\'s); created when absent').argParser(prefix).default('', '\'\''))
    .addOption(new Option('--kid <kid>', 'the new key\'s id, as credreg admin keygen --scope printed it').argParser(keyId).makeOptionMandatory())
    .option('--reseal', 'then have the daemon write every live value of the scope still under an older key again, under KID')
    .addOption(adminKey())
    .addHelpText('after', '\nEvery host that reads the scope must hold the new key (credregd --scope-key-file) first.\n' +
      'Then: credreg admin retire-key OLD-KID. See docs/key-rotation.md.')

  command('retire-key', 'retire the older key KID of its read scope: nothing opens under it any more where its file was dropped (refused for a scope\'s current key)', async () => await import('../commands/admin-retire-key.js'), admin)
    .addArgument(new Argument('<kid>', 'the key id').argParser(keyId))
    .addOption(adminKey())
  addPolicyShow(admin, command)
}

/** The policy itself, under `credreg admin policy`. */
function addPolicyShow (admin: Command, command: Declare): Command {
  const policy = admin.command('policy').description('the policy in force: credreg admin policy show')
  command('show', 'show the policy in force: version, admin key, each host\'s grant, each read scope\'s key ids', async () => await import('../commands/admin-policy-show.js'), policy)
  return policy
}
