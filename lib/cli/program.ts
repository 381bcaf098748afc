/**
 * The commander program of `credreg`: the global options, every command with
 * its operands and flags, and the help texts. Commands are only described
 * here; each one's module is imported when it runs.
 */
import { Argument, Command, Option, type OutputConfiguration } from 'commander'
import type { Runner } from './context.js'
import { addAdminCommands, adminSocketOption, descendants } from './admin/group.js'
import { environmentHelp, exitCodesHelp } from './help.js'
import { durationMs, durationSeconds, fileMode, nodeIdList, renderStage, versionNumber, wholeNumber } from './input.js'

/** A command's module, loaded on demand. */
export type Loader = () => Promise<{ run: Runner<any> }>

/** Runs the command `command` (its options and operands parsed) with the module `load` yields. */
export type Dispatch = (load: Loader, command: Command) => Promise<void>

/** The options every command takes, before or after the command name; `group` heads them in a command's help. */
function addGlobalOptions (command: Command, group?: string): Command {
  const options = [
    new Option('--socket <path>', 'unix socket of the daemon (default: $CREDREG_SOCKET, else the socket of credreg dev)'),
    new Option('--url <url>', 'reach a daemon\'s TCP listener (credregd --listen) instead, e.g. https://credreg.example:7420; plain http: only to a loopback address').conflicts('socket'),
    new Option('--token-file <path>', 'file holding the bearer token: of the TCP listener (with --url), or a scoped token for the socket (default: $CREDREG_TOKEN_FILE)'),
    new Option('--ca <file>', 'CA certificate (PEM) to verify an https: --url with (default: $CREDREG_CA, else the system\'s CAs)'),
    new Option('--json', 'machine output: one JSON document per line on stdout, errors as {"code","message"} on stderr')
  ]
  for (const option of options) command.addOption(group === undefined ? option : option.helpGroup(group))
  return command
}

/** The options of a conditional write. */
const ifVersion = (): Option => new Option('--if-version <n>', 'write only if N is still the latest version').argParser(wholeNumber)

/** Declares a command whose action runs the module `load` yields, with the exit codes in its help. */
export type Declare = (name: string, description: string, load: Loader, parent?: Command) => Command

/** The `credreg` program; every action goes through `dispatch`, everything commander prints through `output`. */
export function buildProgram (version: string, dispatch: Dispatch, output: OutputConfiguration): Command {
  const program = new Command('credreg')
    .description('credreg: read, write and watch the shared credential register through the credregd daemon of this host')
    .version(version, '-V, --version', 'print the credreg version')
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput(output)
  addGlobalOptions(program)
  program.addHelpText('after', exitCodesHelp() + '\n' + environmentHelp())

  const command: Declare = (name, description, load, parent = program) => {
    const cmd = parent.command(name).description(description)
    cmd.addHelpText('after', exitCodesHelp())
    cmd.action(async (...args: unknown[]) => { await dispatch(load, args.at(-1) as Command) })
    return cmd
  }
  addReadCommands(command)
  addWriteCommands(command)
  const rotation = program.command('rotation').description('one staged rotation: credreg rotation status ID')
  addRotationCommands(command, rotation)
  addHostCommands(command)
  addAgentCommands(command)
  const admin = addAdminCommands(program, command)

  // Last, so each command's help lists its own options first; the groups take none.
  const groups = new Set([rotation, admin, ...descendants(admin).filter(cmd => cmd.commands.length > 0)])
  for (const cmd of descendants(program)) if (!groups.has(cmd)) addGlobalOptions(cmd, 'Global options:')
  return program
}

/** Reading the register: values, keys, versions, changes. */
function addReadCommands (command: Declare): void {
  command('get', 'print the value of KEY as JSON (--json: the whole entity {key, version, value, meta})', async () => await import('./commands/get.js'))
    .argument('<key>', 'the key, e.g. app/db/password')
    .addOption(new Option('--version <n>', 'a retained version instead of the latest').argParser(versionNumber))
    .addOption(new Option('--pending', 'the value an open rotation stages for KEY, instead of the current one').conflicts('version'))
    .option('--field <name>', 'print one top-level field of the value (a string raw, anything else as JSON)')
    .addHelpText('after', '\nExamples:\n  credreg get app/db --field password\n  credreg get app/db --pending')

  command('ls', 'list the live keys starting with PREFIX: key, version, updated', async () => await import('./commands/ls.js'))
    .argument('[prefix]', 'only keys starting with this', '')

  command('versions', 'list the retained versions of KEY, oldest first', async () => await import('./commands/versions.js'))
    .argument('<key>', 'the key')

  command('diff', 'print the RFC 6902 patch that turns version FROM of KEY into version TO', async () => await import('./commands/diff.js'))
    .argument('<key>', 'the key')
    .addArgument(new Argument('<from>', 'the older version').argParser(versionNumber))
    .addArgument(new Argument('<to>', 'the newer version').argParser(versionNumber))

  command('watch', 'print every change under PREFIX as one JSON line (NDJSON) until interrupted; survives daemon restarts', async () => await import('./commands/watch.js'))
    .argument('[prefix]', 'only keys starting with this', '')
    .addOption(new Option('--since <seq>', 'first replay every change after this log sequence (default: live changes only)').argParser(wholeNumber))
}

