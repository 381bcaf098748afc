/**
 * The help of every command, read in-process through `main` (spawning the
 * CLI once per command would only be slower): each documents its own flags,
 * the global options and the exit codes.
 */
import t from 'tap'
import { runMain as run } from '../fixtures/cli.js'

const FLAGS: Record<string, string[]> = {
  get: ['--version <n>', '--pending', '--field <name>'],
  put: ['--file <path>', '--if-version <n>', '--if-absent'],
  patch: ['--file <path>', '--merge', '--if-version <n>'],
  delete: ['--if-version <n>'],
  apply: [],
  ls: [],
  versions: [],
  diff: [],
  rollback: ['--to <n>', '--if-version <n>'],
  watch: ['--since <seq>'],
  status: [],
  stage: ['--file <path>', '--changes <file>', '--hosts <ids>', '--deadline <duration>'],
  ack: ['--fail <message>', '--message <text>'],
  rotations: [],
  release: ['--force'],
  abort: ['--reason <text>'],
  nodes: ['--key <key>'],
  keygen: ['--out <path>'],
  dev: ['--data-dir <dir>', '--log-level <level>'],
  whoami: [],
  audit: ['--since <time>', '--limit <n>'],
  'admin keygen': ['--out <path>', '--scope <prefix>'],
  'admin init': ['--admin-key <file>', '--name <name>'],
  'admin grant': ['--key <public-key>', '--write <prefixes>', '--read <prefixes>', '--rotations', '--admin-key <file>'],
  'admin revoke': ['--admin-key <file>'],
  'admin policy show': [],
  'admin rotate-key': ['--scope <prefix>', '--kid <kid>', '--reseal', '--admin-key <file>'],
  'admin retire-key': ['--admin-key <file>']
}

for (const [command, flags] of Object.entries(FLAGS)) {
  t.test(`credreg ${command} --help`, async t => {
    const { code, stdout, stderr } = await run([...command.split(' '), '--help'])
    t.equal(code, 0)
    t.equal(stderr, '')
    t.match(stdout, new RegExp(`^Usage: credreg ${command} `))
    for (const flag of [...flags, '--socket <path>', '--url <url>', '--token-file <path>', '--json', '-h, --help']) t.match(stdout, `  ${flag}`, `documents ${flag}`)
    t.match(stdout, /\nExit codes:\n {2}0 {2}ok\n {2}1 {2}other failure\n[^]* {2}5 {2}unavailable/, 'lists the exit codes')
  })
}

t.test('credreg rotation status --help', async t => {
  const { code, stdout } = await run(['rotation', 'status', '--help'])
  t.equal(code, 0)
  t.match(stdout, /^Usage: credreg rotation status \[options\] <id>/)
  for (const flag of ['--socket <path>', '--json']) t.match(stdout, `  ${flag}`, `documents ${flag}`)
  t.match(stdout, /\nExit codes:\n/)
})

t.test('credreg admin token create|list|revoke --help: each its flags, --admin-socket and the global options', async t => {
  const cases: Array<[string[], string[]]> = [
    [['admin', 'token', 'create'], ['--name <name>', '--read <prefixes>', '--write <prefixes>', '--rotations', '--out <file>']],
    [['admin', 'token', 'list'], []],
    [['admin', 'token', 'revoke'], []],
    [['admin', 'reseed'], []]
  ]
  for (const [command, flags] of cases) {
    const { code, stdout } = await run([...command, '--help'])
    t.equal(code, 0)
    t.match(stdout, new RegExp(`^Usage: credreg ${command.join(' ')} `))
    for (const flag of [...flags, '--admin-socket <path>', '--socket <path>', '--json']) t.match(stdout, `  ${flag}`, `${command.join(' ')} documents ${flag}`)
  }
})

t.test('credreg help get is credreg get --help; credreg -V prints the version', async t => {
  t.same(await run(['help', 'get']), await run(['get', '--help']))
  const version = await run(['-V'])
  t.equal(version.code, 0)
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
})
