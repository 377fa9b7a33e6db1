# syntax=docker/dockerfile:1
# One image per service, from one build: `docker build --target <service> -t vmcp/<service>:<version> .`
# for each of edge, policy, vault, executor, audit (infra/README.md). The images differ only
# in the app they carry and the command they run; the node_modules layer is shared.

# The Node the project pins (package.json devDependencies.node); the images run the same major.
ARG NODE_VERSION=24.21.0

# --- build: every dependency, the whole TypeScript build, then production dependencies only ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 is compiled here (scripts/postinstall.mjs); the runtime images carry no compiler.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Build everything, then keep what the services run: production dependencies of apps/* and
# libs/* only (the published packages and the examples are not part of an image), the built
# better-sqlite3 addon without its compiler leftovers, and each project's dist without its
# sources, tests or build bookkeeping (libs/testing, the tests' helpers, not at all).
RUN npm ci --no-audit --no-fund \
  && npx tsc -b tsconfig.json \
  && npm pkg set 'workspaces[0]=apps/*' 'workspaces[1]=libs/*' \
  && npm pkg delete 'workspaces[3]' 'workspaces[2]' \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && (cd node_modules/better-sqlite3 && rm -rf deps src build/Release/obj build/Release/obj.target build/Release/*.a build/Release/test_extension.node) \
  && find apps libs -name node_modules -prune -o \( -name src -o -name test -o -name '*.tsbuildinfo' \) -prune -exec rm -rf {} + \
  && rm -rf libs/testing node_modules/@vmcp/testing \
  && npm cache clean --force

# --- runtime: production node_modules and the libs' built output, as a non-root user ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/libs ./libs
# The image's own user `node`, by number so that Kubernetes can check runAsNonRoot. Every
# file above belongs to root: the service can read its code, not change it.
USER 1000:1000
ENTRYPOINT ["node"]

# --- one target per service: its built app and the command that starts it ---
FROM runtime AS edge
COPY --from=build /src/apps/edge ./apps/edge
EXPOSE 8080
CMD ["apps/edge/dist/main.js"]

FROM runtime AS policy
COPY --from=build /src/apps/policy ./apps/policy
EXPOSE 8091
CMD ["apps/policy/dist/main.js"]

# Also carries the operators' command: `node apps/vault/dist/cli.js rotate-master-key --wait`.
FROM runtime AS vault
COPY --from=build /src/apps/vault ./apps/vault
EXPOSE 8092
CMD ["apps/vault/dist/main.js"]

FROM runtime AS executor
COPY --from=build /src/apps/executor ./apps/executor
EXPOSE 8093
CMD ["apps/executor/dist/main.js"]

# Also carries `node apps/audit/dist/cli.js verify --tenant <ten_id>`.
FROM runtime AS audit
COPY --from=build /src/apps/audit ./apps/audit
EXPOSE 8094
CMD ["apps/audit/dist/main.js"]