/** Writing the register: every write a new version, conditional where asked. */
function addWriteCommands (command: Declare): void {
  command('put', 'write VALUE as the next version of KEY; prints "KEY version N"', async () => await import('./commands/put.js'))
    .argument('<key>', 'the key')
    .argument('[value]', 'the value: a JSON object, or - to read it from stdin')
    .option('--file <path>', 'read the value from this file (- for stdin)')
    .addOption(ifVersion())
    .addOption(new Option('--if-absent', 'write only if KEY does not exist (or is deleted)').conflicts('ifVersion'))
    .addHelpText('after', '\nExamples:\n  credreg put app/db \'{"user":"app","password":"s3cret"}\'\n  credreg put app/db --file db.json --if-version 3\n  jq .db secrets.json | credreg put app/db -')

  command('patch', 'apply an RFC 6902 JSON Patch (or with --merge an RFC 7396 merge patch) to KEY', async () => await import('./commands/patch.js'))
    .argument('<key>', 'the key')
    .argument('[ops]', 'the patch as JSON (an array of operations; with --merge an object), or - to read it from stdin')
    .option('--file <path>', 'read the patch from this file (- for stdin)')
    .option('--merge', 'the patch is an RFC 7396 merge patch: members replace, null removes')
    .addOption(ifVersion())
    .addHelpText('after', '\nExamples:\n  credreg patch app/db \'[{"op":"replace","path":"/password","value":"n3w"}]\'\n  credreg patch app/db --merge \'{"password":"n3w","old":null}\'')

  command('apply', 'write the changes of a changeset document, every one or none, each key at its next version; prints "KEY version N" per key', async () => await import('./commands/apply.js'))
    .argument('<file>', 'the document, {"changes":[…]}: a JSON file, or - to read it from stdin')
    .addHelpText('after', '\nEach change is {"key":K,"op":"put","value":{…}}, {"key":K,"op":"patch","ops":[…RFC 6902…]},\n' +
      '{"key":K,"op":"merge","patch":{…RFC 7396…}} or {"key":K,"op":"delete"}, and may add "ifVersion":N\n' +
      '(write only if N is still the latest version; 0: the key never existed) or "ifAbsent":true.\n' +
      'At most 64 changes, each key once; their values together must fit one record (about --max-value-bytes).\n' +
      'A refused changeset writes nothing and lists every key that failed on stderr, with its code and, for a\n' +
      'conflict, the version expected and the current one; --json prints the whole result {id,seq,correlationId,results}.\n' +
      '\nExamples:\n' +
      '  credreg apply rotate.json\n' +
      '  echo \'{"changes":[{"key":"app/db","op":"merge","patch":{"password":"n3w"},"ifVersion":3},{"key":"app/db-old","op":"delete"}]}\' | credreg apply -')

  command('delete', 'delete KEY (the delete is a version too; history keeps the older ones)', async () => await import('./commands/delete.js'))
    .argument('<key>', 'the key')
    .addOption(ifVersion())

  command('rollback', 'write the value of version N of KEY as a new version (history is never rewritten)', async () => await import('./commands/rollback.js'))
    .argument('<key>', 'the key')
    .addOption(new Option('--to <n>', 'the version whose value to restore').argParser(versionNumber).makeOptionMandatory())
    .addOption(new Option('--if-version <n>', 'write only if N is still the latest version (default: the latest version as read just before)').argParser(wholeNumber))
}

