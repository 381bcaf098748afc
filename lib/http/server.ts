/**
 * The HTTP API of a daemon as a fastify instance: schemas validated with
 * TypeBox, errors as catalogue JSON, correlation ids, optional bearer-token
 * authentication (for the TCP listener), and bodies over the limit refused
 * before they are read whole.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { requireBearerToken } from './auth.js'
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
import { statusRoutes } from './routes/status.js'
import { watchRoutes } from './routes/watch.js'
import type { SseStream } from './sse.js'
import { validatorCompiler } from './validator.js'

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  context: HttpContext
  logger: FastifyBaseLogger
  /**
   * Largest request body in bytes; a larger one is refused (413) as soon as it is known to be larger.
   * A changeset's may be larger by an envelope per change (routes/changesets.ts).
   */
  bodyLimit: number
  /** When set, every request needs `Authorization: Bearer <token>` (the TCP listener). */
  token?: string
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
  if (options.token !== undefined) requireBearerToken(app, options.token)
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
  entityRoutes(app, ctx)
  changesetRoutes(app, ctx, options.bodyLimit)
  historyRoutes(app, ctx)
  watchRoutes(app, ctx, streams)
  statusRoutes(app, ctx)
  nodesRoutes(app, ctx)
  metricsRoutes(app, ctx)
  auditRoutes(app, ctx)
  adminRoutes(app, ctx)
  rotationRoutes(app, ctx, options.bodyLimit)
  rotationEventRoutes(app, ctx, streams)
  await app.ready()
  return app
}
