# The runtime image the manifests and the chart name (ghcr.io/trafficshift/trafficshift).
# Stage 1 compiles with the dev dependencies; stage 2 installs the production dependencies alone;
# the last stage holds only those, dist/ and the CRDs `trafficshift localkube` serves, and runs as
# a numeric non-root user with nothing to write (the pods mount the root filesystem read-only).
# test/repo/image.test.ts assembles the last stage's files the same way and runs them.
FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.web.json ./
COPY src ./src
# The server and the dashboard's browser modules, as `make build` does (package.json "build").
RUN npm run build

FROM node:20.19-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20.19-bookworm-slim
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY manifests/crd.yaml ./manifests/crd.yaml
COPY third_party/crds ./third_party/crds
ENV NODE_ENV=production
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["controller"]