/** Staged rotations: changes every host takes only once every host acknowledged them. */
function addRotationCommands (command: Declare, rotation: Command): void {
  command('stage', 'stage a new value of KEY, or every change of a --changes document, as a rotation that waits for each host\'s ack; prints its id', async () => await import('./commands/stage.js'))
    .argument('[key]', 'the key (for one key; else --changes)')
    .argument('[value]', 'its new value: a JSON object, or - to read it from stdin')
    .option('--file <path>', 'read the value from this file (- for stdin)')
    .addOption(new Option('--changes <file>', 'stage a { "changes": [ … ] } document, as credreg apply reads, from this file (- for stdin)').conflicts(['file']))
    .addOption(new Option('--hosts <ids>', 'the node ids that must acknowledge, comma-separated (default: every host the daemon heard from and alive)').argParser(nodeIdList))
    .addOption(new Option('--deadline <duration>', 'abort the rotation if it is still open after this long: 90s, 10m, 1h30m, 2d').argParser(durationSeconds))
    .addHelpText('after', '\nExamples:\n  credreg stage app/db \'{"user":"app","password":"n3w"}\' --deadline 1h\n' +
      '  credreg stage --changes rotate.json --hosts web-1,web-2,db-1\n\n' +
      'Each host then checks the staged values (credreg get KEY --pending) and runs credreg ack ID\n' +
      '(--fail MESSAGE when its check failed); credreg release ID makes them current once every host acked ok.')

  command('ack', 'acknowledge a rotation from this host: ok, or --fail with what its check said', async () => await import('./commands/ack.js'))
    .argument('<id>', 'the rotation id')
    .option('--fail <message>', 'the check of the staged values failed: this host acknowledges failed, with MESSAGE')
    .addOption(new Option('--message <text>', 'a note with an ok acknowledgement (what was checked)').conflicts('fail'))

  command('status', 'show a rotation: status, changes (version built on and new), each host\'s ack (ok, failed, silent), whether it holds the staged values', async () => await import('./commands/rotation-status.js'), rotation)
    .argument('<id>', 'the rotation id')

  command('rotations', 'list the open rotations: id, staged, by, keys, acks, deadline', async () => await import('./commands/rotations.js'))

  command('release', 'make a rotation\'s staged changes current, as one changeset; prints "KEY version N" per key (exit 3 with the reason when refused)', async () => await import('./commands/release.js'))
    .argument('<id>', 'the rotation id')
    .option('--force', 'release without every host\'s ok (recorded as forced)')

  command('abort', 'close a rotation without releasing it; its keys may be staged again', async () => await import('./commands/abort.js'))
    .argument('<id>', 'the rotation id')
    .option('--reason <text>', 'why, recorded with the abort')
}

/** This host's daemon and its peers, keys, and the standalone daemon. */
function addHostCommands (command: Declare): void {
  command('status', 'show the daemon: node, mode, namespace, applied sequence, lag, NATS connection, entities', async () => await import('./commands/status.js'))
    .option('--timings', 'also show where the daemon\'s time goes: per stage of a write and of a change\'s propagation, the count and p50 / p99 in ms')

  command('whoami', 'show who the daemon\'s host is: node id, public key, the data key ids it holds, the policy version in force and what it grants this host', async () => await import('./commands/whoami.js'))

  command('audit', 'list the audit trail under PREFIX, oldest first: seq, time, op, keys, who (node id and verified signer), outcome, correlation id', async () => await import('./commands/audit.js'))
    .argument('[prefix]', 'only entries touching a key starting with this', '')
    .option('--since <time>', 'only entries written at or after this ISO-8601 time, e.g. 2026-01-31T12:00:00Z')
    .addOption(new Option('--limit <n>', 'at most N entries, N at least 1 (default: every one, page after page)').argParser(wholeNumber))
    .addHelpText('after', '\nUnder a policy, WHO is the node id and the first characters of the public key whose signature\n' +
      'verified (the policy names that key with that node id); in open mode records are signed by no one:\n' +
      '"unverified". OUTCOME is applied, or why every replica refused the record (unauthorized, stale-version…).\n' +
      'Entries of keys this host may not read are not listed. The trail keeps the last million log sequences.')

  command('nodes', 'list every daemon of the namespace: applied sequence, lag, last seen (with --key: the version of KEY each holds)', async () => await import('./commands/nodes.js'))
    .option('--key <key>', 'also show the version of this key on each host, and which hosts are behind')

  command('keygen', 'write a new random 32-byte data key file with mode 0600 (never overwrites)', async () => await import('./commands/keygen.js'))
    .requiredOption('--out <path>', 'the key file to create')

  command('dev', 'run a standalone daemon (no NATS) in the foreground until Ctrl-C, and print how to talk to it', async () => await import('./commands/dev.js'))
    .option('--data-dir <dir>', 'its data directory (default: $XDG_DATA_HOME/credreg/dev, else ~/.local/share/credreg/dev); the socket is <dir>/credregd.sock unless --socket')
    .option('--log-level <level>', 'the daemon\'s log level, as for credregd --log-level; its log is JSON lines on stdout', 'warn')
    .addOption(adminSocketOption())
}

