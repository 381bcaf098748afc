/**
 * `node --import tsx benchmarks/profile-summary.ts <file.cpuprofile> [top]`:
 * the self and inclusive time of the hottest functions of a V8 CPU profile
 * (from `node --cpu-prof`), as plain text, so a profile can be quoted in a
 * review without opening DevTools. Dependencies are shown as `nm/<package>`.
 */
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const [file, top = '25'] = process.argv.slice(2)
if (file === undefined) throw new TypeError('usage: profile-summary.ts <file.cpuprofile> [top]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

const byId = new Map(profile.nodes.map(n => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const sampled = new Map<number, number>()
profile.samples.forEach((id, i) => sampled.set(id, (sampled.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...sampled.values()].reduce((a, b) => a + b, 0)

const label = (n: ProfileNode): string => {
  const where = n.callFrame.url.replace(/^.*node_modules\//, 'nm/').replace(/^file:\/\/.*?\/(lib|dist|benchmarks|test)\//, '$1/')
  return `${n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName} ${where}${where === '' ? '' : `:${n.callFrame.lineNumber + 1}`}`
}

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
for (const [id, time] of sampled) {
  const node = byId.get(id) as ProfileNode
  self.set(label(node), (self.get(label(node)) ?? 0) + time)
  // Each function once per stack, however deep its recursion.
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const l = label(byId.get(at) as ProfileNode)
    if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + time)
    seen.add(l)
  }
}

const print = (title: string, times: Map<string, number>): void => {
  console.log(`\n${title}`)
  for (const [name, time] of [...times].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    console.log(`${(100 * time / total).toFixed(1).padStart(6)}%  ${name}`)
  }
}
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`)
print('self time', self)
print('inclusive time', inclusive)
