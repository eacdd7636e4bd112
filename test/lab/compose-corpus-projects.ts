// Compose projects shaped like real ones (written for the tests): each is released and rolled back on PROD.
// Images are local stand-ins under the names real projects use (built by compose-corpus.test.ts).

export interface CorpusProject {
  name: string;
  /** Compose versions the files are valid for. */
  versions: ('1' | '2')[];
  /** Files in /opt/corpus/<name>, by relative path. */
  files: Record<string, string>;
  /** Arguments of the operator's first `up -d` (e.g. -f files, --profile). */
  firstUp?: string[];
  /** The operator's later plain commands: each must recreate nothing after a release and a rollback. */
  plainUps?: string[][];
  /** Released services and the image TEST runs for each. */
  released: Record<string, string>;
  /** Services that run once and exit (migrations). */
  oneshot?: string[];
  /** A named volume path of a released service whose data must survive: service → mount path. */
  data?: Record<string, string>;
  /** The release must be refused (exit 1, rolled back) and why, instead of released. */
  refused?: RegExp;
}

/** Stand-in images: released images (v1 content on PROD, v2 content on TEST), databases (with a HEALTHCHECK). */
export const APP_IMAGES = ['docker.io/library/wordpress:6.4', 'ghcr.io/acme/shop-api:1.0', 'ghcr.io/acme/cloud:28.0', 'registry.example.com/team/web:3.1', 'ghcr.io/acme/api:5.0', 'ghcr.io/acme/site:2.0', 'ghcr.io/acme/site-worker:2.0', 'ghcr.io/acme/dash:1.0', 'ghcr.io/acme/tool:1.0'];
export const DB_IMAGES = ['docker.io/library/mariadb:10.11', 'docker.io/library/postgres:16', 'redis:7'];

const V24 = 'version: "2.4"\n';