/** Credentials into other programs: rendered files and environment variables, kept current. */
function addAgentCommands (command: Declare): Command {
  const wait = (): Option => new Option('--wait <duration>', 'wait up to this long for the daemon at start (default: fail at once with exit 5)').argParser(durationMs)
  command('render', 'render TEMPLATE (LiquidJS; keys as secret["app/db"].field) to FILE atomically, then again after each change of its keys (one render per changeset)', async () => await import('./commands/render.js'))
    .argument('<template>', 'the template file')
    .requiredOption('--out <file>', 'the file to write (a temp file in its directory, fsync, rename)')
    .addOption(new Option('--mode <octal>', 'the file\'s mode').argParser(fileMode).default(0o600, '0600'))
    .option('--owner <user:group>', 'chown the file before it replaces the old one (as root)')
    .option('--once', 'render once and exit (exit 4 when a key or field is missing)')
    .option('--on-change <command>', 'run this shell command after a change switched the file (not after the first render); $CREDREG_FILE is the file')
    .addOption(new Option('--stage <stage>', 'pending: when a rotation stages keys of the template, render the staged values to FILE.pending for --test (which it needs, and which implies it); the only stage taken').argParser(renderStage))
    .option('--test <command>', 'when a rotation stages keys of the template: render the staged values to FILE.pending, run this shell command ($CREDREG_PENDING_FILE) and acknowledge the rotation ok (exit 0) or failed with its output (implies --stage pending)')
    .addOption(new Option('--retest <duration>', 'with --test: while the rotation stays open and this host\'s acknowledgement is failed, test again this often (0: never)').argParser(durationMs).default(30_000, '30s'))
    .addOption(new Option('--debounce <duration>', 'quiet time after a change before rendering').argParser(durationMs).default(100, '100ms'))
    .addOption(wait())
    .addHelpText('after', '\nExamples:\n  echo \'password={{ secret["app/db"].password }}\' > db.tpl\n  credreg render db.tpl --out db.conf --once\n  credreg render db.tpl --out db.conf --on-change \'kill -HUP $(cat app.pid)\'\n  credreg render db.tpl --out db.conf --stage pending --test \'./try-login "$CREDREG_PENDING_FILE"\'')

  command('exec', 'run CMD with register values in its environment, once all are present; restart it (or --signal it) after each change of them, one per changeset', async () => await import('./commands/exec.js'))
    .argument('<command>', 'the program to run (after --)')
    .argument('[args...]', 'its arguments')
    .addOption(new Option('--env <NAME=KEY#/pointer>', 'set NAME to the value at the JSON pointer in KEY (a string raw, anything else as JSON); repeatable').argParser((value: string, previous: string[] = []) => [...previous, value]))
    .option('--env-file <template>', 'a template (as credreg render reads) of NAME=value lines')
    .addOption(new Option('--restart', 'after a change, stop the child (SIGTERM, --grace, SIGKILL) and start it again with the new values (the default)').conflicts('signal'))
    .option('--signal <name>', 'after a change, send this signal (e.g. SIGHUP) instead of restarting')
    .addOption(new Option('--grace <duration>', 'how long a stopped child may take before SIGKILL').argParser(durationMs).default(10_000, '10s'))
    .addOption(wait())
    .addHelpText('after', '\nSIGINT, SIGTERM and SIGHUP are forwarded to the child; its exit code is credreg\'s (128+n after signal n).\n\nExamples:\n  credreg exec --env DB_PASSWORD=app/db#/password -- ./server\n  credreg exec --env-file app.env.tpl --signal SIGHUP -- ./server')

  const agent = command('agent', 'render every template of a configuration file, and after each change run its one reload command once, after all files are written', async () => await import('./commands/agent.js'))
    .option('--config <file>', '(required) the configuration: {"templates":[{"source","destination","mode"?,"owner"?,"test"?,"stage"?}],"directory"?,"command"?,"splayMs"?,"debounceMs"?,"retestMs"?}')
    .option('--once', 'render every template once and exit (exit 4 when a key or field is missing)')
    .addOption(new Option('--splay <duration>', 'wait a random time up to this long before each reload (over the file\'s splayMs)').argParser(durationMs))
    .addOption(new Option('--retest <duration>', 'for templates with a test: while a rotation stays open and this host\'s acknowledgement is failed, test again this often (over the file\'s retestMs; default 30s; 0: never)').argParser(durationMs))
    .option('--status-socket <path>', 'serve the agent\'s state as JSON on GET /healthz at this unix socket (mode 0600): each template\'s last render (time, bytes, sequence, correlation ids) and failure, the last reload, the pending change; 200 while every render succeeded, else 503')
    .addOption(wait())
    .addHelpText('after', '\nExample agent.json:\n  {"templates":[{"source":"db.tpl","destination":"db.conf"},{"source":"api.tpl","destination":"api.conf"}],\n   "command":"kill -HUP $(cat app.pid)"}\nWith "directory":"secrets", the templates whose destination is a bare file name are rendered into\nsecrets/ and switched in one step: secrets/NAME -> ..data/NAME, ..data -> a timestamped directory.')

  command('status', 'ask a running credreg agent (started with --status-socket PATH) for its state: each template\'s last render and failure, the last reload, the pending change; exit 1 while a render fails', async () => await import('./commands/agent-status.js'), agent)
    .requiredOption('--status-socket <path>', 'the socket the agent serves its state on')
  return agent
}
