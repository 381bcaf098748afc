import t from 'tap'
import { join } from 'node:path'
import { Level } from 'level'
import { LocalLog } from '../../lib/log/local-log.js'
import type { Db } from '../../lib/replica/store.js'
import { logSuite } from '../fixtures/log-suite.js'
import { tempDir } from '../fixtures/nodes.js'

logSuite(t, {
  name: 'LocalLog',
  async make (t, maxPerKey) {
    const base = await tempDir(t)
    let dir = join(base, 'first')
    const dbs: Db[] = []
    const fresh = async (): Promise<LocalLog> => {
      await Promise.all(dbs.map(async db => await db.close()))
      const db: Db = new Level<string, string>(dir)
      await db.open()
      dbs.push(db)
      return new LocalLog({ db, maxPerKey })
    }
    t.teardown(async () => { await Promise.all(dbs.map(async db => await db.close())) })
    return {
      log: await fresh(),
      reopen: fresh,
      recreate: async () => {
        dir = join(base, 'recreated')
        return await fresh()
      }
    }
  }
})
