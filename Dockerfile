# syntax=docker/dockerfile:1
# Sluice gateway image: built in one stage, run from a slim one as the unprivileged "node" user.
# Nothing in this repository's tests runs Docker: test/deploy/compose.test.ts checks this file's
# shape and docker-compose.yml against the Compose specification's JSON Schema.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# dist/cli.mjs (the engine bundle npm start runs) and editor/dist (the editor)
RUN node scripts/build.mjs --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    SLUICE_DATA=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/editor/dist ./editor/dist
COPY --from=build /app/editor/placeholder.html ./editor/placeholder.html
COPY --from=build /app/examples ./examples
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "--max-semi-space-size=64", "--v8-pool-size=0", "--no-memory-reducer", "dist/cli.mjs", "serve"]
