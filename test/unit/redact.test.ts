import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shJoin } from '../../src/core/quote.ts';
import { MASK, Redactor, secretEntries } from '../../src/core/redact.ts';
import { EventBus } from '../../src/events/bus.ts';
import { printedNames, registerSecrets } from '../../src/workflows/secrets.ts';

const M = MASK;

test('a strong secret is masked wherever it occurs, also shell-quoted, JSON-escaped and line by line', () => {
  const r = new Redactor();
  r.add(["it's-s3cr3t", 'line-one-key\nline-two-key']);
  assert.equal(r.redact("PW=it's-s3cr3t"), `PW=${M}`);
  assert.equal(r.redact(`docker create -e 'PW=it'\\''s-s3cr3t'`), `docker create -e 'PW=${M}'`);
  assert.equal(r.redact(JSON.stringify({ Env: ["PW=it's-s3cr3t", 'K=line-one-key\nline-two-key'] })), `{"Env":["PW=${M}","K=${M}"]}`);
  assert.equal(r.redact('  line-two-key\nother'), `  ${M}\nother`);
  assert.equal(r.redact('postgres://app:it\'s-s3cr3t@db/app'), `postgres://app:${M}@db/app`);
});

test('a value with quotes and line breaks is masked in a command rendered line by line (the plan\'s layout)', () => {
  const r = new Redactor();
  const v = "it's-line-one\nsecond'line-two\r\nthird";
  r.add([v]);
  const rendered = shJoin(['docker', 'create', '-e', `NOTE=${v}`, 'img']).split('\n').map((l, i) => `    ${i ? '  ' : '$ '}${l}`).join('\n');
  assert.equal(r.redact(rendered), `    $ docker create -e 'NOTE=${M}\n      ${M}\r\n      ${M}' img`);
});

test('a weak secret (part of a printed name) is masked only where it stands as a value', () => {
  const r = new Redactor();
  r.add(['wordpress']);
  assert.deepEqual(r.protect(['wordpress-server-1', 'wordpress', 'prod']), ['wordpress']);
  assert.ok(r.isWeak('wordpress'));
  // names stay readable
  assert.equal(r.redact('step 6/8 compose up wordpress: recreate wordpress-server-1 (project wordpress)'), 'step 6/8 compose up wordpress: recreate wordpress-server-1 (project wordpress)');
  assert.equal(r.redact('released: wordpress-server-1 docker.io/library/wordpress:6.4 -> ghcr.io/acme/wordpress:6.5'), 'released: wordpress-server-1 docker.io/library/wordpress:6.4 -> ghcr.io/acme/wordpress:6.5');
  // values do not
  assert.equal(r.redact('WORDPRESS_DB_PASSWORD=wordpress'), `WORDPRESS_DB_PASSWORD=${M}`);
  assert.equal(r.redact(`-e 'WORDPRESS_DB_PASSWORD=wordpress' --name wordpress-server-1`), `-e 'WORDPRESS_DB_PASSWORD=${M}' --name wordpress-server-1`);
  assert.equal(r.redact('DB_PASSWORD="wordpress" DB_USER=wordpress;'), `DB_PASSWORD="${M}" DB_USER=${M};`);
  assert.equal(r.redact('{"Env":["WORDPRESS_DB_PASSWORD=wordpress"],"Name":"/wordpress-server-1"}'), `{"Env":["WORDPRESS_DB_PASSWORD=${M}"],"Name":"/wordpress-server-1"}`);
  assert.equal(r.redact('{"password": "wordpress", "project": "wordpress-x"}'), `{"password": "${M}", "project": "wordpress-x"}`);
  assert.equal(r.redact('mysql://wordpress:wordpress@db/wordpress'), `mysql://wordpress:${M}@db/wordpress`);
  assert.equal(r.redact('secret file:\nwordpress\n'), `secret file:\n${M}\n`);
});

test('registerSecrets: secrets of the containers, the printed names, and one warning per weak secret (no value in it)', () => {
  const bus = new EventBus();
  const seen: string[] = [];
  bus.add((e) => seen.push(JSON.stringify(e)));
  const c = {
    Name: '/wordpress-server-1',
    Config: { Image: 'docker.io/library/wordpress:6.4', Env: ['WORDPRESS_DB_PASSWORD=wordpress', 'API_TOKEN=tok-Zq81x', 'PATH=/bin'], Labels: { 'com.docker.compose.project': 'blog', 'com.docker.compose.service': 'wordpress' } },
  };
  assert.deepEqual(printedNames({ app: 'blog' }, [c, undefined], ['test', 'prod']).sort(), ['blog', 'docker.io/library/wordpress:6.4', 'prod', 'test', 'wordpress', 'wordpress-server-1']);
  assert.deepEqual(secretEntries(c.Config.Env).map((e) => e.name), ['WORDPRESS_DB_PASSWORD', 'API_TOKEN']);
  registerSecrets(bus, { app: 'blog', secrets: [] }, [c], ['test', 'prod']);
  registerSecrets(bus, { app: 'blog', secrets: [] }, [c], ['test', 'prod']);
  const warnings = bus.history.filter((e) => e.type === 'warning');
  assert.equal(warnings.length, 1, 'once');
  assert.match(JSON.stringify(warnings[0]), /the secret WORDPRESS_DB_PASSWORD is weak/);
  bus.info('recreate wordpress-server-1 with API_TOKEN=tok-Zq81x and WORDPRESS_DB_PASSWORD=wordpress');
  assert.match(seen.at(-1)!, /recreate wordpress-server-1 with API_TOKEN=\*{8} and WORDPRESS_DB_PASSWORD=\*{8}/);
});
