/**
 * `credreg admin …`: the commands that go to the daemon's admin socket
 * (mode 0600, the daemon's user only), each group of them declared in a file
 * of its own beside this one. The admin socket is `--admin-socket`, else
 * `CREDREG_ADMIN_SOCKET`, else `credregd-admin.sock` beside the apps' socket
 * (lib/cli/target.ts).
 */
import { Option, type Command } from 'commander'
import type { Declare } from '../program.js'
import { addPolicyAdminCommands } from './policy.js'
import { addTokenCommands } from './tokens.js'

/** The `--admin-socket` option, which the admin commands (and `credreg dev`) take. */
export function adminSocketOption (): Option {
  return new Option('--admin-socket <path>', 'the daemon\'s admin socket (default: $CREDREG_ADMIN_SOCKET, else credregd-admin.sock beside the apps\' socket)')
}

/** Declares the `admin` group and its commands under `program`; resolves with the group. */
export function addAdminCommands (program: Command, command: Declare): Command {
  const admin = program.command('admin').description('the daemon\'s admin socket: the policy (host grants, read scopes, key rotation), scoped tokens of the apps\' socket, recovery of the register')
  command('reseed', 'restore the change log from this daemon\'s replica after NATS lost its JetStream store; the other daemons adopt it by themselves', async () => await import('../commands/reseed.js'), admin)
    .addHelpText('after', '\nOnly a daemon that refuses the log (credreg status: diverged) reseeds. Every version its replica\n' +
      'holds is written to a new history that continues the old one; every other daemon of the old history\n' +
      'then adds the versions it holds that are newer, so no acknowledged write is lost and versions continue.\n' +
      'Refused (exit 6) when the log matches the replica, or when the stream exists with another history:\n' +
      'a reseed only creates a missing stream. See docs/guarantees.md.')
  addPolicyAdminCommands(admin, command)
  addTokenCommands(admin, command)
  for (const cmd of [admin, ...descendants(admin)]) cmd.addOption(adminSocketOption())
  return admin
}

/** Every command below `command`, groups and leaves. */
export function descendants (command: Command): Command[] {
  return command.commands.flatMap(child => [child, ...descendants(child)])
}
