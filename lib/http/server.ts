/**
 * The HTTP API of a daemon as a fastify instance: schemas validated with
 * TypeBox, errors as catalogue JSON, correlation ids, each caller
 * authenticated as its listener says (lib/http/auth.ts) and held to its
 * token's scope (lib/http/route-access.ts), and bodies over the limit
 * refused before they are read whole. The admin routes are served on the
 * admin socket only: elsewhere they do not exist (404).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { authenticateCallers, type CallerAuth } from './auth.js'
import type { HttpApp, HttpContext } from './context.js'
import { correlationId, useCorrelationIds } from './correlation.js'
import { handleError, handleNotFound } from './error-handler.js'
import { adminRoutes } from './routes/admin.js'
import { auditRoutes } from './routes/audit.js'
import { changesetRoutes } from './routes/changesets.js'
import { entityRoutes } from './routes/entities.js'
import { historyRoutes } from './routes/history.js'
import { metricsRoutes } from './routes/metrics.js'
import { nodesRoutes } from './routes/nodes.js'
import { rotationEventRoutes } from './routes/rotation-events.js'
import { rotationRoutes } from './routes/rotations.js'
import { tokenRoutes } from './routes/tokens.js'
import { enforceRouteAccess } from './route-access.js'
import { statusRoutes } from './routes/status.js'
import { timingsRoutes } from './routes/timings.js'
import { watchRoutes } from './routes/watch.js'
import type { SseStream } from './sse.js'
import { validatorCompiler } from './validator.js'
import { timeWrites } from './write-stages.js'

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  context: HttpContext
  logger: FastifyBaseLogger
  /**
   * Largest request body in bytes; a larger one is refused (413) as soon as it is known to be larger.
   * A changeset's may be larger by an envelope per change (routes/changesets.ts).
   */
  bodyLimit: number
  /** Which listener this is, and so how its callers authenticate and whether it serves the admin routes. */
  auth: CallerAuth
  /** When set, the server speaks HTTPS with this PEM certificate chain and key. */
  https?: { cert: Buffer, key: Buffer }
}

/** Builds (but does not start) the HTTP API. Closing it ends open watch streams and waits for requests in flight. */
export async function createHttpServer (options: HttpServerOptions): Promise<HttpApp> {
  const app: HttpApp = Fastify({
    loggerInstance: options.logger,
    genReqId: correlationId,
    logController: new LogController({ requestIdLogLabel: 'correlationId', disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    forceCloseConnections: 'idle',
    frameworkErrors: (err, request, reply) => { handleError(err, request, reply) },
    // An HTTPS server is an http.Server to every route: the type stays the plain one.
    ...(options.https !== undefined ? { https: { ...options.https, minVersion: 'TLSv1.2' } } as object : {})
  }).withTypeProvider<TypeBoxTypeProvider>().setValidatorCompiler(validatorCompiler)

  app.setErrorHandler(handleError)
  app.setNotFoundHandler(handleNotFound)
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser(['application/json-patch+json', 'application/merge-patch+json'], { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  useCorrelationIds(app)
  authenticateCallers(app, options.auth)
  enforceRouteAccess(app, options.context.node)
  app.addHook('onResponse', async (request, reply) => {
    const line = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }
    if (request.method === 'GET') request.log.debug(line, 'request')
    else request.log.info(line, 'request')
  })

  // Closing: open watch streams end, and a request still in flight is answered with
  // `Connection: close`, so its keep-alive socket does not hold the server open afterwards.
  const streams = new Set<SseStream>()
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
    for (const stream of streams) stream.end()
  })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  const ctx = options.context
  if (ctx.timings !== undefined) timeWrites(app, ctx.timings)
  entityRoutes(app, ctx)
  changesetRoutes(app, ctx, options.bodyLimit)
  historyRoutes(app, ctx)
  watchRoutes(app, ctx, streams)
  statusRoutes(app, ctx)
  nodesRoutes(app, ctx)
  metricsRoutes(app, ctx)
  if (ctx.timings !== undefined) timingsRoutes(app, ctx.timings)
  auditRoutes(app, ctx)
  if (options.auth.listener === 'admin') {
    adminRoutes(app, ctx)
    tokenRoutes(app, ctx)
  }
  rotationRoutes(app, ctx, options.bodyLimit)
  rotationEventRoutes(app, ctx, streams)
  await app.ready()
  return app
}
