# Passerelle: `docker build -t passerelle .` then
# `docker run -p 8080:8080 -v passerelle-data:/data passerelle` (SQLite in the volume), or set
# PASSERELLE_STORE_URL=postgres://… for PostgreSQL. Create an API key with
# `docker run --rm -v passerelle-data:/data passerelle keys create --tenant T --role submitter`.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Toolchain for better-sqlite3 when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PASSERELLE_HOST=0.0.0.0 \
    PASSERELLE_PORT=8080 \
    PASSERELLE_DATA_DIR=/data \
    PASSERELLE_STORE_URL=sqlite:/data/passerelle.db
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
COPY schemas schemas
COPY cda-templates cda-templates
# Example reports: shown in /docs and usable with the sandbox.
COPY fixtures fixtures
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "bin/passerelle.js"]
CMD ["serve"]