export const CORPUS: CorpusProject[] = [
  {
    // a wordpress-like blog: depends_on list, env_file .env (also the weak secret WORDPRESS_DB_PASSWORD=wordpress), docker.io/library/ names
    name: 'blog',
    versions: ['1', '2'],
    files: {
      'docker-compose.yml': `${V24}services:
  db:
    image: docker.io/library/mariadb:10.11
    env_file: .env
    volumes: [db-data:/data]
    restart: unless-stopped
  wordpress:
    image: docker.io/library/wordpress:6.4
    depends_on: [db]
    env_file: .env
    environment:
      WORDPRESS_DB_HOST: db
      WORDPRESS_DB_USER: wordpress
    volumes: [wp-content:/data]
    restart: unless-stopped
volumes:
  db-data:
  wp-content:
`,
      '.env': 'WORDPRESS_DB_PASSWORD=wordpress\nMARIADB_ROOT_PASSWORD=bl0g-r00t-pw\n',
    },
    released: { wordpress: 'docker.io/library/wordpress:6.5' },
    data: { wordpress: '/data' },
  },
  {
    // depends_on with condition service_healthy, ${X:?msg} and ${X:-default}, container_name, ghcr.io image
    name: 'shop',
    versions: ['1', '2'],
    files: {
      'docker-compose.yml': `${V24}services:
  db:
    image: docker.io/library/postgres:16
    volumes: [pg:/data]
  api:
    image: ghcr.io/acme/shop-api:\${API_TAG:-1.0}
    container_name: shop-api
    depends_on:
      db:
        condition: service_healthy
    environment:
      DATABASE_URL: postgres://shop:\${DB_PASSWORD:?DB_PASSWORD must be set in .env}@db/shop
      LOG_LEVEL: \${LOG_LEVEL:-info}
volumes:
  pg:
`,
      '.env': 'DB_PASSWORD=Sh0p-pw-77\n',
    },
    released: { api: 'ghcr.io/acme/shop-api:1.1' },
  },
  {
    // top-level name:, compose.yaml, a one-shot migration sharing the released image, one image shared with an unreleased service
    name: 'cloud',
    versions: ['2'],
    files: {
      'compose.yaml': `name: cloud
services:
  db:
    image: docker.io/library/postgres:16
    volumes: [db:/data]
  migrate:
    image: ghcr.io/acme/cloud:28.0
    command: ["sh", "-c", "echo migrated >> /data/migrations.log"]
    restart: "no"
    volumes: [files:/data]
    depends_on: [db]
  app:
    image: ghcr.io/acme/cloud:28.0
    depends_on:
      migrate:
        condition: service_completed_successfully
      db:
        condition: service_healthy
    volumes: [files:/data]
  cron:
    image: ghcr.io/acme/cloud:28.0
    volumes: [files:/data]
volumes:
  db:
  files:
`,
    },
    released: { app: 'ghcr.io/acme/cloud:28.1' },
    oneshot: ['migrate'],
    data: { app: '/data' },
  },
  {
    // several -f files with names of their own: the pin goes through COMPOSE_FILE in .env
    name: 'multi',
    versions: ['1', '2'],
    files: {
      'base.yml': `${V24}services:
  web:
    image: registry.example.com/team/web:3.1
  cache:
    image: redis:7
`,
      'prod.yml': `${V24}services:
  web:
    restart: always
    environment:
      MODE: prod
    depends_on: [cache]
`,
    },
    firstUp: ['-f', 'base.yml', '-f', 'prod.yml'],
    released: { web: 'registry.example.com/team/web:3.2' },
  },
  {
    // COMPOSE_FILE already in .env, env_file long syntax (path:, required: false)
    name: 'preset',
    versions: ['2'],
    files: {
      'compose.base.yml': `services:
  api:
    image: ghcr.io/acme/api:5.0
    env_file:
      - path: ./app.env
        required: true
      - path: ./local.env
        required: false
  cache:
    image: redis:7
`,
      'compose.prod.yml': `services:
  api:
    depends_on: [cache]
    restart: unless-stopped
`,
      'app.env': 'API_MODE=prod\nAPI_TOKEN=pr3set-t0ken\n',
      '.env': 'COMPOSE_FILE=compose.base.yml:compose.prod.yml\n',
    },
    released: { api: 'ghcr.io/acme/api:5.1' },
  },
  {
    // profiles: a worker that runs only with --profile jobs, a debug service never started
    name: 'profiled',
    versions: ['2'],
    files: {
      'docker-compose.yml': `services:
  dash:
    image: ghcr.io/acme/dash:1.0
  worker:
    image: ghcr.io/acme/dash:1.0
    profiles: [jobs]
  debug:
    image: ghcr.io/acme/tool:1.0
    profiles: [debug]
`,
    },
    firstUp: ['--profile', 'jobs'],
    plainUps: [[], ['--profile', 'jobs']],
    released: { dash: 'ghcr.io/acme/dash:1.1' },
  },
  {
    // YAML anchors and x- fields, container_name, a build: section (PROD never builds)
    name: 'site',
    versions: ['1', '2'],
    files: {
      'docker-compose.yml': `${V24}x-common: &common
  restart: unless-stopped
  logging:
    options:
      max-size: 1m
services:
  web:
    <<: *common
    build: ./web
    image: ghcr.io/acme/site:2.0
    container_name: site-web
  worker:
    <<: *common
    image: ghcr.io/acme/site-worker:2.0
    container_name: site-worker
`,
      'web/Dockerfile': 'FROM scratch\n# PROD must never build this\n',
    },
    released: { web: 'ghcr.io/acme/site:2.1', worker: 'ghcr.io/acme/site-worker:2.1' },
  },
  {
    // files of its own (COMPOSE_FILE pin) and a service reading .env as env_file: the pin would change it,
    // so the release stops before any container is recreated
    name: 'envread',
    versions: ['1', '2'],
    files: {
      'stack.yml': `${V24}services:
  db:
    image: docker.io/library/postgres:16
    env_file: .env
  tool:
    image: ghcr.io/acme/tool:1.0
    depends_on: [db]
`,
      '.env': 'POSTGRES_PASSWORD=envr3ad-pw\n',
    },
    firstUp: ['-f', 'stack.yml'],
    released: { tool: 'ghcr.io/acme/tool:1.1' },
    refused: /drift: .*db.*the pinned files change it, but this release does not recreate it/,
  },
];
